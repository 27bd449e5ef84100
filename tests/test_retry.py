"""When to retry and how long to wait (:mod:`thinkbook._retry`)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from thinkbook._retry import backoff_delay, is_retryable_status, parse_retry_after

NOW = datetime(2026, 6, 18, 12, 0, 0, tzinfo=UTC)


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


# --- Retry-After --------------------------------------------------------------------------------


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("value", "seconds"),
        [("3", 3.0), ("0", 0.0), ("1.5", 1.5), (" 7 ", 7.0), ("60", 60.0), ("59.9", 59.9)],
    )
    def test_delta_seconds(self, value: str, seconds: float) -> None:
        assert parse_retry_after(value, now=NOW) == pytest.approx(seconds)

    def test_http_date_in_the_future(self) -> None:
        value = http_date(NOW + timedelta(seconds=30))
        assert value.endswith("GMT")
        assert parse_retry_after(value, now=NOW) == pytest.approx(30.0)

    def test_literal_http_date(self) -> None:
        now = datetime(2015, 10, 21, 7, 27, 50, tzinfo=UTC)
        assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == pytest.approx(10.0)

    def test_http_date_in_the_past_means_now(self) -> None:
        assert parse_retry_after(http_date(NOW - timedelta(minutes=5)), now=NOW) == 0.0

    def test_http_date_far_ahead_is_capped(self) -> None:
        assert parse_retry_after(http_date(NOW + timedelta(hours=2)), now=NOW) == 60.0

    @pytest.mark.parametrize("value", ["3600", "61", "1e9", "inf"])
    def test_capped_at_sixty_seconds(self, value: str) -> None:
        assert parse_retry_after(value, now=NOW) == 60.0

    @pytest.mark.parametrize("value", ["-5", "-0.5", "-inf"])
    def test_negative_never_gives_a_negative_wait(self, value: str) -> None:
        result = parse_retry_after(value, now=NOW)
        assert result is None or result == 0.0

    @pytest.mark.parametrize(
        "value", ["soon", "later please", "3 seconds", "Wed, 99 Foo 2015", "nan", "NaN", "0x10", "{}"]
    )
    def test_garbage_is_ignored(self, value: str) -> None:
        assert parse_retry_after(value, now=NOW) is None

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_missing_is_none(self, value: str | None) -> None:
        assert parse_retry_after(value, now=NOW) is None

    def test_result_is_a_float(self) -> None:
        assert isinstance(parse_retry_after("3", now=NOW), float)


# --- backoff ------------------------------------------------------------------------------------


class TestBackoff:
    def test_server_wish_wins(self) -> None:
        rng = random.Random(1)
        assert backoff_delay(0, 12.5, rng=rng) == 12.5
        assert backoff_delay(5, 0.0, rng=rng) == 0.0

    @pytest.mark.parametrize("seed", range(20))
    def test_within_bounds(self, seed: int) -> None:
        rng = random.Random(seed)
        for attempt in range(12):
            ceiling = min(0.5 * 2**attempt, 8.0)
            delay = backoff_delay(attempt, rng=rng)
            assert ceiling / 2 <= delay <= ceiling
            assert 0.25 <= delay <= 8.0

    def test_first_retry_is_quick(self) -> None:
        delays = [backoff_delay(0, rng=random.Random(seed)) for seed in range(50)]
        assert max(delays) <= 0.5
        assert min(delays) >= 0.25

    def test_grows_with_attempts(self) -> None:
        def mean(attempt: int) -> float:
            rng = random.Random(1234)
            return sum(backoff_delay(attempt, rng=rng) for _ in range(200)) / 200

        means = [mean(attempt) for attempt in range(5)]
        assert means == sorted(means)
        assert means[4] > 4 * means[0]

    def test_never_exceeds_the_maximum(self) -> None:
        rng = random.Random(7)
        delays = [backoff_delay(attempt, rng=rng) for attempt in range(4, 60)]
        assert max(delays) <= 8.0
        assert min(delays) >= 4.0

    def test_huge_attempt_numbers_stay_bounded(self) -> None:
        assert 4.0 <= backoff_delay(5000, rng=random.Random(0)) <= 8.0

    def test_jitter_spreads_clients(self) -> None:
        delays = {backoff_delay(3, rng=random.Random(seed)) for seed in range(10)}
        assert len(delays) > 5

    def test_seeded_is_reproducible(self) -> None:
        first = [backoff_delay(a, rng=random.Random(42)) for a in range(6)]
        second = [backoff_delay(a, rng=random.Random(42)) for a in range(6)]
        assert first == second


# --- retryable statuses -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status) is True


@pytest.mark.parametrize("status", [None, 200, 400, 401, 402, 403, 404, 413, 422])
def test_non_retryable_statuses(status: int | None) -> None:
    assert is_retryable_status(status) is False
