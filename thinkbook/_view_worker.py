"""The view worker: one thread that renders and sends for every live view, off the network path.

The engine loop reads, decodes and accumulates; a view (or a panel's batcher) only takes the events
and tells the worker when it will next have something worth sending (:meth:`ViewWorker.schedule`,
a dictionary update under a lock). The worker thread wakes at that time, asks the item to do its
work (render markdown, sanitize, send the delta), and plans the next wake-up from the delay the
item returns. Whatever arrived meanwhile is taken together by the next run: frames that a slow
render made late are dropped, never queued. So no stream ever waits for any view's rendering, and a
view's rendering never waits for another stream's network.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

__all__ = ["Paced", "ViewWorker", "default_worker"]

_log = logging.getLogger("thinkbook")


class Paced(Protocol):
    """Something the worker drives: ``run_due`` does what is due and says when to come back."""

    def run_due(self) -> float:
        """Do the work that is due now (if any); seconds until the next is due (``inf``: none)."""
        ...


class ViewWorker:
    """A daemon thread (``thinkbook-view``) running :class:`Paced` items at the times they ask for."""

    def __init__(self, name: str = "thinkbook-view") -> None:
        self.name = name
        self._cond = threading.Condition(threading.Lock())
        self._planned: dict[Paced, float] = {}  # item -> when to run it (time.monotonic)
        self._deadline = float("inf")  # when the sleeping thread wakes up on its own
        self._thread: threading.Thread | None = None

    def schedule(self, item: Paced, delay: float) -> None:
        """Run ``item`` in ``delay`` seconds, or sooner if it is planned sooner already (any thread)."""
        if delay == float("inf"):
            return
        at = time.monotonic() + max(0.0, delay)
        with self._cond:
            planned = self._planned.get(item)
            if planned is not None and planned <= at:
                return
            self._planned[item] = at
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
                self._thread.start()
            elif at < self._deadline:
                self._cond.notify()

    def in_worker_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def _main(self) -> None:
        while True:
            with self._cond:
                now = time.monotonic()
                due = [item for item, at in self._planned.items() if at <= now]
                for item in due:
                    del self._planned[item]
                if not due:
                    self._deadline = min(self._planned.values(), default=float("inf"))
                    timeout = None if self._deadline == float("inf") else self._deadline - now
                    self._cond.wait(timeout)
                    self._deadline = float("-inf")  # awake: new work is picked up before sleeping again
                    continue
            for item in due:
                try:
                    delay = item.run_due()
                except Exception:  # one broken view must not stop every other view's updates
                    _log.exception("thinkbook: a live view failed to update")
                    continue
                self.schedule(item, delay)


_default_worker: ViewWorker | None = None
_default_lock = threading.Lock()


def default_worker() -> ViewWorker:
    """The per-process view worker every live view and panel shares."""
    global _default_worker
    with _default_lock:
        if _default_worker is None:
            _default_worker = ViewWorker()
        return _default_worker
