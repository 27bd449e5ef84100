"""ComparePanel's batching: ``n`` streaming columns cost about what one ThinkView costs.

The engine hands each column's events to one coordinator (:class:`_Batcher`), which on a single
50 ms tick (on the view worker thread, :mod:`thinkbook._view_worker`, never the engine loop)
pushes them into the views (consecutive deltas merged, so a view does its per-event work once per
tick, not per token), takes each view's delta and sends them all in ONE custom
message of the summary widget, ``{"t": "D", "d": {channel: delta}}``; ``js/comparepanel.js``
hands each delta to the views of that channel (``ThinkView.channel``). The views keep their own
sequence numbers and snapshot traits, so a view that missed a batch heals exactly as a single
view does. At most one column's open answer block is re-rendered per tick (the one waiting
longest), so markdown work stays that of one view however many columns answer at once.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import anywidget

from ._panel_common import _FinalDisplay
from ._request import PreparedRequest
from ._types import AnswerDelta, ReasoningDelta, ThinkEvent, ThinkResult
from ._view import ThinkView
from ._view_worker import ViewWorker, default_worker


def _coalesce(events: Sequence[ThinkEvent]) -> list[ThinkEvent]:
    """``events`` with each run of consecutive reasoning (or answer) deltas merged into one."""
    out: list[ThinkEvent] = []
    kind: type[ReasoningDelta] | type[AnswerDelta] | None = None
    texts: list[str] = []
    for event in events:
        if type(event) is kind:
            texts.append(event.text)  # type: ignore[union-attr, unused-ignore]
            continue
        if kind is not None:
            out.append(kind("".join(texts)))
        if isinstance(event, ReasoningDelta | AnswerDelta):
            kind, texts = type(event), [event.text]
        else:
            kind, texts = None, []
            out.append(event)
    if kind is not None:
        out.append(kind("".join(texts)))
    return out


class _Batcher:
    """One tick for every column of a panel: the views' deltas leave in one message of ``hub``.

    ``on_batch`` (engine loop, per network read) only queues the events and tells the view worker
    when the next tick is due; ``_tick`` (on the view worker thread, at most every ``interval``)
    pushes each column's queue into its view, takes the deltas that are due (each view's own rules:
    ``due_in``) and sends them together. A column leaves the batch (:meth:`leave`) before its
    view's final ``end()``, which then sends the rest itself.
    """

    def __init__(
        self,
        hub: anywidget.AnyWidget,
        *,
        interval: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        worker: ViewWorker | None = None,
    ) -> None:
        self._hub = hub
        self._views: dict[int, ThinkView] = {}
        self._pending: dict[int, list[ThinkEvent]] = {}
        self._last_answer: dict[int, float] = {}
        self._lock = threading.Lock()  # the queues: held briefly, the engine loop takes it
        self._tick_lock = threading.RLock()  # a tick, or a column leaving: they render
        self._next_at = float("inf")  # when the next tick is due, in clock time
        self._last_tick = float("-inf")
        self._clock = clock
        self._worker = worker or default_worker()
        self.interval = interval
        self.messages = 0  # hub messages sent (tests, benchmark)

    def join(self, index: int, view: ThinkView) -> None:
        with self._lock:
            self._views[index] = view
            self._last_answer[index] = float("-inf")

    def on_batch(self, index: int, batch: list[ThinkEvent]) -> None:
        """Queue a column's events (on the engine loop); the next tick, at most ``interval`` away, takes them."""
        with self._lock:
            if index not in self._views:
                return
            self._pending.setdefault(index, []).extend(batch)
            if self._next_at <= self._last_tick + self.interval:
                return  # (the usual case returns here: cheap)
            now = self._clock()
            self._next_at = max(now, self._last_tick + self.interval)
        self._worker.schedule(self, self._next_at - now)

    def run_due(self) -> float:
        """On the view worker: tick when due; seconds until the next tick is due."""
        with self._lock:
            wait = self._next_at - self._clock()
        if wait > 0:
            return wait
        self._tick()
        with self._lock:
            return max(0.0, self._next_at - self._clock())

    def _tick(self) -> None:
        with self._tick_lock:
            with self._lock:
                now = self._last_tick = self._clock()
                self._next_at = float("inf")
                pending, self._pending = self._pending, {}
                views = dict(self._views)
            for index, events in pending.items():
                views[index].push(_coalesce(events))
            # One open answer block re-rendered per tick: the column that waited longest.
            waiting = [i for i, view in views.items() if view.answer_ready()]
            render = min(waiting, key=self._last_answer.__getitem__, default=None)
            deltas: dict[str, Any] = {}
            wait = float("inf")
            for index, view in views.items():
                due = view.due_in()
                if due <= 0:
                    view.flush(functools.partial(deltas.__setitem__, view.channel), answer=index == render)
                    if index == render:
                        self._last_answer[index] = now
                    due = view.due_in()
                wait = min(wait, due)
            if deltas:
                self._hub.send({"t": "D", "d": deltas})
                self.messages += 1
            if wait != float("inf"):  # something waits (a slow column's few characters, a deferred answer)
                with self._lock:
                    self._next_at = min(self._next_at, max(now + wait, now + self.interval))

    def leave(self, index: int) -> None:
        """The column's stream is over: push what is queued and stop batching it (any thread but the engine's)."""
        with self._tick_lock:
            with self._lock:
                view = self._views.pop(index, None)
                events = self._pending.pop(index, None)
            if view is not None and events:
                view.push(_coalesce(events))


class _ColumnDisplay(_FinalDisplay):
    """A column's LiveDisplay: its events go through the panel's batcher, never straight to the view."""

    def __init__(
        self,
        request: PreparedRequest,
        batcher: _Batcher,
        index: int,
        *,
        title: str,
        lang: str,
        on_final: Callable[[], object],
        quiet: bool = False,
    ) -> None:
        super().__init__(request, lang=lang, on_final=on_final, quiet=quiet)
        view = self.view
        with view.hold_sync():
            view.header = {**view.header, "label": title}
            view.channel = view.model_id if view.comm is not None else ""
            view.add_class("tb-compare-col")
        self._batcher, self._index = batcher, index
        batcher.join(index, view)

    def on_batch(self, batch: list[ThinkEvent]) -> None:
        self._batcher.on_batch(self._index, batch)

    def finish(
        self, result: ThinkResult | None = None, *, error: BaseException | None = None, stopped: bool = False
    ) -> None:
        self._batcher.leave(self._index)
        super().finish(result, error=error, stopped=stopped)


def _share_budget(view: ThinkView, columns: int) -> None:
    """Give ``columns`` views together the message budget of one (see the module docstring).

    Deltas of all columns share one message per tick; snapshots (one trait update per view) are
    what still counts per column, so each column takes them ``columns`` times less often.
    """
    view.snapshot_interval *= columns
