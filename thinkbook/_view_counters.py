"""The view's counters: live estimates while a stream runs, the server's exact numbers at the end.

Both are plain dicts (the ``counters`` trait, and the ``c`` field of a delta) in the shape the
front end and the static rendering read: ``exact``, ``usage``, ``estimate`` (reasoning and answer
tokens counted locally), ``timings`` and ``cost``. A tool loop's live usage is the finished rounds'
plus the current round's (each round's server usage starts from zero), and its final usage is
the result's, which sums all rounds.
"""

from __future__ import annotations

from typing import Any

from ._pricing import estimate_cost
from ._replay import at_recorded_pace
from ._types import ThinkResult

__all__ = ["final_counters", "live_counters", "sum_usage"]


def sum_usage(before: dict[str, Any] | None, now: dict[str, Any] | None) -> dict[str, Any] | None:
    """Live usage of a tool loop: the finished rounds' plus the current round's."""
    if before is None or now is None:
        return now if before is None else dict(before)

    def add(a: Any, b: Any) -> Any:
        return b if a is None else a if b is None else a + b

    return {key: add(before.get(key), now.get(key)) for key in {**before, **now}}


def _paced(value: float | None, speed: float) -> float | None:
    """A live timing at the recording's pace (none at all when the replay has no pauses)."""
    if value is None or speed <= 0:
        return None
    return round(value * speed, 2)


def live_counters(
    *,
    now: float,
    started: float,
    first_reasoning: float | None,
    first_answer: float | None,
    replay_speed: float | None,
    usage: dict[str, Any] | None,
    weights: tuple[float, float],
) -> dict[str, Any]:
    """The counters while streaming: clocks from the view's own timestamps, token estimates."""
    timings: dict[str, float | None] = {
        "time_to_first_token": None,
        "thinking_seconds": None,
        "total_seconds": None,
        "tokens_per_second": None,
        "elapsed": round(now - started, 2),
    }
    firsts = [t for t in (first_reasoning, first_answer) if t is not None]
    if firsts:
        timings["time_to_first_token"] = round(min(firsts) - started, 2)
    if first_reasoning is not None:
        timings["thinking_seconds"] = round((first_answer or now) - first_reasoning, 2)
    if replay_speed is not None:
        timings = {k: _paced(v, replay_speed) for k, v in timings.items()}
    return {
        "exact": False,
        "usage": usage,
        "estimate": {"reasoning_tokens": round(weights[0]), "answer_tokens": round(weights[1])},
        "timings": timings,
        "cost": None,
    }


def final_counters(
    counters: dict[str, Any], result: ThinkResult | None, *, replay_speed: float | None, model: str | None
) -> dict[str, Any]:
    """``counters`` (the live ones) completed by the result: its timings, exact usage and cost."""
    if result is None:
        return counters
    timings = result.timings
    if replay_speed is not None:
        timings = at_recorded_pace(timings, replay_speed)
    if result.reasoning_hidden and not result.reasoning:
        counters["reasoning_hidden"] = True
    counters["timings"] = {
        **timings.to_dict(),
        "time_to_first_token": timings.time_to_first_token,
        "elapsed": timings.total_seconds,
    }
    if result.usage is not None:
        usage = {**result.usage.to_dict(), "answer_tokens": result.usage.answer_tokens}
        usage.pop("raw", None)
        counters["usage"] = usage
        counters["exact"] = True
        cost = estimate_cost(result.model or model, result.usage)
        counters["cost"] = cost.to_dict() if cost else None
    return counters
