"""The tool loop over scripted rounds (thinkbook/tools/loop.py): no HTTP, the loop's own rules."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from thinkbook._types import (
    AnswerDelta,
    Done,
    ReasoningDelta,
    ThinkEvent,
    ThinkResult,
    ToolCall,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from thinkbook.tools import as_tools
from thinkbook.tools.loop import ToolLoopError, run_tool_loop


def get_weather(city: str) -> dict[str, Any]:
    """Weather now."""
    return {"city": city, "temp_c": 21}


def to_fahrenheit(celsius: float) -> float:
    """Convert."""
    return celsius * 9 / 5 + 32


async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


TOOLS = as_tools([get_weather, to_fahrenheit, slow])


def call(call_id: str, name: str, **arguments: Any) -> ToolCall:
    import json

    return ToolCall(call_id, name, arguments, raw_arguments=json.dumps(arguments))


class Script:
    """Rounds to play back; records the history each request was sent with."""

    def __init__(self, *rounds: tuple[str, str, list[ToolCall]]) -> None:
        self.rounds = list(rounds)
        self.sent: list[list[dict[str, Any]]] = []

    async def __call__(self, messages: list[dict[str, Any]]) -> AsyncIterator[list[ThinkEvent]]:
        self.sent.append(copy.deepcopy(messages))
        reasoning, answer, calls = self.rounds.pop(0)
        yield [ReasoningDelta(reasoning)]
        if answer:
            yield [AnswerDelta(answer)]
        usage = Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15, reasoning_tokens=3)
        result = ThinkResult(reasoning=reasoning, answer=answer, usage=usage, tool_calls=calls, model="m")
        yield [Done(result)]


async def collect(script: Script, **options: Any) -> tuple[list[ThinkEvent], list[dict[str, Any]]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris, in F?"}]
    events = [event async for batch in run_tool_loop(messages, script, TOOLS, **options) for event in batch]
    return events, messages


async def test_two_rounds_interleave_thinking_calls_and_the_answer() -> None:
    script = Script(
        ("I need the weather.", "", [call("c1", "get_weather", city="Paris")]),
        ("21 C; convert.", "", [call("c2", "to_fahrenheit", celsius=21)]),
        ("Done.", "It is 69.8 F in Paris.", []),
    )
    events, messages = await collect(script)
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "ReasoningDelta", "ToolCallStarted", "ToolCallFinished",
        "ReasoningDelta", "ToolCallStarted", "ToolCallFinished",
        "ReasoningDelta", "AnswerDelta", "Done",
    ]  # fmt: skip
    result = events[-1].result  # type: ignore[union-attr]
    assert result.answer == "It is 69.8 F in Paris."
    assert result.reasoning == "I need the weather.\n\n21 C; convert.\n\nDone."
    assert [(c.name, c.result) for c in result.tool_calls] == [
        ("get_weather", {"city": "Paris", "temp_c": 21}),
        ("to_fahrenheit", 69.8),
    ]
    assert len(result.rounds) == 3 and result.rounds[0].tool_calls[0].id == "c1"
    assert result.usage.total_tokens == 45 and result.usage.reasoning_tokens == 9
    # The second request carries round 1's assistant turn (reasoning included) and the tool result.
    second = script.sent[1]
    assert second[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ],
        "reasoning_content": "I need the weather.",
    }
    assert second[2] == {"role": "tool", "tool_call_id": "c1", "content": '{"city": "Paris", "temp_c": 21}'}
    assert len(messages) == 5  # the caller's history grew with both rounds' turns


async def test_parallel_calls_run_concurrently_and_reply_in_call_order() -> None:
    script = Script(
        ("Two at once.", "", [call("a", "slow", seconds=0.3), call("b", "slow", seconds=0.3)]),
        ("ok", "both done", []),
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    events, _ = await collect(script)
    assert loop.time() - started < 0.55  # 2 x 0.3 s run side by side
    assert [type(e).__name__ for e in events[1:5]] == ["ToolCallStarted"] * 2 + ["ToolCallFinished"] * 2
    assert [m.get("tool_call_id") for m in script.sent[1][2:]] == ["a", "b"]


async def test_made_up_tools_and_failures_go_back_to_the_model() -> None:
    script = Script(
        ("try", "", [call("x", "delete_everything"), call("y", "to_fahrenheit", celsius="hot")]),
        ("sorry", "I could not.", []),
    )
    events, _ = await collect(script)
    replies = script.sent[1][2:]
    assert replies[0]["content"].startswith("error: there is no tool named 'delete_everything'")
    assert replies[1]["content"].startswith("error: invalid arguments for to_fahrenheit")
    assert events[-1].result.answer == "I could not."  # type: ignore[union-attr]


async def test_max_rounds_raises_with_everything_so_far() -> None:
    script = Script(*[("again", "", [call(f"c{i}", "get_weather", city="Oslo")]) for i in range(3)])
    with pytest.raises(ToolLoopError, match="still calling tools after 2 rounds") as caught:
        await collect(script, max_tool_rounds=2)
    partial = caught.value.partial
    assert partial is not None and len(partial.rounds) == 3 and len(partial.tool_calls) == 2


async def test_a_dict_tool_ends_the_loop_and_returns_its_call_unrun() -> None:
    tools = as_tools([get_weather, {"type": "function", "function": {"name": "book_flight"}}])
    script = Script(("plan", "", [call("w", "get_weather", city="Rome"), call("f", "book_flight", to="Rome")]))
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Trip"}]
    batches = [b async for b in run_tool_loop(messages, script, tools)]
    result = batches[-1][-1].result  # type: ignore[union-attr]
    weather, flight = result.tool_calls
    assert weather.result == {"city": "Rome", "temp_c": 21}
    assert flight.result is None and flight.error is None and not flight.done
    assert result.finish_reason == "tool_calls" and len(script.sent) == 1


async def test_declined_calls_are_reported_to_the_model() -> None:
    async def no(_: ToolCall) -> bool:
        return False

    script = Script(("ask", "", [call("c", "get_weather", city="Nice")]), ("fine", "ok", []))
    await collect(script, approve=no)
    assert script.sent[1][2]["content"] == "error: the user declined this call"


async def test_cancelling_mid_tool_stops_the_loop() -> None:
    script = Script(("wait", "", [call("s", "slow", seconds=30)]), ("never", "", []))
    started: list[ToolCall] = []

    async def consume() -> None:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
        async for batch in run_tool_loop(messages, script, TOOLS):
            started.extend(e.call for e in batch if isinstance(e, ToolCallStarted))

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [c.id for c in started] == ["s"] and len(script.sent) == 1


async def test_tool_call_events_carry_the_same_call_object() -> None:
    script = Script(("x", "", [call("c", "get_weather", city="Pisa")]), ("y", "z", []))
    events, _ = await collect(script)
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert started.call is finished.call and finished.call.seconds is not None
