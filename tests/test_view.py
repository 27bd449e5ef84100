"""ThinkView against a recording comm: batching, sequence numbers, snapshots, counters, fallbacks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from thinkbook import AnswerDelta, AnswerWasReasoning, Done, ReasoningDelta, ThinkResult, Timings, Usage, UsageUpdate
from thinkbook._pricing import clear_prices, set_price
from thinkbook._view import ThinkView
from thinkbook.testing import RecordingComm, recording_comms


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


def make_view(clock: FakeClock, **options: Any) -> ThinkView:
    view = ThinkView(model="qwen-plus", enable_thinking=True, clock=clock, lang="en", **options)
    view.begin()
    return view


def drive(view: ThinkView, clock: FakeClock, events: list[Any], step: float = 0.01) -> None:
    """Push events one by one as a stream would, flushing whenever the view says it is due."""
    for event in events:
        clock.now += step
        view.push([event])
        if view.due_in() <= 0:
            view.flush()


def custom(view: ThinkView) -> list[dict[str, Any]]:
    assert isinstance(view.comm, RecordingComm)
    return view.comm.custom_messages()


RESULT = ThinkResult(
    reasoning="abc" * 40,
    answer="# Title\n\nSome **bold** text.\n\n```python\nx = 1\n```\n",
    usage=Usage(prompt_tokens=10, completion_tokens=60, total_tokens=70, reasoning_tokens=40, cached_tokens=0),
    finish_reason="stop",
    model="qwen-plus",
    timings=Timings(time_to_first_reasoning=0.5, time_to_first_answer=2.0, thinking_seconds=1.5, total_seconds=3.0),
)


def stream_of(result: ThinkResult) -> list[Any]:
    events: list[Any] = [ReasoningDelta(result.reasoning[i : i + 3]) for i in range(0, len(result.reasoning), 3)]
    events += [AnswerDelta(result.answer[i : i + 4]) for i in range(0, len(result.answer), 4)]
    assert result.usage is not None
    return [*events, UsageUpdate(result.usage), Done(result)]


def test_deltas_are_batched_with_consecutive_sequence_numbers(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    events = stream_of(RESULT)
    drive(view, clock, events, step=0.005)
    messages = custom(view)
    assert [m["s"] for m in messages] == list(range(1, len(messages) + 1))
    assert len(messages) < len(events) / 3  # batched, not one message per token
    assert "".join(m.get("r", "") for m in messages) == RESULT.reasoning
    statuses = [m["st"] for m in messages if "st" in m]
    assert statuses == ["thinking", "answering"]


def test_message_rate_stays_under_25_per_second_at_any_token_rate(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    for rate in (10, 100, 2000):  # tokens per second
        for _ in range(rate * 2):
            clock.now += 1 / rate
            view.push([ReasoningDelta("字")])
            if view.due_in() <= 0:
                view.flush()
    messages = custom(view)
    assert len(messages) / 6.0 <= 25


def test_answer_blocks_are_sent_once_and_the_tail_is_replaced(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    drive(view, clock, [AnswerDelta("First paragraph.\n\nSecond"), AnswerDelta(" paragraph grows")], step=0.1)
    assert view.due_in() > 0  # a little text waits (up to max_batch_interval) for company
    clock.now += view.max_batch_interval
    assert view.due_in() == 0
    view.flush()
    messages = custom(view)
    blocks = [b for m in messages for b in m.get("b", [])]
    assert blocks == ["<p>First paragraph.</p>\n"]
    tail = ""
    for message in messages:
        tail = apply_tail(tail, message)
    assert tail == "<p>Second paragraph grows</p>\n"
    assert messages[-1]["a"] == " paragraph grows</p>\n"  # only what changed


def test_snapshots_heal_late_views_and_carry_the_last_sequence(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock, snapshot_interval=0.2)
    drive(view, clock, [ReasoningDelta("x" * 50)] * 40, step=0.06)
    assert view.seq == max(m["s"] for m in custom(view) if m["s"] <= view.seq)
    assert view.reasoning == "x" * 50 * (view.reasoning.count("x") // 50)
    assert view.reasoning and view.status == "thinking"


def test_end_sends_the_full_render_exact_counters_and_markdown(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    drive(view, clock, stream_of(RESULT))
    view.end(RESULT)
    assert view.status == "done" and view.reasoning == RESULT.reasoning
    assert view.answer_markdown == RESULT.answer and view.answer_tail == ""
    assert "<h1>Title</h1>" in view.answer_html and '<span class="' in view.answer_html
    counters = view.counters
    assert counters["exact"] is True
    assert counters["usage"]["reasoning_tokens"] == 40 and counters["usage"]["answer_tokens"] == 20
    assert counters["timings"]["thinking_seconds"] == 1.5
    assert "raw" not in counters["usage"]
    view.push([ReasoningDelta("late")])
    assert view.due_in() == float("inf")  # an ended view is never due: its driver stops asking
    view.flush()
    assert "late" not in "".join(m.get("r", "") for m in custom(view))  # nothing after the end


def test_an_answer_left_pending_at_the_end_is_never_due(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    view.push([AnswerDelta("an answer the end renders in full")])
    view.end(ThinkResult(answer="an answer the end renders in full"))
    assert view.due_in() == float("inf") and "renders in full" in view.answer_html


def test_cost_appears_when_a_price_is_known(clock: FakeClock, comms: Any) -> None:
    set_price("qwen-plus", input=1.0, output=2.0, thinking_output=8.0, currency="CNY")
    try:
        view = make_view(clock)
        view.end(RESULT)
        assert view.counters["cost"] == {"amount": pytest.approx((10 * 1.0 + 60 * 8.0) / 1e6), "currency": "CNY"}
    finally:
        clear_prices()


def test_errors_keep_the_partial_text_and_say_what_happened(clock: FakeClock, comms: Any) -> None:
    from thinkbook import StreamInterruptedError

    view = make_view(clock)
    drive(view, clock, [ReasoningDelta("half a thought"), AnswerDelta("half an answer")])
    partial = ThinkResult(reasoning="half a thought", answer="half an answer")
    view.end(error=StreamInterruptedError("the connection closed; try again", partial=partial))
    assert view.status == "error"
    assert view.error.startswith("StreamInterruptedError: the connection closed")
    assert view.reasoning == "half a thought" and "half an answer" in view.answer_html


def test_stopped_view_keeps_its_text(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    drive(view, clock, [ReasoningDelta("thinking...")])
    view.end(ThinkResult(reasoning="thinking..."), stopped=True)
    assert view.status == "stopped" and view.error == "" and view.reasoning == "thinking..."


def test_stop_message_from_the_browser_calls_back(comms: Any) -> None:
    calls: list[str] = []
    view = ThinkView(model="m")
    view.begin(can_stop=True, on_stop=lambda: calls.append("stop"))
    assert view.can_stop is True
    view._handle_message(view, {"t": "stop"}, [])
    view._handle_message(view, {"t": "other"}, [])
    assert calls == ["stop"]


def test_answer_that_was_reasoning_moves_across(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    drive(view, clock, [AnswerDelta("I think 2+2"), AnswerWasReasoning("I think 2+2"), AnswerDelta("4")], step=0.1)
    view.flush()
    assert view.reasoning == "I think 2+2"
    statuses = [m["st"] for m in custom(view) if "st" in m]
    assert statuses[-1] == "answering"  # live views follow the deltas; the trait follows at the next snapshot


def test_a_finished_view_is_shown_as_static_html_without_a_widget(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    result = ThinkResult(
        reasoning="<img src=x onerror=alert(1)>",
        answer="<script>alert(1)</script> **fine**",
        usage=RESULT.usage,
        finish_reason="stop",
    )
    view.end(result)
    data = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in data  # nothing for a saved notebook to miss
    page = data["text/html"]
    assert '<details data-tb="reasoning"><summary>' in page and "<strong>fine</strong>" in page
    assert "<img" not in page and "&lt;img src=x" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Only the one-line queue script and the answer's markdown as inert JSON data.
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/json" class="tb-md">', "<script>"]
    markdown = re.search(r'class="tb-md">(.*?)</script>', page)
    assert markdown and json.loads(markdown.group(1)) == result.answer and "</script" not in markdown.group(1)
    assert "total 70" in page
    assert "fine" in data["text/plain"] and "&lt;" not in data["text/plain"]
    assert "<img src=x" not in data["text/plain"]  # the text carries the reasoning's summary, not the reasoning


def test_while_streaming_the_bundle_is_the_widget_with_fallbacks(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    drive(view, clock, stream_of(RESULT)[:5])
    bundle = view._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data and "text/html" in data


def test_static_html_mirrors_the_live_view_and_reads_without_classes_or_scripts(clock: FakeClock, comms: Any) -> None:
    nh3 = pytest.importorskip("nh3")
    view = ThinkView.from_result(RESULT, enable_thinking=True, thinking_budget=500, replay="replay:x.jsonl")
    page = view.static_bundle()["text/html"]
    for hook in ('class="tb-view tb-static"', 'class="tb-bar"', 'class="tb-answer"', 'class="tb-foot"',
                 'data-tb="answer"', 'data-tb="counters"', '<b class="tb-model">qwen-plus</b>'):  # fmt: skip
        assert hook in page
    assert "thinking on · budget 500" in page and "Replayed from a recording" in page
    # GitHub keeps structure, drops style, class, id and scripts.
    tags = {"div", "p", "details", "summary", "pre", "code", "small", "b", "em", "strong", "h1", "span", "table"}
    stripped = nh3.clean(page, tags=tags, attributes={}, strip_comments=True)
    assert "class=" not in stripped and "<script" not in stripped and "style=" not in stripped
    assert "<details><summary>Thought for 1.5s · 40 tokens</summary><pre>" + "abc" * 40 in stripped
    assert "<h1>Title</h1>" in stripped and "<strong>bold</strong>" in stripped
    assert "<pre><code>" in stripped and "x = 1" in re.sub(r"<[^>]+>", "", stripped)
    assert "Tokens: input 10, reasoning 40, answer 20, total 70" in stripped


def test_from_result_shows_a_finished_result(comms: Any) -> None:
    view = ThinkView.from_result(RESULT, lang="zh")
    assert view.status == "done" and view.answer_markdown == RESULT.answer
    data = view._repr_mimebundle_()
    assert "已思考 1.5s" in data["text/plain"] and "完整回复" in data["text/plain"]
    assert '<div class="tb-view tb-static" lang="zh">' in data["text/html"]


def test_stopped_and_failed_views_keep_their_partial_text_in_the_static_form(clock: FakeClock, comms: Any) -> None:
    stopped = make_view(clock)
    drive(stopped, clock, [ReasoningDelta("half a "), ReasoningDelta("thought")])
    stopped.end(stopped=True)
    page = stopped.static_bundle()["text/html"]
    assert (
        '<details data-tb="reasoning" open><summary>' in page and "half a thought" in page
    )  # stopped before answering: open
    assert "Stopped: the answer is incomplete." in page and "tb-st-stopped" in page
    failed = make_view(clock)
    drive(failed, clock, [ReasoningDelta("think"), AnswerDelta("part of an ans")])
    failed.end(error=RuntimeError("connection\nlost"))
    page = failed.static_bundle()["text/html"]
    assert '<details data-tb="reasoning"><summary>' in page and "part of an ans" in page  # answered: folded, like live
    assert '<p class="tb-errline"><strong>Error:</strong> RuntimeError: connection lost</p>' in page
    assert "Error: RuntimeError: connection lost" in failed.static_bundle()["text/plain"]


def test_hidden_reasoning_is_said_not_shown_empty(comms: Any) -> None:
    hidden = ThinkResult(
        answer="42",
        usage=Usage(prompt_tokens=5, completion_tokens=1850, total_tokens=1855, reasoning_tokens=1840),
        timings=Timings(time_to_first_answer=4.5, thinking_seconds=4.2, total_seconds=5.0),
        reasoning_hidden=True,
    )
    view = ThinkView.from_result(hidden, lang="en")
    assert view.counters["reasoning_hidden"] is True  # the live view says it too (js/thinkview.js)
    data = view.static_bundle()
    line = "Thought for 4.2s · 1,840 tokens (not shown by the provider)"
    assert f'<p class="tb-hidden"><small>{line}</small></p>' in data["text/html"]
    assert "<details" not in data["text/html"]
    assert f"[{line}]" in data["text/plain"]
    zh = ThinkView.from_result(hidden, lang="zh").static_bundle()["text/plain"]
    assert "已思考 4.2s · 1,840 tokens (服务商未提供思考内容)" in zh
    shown = ThinkView.from_result(replace(hidden, reasoning="visible after all"), lang="en").static_bundle()
    assert "not shown by the provider" not in shown["text/html"]


def test_replayed_timings_are_told_at_the_recordings_pace_and_labelled(comms: Any) -> None:
    measured = replace(RESULT, timings=Timings(0.125, 0.5, 0.375, 0.75, 400.0))  # replayed at 4x
    view = ThinkView.from_result(measured, replay="replay:x.jsonl", replay_speed=4.0, lang="en")
    assert view.header["pace"] == 4.0
    timings = view.counters["timings"]
    assert timings["thinking_seconds"] == 1.5 and timings["total_seconds"] == 3.0
    assert timings["tokens_per_second"] == 100.0 and timings["time_to_first_token"] == 0.5
    data = view.static_bundle()
    assert "Thought for 1.5s" in data["text/html"] and "100.0 tok/s" in data["text/html"]
    assert "timings as recorded" in data["text/html"] and "timings as recorded" in data["text/plain"]
    unpaced = ThinkView.from_result(measured, replay="replay:x.jsonl", replay_speed=0.0).static_bundle()["text/html"]
    assert "tok/s" not in unpaced and "Thought for" not in unpaced and "replayed without pauses" in unpaced
    live = ThinkView.from_result(measured).static_bundle()["text/html"]  # not a replay: as measured
    assert "400.0 tok/s" in live and "as recorded" not in live


def test_replay_speed_and_recorded_pace() -> None:
    from thinkbook._replay import at_recorded_pace, replay_speed, replay_url

    assert replay_speed("https://dashscope.aliyuncs.com/compatible-mode/v1") is None
    assert replay_speed("not a url at all \x00") is None
    path = Path(__file__).parent.parent / "thinkbook" / "recordings"
    recording = next(path.glob("*.jsonl"))
    assert replay_speed(replay_url(recording, 4.0)) == 4.0
    assert replay_speed(replay_url(recording, 0.0)) == 0.0
    scaled = at_recorded_pace(Timings(0.1, 0.2, 0.1, 0.5, 800.0), 4.0)
    assert scaled == Timings(0.4, 0.8, 0.4, 2.0, 200.0)
    assert at_recorded_pace(Timings(0.1, 0.2, 0.1, 0.5, 800.0), 0.0) == Timings()
    assert at_recorded_pace(Timings(), 2.0) == Timings()


def test_retire_empties_and_closes_the_widget_but_keeps_what_it_showed(comms: Any) -> None:
    view = ThinkView.from_result(RESULT)
    before = view.final_state()
    assert view.get_state()["layout"] is None  # no Layout model (one comm and ~1.2 KB less per view)
    comm = view.comm
    assert isinstance(comm, RecordingComm)
    view.retire()
    assert view.comm is None and view.final_state() == before
    # The last state the front end (and a headless run's saved notebook) got: emptied, no code.
    last = comm.state_updates()[-1]
    assert last["_esm"] == "export default {}" and last["_css"] == ""
    assert last["reasoning"] == last["answer_html"] == last["answer_markdown"] == "" and last["counters"] == {}
    assert view.static_bundle()["text/html"] == ThinkView.from_result(RESULT).static_bundle()["text/html"]


def test_no_key_in_widget_state(comms: Any) -> None:
    view = ThinkView.from_result(RESULT)
    state = view.get_state()
    assert "api_key" not in str(state) and "sk-" not in str(state)


def apply_tail(tail: str, message: dict[str, Any]) -> str:
    """What the browser does with a delta's tail fields (JS strings index UTF-16 units)."""
    if message.get("b"):
        tail = ""
    if "a" not in message:
        return tail
    kept = tail.encode("utf-16-le")[: 2 * message.get("ak", 0)].decode("utf-16-le")
    return kept + message["a"]


def test_growing_tail_is_sent_as_a_diff_that_rebuilds_exactly(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    code = "".join(f"    value_{i} = '思考 😀 {i}'\n" for i in range(200))
    events = [AnswerDelta("Intro.\n\n```python\n")] + [AnswerDelta(code[i : i + 7]) for i in range(0, len(code), 7)]
    drive(view, clock, events, step=0.03)
    clock.now += 1
    view.flush()
    messages = custom(view)
    tail = ""
    for message in messages:
        tail = apply_tail(tail, message)
    assert tail == view._markdown.tail and "value_199" in tail
    sent = sum(len(m.get("a", "")) for m in messages)
    assert sent < 3 * len(tail)  # not the whole tail again on every batch


def test_the_open_block_is_re_rendered_paced_by_its_cost(clock: FakeClock, comms: Any) -> None:
    """A 100 KB paragraph streamed at 2,000 chunks/s: each re-render waits 8x the last one's cost,
    so the whole answer costs a small multiple of its length in rendering, not its square."""
    paragraph = " ".join(f"word{i} *some* `code`" for i in range(6000))[:100_000]

    def rendered(render_pace: float, size: int) -> float:
        events = [AnswerDelta(paragraph[i : i + 4]) for i in range(0, size, 4)]
        view = make_view(clock, render_pace=render_pace)
        # A render costs 2 µs per source character, on the view's own (fake) clock.
        view._render_clock = lambda: view._markdown.rendered_chars * 2e-6
        drive(view, clock, events, step=0.0005)
        clock.now += 10
        view.flush()
        browser = ""
        for message in custom(view):
            browser = apply_tail(browser, message)
        assert browser == view._markdown.tail and "word" in browser[-200:]
        return view._markdown.rendered_chars / size

    assert rendered(8.0, 100_000) < 15
    assert rendered(0.0, 30_000) > 30  # without pacing: every 50 ms, and 100 KB would be ~120x


def test_reasoning_still_streams_while_the_answer_render_waits(clock: FakeClock, comms: Any) -> None:
    view = make_view(clock)
    view._render_clock = lambda: view._markdown.rendered_chars * 1e-3  # 1 ms per character: slow
    drive(view, clock, [AnswerDelta("x" * 200)], step=0.1)  # rendered: the next waits 8 * 0.2 s
    assert any("a" in m for m in custom(view))
    sent = len(custom(view))
    drive(view, clock, [AnswerDelta("y" * 10), ReasoningDelta("r" * 60)], step=0.1)
    clock.now += 0.1
    if view.due_in() <= 0:
        view.flush()
    late = custom(view)[sent:]
    assert "".join(m.get("r", "") for m in late) == "r" * 60
    assert not any("a" in m for m in late) and view.due_in() > 1  # the answer waits for its turn
    clock.now += 2
    assert view.due_in() == 0
    view.flush()
    assert "y" * 10 in custom(view)[-1]["a"]
