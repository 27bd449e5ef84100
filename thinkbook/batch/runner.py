"""``thinkbook.batch``: many prompts on the one engine loop, a bounded number at a time.

No thread per row: a dispatcher coroutine on the engine loop takes a place from the
:class:`~thinkbook.batch.limiter.AdaptiveLimiter` and starts one task per row, so at most
``limit`` streams are ever open. The runner does the retrying itself (the engine is asked for one
attempt per call) because a 429 is the limiter's signal: it lowers the concurrency and, with a
``Retry-After``, pauses new starts. A 429 counts against the row's ``max_retries`` only once the
limiter is at its floor (one call at a time): above it, the row just waits for its turn again.
Connection failures, timeouts, 408/409 and 5xx are retried up to ``max_retries`` times with
jittered backoff, even after part of an answer (nobody watches a batch row stream, and its text
is only kept whole). One failing row never fails the batch.

Ctrl-C stops new calls, closes the running streams and keeps every finished row: they are in the
cache file already (when ``cache=`` is given), and :class:`~thinkbook.batch.result.BatchInterrupted`
(a ``KeyboardInterrupt``) carries them in ``.result``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from .._engine import Engine, StreamRun, default_engine
from .._errors import ConfigurationError, RateLimitError, StreamStoppedError, ThinkbookError
from .._failures import retryable
from .._pricing import estimate_cost
from .._retry import backoff_delay
from .._types import Done, ThinkResult
from .cache import ResultCache
from .limiter import AdaptiveLimiter, Slot
from .prepare import PlannedRow, plan_rows, say_replays
from .progress import BatchStats, make_progress
from .result import BatchInterrupted, BatchResult, BatchRow

__all__ = ["BatchRunner", "batch"]

_WAKE_SECONDS = 0.1
MAX_CONCURRENCY = 1024


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigurationError(f"{name} must be an integer {bound}, got {value!r}")
    return value


class BatchRunner:
    """Runs planned rows on an engine; usable from any thread but the engine's own."""

    def __init__(
        self,
        rows: list[PlannedRow],
        out: list[BatchRow],
        *,
        concurrency: int,
        max_retries: int,
        timeout: float | None,
        cache: ResultCache | None,
        stats: BatchStats,
        engine: Engine,
    ) -> None:
        self.rows = rows
        self.out = out
        self.limiter = AdaptiveLimiter(concurrency)
        self.max_retries = max_retries
        self.timeout = timeout
        self.cache = cache
        self.stats = stats
        self.engine = engine
        self.sent = 0
        self.settled = threading.Event()

    # --- on the engine loop ---------------------------------------------------------------------

    async def run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            for row in self.rows:
                slot = await self.limiter.acquire()
                task = asyncio.get_running_loop().create_task(self._row(row, slot))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            while tasks:
                await asyncio.wait(set(tasks))
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(set(tasks))
            self.settled.set()

    async def _attempt(self, row: PlannedRow) -> tuple[ThinkResult | None, ThinkbookError | None, StreamRun]:
        assert row.request is not None
        run = StreamRun(row.request)
        self.sent += 1
        try:
            async for events in self.engine.stream_batches(run, max_retries=0, timeout=self.timeout):
                last = events[-1]
                if isinstance(last, Done):
                    return last.result, None, run
        except ThinkbookError as error:
            return None, error, run
        finally:
            run.settled.set()
        raise AssertionError("the stream ended without Done")  # stream_batches always ends with Done

    async def _row(self, row: PlannedRow, slot: Slot) -> None:
        stats, limiter = self.stats, self.limiter
        attempts = 0  # failures counted against max_retries
        tries = 0
        held: Slot | None = slot
        try:
            while True:
                stats.running += 1
                stats.limit = limiter.limit
                try:
                    result, error, run = await self._attempt(row)
                finally:
                    stats.running -= 1
                assert held is not None
                if result is not None:
                    limiter.release(held, "ok")
                    held = None
                    self._finished(row, result)
                    return
                assert error is not None
                tries += 1
                throttled = isinstance(error, RateLimitError)
                at_floor = limiter.limit <= 1
                limiter.release(held, "throttled" if throttled else "failed", run.retry_after)
                held = None
                if not throttled or at_floor:
                    attempts += 1
                cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
                if attempts > self.max_retries or not (throttled or retryable(error, cause)):
                    self._failed(row, error)
                    return
                await asyncio.sleep(backoff_delay(min(tries - 1, 4), run.retry_after))
                held = await limiter.acquire()
        finally:
            if held is not None:  # cancelled: give the place back
                limiter.release(held, "cancelled")

    def _finished(self, row: PlannedRow, result: ThinkResult) -> None:
        stats = self.stats
        self.out[row.position].result = result
        stats.done += 1
        usage = result.usage
        if usage is not None:
            stats.tokens += usage.total_tokens or 0
            stats.reasoning_tokens += usage.reasoning_tokens or 0
        cost = estimate_cost(result.model or row.model, usage) or estimate_cost(row.model, usage)
        if cost is None:
            stats.cost_known = False
        else:
            stats.cost += cost.amount
            stats.currency = cost.currency
        if self.cache is not None:
            self.cache.append(row.key, result, model=row.model, variant=row.variant, label=row.label, prompt=row.prompt)
        row.request = None  # the body (the whole prompt) is not needed any more

    def _failed(self, row: PlannedRow, error: ThinkbookError) -> None:
        self.out[row.position].error = error
        self.stats.failed += 1

    # --- from the caller's thread ---------------------------------------------------------------

    def wait(self, on_tick: Callable[[], None]) -> bool:
        """Run to the end, calling ``on_tick`` every wake-up; False when interrupted (Ctrl-C)."""
        future = self.engine.submit(self.run())
        while True:
            try:
                future.result(timeout=_WAKE_SECONDS)
                return True
            except TimeoutError:
                on_tick()
                continue
            except KeyboardInterrupt:
                future.cancel()
                with contextlib.suppress(KeyboardInterrupt):  # a second press while the streams close
                    self.settled.wait(10)
                return False


def batch(
    prompts: Any,
    *,
    model: str,
    concurrency: int = 8,
    cache: str | os.PathLike[str] | None = None,
    progress: bool = True,
    max_retries: int = 4,
    variants: dict[str, dict[str, Any]] | None = None,
    display: str | None = None,
    **options: Any,
) -> BatchResult:
    """Ask ``model`` every prompt, ``concurrency`` at a time, and return a :class:`BatchResult`.

    ``prompts`` is a list of strings or of message lists, or a pandas Series (its index labels
    the rows). ``**options`` are everything :func:`thinkbook.think` takes (``enable_thinking``,
    ``thinking_budget``, ``base_url``, ``region``, ``timeout``, extra body fields...). ``variants``
    runs every prompt under several option sets, e.g. ``{"on": {"enable_thinking": True}, "off":
    {"enable_thinking": False}}`` (a variant may set its own ``model``); rows are prompt-major.

    ``cache="runs/eval.jsonl"`` makes the run resumable: each finished row is appended as it
    completes, and a rerun (after a crash, a kernel restart or Ctrl-C) sends only the rows not in
    the file; a changed option is a new row. Failed rows are not cached (a rerun retries them).

    Rate limits (429, Bailian ``Throttling.*``) lower the concurrency and honour ``Retry-After``;
    5xx and connection failures are retried (``max_retries`` per row); a row that still fails is
    an error in ``.results`` and ``.errors``, never an exception. ``progress`` shows one compact
    line (a notebook output, or a tqdm bar in a terminal); ``display="rows"`` also shows a static
    grid of the rows when done (for small runs). Ctrl-C raises :class:`BatchInterrupted`, whose
    ``.result`` holds the finished rows.

    >>> modes = {"on": {"enable_thinking": True}, "off": {"enable_thinking": False}}
    >>> r = thinkbook.batch(questions, model="qwen-plus", cache="runs/q.jsonl", variants=modes)  # doctest: +SKIP
    >>> r.to_dataframe().groupby("variant").completion_tokens.mean()  # doctest: +SKIP
    """
    concurrency = _check_int("concurrency", concurrency, 1, MAX_CONCURRENCY)
    max_retries = _check_int("max_retries", max_retries, 0, 100)
    if not isinstance(progress, bool):
        raise ConfigurationError(f"progress must be True or False, got {progress!r}")
    if display not in (None, False, "rows"):
        raise ConfigurationError(
            f"display must be None (no per-row views) or 'rows' (a grid when done), got {display!r}"
        )
    timeout = options.get("timeout")
    planned, index_name, notes = plan_rows(prompts, model=model, variants=variants, options=options)
    engine = default_engine()
    if engine.in_engine_thread():
        raise ConfigurationError("thinkbook.batch() cannot run on thinkbook's engine thread (a stream callback)")
    out = [BatchRow(p.label, p.prompt, p.variant, p.model) for p in planned]
    started = time.monotonic()
    result_cache = ResultCache(cache) if cache is not None else None
    try:
        pending: list[PlannedRow] = []
        for row in planned:
            hit = result_cache.get(row.key) if result_cache is not None else None
            if hit is not None:
                out[row.position].result = hit
                out[row.position].cached = True
                row.request = None
            else:
                pending.append(row)
        if result_cache is not None:
            result_cache.rows.clear()  # read once; the results live in ``out`` now
        note = say_replays(notes, planned)
        stats = BatchStats(total=len(out), label=f"{model} batch", started=started)
        stats.cached = stats.done = len(out) - len(pending)
        for cached_row in out:
            if cached_row.result is not None:
                usage = cached_row.result.usage
                stats.tokens += (usage.total_tokens or 0) if usage else 0
                stats.reasoning_tokens += (usage.reasoning_tokens or 0) if usage else 0
        runner = BatchRunner(
            pending,
            out,
            concurrency=concurrency,
            max_retries=max_retries,
            timeout=timeout,
            cache=result_cache,
            stats=stats,
            engine=engine,
        )
        stats.limit = runner.limiter.limit
        painter = make_progress(progress, stats)
        finished = runner.wait(lambda: painter.update(stats)) if pending else True
    finally:
        if result_cache is not None:
            result_cache.close()
    if not finished:
        for done_row in out:
            if done_row.result is None and done_row.error is None:
                done_row.error = StreamStoppedError("stopped: the batch was interrupted before this row finished")
    result = BatchResult(
        out,
        seconds=time.monotonic() - started,
        sent=runner.sent,
        interrupted=not finished,
        note=note,
        index_name=index_name,
        concurrency={
            "start": concurrency,
            "final": runner.limiter.limit,
            "peak": runner.limiter.peak,
            "lowered": runner.limiter.decreases,
        },
    )
    painter.finish(stats, interrupted=not finished)
    if display == "rows":
        from .grid import show_rows

        show_rows(result)
    if not finished:
        raise BatchInterrupted(result)
    return result
