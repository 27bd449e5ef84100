"""Adaptive concurrency for many calls at once: lower on rate limits, raise slowly on success.

The rule is TCP's AIMD (additive increase, multiplicative decrease), per call rather than per
packet: each success adds ``1 / limit`` (about one more slot per ``limit`` successes), a rate
limit halves the limit, at most once per "window". A window is the set of calls started at the
current limit: when 30 calls of one burst all come back 429, the first halves the limit and the
other 29 were started before that and say nothing new, so the limit is not halved 30 times.

A ``Retry-After`` (or Bailian's ``Throttling.*`` codes, whose quota windows clear in about a
minute) also pauses every new start until the server's time is up: calls already running go on.
Everything here runs on one event loop (the engine's); nothing is thread-safe, nothing needs to be.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AdaptiveLimiter", "Slot"]


@dataclass(slots=True)
class Slot:
    """One acquired place; ``window`` is the limiter's window when the call started."""

    window: int


class AdaptiveLimiter:
    """At most ``limit`` calls at once; ``limit`` moves between 1 and ``maximum``.

    >>> limiter = AdaptiveLimiter(8)
    >>> limiter.limit
    8
    """

    def __init__(self, maximum: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if maximum < 1:
            raise ValueError("maximum must be >= 1")
        self.maximum = maximum
        self._limit = float(maximum)
        self._clock = clock
        self.active = 0
        self.peak = 0
        self._window = 0
        self._resume_at = 0.0
        self._waiters: list[asyncio.Future[None]] = []
        # How often the limit was lowered (reported by the progress line and the benchmarks).
        self.decreases = 0

    @property
    def limit(self) -> int:
        """The current number of calls allowed at once."""
        return max(1, int(self._limit))

    @property
    def paused_for(self) -> float:
        """Seconds until new calls may start again (0 when not paused)."""
        return max(0.0, self._resume_at - self._clock())

    async def acquire(self) -> Slot:
        """Wait for a free place (and for any pause to end), then take it."""
        loop = asyncio.get_running_loop()
        while True:
            pause = self.paused_for
            if pause > 0:
                await asyncio.sleep(pause)  # a pause lengthened meanwhile is seen on the next turn
                continue
            if self.active < self.limit:
                break
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.active += 1
        self.peak = max(self.peak, self.active)
        return Slot(self._window)

    def release(self, slot: Slot, outcome: str, retry_after: float | None = None) -> None:
        """Give the place back; ``outcome`` is ``"ok"``, ``"throttled"`` or anything else (no change).

        Synchronous, so it is safe in a ``finally`` of a cancelled call.
        """
        self.active -= 1
        if outcome == "ok":
            self._limit = min(float(self.maximum), self._limit + 1.0 / max(self._limit, 1.0))
        elif outcome == "throttled":
            if slot.window == self._window:
                self._limit = max(1.0, self._limit / 2)
                self._window += 1
                self.decreases += 1
            if retry_after is not None and retry_after > 0:
                self._resume_at = max(self._resume_at, self._clock() + retry_after)
        # Few waiters at a time (the dispatcher and rows waiting to retry): waking all is cheap.
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
