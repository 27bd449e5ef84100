"""What a batch produced: one row per prompt and variant, in input order, and their totals."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from .._errors import ConfigurationError, ThinkbookError
from .._pricing import Cost, estimate_cost
from .._types import ThinkResult, Usage

__all__ = ["BatchInterrupted", "BatchResult", "BatchRow", "prompt_text"]

_USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens", "cached_tokens")


def prompt_text(prompt: Any) -> str:
    """The text a row asked: the prompt string, or the last user message of a message list."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        for message in reversed(prompt):
            if isinstance(message, Mapping) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, str):
                    return content
                if isinstance(content, list):
                    return " ".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return str(prompt)


@dataclass(slots=True, eq=False)
class BatchRow:
    """One prompt under one variant: its result or its error (exactly one of them is set).

    ``label`` is the prompt's position in a list, or its index label in a pandas Series.
    ``cached`` says the result came from the cache file (nothing was sent for it).
    """

    label: Any
    prompt: Any
    variant: str | None
    model: str
    result: ThinkResult | None = None
    error: ThinkbookError | None = None
    cached: bool = False
    custom_id: str | None = field(default=None, repr=False)

    @property
    def outcome(self) -> ThinkResult | ThinkbookError:
        if self.result is not None:
            return self.result
        if self.error is not None:
            return self.error
        return ThinkbookError("this row has not run")

    @property
    def ok(self) -> bool:
        return self.result is not None


def _sum_usage(usages: list[Usage]) -> Usage:
    """Field-wise totals; a field no row reported stays None (unknown is not 0)."""
    totals: dict[str, int | None] = {}
    for name in _USAGE_FIELDS:
        values = [getattr(u, name) for u in usages if getattr(u, name) is not None]
        totals[name] = sum(values) if values else None
    return Usage(**totals)  # type: ignore[arg-type]


class BatchResult:
    """The rows of a batch in input order (prompt-major: every variant of prompt 0, then prompt 1...).

    ``results`` holds one :class:`~thinkbook.ThinkResult` or :class:`~thinkbook.ThinkbookError`
    per row; ``errors`` the rows that failed (each with ``.label``, ``.prompt``, ``.variant``,
    ``.error``); ``usage`` the token totals; ``cost`` the estimated cost when every successful row's
    model has a price (:func:`thinkbook.set_price`; a provider batch is billed at half price);
    ``seconds`` the wall time. ``len()``, iteration and indexing go over ``results``.

    >>> r = thinkbook.batch(["1+1?", "2+2?"], model="qwen-plus")  # doctest: +SKIP
    >>> [x.answer for x in r], r.usage.total_tokens, r.to_dataframe()  # doctest: +SKIP
    """

    def __init__(
        self,
        rows: list[BatchRow],
        *,
        seconds: float = 0.0,
        sent: int = 0,
        price_factor: float = 1.0,
        interrupted: bool = False,
        note: str | None = None,
        index_name: str | None = None,
        concurrency: dict[str, int] | None = None,
    ) -> None:
        self.rows = rows
        self.index_name = index_name
        self.concurrency = concurrency or {}
        """The local runner's concurrency: ``start``, ``final``, ``peak`` and how often rate limits
        ``lowered`` it (empty for provider batches)."""
        self.seconds = seconds
        self.sent = sent
        """Requests sent over the network by this run (retries included; 0 on a full cache hit)."""
        self.interrupted = interrupted
        self.note = note
        self._price_factor = price_factor

    # --- the rows -------------------------------------------------------------------------------

    @property
    def results(self) -> list[ThinkResult | ThinkbookError]:
        return [row.outcome for row in self.rows]

    @property
    def errors(self) -> list[BatchRow]:
        return [row for row in self.rows if row.error is not None]

    @property
    def cached(self) -> int:
        """How many rows came from the cache file."""
        return sum(1 for row in self.rows if row.cached)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[ThinkResult | ThinkbookError]:
        return (row.outcome for row in self.rows)

    @overload
    def __getitem__(self, index: int) -> ThinkResult | ThinkbookError: ...
    @overload
    def __getitem__(self, index: slice) -> list[ThinkResult | ThinkbookError]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [row.outcome for row in self.rows[index]]
        return self.rows[index].outcome

    # --- totals ---------------------------------------------------------------------------------

    @property
    def usage(self) -> Usage:
        return _sum_usage([row.result.usage for row in self.rows if row.result is not None and row.result.usage])

    @property
    def cost(self) -> Cost | None:
        """The estimated cost of the successful rows, or None when a price or a count is unknown."""
        amount, currency = 0.0, None
        for row in self.rows:
            if row.result is None:
                continue
            cost = estimate_cost(row.result.model or row.model, row.result.usage)
            if cost is None:
                cost = estimate_cost(row.model, row.result.usage)
            if cost is None or (currency is not None and cost.currency != currency):
                return None
            amount += cost.amount * self._price_factor
            currency = cost.currency
        return None if currency is None else Cost(amount=amount, currency=currency)

    # --- tables ---------------------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        """One dict per row (what :meth:`to_dataframe` tabulates)."""
        out = []
        for row in self.rows:
            result = row.result or (row.error.partial if row.error is not None else None)
            usage = result.usage if result is not None else None
            timings = result.timings if result is not None else None
            out.append(
                {
                    "label": row.label,
                    "prompt": prompt_text(row.prompt),
                    "variant": row.variant,
                    "model": row.model,
                    "reasoning": result.reasoning if result is not None else "",
                    "answer": result.answer if result is not None else "",
                    **{name: getattr(usage, name) if usage else None for name in _USAGE_FIELDS},
                    "time_to_first_token": timings.time_to_first_token if timings else None,
                    "total_seconds": timings.total_seconds if timings else None,
                    "finish_reason": result.finish_reason if result is not None else None,
                    "cached": row.cached,
                    "error": None if row.error is None else f"{type(row.error).__name__}: {row.error}",
                }
            )
        return out

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per prompt x variant, indexed by the prompt's label."""
        try:
            import pandas as pd  # type: ignore[import-untyped]
        except ImportError:
            raise ConfigurationError(
                "BatchResult.to_dataframe() needs pandas: pip install pandas (or use .records() for plain dicts)"
            ) from None
        records = self.records()
        labels = [record.pop("label") for record in records]
        frame = pd.DataFrame.from_records(records, columns=None if records else ["prompt", "variant", "answer"])
        frame.index = pd.Index(labels, name=self.index_name)
        return frame

    # --- display --------------------------------------------------------------------------------

    def summary(self) -> str:
        """One line: rows, failures, cache hits, tokens, cost, time."""
        usage = self.usage
        parts = [f"{len(self)} rows", f"{len(self.errors)} failed"]
        if self.cached:
            parts.append(f"{self.cached} from the cache")
        if usage.total_tokens is not None:
            parts.append(f"{usage.total_tokens:,} tokens")
        if usage.reasoning_tokens:
            parts.append(f"{usage.reasoning_tokens:,} reasoning")
        cost = self.cost
        if cost is not None:
            parts.append(f"{cost.amount:.4f} {cost.currency}")
        parts.append(f"{self.seconds:.1f} s")
        lowered = self.concurrency.get("lowered")
        if lowered:
            parts.append(f"rate limits lowered the concurrency {lowered}x (to {self.concurrency.get('final')})")
        if self.interrupted:
            parts.append("interrupted")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return f"<BatchResult {self.summary()}>"

    def _repr_html_(self) -> str:
        note = f"<div>{html.escape(self.note)}</div>" if self.note else ""
        return f"<div class='tb-batch'><b>BatchResult</b>: {html.escape(self.summary())}{note}</div>"


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C (or the kernel's interrupt button) stopped a batch.

    No new call was started after it, the running streams were closed, and every row that had
    finished is kept: in ``.result`` (a :class:`BatchResult` whose unfinished rows hold a
    :class:`~thinkbook.StreamStoppedError`), and already in the cache file when there is one, so
    the same call again sends only the rest. Still a ``KeyboardInterrupt``, so "Run All" and
    scripts stop as users expect.
    """

    def __init__(self, result: BatchResult) -> None:
        super().__init__(f"batch interrupted: {result.summary()}")
        self.result = result
