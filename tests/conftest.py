"""Shared fixtures: a fresh engine per test and a scrubbed environment (no real keys, ever)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from thinkbook._engine import Engine, set_default_engine
from thinkbook.testing import LoopbackServer

FAKE_KEY = "sk-test-SECRET0123456789abcdef"

_PROVIDER_VARIABLES = (
    "DASHSCOPE_API_KEY",
    "DASHSCOPE_REGION",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's keys, so nothing can reach a real endpoint by accident."""
    for name in _PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A private engine installed as the default, closed after the test."""
    fresh = Engine()
    previous = set_default_engine(fresh)
    try:
        yield fresh
    finally:
        set_default_engine(previous)
        fresh.close()


@pytest.fixture
def server(engine: Engine) -> Iterator[LoopbackServer]:
    with LoopbackServer() as loopback:
        yield loopback
