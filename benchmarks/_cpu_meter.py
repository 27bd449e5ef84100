"""CPU time spent inside chosen methods, measured on whichever thread calls them (benchmarks only).

Shared by bench_panels.py and bench_render.py: each wraps the entry points through which its views
get their work, so streaming (sockets, httpx, SSE, parsing) outside them is not counted.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any


class ThreadCPUMeter:
    """Thread CPU spent inside the given methods, on whatever thread calls them (nested calls once)."""

    def __init__(self, targets: list[tuple[type, str]]) -> None:
        self.seconds = 0.0
        self._targets = targets
        self._saved: list[tuple[type, str, Any]] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def __enter__(self) -> ThreadCPUMeter:
        for cls, name in self._targets:
            original = cls.__dict__[name]
            self._saved.append((cls, name, original))
            setattr(cls, name, self._wrap(original))
        return self

    def __exit__(self, *exc: object) -> None:
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)

    def _wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        meter, local = self, self._local

        @functools.wraps(function)
        def metered(*args: Any, **kwargs: Any) -> Any:
            if getattr(local, "depth", 0):
                return function(*args, **kwargs)
            local.depth = 1
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                local.depth = 0
                with meter._lock:
                    meter.seconds += spent

        return metered
