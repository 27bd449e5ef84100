"""ThinkView in a tool loop: the timeline in deltas and synced state, approvals, sources, images, static HTML."""

# ruff: noqa: F811  (tests take test_view's fixtures as parameters of the same names)

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import threading
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest
from test_view import FakeClock, clock, comms, custom, drive, make_view  # noqa: F401  (clock, comms: fixtures)

from thinkbook import AnswerDelta, ConfigurationError, Done, ReasoningDelta, ThinkResult, Timings, Usage, UsageUpdate
from thinkbook._display import request_images
from thinkbook._types import Round, SearchResult, ToolCall, ToolCallFinished, ToolCallStarted
from thinkbook._view import ThinkView

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


R1 = "I need the weather in Paris. 天气 🌦 first."
R2 = "18°C, so a light jacket."
SAID = "Let me look that up."
ANSWER = "Take a **light jacket** [1]."


def weather_call() -> ToolCall:
    return ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"}, raw_arguments='{"city": "Paris"}')


def loop_events(call: ToolCall, result: ThinkResult) -> list[Any]:
    """Round 1 (reasoning, a sentence, a call), the call running, round 2 (reasoning, answer), Done."""
    events: list[Any] = [ReasoningDelta(R1[i : i + 5]) for i in range(0, len(R1), 5)]
    events += [AnswerDelta(SAID), UsageUpdate(Usage(10, 20, 30, 12, 0)), ToolCallStarted(call)]
    finished = replace(call, result={"temp_c": 18}, seconds=0.25)
    events += [ToolCallFinished(finished)]
    events += [ReasoningDelta(R2[i : i + 5]) for i in range(0, len(R2), 5)]
    events += [AnswerDelta(ANSWER), UsageUpdate(Usage(40, 10, 50, 6, 0)), Done(result)]
    return events


def loop_result(call: ToolCall) -> ThinkResult:
    done = replace(call, result={"temp_c": 18}, seconds=0.25)
    return ThinkResult(
        reasoning=f"{R1}\n\n{R2}",
        answer=ANSWER,
        usage=Usage(50, 30, 80, 18, 0),
        finish_reason="stop",
        model="qwen-plus",
        timings=Timings(time_to_first_reasoning=0.2, thinking_seconds=1.0, total_seconds=2.0),
        tool_calls=[done],
        rounds=[
            Round(reasoning=R1, answer=SAID, tool_calls=[done], usage=Usage(10, 20, 30, 12, 0)),
            Round(reasoning=R2, answer=ANSWER, usage=Usage(40, 10, 50, 6, 0)),
        ],
    )


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(fragment: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(fragment)
    return parser.tags


# --- the live protocol -------------------------------------------------------------------------


def test_a_tool_loop_streams_cards_between_reasoning_segments(clock: FakeClock, comms: Any) -> None:
    call = weather_call()
    view = make_view(clock)
    drive(view, clock, loop_events(call, loop_result(call))[:-1], step=0.02)
    clock.now += 1
    view.flush()
    messages = custom(view)
    assert [m["s"] for m in messages] == list(range(1, len(messages) + 1))
    assert "".join(m.get("r", "") for m in messages) == R1 + R2  # reasoning deltas exactly as without tools
    items: dict[int, dict[str, Any]] = {}
    for message in messages:
        for item in message.get("tl", []):
            items[item["i"]] = item
    said, card = items[0], items[1]
    assert said["k"] == "say" and "Let me look that up." in said["html"]
    assert card["k"] == "tool" and card["name"] == "get_weather" and card["st"] == "ok"
    assert said["at"] == card["at"] == units(R1)  # cut after round 1's reasoning, in UTF-16 units
    assert json.loads(card["args"]) == {"city": "Paris"} and json.loads(card["res"]) == {"temp_c": 18}
    assert card["sec"] == 0.25
    statuses = [m["st"] for m in messages if "st" in m]
    assert statuses == ["thinking", "answering", "tools", "thinking", "answering"]
    # Round 1's sentence left the answer pane in the same message that moved it.
    moved = [m for m in messages if "ar" in m]
    assert len(moved) == 1 and moved[0]["tl"][0]["k"] == "say"
    # Live usage sums the rounds (the second round's UsageUpdate starts from zero).
    usage = [m["c"]["usage"] for m in messages if m.get("c", {}).get("usage")][-1]
    assert usage["prompt_tokens"] == 50 and usage["reasoning_tokens"] == 18


def test_the_running_card_reaches_the_synced_state_while_the_tool_runs(clock: FakeClock, comms: Any) -> None:
    call = weather_call()
    view = make_view(clock, snapshot_interval=0.5)
    drive(view, clock, [ReasoningDelta(R1), ToolCallStarted(call)])
    clock.now += view.due_in()
    view.flush()
    assert any(i["st"] == "run" for m in custom(view) for i in m.get("tl", []))
    # Nothing else happens (a slow tool): the view still comes back for a snapshot with the card.
    wait = view.due_in()
    assert 0 <= wait <= 0.5
    clock.now += wait
    view.flush()
    assert [(i["k"], i["st"]) for i in view.timeline] == [("tool", "run")]
    assert view.reasoning == R1 and view.seq == custom(view)[-1]["s"]
    assert view.due_in() == float("inf")


def test_a_plain_answer_sends_nothing_new(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    drive(view, clock, [ReasoningDelta("abc" * 30), AnswerDelta("Hello **world**."), Done(ThinkResult())])
    view.end(ThinkResult(reasoning="abc" * 30, answer="Hello **world**."))
    assert all(set(m) <= {"t", "s", "r", "b", "a", "ak", "st", "c", "e"} for m in custom(view))
    assert view.timeline == [] and view.sources_html == "" and view.images == []


def test_the_finished_loop_rebuilds_the_timeline_from_the_rounds(clock: FakeClock, comms: Any) -> None:
    call = weather_call()
    result = loop_result(call)
    view = make_view(clock)
    drive(view, clock, loop_events(call, result))
    view.end(result)
    assert view.reasoning == result.reasoning
    assert [(i["k"], i.get("st")) for i in view.timeline] == [("say", None), ("tool", "ok")]
    assert view.timeline[1]["at"] == units(R1)
    assert "light jacket" in view.answer_html and "look that up" not in view.answer_html
    assert view.counters["usage"]["total_tokens"] == 80  # the result's sum of all rounds
    html = view.static_bundle()["text/html"]
    assert html.index(R1[:10]) < html.index("get_weather") < html.index(R2[:10]) < html.index("light jacket")
    assert html.count('data-tb="reasoning"') == 1 and 'data-tb="reasoning-more"' in html
    text = view.static_bundle(text_reasoning=True)["text/plain"]
    assert text.index(R1) < text.index("[Tool get_weather") < text.index(R2) < text.index("light jacket")


def test_from_result_shows_a_stored_tool_loop(comms: Any) -> None:
    result = loop_result(weather_call())
    view = ThinkView.from_result(result, lang="en")
    state = view.final_state()
    assert [i["k"] for i in state.timeline] == ["say", "tool"]
    assert '<details class="tb-tool tb-tool-ok" data-tb="tool">' in view.static_bundle()["text/html"]


def test_a_stopped_loop_marks_the_running_call_interrupted(clock: FakeClock, comms: Any) -> None:
    call = weather_call()
    view = make_view(clock)
    drive(view, clock, [ReasoningDelta(R1), ToolCallStarted(call)])
    view.end(ThinkResult(reasoning="partial"), stopped=True)  # a partial without rounds
    assert view.reasoning == R1  # the reasoning the card points into
    assert [i["st"] for i in view.timeline] == ["stop"]
    assert "interrupted" in view.static_bundle()["text/html"]


def test_a_dict_tool_the_user_runs_is_shown_as_requested(comms: Any) -> None:
    pending = ToolCall(id="c2", name="query_db", arguments={"sql": "select 1"})
    result = ThinkResult(
        reasoning="r", answer="", rounds=[Round(reasoning="r", tool_calls=[pending])], finish_reason="tool_calls"
    )
    view = ThinkView.from_result(result, lang="en")
    assert [i["st"] for i in view.timeline] == ["req"]
    assert "requested: not run here" in view.static_bundle()["text/html"]


# --- untrusted text ----------------------------------------------------------------------------


def test_hostile_tool_text_is_escaped_and_long_results_are_cut(comms: Any) -> None:
    call = ToolCall(id="x", name=HOSTILE, arguments={"q": HOSTILE}, result=HOSTILE + "y" * 10_000, seconds=0.1)
    failed = ToolCall(id="z", name="ok_name", arguments={}, raw_arguments=HOSTILE, error=HOSTILE, seconds=0.0)
    result = ThinkResult(reasoning="r", answer="a", rounds=[Round(reasoning="r", tool_calls=[call, failed]), Round()])
    view = ThinkView.from_result(result, lang="en")
    html = view.static_bundle()["text/html"]
    tags = {tag for tag, _ in tags_of(html)}
    assert "img" not in tags
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert all("__xss" not in script for script in scripts)
    assert "&lt;img src=x onerror=" in html
    card = view.timeline[0]
    assert card["res_more"] == len(HOSTILE) + 10_000 - 4_000
    assert f"{card['res_more']:,} more characters" in html
    assert view.timeline[1]["st"] == "err" and view.timeline[1]["args"] == HOSTILE


# --- approvals (confirm=True) ------------------------------------------------------------------


def test_approval_shows_run_and_skip_and_the_click_answers(clock: FakeClock, comms: Any) -> None:
    woken: list[int] = []
    view = make_view(clock)
    view.set_waker(lambda: woken.append(1))
    first, second = weather_call(), ToolCall(id="call_2", name="delete_all", arguments={})
    drive(view, clock, [ReasoningDelta(R1), ToolCallStarted(first), ToolCallStarted(second)])
    run, skip = view.approval(first), view.approval(second)
    assert woken and not run.done()
    view.flush()
    asked = {i["i"]: i["st"] for m in custom(view) for i in m.get("tl", [])}
    assert asked == {0: "ask", 1: "ask"}
    view._handle_message(view, {"t": "approve", "i": 0, "ok": True}, [])
    view._handle_message(view, {"t": "approve", "i": 1, "ok": False}, [])
    view._handle_message(view, {"t": "approve", "i": 1, "ok": True}, [])  # a second click changes nothing
    assert run.result(0) is True and skip.result(0) is False
    view.flush()
    assert [i["st"] for i in custom(view)[-1]["tl"]] == ["run", "skip"]
    declined = replace(second, error="the user declined this call", seconds=0.0)
    drive(view, clock, [ToolCallFinished(declined)])
    assert view._timeline.items[1]["st"] == "skip"


def test_approve_is_an_awaitable_hook_and_the_end_declines_what_waits(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    call = weather_call()

    def click_soon() -> None:
        while not view._timeline.items:
            threading.Event().wait(0.01)
        view._handle_message(view, {"t": "approve", "i": 0, "ok": True}, [])

    threading.Thread(target=click_soon, daemon=True).start()
    assert asyncio.run(asyncio.wait_for(view.approve(call), 5)) is True
    waiting = view.approval(ToolCall(id="c3", name="other", arguments={}))
    view.end(stopped=True)
    assert waiting.result(0) is False
    assert view.approval(call).result(0) is False  # an ended view runs nothing more


def test_malformed_approval_messages_are_ignored(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    future = view.approval(weather_call())
    for content in ({"t": "approve"}, {"t": "approve", "i": "0", "ok": True}, {"t": "approve", "i": True}, "x"):
        view._handle_message(view, content, [])
    assert not future.done()
    view._handle_message(view, {"t": "approve", "i": 0, "ok": "yes"}, [])  # only a real True runs
    assert future.result(0) is False


# --- web sources --------------------------------------------------------------------------------


def test_sources_are_shown_under_the_answer_and_citations_link_to_them(comms: Any) -> None:
    sources = [
        SearchResult(index=1, title="Météo <Paris>", url="https://weather.example/paris", site_name="Weather"),
        SearchResult(index=2, title="Bad", url=""),  # parse_search_results blanks unsafe URLs
    ]
    result = ThinkResult(reasoning="r", answer="Cold [1], windy [ref_2].", search_results=sources)
    view = ThinkView.from_result(result, lang="en")
    assert '<a href="https://weather.example/paris"' in view.answer_html and "[2]" not in view.answer_html
    # The link reads "[1]" (not display math: "\\[1\\]" is TeX for a displayed 1).
    assert ">[1]</a>" in view.answer_html and "<math" not in view.answer_html
    assert view.answer_markdown == result.answer  # the copy is what the model wrote
    assert "Météo &lt;Paris&gt;" in view.sources_html and "<ol>" in view.sources_html
    links = [attrs["href"] for tag, attrs in tags_of(view.sources_html) if tag == "a"]
    assert links == ["https://weather.example/paris"]
    bundle = view.static_bundle()
    assert 'data-tb="sources"' in bundle["text/html"] and "<strong>Sources</strong>" in bundle["text/html"]
    assert "[Sources]\n1. [Météo <Paris>](https://weather.example/paris) · Weather\n2. Bad" in bundle["text/plain"]


# --- images -------------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def test_images_become_small_thumbnails_above_the_reasoning(comms: Any) -> None:
    pytest.importorskip("PIL")
    big = png(1600, 800)
    view = ThinkView(lang="en", images=[data_url(big), "https://img.example/cat.png", "http://img.example/x.png"])
    thumb, remote, plain = view.images
    assert thumb["src"].startswith("data:image/jpeg;base64,") and len(thumb["src"]) < len(data_url(big)) / 2
    assert (thumb["w"], thumb["h"]) == (192, 96)
    assert remote == {"src": "https://img.example/cat.png", "alt": "input image 2"}
    assert plain["src"] == "" and "not https" in plain["alt"]
    small = ThinkView(lang="en", images=[data_url(png(40, 30))]).images[0]
    assert small["src"] == data_url(png(40, 30)) and (small["w"], small["h"]) == (40, 30)  # kept as it is
    view.end(ThinkResult(reasoning="look", answer="A red square."))
    html = view.static_bundle()["text/html"]
    assert html.index('data-tb="images"') < html.index('data-tb="reasoning"')
    imgs = [attrs for tag, attrs in tags_of(html) if tag == "img"]
    assert [a["alt"] for a in imgs] == ["input image 1", "input image 2"] and imgs[0]["height"] == "96"
    assert "[input image 3 (http://img.example/x.png: not loaded, not https)]" in html


def test_without_pillow_big_images_are_named_not_embedded(comms: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("PIL")
    big, small = data_url(png(1600, 1600) + b"\0" * 200_000), data_url(png(20, 20))
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)  # import PIL now fails
    shown = ThinkView(lang="en", images=[big, small]).images
    assert shown[0]["src"] == "" and "not embedded; install Pillow" in shown[0]["alt"]
    assert shown[1]["src"] == small


def test_bad_images_are_a_configuration_error(comms: Any) -> None:
    with pytest.raises(ConfigurationError, match="PNG, JPEG, GIF or WEBP"):
        ThinkView(images=[data_url(b"<svg onload=alert(1)>", "image/png")])
    with pytest.raises(ConfigurationError):
        ThinkView(images=["data:image/svg+xml;base64,PHN2Zz4="])
    quoted = ThinkView(images=['https://x.example/a".png'])
    assert quoted.images[0]["src"] == ""


def test_the_display_finds_the_request_images() -> None:
    from thinkbook._endpoints import resolve_endpoint
    from thinkbook._request import PreparedRequest

    def prepared(protocol: str, body: dict[str, Any]) -> PreparedRequest:
        endpoint = resolve_endpoint("qwen-vl", base_url="http://127.0.0.1:9/v1", protocol=protocol, env={})
        return PreparedRequest(endpoint=endpoint, model="qwen-vl", body=body)

    openai = {
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://a/b.png"}}]}]
    }
    native = {"input": {"messages": [{"role": "user", "content": [{"image": "https://c/d.png"}, {"text": "q"}]}]}}
    assert request_images(prepared("openai", openai)) == ["https://a/b.png"]
    assert request_images(prepared("dashscope", native)) == ["https://c/d.png"]
    assert request_images(prepared("openai", {"messages": [{"role": "user", "content": "text"}]})) == []
    # Another protocol's body shape is read by that protocol, not guessed: no crash, no images.
    assert request_images(prepared("responses", {"input": [{"role": "user", "content": "text"}]})) == []
