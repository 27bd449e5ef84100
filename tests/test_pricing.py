"""Prices users set (:func:`thinkbook.set_price`) and the costs estimated from them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import thinkbook
from thinkbook._pricing import estimate_cost
from thinkbook._types import Usage


@pytest.fixture(autouse=True)
def _no_prices() -> Iterator[None]:
    thinkbook.clear_prices()
    yield
    thinkbook.clear_prices()


def test_cost_uses_the_thinking_price_for_reasoning_calls() -> None:
    thinkbook.set_price("qwen-plus", input=0.8, output=2.0, thinking_output=8.0)
    thinking = estimate_cost("QWEN-PLUS", Usage(prompt_tokens=1_000_000, completion_tokens=500_000, reasoning_tokens=1))
    plain = estimate_cost("qwen-plus", Usage(prompt_tokens=1_000_000, completion_tokens=500_000))
    assert thinking is not None and thinking.amount == pytest.approx(0.8 + 4.0)
    assert plain is not None and plain.amount == pytest.approx(0.8 + 1.0)
    assert estimate_cost("qwen-plus", Usage(prompt_tokens=None, completion_tokens=3)) is None


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1, 10**400, True, "1.0"])
def test_prices_must_be_finite_non_negative_numbers(bad: object) -> None:
    with pytest.raises(thinkbook.ConfigurationError, match="finite non-negative numbers"):
        thinkbook.set_price("qwen-plus", input=bad, output=1.0)  # type: ignore[arg-type]
    assert estimate_cost("qwen-plus", Usage(prompt_tokens=1, completion_tokens=1)) is None


@pytest.mark.parametrize("bad", ["", "  ", None])
def test_currency_must_be_named(bad: object) -> None:
    with pytest.raises(thinkbook.ConfigurationError, match="currency"):
        thinkbook.set_price("qwen-plus", input=1.0, output=1.0, currency=bad)  # type: ignore[arg-type]
