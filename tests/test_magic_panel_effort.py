"""``%think panel --effort`` and ``%%think --compare ... :effort=LEVEL`` / ``--effort`` (loopback only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from thinkbook._magic_args import parse_compare
from thinkbook._protocols.openai_dialects import EFFORT_BUDGETS
from thinkbook.testing import LoopbackServer, ScriptedResponse

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
KEY_ENV = "THINKBOOK_TEST_KEY"


def answer(text: str = "答案") -> ScriptedResponse:
    events: list[dict[str, Any]] = [{"choices": [{"delta": {"reasoning_content": "想"}}]}]
    events += [{"choices": [{"delta": {"content": text}, "finish_reason": "stop"}]}]
    return ScriptedResponse.from_sse(events)


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "thinkbook")
    yield ip
    for name in ("_think", "_think_error", "_think_handle", "_think_panel"):
        ip.user_ns.pop(name, None)


def bailian(server: LoopbackServer) -> str:
    return f"--base-url {server.url}/compatible-mode/v1 --api-key-env {KEY_ENV}"


def test_think_panel_takes_effort(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(answer())
    shell.run_line_magic("think", f"panel -m qwen-plus --effort medium {bailian(server)}")
    panel = shell.user_ns["_think_panel"]
    assert panel.controls.effort == "medium"
    panel.send("你好")
    panel.wait(5)
    assert server.requests[0].json()["thinking_budget"] == EFFORT_BUDGETS["medium"]


def test_compare_items_and_the_line_set_effort(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer("1"), answer("2"), answer("3"))
    items = "qwen-plus:effort=low,qwen-flash,qwen-turbo:off"
    shell.run_cell_magic("think", f"--compare {items} --effort high {bailian(server)}", "q")
    bodies = {r.json()["model"]: r.json() for r in server.requests}
    assert bodies["qwen-plus"]["thinking_budget"] == EFFORT_BUDGETS["low"]
    assert bodies["qwen-flash"]["thinking_budget"] == EFFORT_BUDGETS["high"]
    assert bodies["qwen-turbo"]["enable_thinking"] is False and "thinking_budget" not in bodies["qwen-turbo"]
    assert "qwen-plus · effort low" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("qwen-plus:effort=max,qwen-flash", "effort is low, medium or high"),
        ("qwen-plus:effort=low:budget=100,qwen-flash", "an effort with a budget"),
        ("qwen-plus:off:effort=low,qwen-flash", "an effort with thinking off"),
    ],
)
def test_bad_compare_efforts_are_refused(items: str, message: str) -> None:
    from thinkbook._errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=message):
        parse_compare(items)


def test_compare_item_effort_parses() -> None:
    assert parse_compare("qwen3:8b:effort=high,qwen-plus") == (
        {"model": "qwen3:8b", "effort": "high"},
        {"model": "qwen-plus"},
    )
