"""The view's timeline of a tool loop: what happened between the reasoning segments, in order.

A tool loop streams round 1's reasoning (maybe some answer text), then its tool calls start and
finish, then round 2's reasoning, ..., then the final answer. The view keeps the reasoning as one
text (the ``reasoning`` trait and the ``r`` deltas, exactly as for a plain answer: a stream without
tools costs nothing more) and a list of **items** that cut it into segments. Each item is a small
JSON-ready dict:

* ``{"i": 0, "k": "tool", "at": 120, "name": ..., "args": ..., "args_more": 0, "st": "run", ...}``:
  a tool call card; ``st`` is ``run`` (running), ``ask`` (waiting for the user's Run / Skip),
  ``ok`` (``res``, ``res_more``), ``err`` (``err``), ``skip`` (declined), ``req`` (requested but
  not run here: a dict tool the user runs), ``stop`` (the stream ended while it ran); ``sec`` the
  seconds it took;
* ``{"i": 1, "k": "say", "at": 120, "html": ...}``: answer text a round wrote before calling its
  tools ("Let me look that up."), moved out of the answer pane (sanitized HTML).

``at`` is the length of the reasoning, in UTF-16 code units (what the browser's strings count),
when the item started: the reasoning before it is the segment above it. ``i`` is the item's
position; a delta carries changed items as ``"tl": [item, ...]`` and the browser replaces item ``i``.

Arguments, results and errors are untrusted text (the model wrote the arguments, the tool's
result may quote anything): they travel as text and are shown as text (``textContent``, escaped
``<pre>``), cut at a few thousand characters with the number of characters left out.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Sequence
from typing import Any

from ._live_markdown import _utf16_units
from ._markdown import render_markdown
from ._types import Round, ThinkResult, ToolCall

__all__ = ["Timeline", "final_timeline", "tool_item"]

ARGS_LIMIT = 2_000
RESULT_LIMIT = 4_000
NAME_LIMIT = 200
# Statuses a finished view may not keep: the stream is over, so they did not happen.
_UNSETTLED = {"run", "ask"}


def _cut(text: str, limit: int) -> tuple[str, int]:
    """``text`` cut to ``limit`` characters, and how many were left out."""
    return (text, 0) if len(text) <= limit else (text[:limit], len(text) - limit)


def _arguments_text(call: ToolCall) -> str:
    if call.arguments:
        try:
            return json.dumps(call.arguments, ensure_ascii=False, indent=2, default=str)
        except (TypeError, ValueError):
            return repr(call.arguments)
    return call.raw_arguments  # not JSON (the error says so), or no arguments at all


def _result_text(result: Any) -> str:
    from .tools.calls import result_text  # the text the model saw (imported only for tool loops)

    return result_text(result)


def call_state(call: ToolCall) -> str:
    if call.error is not None:
        return "err"
    return "ok" if call.done else "run"


def tool_item(call: ToolCall, at: int, state: str | None = None) -> dict[str, Any]:
    """The card of one call, as the browser and the static rendering get it (module docstring)."""
    args, args_more = _cut(_arguments_text(call), ARGS_LIMIT)
    item: dict[str, Any] = {
        "k": "tool",
        "at": at,
        "name": call.name[:NAME_LIMIT],
        "args": args,
        "args_more": args_more,
        "st": state or call_state(call),
    }
    if call.error is not None:
        item["err"], item["err_more"] = _cut(call.error, RESULT_LIMIT)
    elif call.done:
        item["res"], item["res_more"] = _cut(_result_text(call.result), RESULT_LIMIT)
    if call.seconds is not None:
        item["sec"] = round(call.seconds, 3)
    return item


class Timeline:
    """The items of one view (module docstring). Not thread-safe: the view calls it under its lock.

    ``ask`` hands out a :class:`concurrent.futures.Future` per call waiting for approval; the
    browser's Run / Skip click resolves it (:meth:`answer`), and so does the end of the stream
    (:meth:`settle`: anything still waiting is declined).
    """

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._by_call: dict[int, int] = {}  # id(call) -> position (calls are mutable: no hashing)
        self._by_id: dict[str, int] = {}  # call.id -> latest position: a finished copy of the call finds its card
        self._changed: set[int] = set()
        self._approvals: dict[int, concurrent.futures.Future[bool]] = {}
        self.snapshot_due = False  # a change the synced state has not caught up with

    @property
    def dirty(self) -> bool:
        return bool(self._changed)

    def __bool__(self) -> bool:
        return bool(self.items)

    def _put(self, position: int | None, item: dict[str, Any]) -> int:
        if position is None:
            position = len(self.items)
            self.items.append(item)
        else:
            item["at"] = self.items[position]["at"]  # a card stays where it started
            self.items[position] = item
        item["i"] = position
        self._changed.add(position)
        self.snapshot_due = True
        return position

    def _find(self, call: ToolCall) -> int | None:
        for position in (self._by_call.get(id(call)), self._by_id.get(call.id) if call.id else None):
            if position is not None and self.items[position].get("name") == call.name[:NAME_LIMIT]:
                return position
        return None

    def _remember(self, call: ToolCall, position: int) -> None:
        self._by_call[id(call)] = position
        if call.id:
            self._by_id[call.id] = position

    def started(self, call: ToolCall, at: int) -> None:
        position = self._find(call)
        state = self.items[position]["st"] if position is not None else None
        if state not in (None, "run", "ask"):
            position = None  # a finished call with the same id (servers that number calls per round): a new card
        self._remember(call, self._put(position, tool_item(call, at, "ask" if state == "ask" else "run")))

    def finished(self, call: ToolCall, at: int) -> None:
        position = self._find(call)
        skipped = position is not None and self.items[position]["st"] == "skip"
        self._remember(call, self._put(position, tool_item(call, at, "skip" if skipped else None)))

    def said(self, markdown: str, at: int) -> None:
        """Answer text that came before a round's tool calls (rendered by :meth:`take_changes`)."""
        self._put(None, {"k": "say", "at": at, "md": markdown})

    def ask(self, call: ToolCall, at: int) -> concurrent.futures.Future[bool]:
        position = self._find(call)
        if position is None or self.items[position]["st"] not in ("run", "ask"):  # asked before it started
            position = self._put(None, tool_item(call, at, "ask"))
            self._remember(call, position)
        else:
            self.items[position]["st"] = "ask"
            self._changed.add(position)
            self.snapshot_due = True
        future: concurrent.futures.Future[bool] = concurrent.futures.Future()
        self._approvals[position] = future
        return future

    def answer(self, position: object, run: object) -> bool:
        """The browser's Run (``run`` true) or Skip for item ``position``; False when nothing waits."""
        if not isinstance(position, int) or isinstance(position, bool):
            return False
        future = self._approvals.pop(position, None)
        if future is None:
            return False
        self.items[position]["st"] = "run" if run is True else "skip"
        self._changed.add(position)
        self.snapshot_due = True
        if not future.done():
            future.set_result(run is True)
        return True

    def take_changes(self) -> list[dict[str, Any]]:
        """The changed items, oldest first; answer text moved here is rendered now (render side)."""
        changed = [self.items[i] for i in sorted(self._changed)]
        self._changed.clear()
        for item in changed:
            if "md" in item:
                item["html"] = render_markdown(item.pop("md"))
        return changed

    def snapshot(self) -> list[dict[str, Any]]:
        self.take_changes()  # renders any answer text still waiting
        self.snapshot_due = False
        return [dict(item) for item in self.items]

    def settle(self) -> None:
        """The stream is over: nothing waits for a click any more, nothing runs."""
        for future in self._approvals.values():
            if not future.done():
                future.set_result(False)
        self._approvals.clear()
        for item in self.items:
            if item.get("st") in _UNSETTLED:
                item["st"] = "stop"

    def state_of(self, call: ToolCall) -> str | None:
        position = self._find(call)
        return None if position is None else str(self.items[position]["st"])


def _loop_rounds(result: ThinkResult) -> Sequence[Round]:
    rounds = result.rounds
    return rounds if any(r.tool_calls for r in rounds) else ()


def final_timeline(result: ThinkResult, streamed: Timeline) -> list[dict[str, Any]] | None:
    """The timeline of a finished tool loop, from ``result.rounds`` (None: the result has no loop).

    The result is what counts (it holds every call's final result); the streamed items only tell
    which calls the user skipped. Offsets point into ``result.reasoning`` (the rounds' reasoning
    joined): each round's reasoning is looked up there in order.
    """
    rounds = _loop_rounds(result)
    if not rounds:
        return None
    reasoning, found, items = result.reasoning, 0, []
    for number, one_round in enumerate(rounds):
        if one_round.reasoning:
            start = reasoning.find(one_round.reasoning, found)
            if start >= 0:
                found = start + len(one_round.reasoning)
        at = _utf16_units(reasoning[:found])
        if number < len(rounds) - 1 and one_round.answer.strip():
            items.append({"k": "say", "at": at, "html": render_markdown(one_round.answer)})
        for call in one_round.tool_calls:
            streamed_state = streamed.state_of(call)
            state = "skip" if streamed_state == "skip" else None if call.done else "req"
            items.append(tool_item(call, at, state))
    for position, item in enumerate(items):
        item["i"] = position
    return items
