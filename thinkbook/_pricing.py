"""Cost estimates from token usage, for models whose price you tell thinkbook.

thinkbook ships no prices (they change, and differ by region and tier): set the ones you use, and
every view and result table shows a cost for them::

    thinkbook.set_price("qwen-plus", input=0.8, output=2.0, thinking_output=8.0, currency="CNY")

Prices are per million tokens. Following the Bailian guide, reasoning tokens are billed as output
tokens; where a hybrid model's thinking mode has its own output price, that price applies only when
the call actually produced reasoning (a thinking-mode call without reasoning is billed at the
non-thinking price).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from ._errors import ConfigurationError
from ._types import Usage

PER_TOKENS = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """Prices per million tokens. ``cached_input`` defaults to ``input``."""

    input: float
    output: float
    thinking_output: float | None = None
    cached_input: float | None = None
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class Cost:
    amount: float
    currency: str

    def to_dict(self) -> dict[str, float | str]:
        return {"amount": self.amount, "currency": self.currency}


_prices: dict[str, Price] = {}
_lock = threading.Lock()


def set_price(
    model: str,
    *,
    input: float,
    output: float,
    thinking_output: float | None = None,
    cached_input: float | None = None,
    currency: str = "CNY",
) -> None:
    """Tell thinkbook what ``model`` costs, per million tokens (see the module docstring)."""
    values = [input, output, thinking_output, cached_input]
    if not all(v is None or _is_price(v) for v in values):
        raise ConfigurationError(f"prices must be finite non-negative numbers per million tokens, got {values!r}")
    if not isinstance(currency, str) or not currency.strip():
        raise ConfigurationError(f"currency must be a name such as 'CNY' or 'USD', got {currency!r}")
    with _lock:
        _prices[model.lower()] = Price(input, output, thinking_output, cached_input, currency)


def _is_price(value: object) -> bool:
    """A finite non-negative number (NaN and infinity would make every cost unreadable)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value)) and value >= 0
    except OverflowError:  # an int too large for a float
        return False


def clear_prices() -> None:
    """Forget every price set so far."""
    with _lock:
        _prices.clear()


def price_for(model: str | None) -> Price | None:
    if not model:
        return None
    with _lock:
        return _prices.get(model.lower())


def estimate_cost(model: str | None, usage: Usage | None) -> Cost | None:
    """The cost of one call, or None when the price or the needed token counts are unknown."""
    price = price_for(model)
    if price is None or usage is None or usage.prompt_tokens is None or usage.completion_tokens is None:
        return None
    cached = usage.cached_tokens or 0
    fresh_input = max(usage.prompt_tokens - cached, 0)
    cached_price = price.cached_input if price.cached_input is not None else price.input
    output_price = price.output
    if price.thinking_output is not None and usage.reasoning_tokens:
        output_price = price.thinking_output
    amount = (fresh_input * price.input + cached * cached_price + usage.completion_tokens * output_price) / PER_TOKENS
    return Cost(amount=amount, currency=price.currency)
