"""The tool loop: stream a round, run the calls it asked for, send the results back, repeat.

Protocol-neutral: a round is any async stream of thinkbook events ending with ``Done`` whose
result carries ``tool_calls`` (each protocol's parser assembles them), and the history grows in
thinkbook's neutral (OpenAI chat) form, which each protocol translates when it builds the next
request:

* the assistant turn: ``content`` (the round's text or None), ``tool_calls`` (``id``, ``type``,
  ``function.name``, ``function.arguments`` as JSON text), its ``reasoning_content`` *always*
  (within a loop every later request must carry it: DeepSeek's thinking mode answers 400 without
  it, Kimi K2 reasons across steps with it), and its opaque state under ``STATE_KEY`` (Anthropic
  thinking blocks with signatures, Responses reasoning items); a call's own opaque state (Gemini's
  ``thoughtSignature``) rides on its ``tool_calls`` entry under the same key;
* then one ``{"role": "tool", "tool_call_id", "content"}`` message per call, in call order.

The loop ends when a round asks for no calls, or when a call names a tool given as a dict (no
callable: the runnable calls of that round run, the rest are returned for the user to run), or
after ``max_tool_rounds`` rounds with calls (:class:`ToolLoopError`, ``.partial`` holding
everything so far).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .._errors import ThinkbookError
from .._protocols.base import STATE_KEY
from .._types import (
    Done,
    Round,
    ThinkEvent,
    ThinkResult,
    Timings,
    ToolCall,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from .calls import DEFAULT_TOOL_TIMEOUT, result_text, run_tool_call

if TYPE_CHECKING:
    from .schema import Tool

__all__ = [
    "DEFAULT_MAX_TOOL_ROUNDS",
    "ToolLoopError",
    "ToolOptions",
    "combine_rounds",
    "run_tool_loop",
    "tool_messages",
    "tool_turns",
]

DEFAULT_MAX_TOOL_ROUNDS = 8

Message = dict[str, Any]
StreamRound = Callable[[list[Message]], AsyncIterator[list[ThinkEvent]]]
Approve = Callable[[ToolCall], Awaitable[bool]]


@dataclass(frozen=True)
class ToolOptions:
    """A request's tools, checked, and how its loop runs (``think(tools=..., max_tool_rounds=...)``).

    ``approve`` is asked before each call of a runnable tool (``confirm=`` given as a function);
    ``confirm_in_view`` asks the view instead (``confirm=True``), which the front end wires when
    it draws one.
    """

    tools: tuple[Tool, ...]
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS
    tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT
    approve: Approve | None = None
    confirm_in_view: bool = False


class ToolLoopError(ThinkbookError):
    """The model kept calling tools for ``max_tool_rounds`` rounds without answering.

    ``.partial`` holds every round so far (reasoning, calls with their results).
    """


def tool_messages(result: ThinkResult, calls: Sequence[ToolCall]) -> list[Message]:
    """The assistant turn that asked for ``calls`` and one tool message per call (module docstring)."""
    entries = []
    for call in calls:
        entry: dict[str, Any] = {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.raw_arguments or json.dumps(call.arguments)},
        }
        if call.state is not None:
            entry[STATE_KEY] = call.state
        entries.append(entry)
    assistant: Message = {
        "role": "assistant",
        "content": result.answer or None,
        "tool_calls": entries,
        "reasoning_content": result.reasoning,
    }
    if result.reasoning_state is not None:
        assistant[STATE_KEY] = result.reasoning_state
    replies: list[Message] = [assistant]
    for call in calls:
        content = f"error: {call.error}" if call.error is not None else result_text(call.result)
        replies.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return replies


def tool_turns(result: ThinkResult) -> list[Message]:
    """The history a finished loop added before its final answer, rebuilt from ``result.rounds``:
    for each round whose calls all ran, its assistant turn and tool messages (exactly what the
    loop sent). A round with calls left for the user (a dict tool) adds nothing: without their
    results the history would not be valid for the next request."""
    turns: list[Message] = []
    for one in result.rounds[:-1]:
        if not one.tool_calls or not all(call.done for call in one.tool_calls):
            continue
        as_result = ThinkResult(reasoning=one.reasoning, answer=one.answer, reasoning_state=one.reasoning_state)
        turns.extend(tool_messages(as_result, one.tool_calls))
    return turns


def _add(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


def _sum_usage(usages: Sequence[Usage | None]) -> Usage | None:
    known = [usage for usage in usages if usage is not None]
    if not known:
        return None
    total = Usage()
    for usage in known:
        total = Usage(
            prompt_tokens=_add(total.prompt_tokens, usage.prompt_tokens),
            completion_tokens=_add(total.completion_tokens, usage.completion_tokens),
            total_tokens=_add(total.total_tokens, usage.total_tokens),
            reasoning_tokens=_add(total.reasoning_tokens, usage.reasoning_tokens),
            cached_tokens=_add(total.cached_tokens, usage.cached_tokens),
        )
    return replace(total, raw={"rounds": [usage.raw for usage in known]})


def combine_rounds(results: Sequence[ThinkResult], calls: Sequence[ToolCall], started: float) -> ThinkResult:
    """One result for a whole loop: reasoning of every round in order, the last round's answer,
    usage summed over rounds, every call; ``rounds`` one entry per request."""
    last = results[-1]
    first = results[0].timings
    thinking = [r.timings.thinking_seconds for r in results if r.timings.thinking_seconds is not None]
    rounds = [
        Round(
            reasoning=result.reasoning,
            answer=result.answer,
            tool_calls=list(result.tool_calls),
            usage=result.usage,
            finish_reason=result.finish_reason,
            reasoning_state=result.reasoning_state,
        )
        for result in results
    ]
    return replace(
        last,
        reasoning="\n\n".join(r.reasoning for r in results if r.reasoning),
        answer=last.answer,
        usage=_sum_usage([r.usage for r in results]),
        tool_calls=list(calls),
        rounds=rounds,
        reasoning_hidden=any(r.reasoning_hidden for r in results),
        timings=Timings(
            time_to_first_reasoning=first.time_to_first_reasoning,
            time_to_first_answer=first.time_to_first_answer if len(results) == 1 else None,
            thinking_seconds=sum(thinking) if thinking else None,
            total_seconds=time.monotonic() - started,
            tokens_per_second=last.timings.tokens_per_second,
        ),
    )


async def _run_calls(
    calls: Sequence[ToolCall], tools: Mapping[str, Tool], timeout: float | None, approve: Approve | None
) -> AsyncIterator[ThinkEvent]:
    """Run a round's calls concurrently (parallel calls are independent by the API's contract);
    events come out as each starts and finishes."""
    finished: asyncio.Queue[ToolCall] = asyncio.Queue()

    async def one(call: ToolCall) -> None:
        try:
            if approve is not None and call.name in tools and not await approve(call):
                call.error = "the user declined this call"
                call.seconds = 0.0
            else:
                await run_tool_call(call, tools, timeout=timeout)
        finally:
            finished.put_nowait(call)

    for call in calls:
        yield ToolCallStarted(call)
    tasks = [asyncio.ensure_future(one(call)) for call in calls]
    try:
        for _ in calls:
            yield ToolCallFinished(await finished.get())
    finally:
        for task in tasks:
            task.cancel()  # only still-running ones (a cancelled loop): sync tools finish in their thread
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_tool_loop(
    messages: list[Message],
    stream_round: StreamRound,
    tools: Sequence[Tool],
    *,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
    approve: Approve | None = None,
) -> AsyncIterator[list[ThinkEvent]]:
    """Yield event batches for the whole loop; the last batch ends with ``Done(combined result)``.

    ``messages`` is the first request's history and is extended in place with every assistant
    turn and tool result (so a Conversation can keep them). ``stream_round(messages)`` sends one
    request and yields its event batches, its last one ending with ``Done``.
    """
    by_name = {tool.name: tool for tool in tools}
    started = time.monotonic()
    results: list[ThinkResult] = []
    all_calls: list[ToolCall] = []
    rounds_with_calls = 0
    while True:
        result: ThinkResult | None = None
        async for batch in stream_round(messages):
            if batch and isinstance(batch[-1], Done):
                result = batch[-1].result
                batch = batch[:-1]
            if batch:
                yield batch
        if result is None:
            raise AssertionError("a round ended without Done")  # stream_round always ends with Done
        results.append(result)
        calls = list(result.tool_calls)
        if not calls:
            yield [Done(combine_rounds(results, all_calls, started))]
            return
        if rounds_with_calls >= max_tool_rounds:
            partial = combine_rounds(results, all_calls, started)
            raise ToolLoopError(
                f"the model was still calling tools after {max_tool_rounds} rounds (max_tool_rounds="
                f"{max_tool_rounds}); raise max_tool_rounds, or check the tools' results in the error's .partial",
                partial=partial,
            )
        rounds_with_calls += 1
        all_calls.extend(calls)
        pending = [call for call in calls if call.name in by_name and not by_name[call.name].runnable]
        runnable = [call for call in calls if not any(call is waiting for waiting in pending)]
        async for event in _run_calls(runnable, by_name, tool_timeout, approve):
            yield [event]
        if pending:
            # The user's own tools (dicts): they run them; what ran here stays in the result.
            yield [Done(replace(combine_rounds(results, all_calls, started), finish_reason="tool_calls"))]
            return
        messages.extend(tool_messages(result, calls))
