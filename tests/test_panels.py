"""ChatPanel and ComparePanel against a LoopbackServer, widgets on recording comms (no browser)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from thinkbook import Conversation, ThinkbookWarning, clear_prices, set_price
from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import ComparePanel
from thinkbook._errors import ConfigurationError
from thinkbook._fallback import static_html
from thinkbook._panel_common import capabilities, session_totals
from thinkbook._view import ThinkView
from thinkbook.testing import LoopbackServer, RecordedRequest, RecordingComm, ScriptedResponse, recording_comms

FAKE_KEY = "sk-test-SECRET0123456789abcdef"


def answer(
    reasoning: str, text: str, *, model: str = "qwen-plus", delay: float = 0.0, usage: int = 10
) -> ScriptedResponse:
    events: list[dict[str, Any]] = [{"model": model, "choices": [{"delta": {"reasoning_content": reasoning}}]}]
    events += [{"choices": [{"delta": {"content": text}}]}]
    events += [
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": usage, "completion_tokens": 2 * usage, "total_tokens": 3 * usage,
                                  "completion_tokens_details": {"reasoning_tokens": usage}}},
    ]  # fmt: skip
    return ScriptedResponse.from_sse(events, delay=delay)


def slow_answer(chunks: int, delay: float, model: str = "qwen-plus") -> ScriptedResponse:
    events: list[dict[str, Any]] = [{"model": model, "choices": [{"delta": {"reasoning_content": "想"}}]}]
    events += [{"choices": [{"delta": {"content": f"词{i} "}}]} for i in range(chunks)]
    events += [{"choices": [{"delta": {}, "finish_reason": "stop"}]}]
    return ScriptedResponse.from_sse(events, delay=delay)


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


@pytest.fixture(autouse=True)
def _no_prices() -> Iterator[None]:
    yield
    clear_prices()


def url(server: LoopbackServer) -> str:
    return server.url + "/compatible-mode/v1"


def chat(server: LoopbackServer, **options: Any) -> ChatPanel:
    options.setdefault("model", "qwen-plus")
    return ChatPanel(base_url=url(server), api_key=FAKE_KEY, lang="en", **options)


def synced_state(comms: list[RecordingComm]) -> str:
    return json.dumps([c.messages for c in comms], ensure_ascii=False, default=str)


# --- ChatPanel ---------------------------------------------------------------------------------


def test_chat_turns_accumulate_in_the_conversation(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(answer("先想一想", "**第一** 个回答"), answer("再想", "第二个回答"))
    panel = chat(server, preserve_thinking=True)
    future = panel.send("你好")
    assert panel.busy and panel.controls.busy
    assert future.result(5).answer == "**第一** 个回答"
    panel.wait(5)
    assert not panel.controls.busy
    panel.send("继续")
    assert panel.wait(5) is not None
    conv = panel.conversation
    assert isinstance(conv, Conversation) and conv.turns == 2
    assert [m["role"] for m in conv.messages] == ["user", "assistant", "user", "assistant"]
    assert conv.messages[1]["reasoning_content"] == "先想一想"
    # the second request carried the first turn with its reasoning (preserve_thinking on qwen-plus is dropped
    # with a warning by the request builder, but the catalog says qwen-plus cannot preserve: the panel unticked it)
    assert panel.controls.preserve_thinking is False
    second = server.requests[1].json()
    assert [m["content"] for m in second["messages"]] == ["你好", "**第一** 个回答", "继续"]
    # each assistant turn streams in a ThinkView under a user bubble; once over, its static rendering takes
    # its place (no live widget, no widget state, for a finished turn) and the view is retired
    assert len(panel.turns_box.children) == 2
    turn = panel.turns_box.children[0]
    assert not isinstance(turn.children[1], ThinkView) and "tb-settled" in turn.children[1]._dom_classes
    assert "<strong>第一</strong>" in turn.children[1].value and 'data-tb="reasoning"' in turn.children[1].value
    assert panel._turns[0].view.status == "done" and panel._turns[0].view.comm is None
    assert "<strong>第一</strong>" in panel._turns[0].view.final_state().answer_html
    totals = panel.controls.totals
    assert totals["turns"] == 2 and totals["total_tokens"] == 60 and totals["reasoning_tokens"] == 20
    assert panel.controls.turns == 2


def test_chat_user_text_is_escaped(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(answer("r", "a"))
    panel = chat(server)
    panel.send("<img src=x onerror=alert(1)>")
    panel.wait(5)
    bubble = panel.turns_box.children[0].children[0].value
    assert "<img" not in bubble and "&lt;img src=x" in bubble


def test_chat_can_be_continued_in_code_and_refreshed(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(answer("r1", "a1"), answer("r2", "a2"))
    panel = chat(server)
    panel.send("one")
    panel.wait(5)
    panel.conversation.send("two")  # display=False: nothing drawn, the conversation grows
    assert len(panel.turns_box.children) == 1
    panel.refresh()
    assert len(panel.turns_box.children) == 2 and panel.totals["turns"] == 2
    assert panel._turns[1].view.final_state().answer_markdown == "a2"
    assert "a2" in panel.turns_box.children[1].children[1].value  # drawn as its static rendering


def test_send_from_the_browser_and_stop(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(slow_answer(200, 0.02))
    panel = chat(server)
    panel.controls._handle_custom_msg({"t": "send", "text": "long one"}, [])
    assert panel.busy
    assert server.wait_for_requests(1)
    time.sleep(0.2)
    panel.controls._handle_custom_msg({"t": "stop"}, [])
    assert panel.wait(5) is None
    assert server.wait_for_disconnect()
    view = panel._turns[0].view.final_state()
    assert view.status == "stopped" and "词0" in view.answer_markdown
    assert "词0" in panel.turns_box.children[0].children[1].value  # settled at once: sent from the browser
    assert panel.conversation.turns == 0  # a stopped turn is not part of the chat
    assert not panel.busy and not panel.controls.busy


def test_the_stop_button_of_the_turn_view_stops_it(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(slow_answer(200, 0.02))
    panel = chat(server)
    panel.send("long")
    assert server.wait_for_requests(1)
    view = panel.turns_box.children[0].children[1]
    assert view.can_stop
    view._handle_message(view, {"t": "stop"}, [])
    assert panel.wait(5) is None and view.status == "stopped"


def test_only_one_turn_streams_at_a_time_and_empty_prompts_are_refused(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(slow_answer(50, 0.02), answer("r", "a"))
    panel = chat(server)
    with pytest.raises(ConfigurationError):
        panel.send("   ")
    panel.send("first")
    with pytest.raises(ConfigurationError, match="still streaming"):
        panel.send("second")
    panel.controls._handle_custom_msg({"t": "send", "text": "second"}, [])  # from the UI: kept, in the chat
    assert "Not sent: a turn is still streaming" in panel.turns_box.children[-1].value
    panel.wait(5)
    panel.send("second")
    assert panel.wait(5) is not None


def test_failed_turn_shows_the_error_and_is_not_recorded(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(ScriptedResponse.from_json({"error": {"message": "bad key", "code": "invalid_api_key"}}, status=401))
    panel = chat(server)
    panel.send("hi")
    assert panel.wait(5) is None
    view = panel._turns[0].view.final_state()
    assert view.status == "error" and ("401" in view.error or "bad key" in view.error)
    assert panel.conversation.turns == 0 and panel.controls.notice


def test_clear_forgets_the_chat_but_keeps_the_session_totals(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(answer("r", "a"))
    panel = chat(server, system="be brief")
    panel.send("hi")
    panel.wait(5)
    panel.controls._handle_custom_msg({"t": "clear"}, [])
    assert panel.turns_box.children == () and panel.conversation.turns == 0
    assert panel.conversation.messages == [{"role": "system", "content": "be brief"}]
    assert panel.controls.totals["turns"] == 1


# --- controls validation -------------------------------------------------------------------------


def test_thinking_only_model_locks_thinking_on(server: LoopbackServer, comms: Any) -> None:
    panel = chat(server, model="qwen-plus", enable_thinking=False)
    assert panel.controls.caps["thinking_locked"] is False and panel.controls.enable_thinking is False
    with pytest.raises(ConfigurationError, match="thinking-only"):
        panel.configure(model="deepseek-r1", enable_thinking=False)
    panel.controls.model = "deepseek-r1"  # from the UI: corrected, with a notice
    assert panel.controls.caps["thinking_locked"] is True
    assert panel.controls.enable_thinking is None
    assert "always thinks" in panel.controls.notice
    panel.controls.enable_thinking = False
    assert panel.controls.enable_thinking is None


def test_budget_only_for_models_that_take_it(server: LoopbackServer, comms: Any) -> None:
    panel = chat(server, model="qwen-plus", thinking_budget=2048)
    assert panel.controls.caps["budget"] is True and panel.controls.thinking_budget == 2048
    with pytest.raises(ConfigurationError, match="does not apply"):
        panel.configure(model="deepseek-r1", thinking_budget=1024)
    with pytest.raises(ConfigurationError, match="pick one"):
        panel.configure(enable_thinking=False, thinking_budget=1024)
    with pytest.raises(ConfigurationError, match="positive"):
        panel.configure(thinking_budget=-5)
    panel.controls.model = "deepseek-r1"
    assert panel.controls.caps["budget"] is False and panel.controls.thinking_budget is None
    assert "no thinking budget" in panel.controls.notice
    panel.controls.model = "qwen3.6-plus"
    panel.controls.thinking_budget = 4096
    panel.controls.enable_thinking = False  # thinking off: the budget goes
    assert panel.controls.thinking_budget is None
    assert capabilities("my-local-model")["budget"] is True  # other servers: allowed, the server decides


def test_budget_and_thinking_reach_the_request(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(answer("r", "a"))
    panel = chat(server, model="qwen3.6-plus")
    panel.controls.enable_thinking = True
    panel.controls.thinking_budget = 1024
    panel.controls.system = "sys"
    panel.send("hi")
    panel.wait(5)
    body = server.requests[0].json()
    assert body["enable_thinking"] is True and body["thinking_budget"] == 1024
    assert body["messages"][0] == {"role": "system", "content": "sys"}


def test_hybrid_model_shows_its_default(server: LoopbackServer, comms: Any) -> None:
    panel = chat(server, model="qwen-plus")
    assert panel.controls.caps["default_thinking"] is False and panel.controls.caps["mode"] == "hybrid"
    panel.configure(model="qwen3.6-plus")
    assert panel.controls.caps["default_thinking"] is True
    choices = panel.controls.choices
    assert {"name": "qwq-plus", "family": "QwQ", "mode": "thinking-only"}.items() <= next(
        c for c in choices if c["name"] == "qwq-plus"
    ).items()


# --- export and keys ----------------------------------------------------------------------------


def test_export_markdown_and_json_hold_turns_and_usage_but_no_key(server: LoopbackServer, comms: Any) -> None:
    set_price("qwen-plus", input=1.0, output=2.0)
    server.enqueue(answer("推理过程", "最终回答"))
    panel = chat(server, system="简短")
    panel.send("问题")
    panel.wait(5)
    md = panel.to_markdown()
    assert "问题" in md and "推理过程" in md and "最终回答" in md and "total 30" in md and "CNY" in md
    data = json.loads(panel.to_json())
    assert data["messages"][1]["content"] == "问题"
    assert data["turns"][0]["usage"]["reasoning_tokens"] == 10 and data["turns"][0]["usage"]["answer_tokens"] == 10
    assert data["totals"]["cost"]["CNY"] == pytest.approx((10 * 1 + 20 * 2) / 1e6)
    panel.controls._handle_custom_msg({"t": "export", "format": "json"}, [])
    panel.controls._handle_custom_msg({"t": "export", "format": "md"}, [])
    assert FAKE_KEY not in md and FAKE_KEY not in panel.to_json()
    assert FAKE_KEY not in synced_state(comms)  # nothing the browser got (state, deltas, exports) has it
    exports = [m for c in comms for m in c.custom_messages() if isinstance(m, dict) and m.get("t") == "export"]
    assert [e["format"] for e in exports] == ["json", "md"] and "最终回答" in exports[1]["text"]


def test_session_totals_sum_costs_per_currency() -> None:
    from thinkbook import ThinkResult, Usage

    set_price("a", input=1, output=1)
    results = [ThinkResult(model="a", usage=Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2)),
               ThinkResult(model="b", usage=Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2))]  # fmt: skip
    totals = session_totals(results)
    assert totals["total_tokens"] == 4 and totals["unpriced"] == 1 and totals["cost"] == {"CNY": 2e-6}


# --- ComparePanel ---------------------------------------------------------------------------------


def by_model(table: dict[str, ScriptedResponse]) -> Any:
    def respond(request: RecordedRequest) -> ScriptedResponse:
        body = request.json()
        key = body["model"] + (":off" if body.get("enable_thinking") is False else "")
        return table[key]

    return respond


def test_compare_one_failing_column_shows_its_error_and_the_others_finish(engine: Any, comms: Any) -> None:
    set_price("qwen-plus", input=1.0, output=1.0)
    set_price("qwen3.6-plus", input=10.0, output=10.0)
    table = {
        "qwen-plus": answer("r", "a short answer", delay=0.01),
        "qwen3.6-plus": answer("rr", "a much longer answer here", model="qwen3.6-plus", delay=0.3),
        "qwen-flash": ScriptedResponse.from_json({"error": {"message": "Incorrect API key"}}, status=401),
    }
    with LoopbackServer(by_model(table)) as server:
        panel = ComparePanel("9.11 vs 9.9?", ["qwen-plus", "qwen3.6-plus", {"model": "qwen-flash"}],
                             base_url=url(server), api_key=FAKE_KEY, lang="en")  # fmt: skip
        assert not panel.summary_widget.finished
        results = panel.wait(10)
    assert results[0] is not None and results[0].answer == "a short answer"
    assert results[2] is None
    views = panel.views
    assert [v.status for v in views] == ["done", "done", "error"]
    assert "401" in views[2].error or "Incorrect API key" in views[2].error
    rows = panel.summary()
    assert [r["status"] for r in rows] == ["done", "done", "error"]
    assert rows[0]["fastest"] and rows[0]["cheapest"] and not rows[1]["fastest"]
    assert rows[0]["answer_chars"] == len("a short answer") and rows[1]["reasoning_tokens"] == 10
    widget = panel.summary_widget
    assert widget.finished and widget.fastest == 0 and widget.cheapest == 0
    md = panel.to_markdown()
    assert md.splitlines()[0].startswith("| configuration | status | first token")
    assert "qwen-plus (fastest, cheapest)" in md and "error: " in md
    assert FAKE_KEY not in synced_state(comms)


def test_compare_thinking_on_versus_off_and_budgets(engine: Any, comms: Any) -> None:
    table = {"qwen-plus": answer("r", "on"), "qwen-plus:off": answer("", "off")}
    with LoopbackServer(by_model(table)) as server:
        panel = ComparePanel("q", [{"model": "qwen-plus", "thinking_budget": 500},
                                   {"model": "qwen-plus", "enable_thinking": False}],
                             base_url=url(server), api_key=FAKE_KEY, lang="en")  # fmt: skip
        panel.wait(10)
        bodies = sorted((r.json() for r in server.requests), key=lambda b: b["enable_thinking"])
    assert bodies[0]["enable_thinking"] is False and "thinking_budget" not in bodies[0]
    assert bodies[1]["thinking_budget"] == 500 and bodies[1]["enable_thinking"] is True
    assert [r["label"] for r in panel.summary()] == ["qwen-plus · budget 500", "qwen-plus · thinking off"]


def test_compare_bad_configuration_fails_in_its_column_only(engine: Any, comms: Any) -> None:
    with LoopbackServer([answer("r", "ok")]) as server:
        panel = ComparePanel("q", ["qwen-plus", {"model": "deepseek-r1", "enable_thinking": False}],
                             base_url=url(server), api_key=FAKE_KEY, lang="en")  # fmt: skip
        panel.wait(10)
    assert [v.status for v in panel.views] == ["done", "error"]
    assert "thinking-only" in panel.views[1].error


def test_compare_offline_says_once_that_its_columns_replay(
    engine: Any, comms: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """With no key, every column that has a recording replays it, and the panel says so in one line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    with pytest.warns(ThinkbookWarning) as said:
        panel = ComparePanel(
            "你是谁", [{"model": "qwen-plus", "enable_thinking": True}, {"model": "qwen-plus", "thinking_budget": 50}]
        )
    panel.wait(20)
    assert [v.status for v in panel.views] == ["done", "done"]
    lines = [str(w.message) for w in said]
    assert len(lines) == 1, lines
    assert lines[0].startswith("no DASHSCOPE_API_KEY set: 2 of the 2 columns replay recorded answers")
    assert "qwen-plus-whoami.jsonl" in lines[0] and "qwen-plus-budget50.native.jsonl" in lines[0]


def test_compare_summary_tells_replayed_timings_at_the_recordings_pace(
    engine: Any, comms: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """A replay at 16x measures a 16th of the recorded times: the summary scales them back, as its column does."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "16")
    with pytest.warns(ThinkbookWarning):
        panel = ComparePanel(
            "你是谁", [{"model": "qwen-plus", "enable_thinking": True}, {"model": "qwen-plus", "thinking_budget": 50}]
        )
    panel.wait(20)
    for row, result, view in zip(panel.summary(), panel.results, panel.views, strict=True):
        assert result is not None and result.timings.total_seconds is not None
        assert row["total_seconds"] == pytest.approx(result.timings.total_seconds * 16, rel=0.01)
        assert row["time_to_first_token"] == pytest.approx(result.timings.time_to_first_token * 16, rel=0.01)
        shown = re.search(r"first token ([0-9.]+)s", static_html(view.final_state()))
        assert shown and float(shown.group(1)) == pytest.approx(row["time_to_first_token"], abs=0.051)


def test_compare_needs_two_to_six_configurations() -> None:
    with pytest.raises(ConfigurationError):
        ComparePanel("q", ["qwen-plus"])
    with pytest.raises(ConfigurationError):
        ComparePanel("q", ["qwen-plus"] * 7)
    with pytest.raises(ConfigurationError):
        ComparePanel("", ["qwen-plus", "qwen-flash"])


def test_compare_stop_stops_every_column(engine: Any, comms: Any) -> None:
    with LoopbackServer(lambda request: slow_answer(300, 0.02)) as server:
        panel = ComparePanel("q", ["qwen-plus", "qwen-flash"], base_url=url(server), api_key=FAKE_KEY)
        assert server.wait_for_requests(2)
        time.sleep(0.2)
        panel.stop()
        panel.wait(5)
    assert [v.status for v in panel.views] == ["stopped", "stopped"]
    assert [r["status"] for r in panel.summary()] == ["stopped", "stopped"]
    assert panel.summary_widget.finished and panel.summary_widget.fastest == -1


def test_compare_dataframe_or_markdown(engine: Any, comms: Any) -> None:
    with LoopbackServer(lambda request: answer("r", "a")) as server:
        panel = ComparePanel("q", ["qwen-plus", "qwen-flash"], base_url=url(server), api_key=FAKE_KEY)
        panel.wait(10)
    assert panel.to_markdown().count("\n") == 4
    pandas = pytest.importorskip("pandas")
    frame = panel.to_dataframe()
    assert isinstance(frame, pandas.DataFrame) and list(frame.index) == ["qwen-plus", "qwen-flash"]


def test_six_columns_stay_within_one_views_message_budget(engine: Any, comms: Any) -> None:
    """Six columns streaming ~90 chunks/s each: while they stream, comm messages/s stay within one
    ThinkView's budget (25/s); overall, only each column's fixed start/end updates come on top."""

    def sent() -> int:
        return sum(len(c.messages) for c in comms)

    with LoopbackServer(lambda request: slow_answer(250, 0.01)) as server:
        models = ["qwen-plus", "qwen-flash", "qwen-turbo", "qwen3.6-plus", "qwen3.5-plus", "qwen3-max"]
        panel = ComparePanel("q", models, base_url=url(server), api_key=FAKE_KEY)
        started, first = time.monotonic(), sent()
        time.sleep(0.6)
        window_start, at_start = time.monotonic(), sent()
        time.sleep(1.2)
        window, in_window = time.monotonic() - window_start, sent() - at_start
        assert not panel.summary_widget.finished
        panel.wait(20)
        elapsed = time.monotonic() - started
    total = sent() - first
    assert all(v.status == "done" for v in panel.views)
    assert in_window / window <= 25, (in_window, window)
    assert total <= 25 * elapsed + 6 * len(models), (total, elapsed)


def test_six_columns_stream_together_in_one_message_per_tick(engine: Any, comms: Any) -> None:
    """Every column's deltas ride in the summary widget's messages, several columns per message;
    each column still gets its whole text, in order, with its own sequence numbers."""
    with LoopbackServer(lambda request: slow_answer(120, 0.01, model=request.json()["model"])) as server:
        models = ["qwen-plus", "qwen-flash", "qwen-turbo", "qwen3.6-plus", "qwen3.5-plus", "qwen3-max"]
        panel = ComparePanel("q", models, base_url=url(server), api_key=FAKE_KEY, finalize="widget")
        view_ids = {id(view): view.comm.comm_id for view in panel.views}  # (retired once over)
        panel.wait(20)
    by_id = {c.comm_id: c for c in comms}
    hub = by_id[panel.summary_widget.comm.comm_id].custom_messages()
    assert hub and all(m["t"] == "D" for m in hub)
    assert max(len(m["d"]) for m in hub) >= 3  # columns really share messages
    for view in panel.views:
        assert view.status == "done" and view.channel
        deltas = [m["d"][view.channel] for m in hub if view.channel in m["d"]]
        deltas += by_id[view_ids[id(view)]].custom_messages()  # the last one comes with the view's end
        assert [d["s"] for d in deltas] == list(range(1, len(deltas) + 1))
        assert "".join(d.get("r", "") for d in deltas) == view.reasoning == "想"
        blocks, tail = "", ""
        for d in deltas:  # as the browser applies them (ak: characters kept of the old tail)
            blocks += "".join(d.get("b", []))
            if "a" in d:
                tail = (tail[: d["ak"]] if d.get("ak") else "") + d["a"]
        # The deltas stream the text in order; the final snapshot (one full render) completes it.
        streamed = re.sub(r"<[^>]+>", "", blocks + tail).strip()
        assert "词60" in streamed and re.sub(r"<[^>]+>", "", view.answer_html).startswith(streamed)
        assert "词119" in view.answer_html and view.seq == deltas[-1]["s"]
        assert view.header["label"] == view.header["model"]
    assert FAKE_KEY not in synced_state(comms)


def test_chat_panel_turns_can_call_tools(server: LoopbackServer) -> None:
    """ChatPanel(tools=...) runs the notebook's functions in a turn, like think(tools=...)."""
    from wire_tools import openai_answer, openai_tool_round

    def add(a: int, b: int) -> int:
        """Add two numbers.

        Args:
            a: the first
            b: the second
        """
        return a + b

    server.enqueue(openai_tool_round("Use the tool.", [("call_1", "add", {"a": 2, "b": 3})]), openai_answer("", "5"))
    with recording_comms():
        chat = ChatPanel("m", base_url=server.url + "/v1", api_key="sk-test-0123456789", tools=[add])
        result = chat.send("2+3?").result(timeout=30)
        chat.wait(30)
    assert result.answer == "5" and [(c.name, c.result) for c in result.tool_calls] == [("add", 5)]
    assert [m["role"] for m in chat.conversation.messages] == ["user", "assistant", "tool", "assistant"]
    with pytest.raises(ConfigurationError, match="confirm=a function"):
        ChatPanel("m", base_url=server.url + "/v1", tools=[add], confirm=True)
