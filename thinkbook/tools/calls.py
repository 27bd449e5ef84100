"""Tool calls: assembling them from stream deltas, and running them safely.

Safety rules (see ``think(tools=...)``): a tool runs only if the user passed it; a name the
model made up, arguments that are not JSON or do not fit the schema, an exception, a timeout:
each becomes an error *result the model sees* (it can correct itself), never a crash of the loop.
Sync functions run in a worker thread, so a slow tool never blocks other streams on the engine's
event loop; async ones run on the loop with the same timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._protocols.base import STATE_KEY
from .._types import ToolCall

if TYPE_CHECKING:  # pydantic loads with the first tool, not with every stream's accumulator
    from .schema import Tool

__all__ = ["DEFAULT_TOOL_TIMEOUT", "ToolCall", "ToolCallAssembler", "result_text", "run_tool_call"]

DEFAULT_TOOL_TIMEOUT = 60.0
# What the model is shown of a result: enough for any sane tool, bounded for a runaway one.
_MAX_RESULT_CHARS = 100_000


def result_text(result: Any) -> str:
    """A tool's return value as the text sent to the model: strings as they are, everything
    else as JSON when it can be (``default=str`` for dates, paths, numpy scalars...)."""
    if isinstance(result, str):
        text = result
    else:
        try:
            text = json.dumps(result, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(result)
    if len(text) > _MAX_RESULT_CHARS:
        text = text[:_MAX_RESULT_CHARS] + f"… [cut: {len(text):,} characters]"
    return text


class ToolCallAssembler:
    """Builds complete calls from OpenAI-style ``tool_calls`` deltas, keyed by ``index``.

    The first delta of a call carries ``id`` and ``function.name``; ``function.arguments`` then
    arrives in pieces. Parallel calls interleave by index. Some servers omit ``index`` (one call
    per chunk, whole): those get the next free index.
    """

    def __init__(self) -> None:
        self._calls: dict[int, ToolCall] = {}
        self._pieces: dict[int, list[str]] = {}

    def add(self, deltas: object) -> None:
        if not isinstance(deltas, list):
            return
        for delta in deltas:
            if not isinstance(delta, Mapping):
                continue
            index = delta.get("index")
            if not isinstance(index, int) or isinstance(index, bool):
                index = len(self._calls)
            call = self._calls.get(index)
            if call is None:
                call = self._calls[index] = ToolCall(id="", name="")
                self._pieces[index] = []
            call_id = delta.get("id")
            if isinstance(call_id, str) and call_id:
                call.id = call_id
            function = delta.get("function")
            if isinstance(function, Mapping):
                name = function.get("name")
                if isinstance(name, str) and name:
                    call.name = name
                arguments = function.get("arguments")
                if isinstance(arguments, str):
                    self._pieces[index].append(arguments)
                elif isinstance(arguments, Mapping):  # a few servers send the object itself
                    self._pieces[index].append(json.dumps(arguments, ensure_ascii=False))
            # The call's own opaque state (a Gemini thoughtSignature): sent back with the call.
            state = delta.get(STATE_KEY)
            if isinstance(state, Mapping):
                call.state = dict(state)

    def __bool__(self) -> bool:
        return bool(self._calls)

    def calls(self) -> list[ToolCall]:
        """The calls in index order, arguments decoded (undecodable ones keep ``raw_arguments``
        and get their error when run)."""
        finished = []
        for position, index in enumerate(sorted(self._calls)):
            call = self._calls[index]
            call.raw_arguments = "".join(self._pieces[index])
            call.id = call.id or f"call_{position}"
            call.arguments = _decode_arguments(call.raw_arguments)
            finished.append(call)
        return finished


def _decode_arguments(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _arguments_problem(call: ToolCall) -> str | None:
    raw = call.raw_arguments.strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return f"the arguments of {call.name} are not valid JSON: {raw[:200]!r}"
    if not isinstance(value, dict):
        return f"the arguments of {call.name} must be a JSON object, got {raw[:200]!r}"
    return None


async def run_tool_call(
    call: ToolCall, tools: Mapping[str, Tool], *, timeout: float | None = DEFAULT_TOOL_TIMEOUT
) -> ToolCall:
    """Run ``call`` with the user's tool of that name; fills ``result`` or ``error`` and ``seconds``.

    Never raises for anything the tool or the model did (cancellation passes through).
    """
    started = time.perf_counter()
    tool = tools.get(call.name)
    if tool is None or tool.function is None:
        known = ", ".join(sorted(name for name, t in tools.items() if t.function is not None)) or "none"
        call.error = f"there is no tool named {call.name!r}; the tools you can call are: {known}"
        call.seconds = 0.0
        return call
    problem = _arguments_problem(call)
    if problem is not None:
        call.error = problem
        call.seconds = 0.0
        return call
    from .schema import ToolArgumentsError

    try:
        kwargs = tool.validate(call.arguments)
    except ToolArgumentsError as exc:
        call.error = str(exc)
        call.seconds = 0.0
        return call
    function = tool.function
    try:
        if tool.is_async:
            call.result = await asyncio.wait_for(function(**kwargs), timeout)
        else:
            call.result = await asyncio.wait_for(asyncio.to_thread(function, **kwargs), timeout)
    except TimeoutError:
        # A sync function cannot be stopped: its thread finishes on its own; the model moves on.
        call.error = f"{call.name} did not finish within {timeout:g} s"
    except Exception as exc:  # the tool's own failure: the model sees it and may recover
        call.error = f"{type(exc).__name__}: {exc}"
    call.seconds = time.perf_counter() - started
    return call
