"""Assembling tool calls from deltas and running them safely (thinkbook/tools/calls.py)."""

from __future__ import annotations

import asyncio
import datetime
import time

import pytest

from thinkbook.tools import ToolCall, ToolCallAssembler, as_tools, result_text, run_tool_call


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


async def slow_async(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "late"


def slow_sync(seconds: float) -> str:
    time.sleep(seconds)
    return "late"


def broken() -> None:
    raise RuntimeError("database is down")


TOOLS = {tool.name: tool for tool in as_tools([add, slow_async, slow_sync, broken])}


def test_parallel_calls_assemble_per_index_from_interleaved_pieces() -> None:
    assembler = ToolCallAssembler()
    assembler.add([{"index": 0, "id": "call_a", "type": "function", "function": {"name": "add", "arguments": ""}}])
    assembler.add([{"index": 1, "id": "call_b", "function": {"name": "broken", "arguments": "{"}}])
    assembler.add([{"index": 0, "function": {"arguments": '{"a": 2,'}}])
    assembler.add([{"index": 1, "function": {"arguments": "}"}}, {"index": 0, "function": {"arguments": ' "b": 3}'}}])
    calls = assembler.calls()
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_a", "add", {"a": 2, "b": 3}),
        ("call_b", "broken", {}),
    ]


def test_calls_without_index_or_id_get_their_own_slot() -> None:
    assembler = ToolCallAssembler()
    assembler.add([{"function": {"name": "add", "arguments": {"a": 1, "b": 1}}}])
    assembler.add([{"function": {"name": "add", "arguments": '{"a": 2, "b": 2}'}}])
    calls = assembler.calls()
    assert [c.arguments for c in calls] == [{"a": 1, "b": 1}, {"a": 2, "b": 2}]
    assert [c.id for c in calls] == ["call_0", "call_1"]
    assert not ToolCallAssembler()


async def test_a_call_runs_with_validated_arguments() -> None:
    call = await run_tool_call(ToolCall("c1", "add", {"a": "2", "b": 3}, raw_arguments='{"a": "2", "b": 3}'), TOOLS)
    assert call.result == 5 and call.error is None and call.seconds is not None and call.done


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (ToolCall("c", "rm_rf", {}), "there is no tool named 'rm_rf'; the tools you can call are: add, broken"),
        (ToolCall("c", "add", {}, raw_arguments="{not json"), "not valid JSON"),
        (ToolCall("c", "add", {}, raw_arguments="[1, 2]"), "must be a JSON object"),
        (ToolCall("c", "add", {"a": 1}, raw_arguments='{"a": 1}'), "invalid arguments for add: b: Field required"),
        (ToolCall("c", "broken", {}), "RuntimeError: database is down"),
    ],
)
async def test_every_failure_is_an_error_result_not_a_crash(call: ToolCall, fragment: str) -> None:
    finished = await run_tool_call(call, TOOLS)
    assert finished.result is None and fragment in (finished.error or "")


async def test_a_made_up_name_never_runs_a_dict_tool_or_anything_else() -> None:
    tools = {t.name: t for t in as_tools([{"type": "function", "function": {"name": "lookup"}}])}
    call = await run_tool_call(ToolCall("c", "lookup", {}), tools)
    assert "there is no tool named 'lookup'" in (call.error or "")


@pytest.mark.parametrize("name", ["slow_async", "slow_sync"])
async def test_a_tool_past_its_timeout_is_reported_and_the_loop_goes_on(name: str) -> None:
    call = await run_tool_call(ToolCall("c", name, {"seconds": 2}, raw_arguments='{"seconds": 2}'), TOOLS, timeout=0.05)
    assert call.error == f"{name} did not finish within 0.05 s" and call.seconds is not None and call.seconds < 1.5


async def test_sync_tools_do_not_block_the_event_loop() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await run_tool_call(ToolCall("c", "slow_sync", {"seconds": 0.3}, raw_arguments='{"seconds": 0.3}'), TOOLS)
    task.cancel()
    assert ticks >= 10  # the loop kept running while the function slept in its thread


def test_results_become_text_for_the_model() -> None:
    assert result_text("plain") == "plain"
    assert result_text({"temp": 21.5, "city": "北京"}) == '{"temp": 21.5, "city": "北京"}'
    assert result_text({"when": datetime.date(2026, 12, 2)}) == '{"when": "2026-12-02"}'
    long = result_text("x" * 200_000)
    assert len(long) < 100_100 and long.endswith("[cut: 200,000 characters]")
    assert ToolCall("c", "add", {"a": 1}, result={"ok": True}, seconds=0.1).to_dict()["result"] == '{"ok": true}'
