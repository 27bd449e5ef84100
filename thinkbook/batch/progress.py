"""How a running batch shows itself: one compact line, repainted at a bounded rate.

In a notebook it is one output (a display handle) updated at most every
:data:`NOTEBOOK_INTERVAL` seconds, so even 10,000 rows cost a few IOPub messages a second
(jupyter_server drops messages above 1000/s); when the batch ends the output is replaced by
static HTML a saved notebook shows anywhere. In a terminal it is a ``tqdm`` bar. The runner
updates :class:`BatchStats` on the engine loop; the waiting caller thread paints it.
"""

from __future__ import annotations

import html
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["BatchStats", "Progress", "make_progress"]

NOTEBOOK_INTERVAL = 0.5


@dataclass
class BatchStats:
    """Counters of one batch run. Written on the engine loop, read by the painter (plain ints)."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    cached: int = 0
    tokens: int = 0
    reasoning_tokens: int = 0
    cost: float = 0.0
    currency: str | None = None
    cost_known: bool = True
    limit: int = 0
    started: float = field(default_factory=time.monotonic)
    label: str = "batch"

    @property
    def finished(self) -> int:
        return self.done + self.failed

    def rate(self, now: float | None = None) -> float | None:
        """Rows per second finished by calls of this run (cache hits do not count)."""
        elapsed = (now or time.monotonic()) - self.started
        ran = self.finished - self.cached
        return ran / elapsed if elapsed > 0 and ran > 0 else None

    def eta(self, now: float | None = None) -> float | None:
        rate = self.rate(now)
        left = self.total - self.finished
        return left / rate if rate else None

    def line(self, *, final: bool = False) -> str:
        """``37/100 done, 8 running, 1 failed, 12,345 tokens, 0.0123 CNY, 3.2 rows/s, ETA 20 s``."""
        now = time.monotonic()
        parts = [f"{self.done}/{self.total} done"]
        if not final:
            parts.append(f"{self.running} running")
        parts.append(f"{self.failed} failed")
        if self.cached:
            parts.append(f"{self.cached} from the cache")
        parts.append(f"{self.tokens:,} tokens")
        if self.reasoning_tokens:
            parts.append(f"{self.reasoning_tokens:,} reasoning")
        if self.cost_known and self.currency is not None:
            parts.append(f"{self.cost:.4f} {self.currency}")
        rate = self.rate(now)
        if rate is not None:
            parts.append(f"{rate:.1f} rows/s")
        if final:
            parts.append(f"{now - self.started:.1f} s")
        else:
            eta = self.eta(now)
            if eta is not None:
                parts.append(f"ETA {_duration(eta)}")
            if self.limit:
                parts.append(f"concurrency {self.limit}")
        return ", ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Progress(Protocol):
    def update(self, stats: BatchStats) -> None: ...
    def finish(self, stats: BatchStats, *, interrupted: bool = False) -> None: ...


class NoProgress:
    def update(self, stats: BatchStats) -> None:
        pass

    def finish(self, stats: BatchStats, *, interrupted: bool = False) -> None:
        pass


def _html(stats: BatchStats, *, final: bool, interrupted: bool = False) -> str:
    # Only numbers and the caller's label reach this HTML, escaped all the same.
    head = html.escape(stats.label)
    state = " (interrupted: finished rows kept)" if interrupted else ""
    bar = f"<progress value='{stats.finished}' max='{max(stats.total, 1)}'></progress> " if not final else ""
    return f"<div class='tb-batch-progress'>{bar}<b>{head}</b>: {html.escape(stats.line(final=final))}{state}</div>"


class _Bundle:
    def __init__(self, text_html: str, text: str) -> None:
        self._html, self._text = text_html, text

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return {"text/html": self._html, "text/plain": self._text}


class NotebookProgress:
    """One display output, repainted at most every :data:`NOTEBOOK_INTERVAL` s, static when done."""

    def __init__(self, stats: BatchStats, *, interval: float = NOTEBOOK_INTERVAL) -> None:
        from IPython.display import display

        self._interval = interval
        self._painted = 0.0
        self.paints = 0
        self._handle = display(self._bundle(stats, final=False), display_id=True)  # type: ignore[no-untyped-call]

    @staticmethod
    def _bundle(stats: BatchStats, *, final: bool, interrupted: bool = False) -> _Bundle:
        text = f"{stats.label}: {stats.line(final=final)}" + (" (interrupted)" if interrupted else "")
        return _Bundle(_html(stats, final=final, interrupted=interrupted), text)

    def update(self, stats: BatchStats) -> None:
        now = time.monotonic()
        if now - self._painted < self._interval:
            return
        self._painted = now
        self.paints += 1
        if self._handle is not None:
            self._handle.update(self._bundle(stats, final=False))

    def finish(self, stats: BatchStats, *, interrupted: bool = False) -> None:
        self.paints += 1
        if self._handle is not None:
            self._handle.update(self._bundle(stats, final=True, interrupted=interrupted))


class TerminalProgress:
    """A tqdm bar on stderr with the counters as its postfix."""

    def __init__(self, stats: BatchStats) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]

        self._bar = tqdm(total=stats.total, unit="row", desc=stats.label, file=sys.stderr, mininterval=0.5)
        self._shown = 0

    def update(self, stats: BatchStats) -> None:
        finished = stats.finished
        if finished > self._shown:
            self._bar.update(finished - self._shown)
            self._shown = finished
            self._bar.set_postfix_str(
                f"{stats.running} running, {stats.failed} failed, {stats.tokens:,} tok", refresh=False
            )

    def finish(self, stats: BatchStats, *, interrupted: bool = False) -> None:
        self.update(stats)
        self._bar.set_postfix_str(stats.line(final=True) + (" (interrupted)" if interrupted else ""), refresh=True)
        self._bar.close()


def make_progress(progress: bool, stats: BatchStats) -> Progress:
    """A notebook line in a kernel, a tqdm bar elsewhere (when tqdm is installed), or nothing."""
    if not progress:
        return NoProgress()
    from .._display import in_notebook

    if in_notebook():
        return NotebookProgress(stats)
    try:
        return TerminalProgress(stats)
    except ImportError:
        return NoProgress()
