"""Neutral history through the two chat protocols: thinkbook's own STATE_KEY never reaches a server."""

from __future__ import annotations

from typing import Any

import pytest

from thinkbook._protocols import get_protocol
from thinkbook._protocols.base import STATE_KEY, BodyInput
from thinkbook._types import ThinkResult

STATE = {"protocol": "anthropic", "blocks": [{"type": "thinking", "thinking": "t", "signature": "c2ln"}]}
HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "q1"},
    {"role": "assistant", "content": "a1", "reasoning_content": "r1", STATE_KEY: STATE},
    {"role": "user", "content": "q2"},
]


def messages_sent(name: str, url: str = "") -> list[dict[str, Any]]:
    body = get_protocol(name).build_body(BodyInput(model="m", messages=[dict(m) for m in HISTORY], url=url))
    sent: list[dict[str, Any]] = body["messages"] if "messages" in body else body["input"]["messages"]
    return sent


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("openai", "http://h/v1/chat/completions"),
        ("dashscope", "http://h/api/v1/services/aigc/text-generation/generation"),
        ("dashscope", "http://h/api/v1/services/aigc/multimodal-generation/generation"),
    ],
)
def test_the_state_key_is_stripped_and_the_rest_kept(name: str, url: str) -> None:
    sent = messages_sent(name, url)
    assert all(STATE_KEY not in message for message in sent)
    assert sent[1]["reasoning_content"] == "r1"
    assert HISTORY[1][STATE_KEY] is STATE  # the caller's history is not changed


def test_history_without_state_is_passed_as_it_is() -> None:
    messages = [{"role": "user", "content": "q"}]
    body = get_protocol("openai").build_body(BodyInput(model="m", messages=messages))
    assert body["messages"] is messages  # nothing to strip: nothing copied


def test_assistant_message_carries_reasoning_and_state() -> None:
    protocol = get_protocol("openai")
    assert protocol.assistant_message(ThinkResult(reasoning="", answer="a")) == {"role": "assistant", "content": "a"}
    state = {"protocol": "openai", "x": 1}
    assert protocol.assistant_message(ThinkResult(reasoning="r", answer="a", reasoning_state=state)) == {
        "role": "assistant",
        "content": "a",
        "reasoning_content": "r",
        STATE_KEY: state,
    }
