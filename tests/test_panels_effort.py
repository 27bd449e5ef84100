"""The panels' effort setting: ChatPanel(effort=) and its dropdown, ComparePanel per column and for all.

Against a Bailian-compatible loopback server, where a level becomes a ``thinking_budget``
(``EFFORT_BUDGETS``), and an OpenRouter-style one, where it is ``reasoning.effort``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import CompareConfig, ComparePanel
from thinkbook._errors import ConfigurationError
from thinkbook._protocols.openai_dialects import EFFORT_BUDGETS
from thinkbook.testing import LoopbackServer, RecordingComm, ScriptedResponse, recording_comms

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
OTHER_KEY = "sk-test-OTHERKEY987654321fedcba"


def answer(text: str = "答案") -> ScriptedResponse:
    events: list[dict[str, Any]] = [{"choices": [{"delta": {"reasoning_content": "想"}}]}]
    events += [{"choices": [{"delta": {"content": text}, "finish_reason": "stop"}]}]
    return ScriptedResponse.from_sse(events)


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


def bailian(server: LoopbackServer) -> str:
    return server.url + "/compatible-mode/v1"


def test_chat_effort_reaches_the_request_and_the_settings(server: LoopbackServer, comms: Any) -> None:
    server.enqueue(answer(), answer())
    panel = ChatPanel("qwen-plus", base_url=bailian(server), api_key=FAKE_KEY, effort="high", lang="en")
    assert panel.controls.effort == "high" and panel.settings()["effort"] == "high"
    panel.send("你好")
    panel.wait(5)
    body = server.requests[0].json()
    assert body["thinking_budget"] == EFFORT_BUDGETS["high"] and body["enable_thinking"] is True
    panel.controls.effort = "low"  # the dropdown
    panel.send("再来")
    panel.wait(5)
    assert server.requests[1].json()["thinking_budget"] == EFFORT_BUDGETS["low"]
    assert json.loads(panel.to_json())["settings"]["effort"] == "low"


def test_the_dropdown_and_the_budget_slider_replace_each_other(server: LoopbackServer, comms: Any) -> None:
    panel = ChatPanel("qwen-plus", base_url=bailian(server), api_key=FAKE_KEY, enable_thinking=True, lang="en")
    c = panel.controls
    c.effort = "medium"
    assert (c.effort, c.thinking_budget) == ("medium", None)
    c.thinking_budget = 1000  # the budget chosen last wins
    assert (c.effort, c.thinking_budget) == (None, 1000)
    c.effort = "high"
    assert (c.effort, c.thinking_budget) == ("high", None)
    c.effort = ""  # the dropdown's "default"
    assert c.effort is None
    c.effort = "high"
    c.enable_thinking = False  # thinking off: no level
    assert c.effort is None


def test_a_model_without_a_knob_drops_the_level_and_says_why(server: LoopbackServer, comms: Any) -> None:
    panel = ChatPanel("qwen-plus", base_url=bailian(server), api_key=FAKE_KEY, effort="high", lang="en")
    assert panel.controls.caps["effort"] is True
    panel.controls.model = "qwq-plus"  # thinking-only, no budget on Bailian, so no level either
    assert panel.controls.effort is None and panel.controls.caps["effort"] is False
    assert "takes no effort level" in panel.controls.notice


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"effort": "extreme"}, "effort must be one of"),
        ({"effort": "high", "thinking_budget": 500}, "both given"),
        ({"effort": "high", "enable_thinking": False}, "enable_thinking=False"),
        ({"model": "qwq-plus", "effort": "low"}, "effort does not apply to qwq-plus"),
    ],
)
def test_configure_refuses_what_cannot_be_sent(
    server: LoopbackServer, comms: Any, settings: dict[str, Any], message: str
) -> None:
    panel = ChatPanel("qwen-plus", base_url=bailian(server), api_key=FAKE_KEY, lang="en")
    with pytest.raises(ConfigurationError, match=message):
        panel.configure(**settings)
    assert server.requests == []


def test_chat_effort_and_a_budget_together_are_refused_before_anything() -> None:
    with pytest.raises(ConfigurationError, match="both given"):
        ChatPanel("qwen-plus", api_key=FAKE_KEY, effort="high", thinking_budget=100)


def test_configure_effort_replaces_a_budget(server: LoopbackServer, comms: Any) -> None:
    panel = ChatPanel("qwen-plus", base_url=bailian(server), api_key=FAKE_KEY, thinking_budget=500, lang="en")
    panel.configure(effort="medium")
    assert (panel.controls.effort, panel.controls.thinking_budget) == ("medium", None)
    panel.configure(thinking_budget=700)
    assert (panel.controls.effort, panel.controls.thinking_budget) == (None, 700)


def test_compare_columns_take_their_own_effort_and_the_panels(engine: Any, comms: Any) -> None:
    with LoopbackServer([answer("1"), answer("2"), answer("3"), answer("4")]) as server:
        configs: list[Any] = [
            {"model": "qwen-plus", "effort": "low"},
            "qwen-flash",  # takes the panel's level
            {"model": "qwen-turbo", "thinking_budget": 300},  # its own budget: no level added
            {"model": "qwen-max-latest-x", "enable_thinking": False},  # thinking off: no level added
        ]
        panel = ComparePanel("q", configs, base_url=bailian(server), api_key=FAKE_KEY, effort="high", lang="en")
        panel.wait(10)
    bodies = {r.json()["model"]: r.json() for r in server.requests}
    assert bodies["qwen-plus"]["thinking_budget"] == EFFORT_BUDGETS["low"]
    assert bodies["qwen-flash"]["thinking_budget"] == EFFORT_BUDGETS["high"]
    assert bodies["qwen-turbo"]["thinking_budget"] == 300
    assert bodies["qwen-max-latest-x"]["enable_thinking"] is False
    assert "thinking_budget" not in bodies["qwen-max-latest-x"]
    labels = [row["label"] for row in panel.summary()]
    assert labels[:3] == ["qwen-plus · effort low", "qwen-flash · effort high", "qwen-turbo · budget 300"]


def test_a_column_that_cannot_take_its_level_fails_alone(engine: Any, comms: Any) -> None:
    with LoopbackServer([answer()]) as server:
        panel = ComparePanel(
            "q", ["qwen-plus", {"model": "qwen-plus", "effort": "high", "thinking_budget": 100}],
            base_url=bailian(server), api_key=FAKE_KEY, lang="en",
        )  # fmt: skip
        panel.wait(10)
    assert [v.status for v in panel.views] == ["done", "error"]
    assert "both given" in panel.views[1].error


def test_each_column_may_have_its_own_key_which_is_never_shown(engine: Any, comms: Any) -> None:
    with LoopbackServer([answer("a"), answer("b")]) as first, LoopbackServer([answer("c")]) as second:
        configs = [
            {"model": "qwen-plus", "base_url": bailian(first)},
            {"model": "qwen-plus", "base_url": bailian(second), "api_key": OTHER_KEY, "label": "other account"},
        ]
        panel = ComparePanel("q", configs, api_key=FAKE_KEY, lang="en")
        panel.wait(10)
    assert first.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert second.requests[0].headers["authorization"] == f"Bearer {OTHER_KEY}"
    assert "api_key" not in second.requests[0].json()  # a key, not a body field
    shown = json.dumps([c.messages for c in comms], default=str) + repr(panel.configs) + panel.to_markdown()
    assert OTHER_KEY not in shown and FAKE_KEY not in shown
    assert OTHER_KEY not in json.dumps(panel._fallback(), default=str)  # the saved output


def test_a_config_without_a_model_does_not_echo_its_key() -> None:
    with pytest.raises(ConfigurationError, match="needs a model") as caught:
        CompareConfig.coerce({"api_key": OTHER_KEY, "label": "x"})
    assert OTHER_KEY not in str(caught.value)
