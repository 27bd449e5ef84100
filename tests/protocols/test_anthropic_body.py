"""Anthropic request bodies: thinking options per model, system prompt, images, history with state."""

from __future__ import annotations

import json
from typing import Any

import pytest

from thinkbook._errors import ConfigurationError
from thinkbook._protocols.anthropic import PROTOCOL
from thinkbook._protocols.anthropic_body import claude_kind
from thinkbook._protocols.base import STATE_KEY, BodyInput, ThinkingOptions

USER = [{"role": "user", "content": "Which is larger, 9.11 or 9.9?"}]


def body(model: str, messages: list[dict[str, Any]] | None = None, **thinking: Any) -> dict[str, Any]:
    return PROTOCOL.build_body(BodyInput(model=model, messages=messages or USER, thinking=ThinkingOptions(**thinking)))


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("claude-3-5-sonnet-20241022", "none"),
        ("claude-3-opus-20240229", "none"),
        ("claude-3-7-sonnet-20250219", "budget"),
        ("claude-sonnet-4-20250514", "budget"),
        ("claude-opus-4-1-20250805", "budget"),
        ("claude-sonnet-4-5@20250929", "budget"),
        ("claude-haiku-4-5", "budget"),
        ("claude-opus-4-6", "adaptive"),
        ("claude-sonnet-4-6", "adaptive"),
        ("claude-opus-4-7", "adaptive-only"),
        ("claude-opus-4-8", "adaptive-only"),
        ("claude-sonnet-5", "adaptive-only"),
        ("claude-mythos-preview", "always"),
        ("claude-fable-5-1", "always"),
        ("claude-opus-latest", "adaptive"),
        ("qwen3.6-plus", "other"),
        ("glm-4.6", "other"),
    ],
)
def test_model_kinds(model: str, kind: str) -> None:
    assert claude_kind(model) == kind


def test_basic_body_streams_with_max_tokens_and_no_thinking_by_default() -> None:
    got = body("claude-sonnet-4-6")
    assert got == {"model": "claude-sonnet-4-6", "max_tokens": 16000, "stream": True, "messages": USER}


@pytest.mark.parametrize(
    ("effort", "fields"),
    [
        (None, {"thinking": {"type": "adaptive", "display": "summarized"}}),
        ("low", {"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "low"}}),
        ("high", {"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "high"}}),
    ],
)
@pytest.mark.parametrize("model", ["claude-sonnet-4-6", "claude-opus-4-7"])
def test_adaptive_models(model: str, effort: str | None, fields: dict[str, Any]) -> None:
    got = body(model, enable=True, effort=effort)
    assert {k: got[k] for k in ("thinking", "output_config") if k in got} == fields
    assert body(model, effort=effort or "medium")["thinking"]["type"] == "adaptive"  # effort alone turns it on


def test_budget_on_claude_4_6_is_enabled_thinking_with_room_for_the_answer() -> None:
    got = body("claude-opus-4-6", budget=20000, effort="medium")
    assert got["thinking"] == {"type": "enabled", "budget_tokens": 20000, "display": "summarized"}
    assert got["output_config"] == {"effort": "medium"}
    assert got["max_tokens"] == 24096


@pytest.mark.parametrize("model", ["claude-opus-4-7", "claude-mythos-preview"])
def test_budget_on_adaptive_only_models_is_refused_before_sending(model: str) -> None:
    with pytest.raises(ConfigurationError, match="effort="):
        body(model, budget=4000)


@pytest.mark.parametrize(
    ("thinking", "sent"),
    [
        ({"enable": True}, {"type": "enabled", "budget_tokens": 16384}),
        ({"effort": "low"}, {"type": "enabled", "budget_tokens": 1024}),
        ({"effort": "medium"}, {"type": "enabled", "budget_tokens": 4096}),
        ({"enable": True, "effort": "high"}, {"type": "enabled", "budget_tokens": 16384}),
        ({"budget": 30000}, {"type": "enabled", "budget_tokens": 30000}),
    ],
)
@pytest.mark.parametrize("model", ["claude-3-7-sonnet-20250219", "claude-sonnet-4-5"])
def test_budget_models(model: str, thinking: dict[str, Any], sent: dict[str, Any]) -> None:
    got = body(model, **thinking)
    assert got["thinking"] == sent
    assert "output_config" not in got
    assert got["max_tokens"] > sent["budget_tokens"]
    assert got["max_tokens"] == max(16000, sent["budget_tokens"] + 4096)


def test_budget_models_refuse_a_budget_and_an_effort_together() -> None:
    with pytest.raises(ConfigurationError, match="either thinking_budget or effort"):
        body("claude-sonnet-4-5", budget=2000, effort="low")


def test_claude_budget_below_the_minimum_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="1024"):
        body("claude-sonnet-4-5", budget=500)


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-sonnet-4-6", "claude-opus-4-7"])
def test_thinking_off_sends_no_thinking_field(model: str) -> None:
    assert "thinking" not in body(model, enable=False)


def test_thinking_off_with_effort_on_an_adaptive_model_keeps_the_effort() -> None:
    got = body("claude-opus-4-7", enable=False, effort="low")
    assert "thinking" not in got and got["output_config"] == {"effort": "low"}


@pytest.mark.parametrize(
    ("model", "thinking"),
    [
        ("claude-sonnet-4-5", {"enable": False, "effort": "low"}),
        ("claude-opus-4-6", {"enable": False, "budget": 2000}),
        ("qwen3.6-plus", {"enable": False, "budget": 2000}),
    ],
)
def test_thinking_off_with_a_budget_is_refused(model: str, thinking: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="pick one"):
        body(model, **thinking)


def test_always_thinking_models() -> None:
    assert body("claude-mythos-preview")["thinking"] == {"type": "adaptive", "display": "summarized"}
    with pytest.raises(ConfigurationError, match="cannot be turned off"):
        body("claude-mythos-preview", enable=False)


def test_old_claude_models_have_no_thinking() -> None:
    assert body("claude-3-5-sonnet-20241022")["max_tokens"] == 4096
    assert "thinking" not in body("claude-3-5-sonnet-20241022", enable=False)
    for thinking in ({"enable": True}, {"budget": 2000}, {"effort": "high"}):
        with pytest.raises(ConfigurationError, match="no extended thinking"):
            body("claude-3-5-sonnet-20241022", **thinking)


@pytest.mark.parametrize(
    ("thinking", "sent", "max_tokens"),
    [
        ({}, None, 8192),
        ({"enable": False}, {"type": "disabled"}, 8192),
        ({"enable": True}, {"type": "enabled", "budget_tokens": 16384}, 20480),
        ({"budget": 500}, {"type": "enabled", "budget_tokens": 500}, 8192),
        ({"effort": "low"}, {"type": "enabled", "budget_tokens": 1024}, 8192),
    ],
)
def test_bailian_qwen_takes_enabled_budget_or_disabled(
    thinking: dict[str, Any], sent: dict[str, Any] | None, max_tokens: int
) -> None:
    got = body("qwen3.6-plus", **thinking)
    assert got.get("thinking") == sent
    assert "output_config" not in got
    assert got["max_tokens"] == max_tokens


def test_other_servers_refuse_a_budget_and_an_effort_together() -> None:
    with pytest.raises(ConfigurationError, match="either thinking_budget or effort"):
        body("qwen3.6-plus", budget=2000, effort="low")


# --- messages ------------------------------------------------------------------------------


def test_system_and_developer_messages_become_the_top_level_system() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
        *USER,
    ]
    got = body("claude-sonnet-4-6", messages)
    assert got["system"] == "Be brief.\n\nAnswer in English."
    assert got["messages"] == USER
    assert list(got)[:4] == ["model", "max_tokens", "stream", "system"]


def test_images_as_content_parts() -> None:
    parts = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": "https://example.com/cat.jpg"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lG"}},
    ]
    got = body("claude-sonnet-4-6", [{"role": "user", "content": parts}])
    assert got["messages"][0]["content"] == [
        {"type": "text", "text": "What is in these?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lG"}},
    ]


@pytest.mark.parametrize(
    ("part", "match"),
    [
        ({"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}, "image/bmp"),
        ({"type": "image_url", "image_url": {"url": "data:image/png,rawbytes"}}, "base64"),
        ({"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}, "https://"),
        ({"type": "image_url", "image_url": {}}, "needs a URL"),
        ({"type": "input_audio", "input_audio": {"data": "x"}}, "text and image parts"),
        ("just a string", "text and image parts"),
    ],
)
def test_bad_content_parts_are_refused(part: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        body("claude-sonnet-4-6", [{"role": "user", "content": [part]}])


def test_a_tool_call_without_a_function_is_refused_clearly() -> None:
    # Tool loops are translated now (tests/protocols/test_anthropic_tools.py); a malformed call is not.
    message = {"role": "assistant", "content": None, "tool_calls": [{"id": "t1"}]}
    with pytest.raises(ConfigurationError, match="needs an 'id' and a 'function'"):
        body("claude-sonnet-4-6", [*USER, message])


def test_a_history_of_only_system_messages_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no user or assistant message"):
        body("claude-sonnet-4-6", [{"role": "system", "content": "Be brief."}])


STATE = {
    "protocol": "anthropic",
    "content": [
        {"type": "thinking", "thinking": "27 * 453 = 12,231.", "signature": "EqQBCgIYAhIM1gbc=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
        {"type": "text", "text": "12,231"},
    ],
}


def history(assistant: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": "27 * 453?"}, assistant, {"role": "user", "content": "And / 3?"}]


def test_assistant_state_goes_back_exactly_and_the_state_key_never_does() -> None:
    assistant = {"role": "assistant", "content": "12,231", "reasoning_content": "27 * 453 = 12,231.", STATE_KEY: STATE}
    got = body("claude-opus-4-7", history(assistant), enable=True)
    sent = got["messages"][1]
    assert sent == {"role": "assistant", "content": STATE["content"]}
    assert json.dumps(sent["content"]) == json.dumps(STATE["content"])
    text = json.dumps(got)
    assert STATE_KEY not in text and "reasoning_content" not in text


def test_without_state_only_the_answer_goes_back() -> None:
    assistant = {"role": "assistant", "content": "12,231", "reasoning_content": "unsigned thoughts"}
    assert body("claude-opus-4-7", history(assistant))["messages"][1] == {"role": "assistant", "content": "12,231"}


def test_another_protocols_state_is_not_sent() -> None:
    foreign = {"protocol": "responses", "items": [{"type": "reasoning", "encrypted_content": "x"}]}
    assistant = {"role": "assistant", "content": "12,231", STATE_KEY: foreign}
    assert body("claude-opus-4-7", history(assistant))["messages"][1] == {"role": "assistant", "content": "12,231"}


def test_preserve_false_sends_the_text_only() -> None:
    assistant = {"role": "assistant", "content": "12,231", STATE_KEY: STATE}
    sent = body("claude-opus-4-7", history(assistant), preserve=False)["messages"][1]
    assert sent == {"role": "assistant", "content": "12,231"}


def test_an_edited_answer_keeps_the_signed_blocks_and_sends_the_new_text() -> None:
    assistant = {"role": "assistant", "content": "12231 (edited)", STATE_KEY: STATE}
    sent = body("claude-opus-4-7", history(assistant))["messages"][1]["content"]
    assert sent == [*STATE["content"][:2], {"type": "text", "text": "12231 (edited)"}]


def test_an_empty_assistant_turn_without_state_is_left_out() -> None:
    got = body("claude-opus-4-7", history({"role": "assistant", "content": ""}))
    assert [m["role"] for m in got["messages"]] == ["user", "user"]


@pytest.mark.parametrize("content", ["nope", [1, 2], [{"no_type": True}]])
def test_a_damaged_state_is_refused(content: Any) -> None:
    assistant = {"role": "assistant", "content": "x", STATE_KEY: {"protocol": "anthropic", "content": content}}
    with pytest.raises(ConfigurationError, match="damaged"):
        body("claude-opus-4-7", history(assistant))


def test_the_body_is_json_serialisable_and_the_input_is_not_mutated() -> None:
    assistant = {"role": "assistant", "content": "12,231", STATE_KEY: STATE}
    messages = history(assistant)
    before = json.dumps(messages, sort_keys=True)
    json.dumps(body("claude-sonnet-4-6", messages, effort="high"))
    assert json.dumps(messages, sort_keys=True) == before
