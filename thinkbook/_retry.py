"""When to retry and how long to wait: exponential backoff with jitter, honouring Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 60.0
BASE_DELAY = 0.5
MAX_DELAY = 8.0


def is_retryable_status(status: int | None) -> bool:
    """408, 409, 429 and 5xx may succeed later; 400/401/403/404 never will."""
    return status is not None and (status in RETRYABLE_STATUSES or status >= 500)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), capped.

    >>> parse_retry_after("3")
    3.0
    >>> parse_retry_after("soon") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def backoff_delay(attempt: int, retry_after: float | None = None, *, rng: random.Random | None = None) -> float:
    """Delay before retry number ``attempt`` (0-based): the server's wish, else jittered backoff."""
    if retry_after is not None:
        return retry_after
    ceiling = min(BASE_DELAY * (2 ** min(attempt, 10)), MAX_DELAY)  # cap the exponent: no overflow
    # "Full jitter" spreads clients that failed together so they don't retry together.
    return (rng or random).uniform(ceiling / 2, ceiling)
