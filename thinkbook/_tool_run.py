"""Running a tool loop on the engine: each round is a new request on the same run.

The front doors (``think``, ``stream``, ``Conversation``...) hold one :class:`~thinkbook._engine.StreamRun`
per call. With tools it is a :class:`ToolRun`: :func:`run_batches` drives
:func:`~thinkbook.tools.loop.run_tool_loop` with it, pointing the run at each round's request in
turn (:meth:`PreparedRequest.with_messages` rebuilds the body for the longer history), so
retries, timeouts, cancellation and the live view work per round exactly as for one request, and
the batches carry ``ToolCallStarted`` / ``ToolCallFinished`` between the rounds' text events.

What a stopped or failed loop leaves is the whole loop so far (:meth:`ToolRun.loop_partial`):
every finished round with its calls, then the round in flight.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ._engine import Engine, StreamRun
from ._errors import ConfigurationError, ThinkbookError
from ._failures import request_secrets
from ._redact import secret_forms
from ._request import PreparedRequest
from ._types import Done, ThinkEvent, ThinkResult, ToolCall, ToolCallFinished, ToolCallStarted
from .tools.calls import DEFAULT_TOOL_TIMEOUT
from .tools.loop import DEFAULT_MAX_TOOL_ROUNDS, Approve, ToolOptions, combine_rounds, run_tool_loop

if TYPE_CHECKING:
    from ._display import LiveDisplay

__all__ = [
    "RecordedRound",
    "ToolRun",
    "new_run",
    "partial_of",
    "recorded_rounds",
    "run_batches",
    "tool_options",
    "with_view_approval",
]

Confirm = bool | Callable[[ToolCall], Any] | None


class ToolRun(StreamRun):
    """A run whose request may take several rounds; ``partial()`` stays the round in flight's
    (the engine decides retries on it), :meth:`loop_partial` is the whole loop's."""

    def __init__(self, request: PreparedRequest) -> None:
        super().__init__(request)
        self.first_request = request
        self.finished_rounds: list[ThinkResult] = []
        self.loop_started = time.monotonic()
        # --record: each finished round's request and wire bytes (``recording`` holds one attempt only)
        self.recorded_rounds: list[RecordedRound] = []

    def loop_partial(self) -> ThinkResult | None:
        current = self.partial()
        if not self.finished_rounds:
            return current
        results = [*self.finished_rounds, *([current] if current is not None else [])]
        calls = [call for result in self.finished_rounds for call in result.tool_calls]
        return combine_rounds(results, calls, self.loop_started)


@dataclass(frozen=True)
class RecordedRound:
    """One round of a recorded tool loop: the request it sent and the bytes that answered it."""

    request: PreparedRequest
    chunks: list[tuple[float, bytes]]
    status: int
    content_type: str


def recorded_rounds(run: StreamRun) -> list[RecordedRound]:
    """What ``--record`` writes for ``run``: every round of a tool loop, else its one answer."""
    if isinstance(run, ToolRun) and len(run.recorded_rounds) > 1:
        return list(run.recorded_rounds)
    return [RecordedRound(run.request, list(run.recording or []), run.response_status, run.response_content_type)]


def new_run(request: PreparedRequest) -> StreamRun:
    """The run for ``request``: a :class:`ToolRun` when it has tools."""
    return ToolRun(request) if request.tools is not None else StreamRun(request)


def partial_of(run: StreamRun) -> ThinkResult | None:
    """What a stopped or failed run leaves: the whole loop so far for a tool loop."""
    return run.loop_partial() if isinstance(run, ToolRun) else run.partial()


async def run_batches(
    engine: Engine, run: StreamRun, *, max_retries: int, timeout: float | None
) -> AsyncIterator[list[ThinkEvent]]:
    """The run's event batches, the last ending with ``Done``: one request, or a whole tool loop
    (``Done`` then carries the combined result: every round, summed usage, the final answer)."""
    if not isinstance(run, ToolRun) or run.first_request.tools is None:
        async for batch in engine.stream_batches(run, max_retries=max_retries, timeout=timeout):
            yield batch
        return
    tool_run = run
    first = run.first_request
    options = first.tools
    assert options is not None

    async def one_round(messages: list[dict[str, Any]]) -> AsyncIterator[list[ThinkEvent]]:
        # The first round sends the prepared body itself; later ones rebuild it for the history.
        tool_run.request = first if not tool_run.finished_rounds else first.with_messages(messages)
        try:
            async for batch in engine.stream_batches(tool_run, max_retries=max_retries, timeout=timeout):
                if batch and isinstance(batch[-1], Done):
                    tool_run.finished_rounds.append(batch[-1].result)
                    if tool_run.recording is not None:
                        tool_run.recorded_rounds.append(RecordedRound(
                            tool_run.request, list(tool_run.recording), tool_run.response_status,
                            tool_run.response_content_type,
                        ))  # fmt: skip
                    tool_run.pipeline = None  # between rounds nothing is in flight
                yield batch
        except ThinkbookError as error:
            if tool_run.finished_rounds:
                error.partial = tool_run.loop_partial()  # the rounds before this one are not lost
            raise

    secrets = request_secrets(first)
    async for batch in run_tool_loop(
        first.messages,
        one_round,
        options.tools,
        max_tool_rounds=options.max_tool_rounds,
        tool_timeout=options.tool_timeout,
        approve=options.approve,
    ):
        # What leaves the loop (the view, stream() events, the result) never holds the request's key,
        # whatever a function returned; the loop itself sends the model what the function returned.
        yield [_redacted(event, secrets) for event in batch] if secret_forms(*secrets) else batch


def _redacted(event: ThinkEvent, secrets: tuple[str | None, ...]) -> ThinkEvent:
    match event:
        case ToolCallStarted(call):
            return ToolCallStarted(call.redacted(*secrets))
        case ToolCallFinished(call):
            return ToolCallFinished(call.redacted(*secrets))
        case Done(result):
            return Done(result.redacted(*secrets))
    return event


def _approver(confirm: Callable[[ToolCall], Any]) -> Approve:
    """``confirm=`` given as a function: asked before each call, in a worker thread when it is
    sync (it may wait for a person), awaited when async; a true answer runs the call."""

    async def approve(call: ToolCall) -> bool:
        if inspect.iscoroutinefunction(confirm):
            return bool(await confirm(call))
        answer = await asyncio.to_thread(confirm, call)
        if inspect.isawaitable(answer):
            answer = await answer
        return bool(answer)

    return approve


def tool_options(
    tools: Sequence[Any] | None,
    *,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    confirm: Confirm = False,
    tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
) -> ToolOptions | None:
    """``tools=`` and the loop's options checked (None: no tools, no loop)."""
    from .tools.schema import as_tools  # pydantic loads with the first tool

    if not isinstance(max_tool_rounds, int) or isinstance(max_tool_rounds, bool) or max_tool_rounds < 1:
        raise ConfigurationError(f"max_tool_rounds must be a positive integer, got {max_tool_rounds!r:.40}")
    if confirm is not None and not isinstance(confirm, bool) and not callable(confirm):
        raise ConfigurationError(
            f"confirm must be True (ask in the view), False, or a function (call) -> bool, got {confirm!r:.40}"
        )
    checked = as_tools(tools)
    if not checked:
        return None
    return ToolOptions(
        tools=checked,
        max_tool_rounds=max_tool_rounds,
        tool_timeout=tool_timeout,
        approve=_approver(confirm) if callable(confirm) and not isinstance(confirm, bool) else None,
        confirm_in_view=confirm is True,
    )


CONFIRM_NEEDS_A_VIEW = (
    "confirm=True asks in the view before each tool call, and there is no view here (display=False, stream(), "
    "or not running in a notebook): pass confirm=a function (call) -> bool to decide in code, or confirm=False"
)


CONFIRM_NEEDS_A_FREE_KERNEL = (
    "confirm=True asks in the view, and a blocking think() keeps the kernel from receiving the Run / Skip "
    "click until the cell ends (it would wait forever): use `await thinkbook.athink(...)` or "
    "thinkbook.submit(...) (or %%think --bg), or pass confirm=a function (call) -> bool"
)


def with_view_approval(
    request: PreparedRequest, live: LiveDisplay | None, *, can_receive: bool = True
) -> PreparedRequest:
    """``request`` with ``confirm=True`` wired to the view that shows it (its ``approve(call)``
    coroutine, asked on the engine loop). Without a view, or when the kernel cannot receive the
    click while the call runs (``can_receive=False``: a blocking cell), a ConfigurationError
    before anything is sent."""
    options = request.tools
    if options is None or not options.confirm_in_view:
        return request
    ask = getattr(live.view, "approve", None) if live is not None else None
    if ask is None or not callable(ask):
        raise ConfigurationError(CONFIRM_NEEDS_A_VIEW)
    if not can_receive:
        raise ConfigurationError(CONFIRM_NEEDS_A_FREE_KERNEL)
    return replace(request, tools=replace(options, approve=_approver(ask)))
