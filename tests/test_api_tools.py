"""think(tools=...) end to end against a loopback server: the loop, its safety rules, each
protocol's second request, stream() events, cancellation, and Conversation keeping tool turns."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from wire_tools import native_answer, native_tool_round, openai_answer, openai_tool_round

import thinkbook
from thinkbook import (
    AnswerDelta,
    ConfigurationError,
    Done,
    ReasoningDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolLoopError,
)
from thinkbook.testing import LoopbackServer

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
QUESTION = "Weather in Oslo and Rome?"


def get_weather(city: str) -> dict[str, Any]:
    """The weather now.

    Args:
        city: the city's name
    """
    return {"city": city, "temp_c": 21 if city == "Oslo" else 30}


def ask(server: LoopbackServer, **options: Any) -> thinkbook.ThinkResult:
    options.setdefault("model", "qwen-plus")
    options.setdefault("dialect", "bailian")
    options.setdefault("tools", [get_weather])
    return thinkbook.think(QUESTION, base_url=server.url + "/v1", api_key=FAKE_KEY, display=False, **options)


OSLO_ROME = [("call_a", "get_weather", {"city": "Oslo"}), ("call_b", "get_weather", {"city": "Rome"})]


def test_parallel_calls_run_and_the_second_request_carries_them(server: LoopbackServer) -> None:
    server.enqueue(
        openai_tool_round("Two cities: call both.", OSLO_ROME), openai_answer("Both known.", "Oslo 21, Rome 30.")
    )
    result = ask(server)

    assert result.answer == "Oslo 21, Rome 30."
    assert result.reasoning == "Two cities: call both.\n\nBoth known."
    assert [(c.id, c.name, c.arguments, c.result, c.error) for c in result.tool_calls] == [
        ("call_a", "get_weather", {"city": "Oslo"}, {"city": "Oslo", "temp_c": 21}, None),
        ("call_b", "get_weather", {"city": "Rome"}, {"city": "Rome", "temp_c": 30}, None),
    ]
    assert all(c.seconds is not None for c in result.tool_calls)
    assert [len(r.tool_calls) for r in result.rounds] == [2, 0]
    assert result.usage is not None and (result.usage.prompt_tokens, result.usage.total_tokens) == (20, 30)

    first, second = (request.json() for request in server.requests)
    spec = first["tools"][0]
    assert spec["function"]["name"] == "get_weather"
    assert spec["function"]["parameters"]["properties"]["city"] == {"description": "the city's name", "type": "string"}
    assert second["tools"] == first["tools"]
    assert second["messages"] == [
        {"role": "user", "content": QUESTION},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                },
            ],
            "reasoning_content": "Two cities: call both.",
        },
        {"role": "tool", "tool_call_id": "call_a", "content": '{"city": "Oslo", "temp_c": 21}'},
        {"role": "tool", "tool_call_id": "call_b", "content": '{"city": "Rome", "temp_c": 30}'},
    ]


def test_deepseek_keeps_reasoning_content_in_the_second_request(server: LoopbackServer) -> None:
    server.enqueue(openai_tool_round("", OSLO_ROME[:1]), openai_answer("", "21."))
    ask(server, model="deepseek-reasoner", dialect="deepseek")
    assert server.requests[1].json()["messages"][1]["reasoning_content"] == ""


def test_a_tool_exception_becomes_an_error_the_model_sees(server: LoopbackServer) -> None:
    def flaky(city: str) -> str:
        """Fails."""
        raise RuntimeError(f"no station in {city}")

    server.enqueue(openai_tool_round("try", [("c1", "flaky", {"city": "Oslo"})]), openai_answer("", "Sorry."))
    result = ask(server, tools=[flaky])
    assert result.answer == "Sorry."
    assert result.tool_calls[0].error == "RuntimeError: no station in Oslo" and result.tool_calls[0].result is None
    tool_message = server.requests[1].json()["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": "c1", "content": "error: RuntimeError: no station in Oslo"}


def test_an_unknown_tool_name_runs_nothing_and_tells_the_model(server: LoopbackServer) -> None:
    ran: list[str] = []

    def delete_files(path: str) -> None:
        """Never offered to the model."""
        ran.append(path)

    server.enqueue(openai_tool_round("", [("c1", "delete_files", {"path": "/"})]), openai_answer("", "ok"))
    result = ask(server)
    assert ran == []
    assert result.tool_calls[0].error is not None and "no tool named 'delete_files'" in result.tool_calls[0].error
    assert "get_weather" in server.requests[1].json()["messages"][-1]["content"]


def test_invalid_arguments_are_an_error_result(server: LoopbackServer) -> None:
    server.enqueue(openai_tool_round("", [("c1", "get_weather", {"town": "Oslo"})]), openai_answer("", "ok"))
    result = ask(server)
    assert result.tool_calls[0].error is not None and "city" in result.tool_calls[0].error


def test_max_tool_rounds_raises_with_every_round_in_partial(server: LoopbackServer) -> None:
    server.enqueue(
        openai_tool_round("first", OSLO_ROME[:1]),
        openai_tool_round("again", [("call_c", "get_weather", {"city": "Rome"})]),
    )
    with pytest.raises(ToolLoopError, match="max_tool_rounds=1") as caught:
        ask(server, max_tool_rounds=1)
    partial = caught.value.partial
    assert partial is not None
    assert [r.reasoning for r in partial.rounds] == ["first", "again"]
    assert [c.id for c in partial.tool_calls] == ["call_a"]  # the second round's call never ran
    assert len(server.requests) == 2


def test_a_dict_tool_ends_the_loop_and_returns_the_calls(server: LoopbackServer) -> None:
    spec = {"type": "function", "function": {"name": "book_flight", "parameters": {"type": "object"}}}
    server.enqueue(openai_tool_round("book it", [("c1", "book_flight", {"to": "Rome"})]))
    result = ask(server, tools=[spec])
    assert len(server.requests) == 1
    assert result.finish_reason == "tool_calls"
    assert [(c.name, c.arguments, c.result, c.error) for c in result.tool_calls] == [
        ("book_flight", {"to": "Rome"}, None, None)
    ]
    assert server.requests[0].json()["tools"] == [spec]


def test_stream_yields_tool_events_between_the_text(server: LoopbackServer) -> None:
    server.enqueue(openai_tool_round("look up", OSLO_ROME[:1]), openai_answer("got it", "21 degrees"))
    events = list(
        thinkbook.stream(
            QUESTION,
            model="qwen-plus",
            base_url=server.url + "/v1",
            api_key=FAKE_KEY,
            dialect="bailian",
            tools=[get_weather],
        )
    )
    kinds: list[str] = []
    for event in events:
        kind = type(event).__name__
        if kind != "UsageUpdate" and (not kinds or kinds[-1] != kind or kind != "AnswerDelta"):
            kinds.append(kind)  # answer deltas may come in pieces (the live redaction holds a tail)
    assert kinds == ["ReasoningDelta", "ToolCallStarted", "ToolCallFinished", "ReasoningDelta", "AnswerDelta", "Done"]
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert started.call.name == "get_weather" and finished.call.result == {"city": "Oslo", "temp_c": 21}
    done = events[-1]
    assert isinstance(done, Done) and done.result.answer == "21 degrees" and len(done.result.rounds) == 2
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["look up", "got it"]
    assert "".join(e.text for e in events if isinstance(e, AnswerDelta)) == "21 degrees"


def test_astream_runs_the_loop_too(server: LoopbackServer) -> None:
    server.enqueue(openai_tool_round("", OSLO_ROME[:1]), openai_answer("", "done"))

    async def collect() -> list[Any]:
        stream = thinkbook.astream(
            QUESTION, model="m", base_url=server.url + "/v1", api_key=FAKE_KEY, dialect="bailian", tools=[get_weather]
        )
        return [event async for event in stream]

    events = asyncio.run(collect())
    assert isinstance(events[-1], Done) and events[-1].result.tool_calls[0].result["temp_c"] == 21


def test_cancel_mid_tool_stops_cleanly_with_the_loop_so_far(server: LoopbackServer) -> None:
    started = threading.Event()
    cancelled = threading.Event()

    async def slow_lookup(city: str) -> str:
        """Takes long."""
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    server.enqueue(openai_tool_round("wait for it", [("c1", "slow_lookup", {"city": "Oslo"})]))
    handle = thinkbook.submit(
        QUESTION,
        model="m",
        base_url=server.url + "/v1",
        api_key=FAKE_KEY,
        dialect="bailian",
        tools=[slow_lookup],
        display=False,
    )
    assert started.wait(5)
    assert handle.cancel()
    assert handle.run.settled.wait(5) and cancelled.wait(5)
    assert handle.state == "stopped"
    partial = handle.partial
    assert partial is not None and partial.reasoning == "wait for it"
    assert [c.name for c in partial.tool_calls] == ["slow_lookup"]
    time.sleep(0.1)
    assert len(server.requests) == 1  # nothing was sent after the stop


def test_tool_choice_by_name_and_bad_choices(server: LoopbackServer) -> None:
    server.enqueue(openai_answer("", "ok"))
    ask(server, tool_choice="get_weather")
    assert server.requests[0].json()["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    with pytest.raises(ConfigurationError, match="tool_choice must be"):
        ask(server, tool_choice="get_wether")
    with pytest.raises(ConfigurationError, match="without tools"):
        ask(server, tools=None, tool_choice="auto")
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ([lambda city: city], "lambda"),
        ([42], "Python function or an OpenAI-format tool dict"),
        (get_weather, "must be a list"),
        ([get_weather, get_weather], "two tools are named"),
    ],
)
def test_bad_tools_fail_before_sending(server: LoopbackServer, tools: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ask(server, tools=tools)
    assert server.requests == []


def test_bad_max_tool_rounds(server: LoopbackServer) -> None:
    with pytest.raises(ConfigurationError, match="max_tool_rounds"):
        ask(server, max_tool_rounds=0)


def test_confirm_true_needs_a_view(server: LoopbackServer) -> None:
    with pytest.raises(ConfigurationError, match="confirm=True asks in the view"):
        ask(server, confirm=True)
    with pytest.raises(ConfigurationError, match="confirm=True asks in the view"):
        thinkbook.stream(QUESTION, model="m", base_url=server.url + "/v1", tools=[get_weather], confirm=True)
    assert server.requests == []


def test_confirm_function_decides_each_call(server: LoopbackServer) -> None:
    asked: list[str] = []

    def only_oslo(call: thinkbook.ToolCall) -> bool:
        asked.append(call.arguments["city"])
        return call.arguments["city"] == "Oslo"

    server.enqueue(openai_tool_round("", OSLO_ROME), openai_answer("", "ok"))
    result = ask(server, confirm=only_oslo)
    assert sorted(asked) == ["Oslo", "Rome"]
    assert result.tool_calls[0].result is not None and result.tool_calls[1].error == "the user declined this call"


def test_native_protocol_tool_loop_second_request(server: LoopbackServer) -> None:
    server.enqueue(native_tool_round("need data", OSLO_ROME[:1]), native_answer("fine", "21."))
    result = thinkbook.think(
        QUESTION,
        model="qwen-plus",
        base_url=server.url + "/api/v1",
        protocol="dashscope",
        api_key=FAKE_KEY,
        tools=[get_weather],
        tool_choice="auto",
        display=False,
    )
    assert result.answer == "21." and result.tool_calls[0].result == {"city": "Oslo", "temp_c": 21}
    first, second = (request.json() for request in server.requests)
    assert first["parameters"]["tools"][0]["function"]["name"] == "get_weather"
    assert first["parameters"]["tool_choice"] == "auto" and "tools" not in first
    assert second["input"]["messages"] == [
        {"role": "user", "content": QUESTION},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
            "reasoning_content": "need data",
        },
        {"role": "tool", "tool_call_id": "call_a", "content": '{"city": "Oslo", "temp_c": 21}'},
    ]


def test_conversation_keeps_tool_turns_across_user_turns(server: LoopbackServer) -> None:
    chat = thinkbook.Conversation(
        "qwen-plus",
        base_url=server.url + "/v1",
        api_key=FAKE_KEY,
        dialect="bailian",
        tools=[get_weather],
        display=False,
    )
    server.enqueue(openai_tool_round("check", OSLO_ROME[:1]), openai_answer("known", "Oslo: 21."))
    first = chat.send(QUESTION)
    assert first.answer == "Oslo: 21." and chat.turns == 2  # the tool-calling turn and the answer
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "tool", "assistant"]
    assert chat.messages[1]["tool_calls"][0]["id"] == "call_a"
    assert chat.messages[3] == {"role": "assistant", "content": "Oslo: 21.", "reasoning_content": "known"}

    server.enqueue(openai_answer("", "Still 21."))
    chat.send("And now?")
    third = server.requests[2].json()
    assert [m["role"] for m in third["messages"]] == ["user", "assistant", "tool", "assistant", "user"]
    # Without preserve_thinking the answer's reasoning stays home, the tool turn's goes back (DeepSeek needs it).
    assert third["messages"][1]["reasoning_content"] == "check"
    assert "reasoning_content" not in third["messages"][3]
    assert third["tools"][0]["function"]["name"] == "get_weather"


def test_conversation_checks_tools_when_made() -> None:
    with pytest.raises(ConfigurationError, match="lambda"):
        thinkbook.Conversation("qwen-plus", tools=[lambda: 1])
    with pytest.raises(ConfigurationError, match="confirm=True"):
        thinkbook.Conversation("qwen-plus", tools=[get_weather], confirm=True, display=False)


def test_results_are_json_ready(server: LoopbackServer) -> None:
    server.enqueue(openai_tool_round("", OSLO_ROME[:1]), openai_answer("", "ok"))
    data = ask(server).to_dict()
    assert json.loads(json.dumps(data))["tool_calls"][0]["result"] == '{"city": "Oslo", "temp_c": 21}'
    assert len(data["rounds"]) == 2


def test_ctrl_c_mid_tool_raises_think_interrupted_with_the_loop_so_far(server: LoopbackServer) -> None:
    import _thread

    release = threading.Event()

    def blocking_lookup(city: str) -> str:
        """Waits (a sync tool: it runs in a worker thread)."""
        threading.Timer(0.05, _thread.interrupt_main).start()  # the user presses Ctrl-C meanwhile
        release.wait(5)
        return "late"

    server.enqueue(openai_tool_round("hold on", [("c1", "blocking_lookup", {"city": "Oslo"})]))
    try:
        with pytest.raises(thinkbook.ThinkInterrupted) as caught:
            ask(server, tools=[blocking_lookup])
    finally:
        release.set()
    partial = caught.value.partial
    assert partial is not None and partial.reasoning == "hold on"
    assert [c.name for c in partial.tool_calls] == ["blocking_lookup"]
    assert len(server.requests) == 1


def _in_a_notebook(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Views are drawn as in a notebook (recorded comms, no front end); returns the views made."""
    from thinkbook import _run
    from thinkbook._display import LiveDisplay

    views: list[Any] = []

    def live_for(request: Any, display: Any, lang: str | None = None, *, background: bool = False) -> LiveDisplay:
        live = LiveDisplay(request, lang=lang, quiet=False)
        views.append(live.view)
        return live

    monkeypatch.setattr(_run, "_live_for", live_for)
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)
    return views


def test_confirm_true_asks_in_the_view_and_runs_only_what_the_user_ran(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from thinkbook.testing import recording_comms

    views = _in_a_notebook(monkeypatch)
    server.enqueue(openai_tool_round("", OSLO_ROME), openai_answer("", "ok"))
    with recording_comms():
        handle = thinkbook.submit(
            QUESTION, model="qwen-plus", dialect="bailian", base_url=server.url + "/v1", api_key=FAKE_KEY,
            tools=[get_weather], confirm=True, display=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (views and len(views[0]._timeline._approvals) == 2):
            time.sleep(0.02)
        view = views[0]
        assert len(view._timeline._approvals) == 2, "the two calls never asked"
        assert server.requests and len(server.requests) == 1  # nothing ran, nothing sent back yet
        for position in sorted(view._timeline._approvals):
            oslo = "Oslo" in json.dumps(view._timeline.items[position])
            view._handle_message(view, {"t": "approve", "i": position, "ok": oslo}, [])  # Run Oslo, Skip Rome
        result = handle.result(timeout=10)
    oslo, rome = result.tool_calls
    assert oslo.result == {"city": "Oslo", "temp_c": 21} and oslo.error is None
    assert rome.result is None and rome.error == "the user declined this call"


def test_confirm_true_refuses_a_blocking_cell_before_sending(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocking think() holds the kernel: the click would only arrive after the cell, so never."""
    _in_a_notebook(monkeypatch)
    with pytest.raises(ConfigurationError, match="athink"):
        thinkbook.think(
            QUESTION, model="qwen-plus", base_url=server.url + "/v1", api_key=FAKE_KEY, tools=[get_weather],
            confirm=True, display=True,
        )  # fmt: skip
    assert server.requests == []


def test_the_request_key_never_shows_in_tool_calls_kept_or_streamed(server: LoopbackServer) -> None:
    """A tool that returns the key (it reads a config), or a model that puts it in the arguments: the calls
    in the result and in the stream's events (what a view shows and a notebook saves) have it removed."""

    def read_config(section: str) -> dict[str, Any]:
        """The app's settings.

        Args:
            section: which part
        """
        return {"section": section, "api_key": FAKE_KEY, "note": f"Bearer {FAKE_KEY}"}

    leaky = [("call_k", "read_config", {"section": f"keys {FAKE_KEY}"})]
    server.enqueue(openai_tool_round("Look it up.", leaky), openai_answer("Found.", "Done."))
    events = list(
        thinkbook.stream(QUESTION, model="qwen-plus", dialect="bailian", base_url=server.url + "/v1", api_key=FAKE_KEY,
                         tools=[read_config])
    )  # fmt: skip
    calls = [e.call for e in events if isinstance(e, ToolCallStarted | ToolCallFinished)]
    result = next(e.result for e in events if isinstance(e, Done))
    assert len(calls) == 2 and result.tool_calls[0].name == "read_config"
    kept = json.dumps([c.to_dict() for c in [*calls, *result.tool_calls, *result.rounds[0].tool_calls]])
    kept += repr(calls) + repr(result)
    assert FAKE_KEY not in kept
    call = result.tool_calls[0]
    assert call.arguments["section"].startswith("keys ") and call.result["api_key"] != FAKE_KEY
    # what the function returned is what it returned: the model (at the key's own host) reads it as is
    second = server.requests[1].json()
    assert FAKE_KEY in json.dumps(second["messages"][-1])
