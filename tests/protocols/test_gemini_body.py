"""The Gemini request: path, headers, body (history, system prompt, images, thinking options,
turn state sent back), providers and base-URL claims."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from thinkbook import ConfigurationError
from thinkbook._protocols.base import STATE_KEY, BodyInput, ThinkingOptions
from thinkbook._protocols.gemini import PROTOCOL, GeminiChunkParser
from thinkbook._sse import SSEDecoder
from thinkbook._types import ThinkResult

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gemini"


def body(
    model: str = "gemini-2.5-flash", messages: list[dict[str, Any]] | None = None, **thinking: Any
) -> dict[str, Any]:
    history = messages if messages is not None else [{"role": "user", "content": "hi"}]
    return PROTOCOL.build_body(BodyInput(model=model, messages=history, thinking=ThinkingOptions(**thinking)))


def config(model: str, **thinking: Any) -> dict[str, Any]:
    return body(model, **thinking)["generationConfig"]["thinkingConfig"]  # type: ignore[no-any-return]


# --- path and headers ------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gemini-2.5-pro", "models/gemini-2.5-pro"])
def test_path(model: str) -> None:
    assert PROTOCOL.path(model, base_url="https://x") == "/models/gemini-2.5-pro:streamGenerateContent?alt=sse"


@pytest.mark.parametrize(
    "model",
    [
        "a/b",
        "gemini?x=1",
        "gemini#frag",
        "gemini%2F..",
        "..",
        "gemini-2.5..pro",
        "",
        "models/",
        " gemini",
        "tunedModels/x",
    ],
)
def test_model_names_that_would_move_the_path_are_refused(model: str) -> None:
    with pytest.raises(ConfigurationError, match="not a Gemini model id"):
        PROTOCOL.path(model, base_url="https://x")


def test_headers_carry_the_key_in_x_goog_api_key_only() -> None:
    headers = PROTOCOL.headers("AIza-secret")
    assert headers["x-goog-api-key"] == "AIza-secret"
    assert "Authorization" not in headers and headers["Accept"] == "text/event-stream"
    assert "x-goog-api-key" not in PROTOCOL.headers(None)


# --- history -----------------------------------------------------------------------------------


def test_roles_system_instruction_and_order() -> None:
    got = body(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1", "reasoning_content": "thought"},
            {"role": "developer", "content": "Use metric units."},
            {"role": "user", "content": "Q2"},
        ]
    )
    assert got["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Use metric units."}]}
    assert got["contents"] == [
        {"role": "user", "parts": [{"text": "Q1"}]},
        {"role": "model", "parts": [{"text": "A1"}]},  # reasoning text is not sent back unsigned
        {"role": "user", "parts": [{"text": "Q2"}]},
    ]
    assert "stream" not in got  # alt=sse in the URL is the stream switch


def test_no_system_instruction_when_there_is_no_system_message() -> None:
    assert "systemInstruction" not in body()


def test_images_as_content_parts_become_inline_data() -> None:
    png = "iVBORw0KGgo="
    got = body(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                    {"type": "image_url", "image_url": {"url": "data:image/svg+xml,%3Csvg%2F%3E"}},
                ],
            }
        ]
    )
    assert got["contents"][0]["parts"] == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": png}},
        {"inlineData": {"mimeType": "image/svg+xml", "data": "PHN2Zy8+"}},  # percent-decoded, base64-encoded
    ]


@pytest.mark.parametrize(
    ("part", "match"),
    [
        ({"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}, "data: URL"),
        ({"type": "image_url", "image_url": {"url": "data:;base64,AAAA"}}, "MIME type"),
        ({"type": "input_audio", "input_audio": {}}, "not supported"),
        ("just a string", "not supported"),
    ],
)
def test_content_parts_gemini_cannot_take_are_refused(part: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        body(messages=[{"role": "user", "content": [part]}])


@pytest.mark.parametrize("message", [{"role": "tool", "content": "42", "tool_call_id": "c1"}])
def test_tool_messages_are_refused_with_a_clear_error(message: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="tool"):
        body(messages=[{"role": "user", "content": "q"}, message])


def test_a_tool_call_without_a_function_is_refused_clearly() -> None:
    # Tool loops are translated now (tests/protocols/test_gemini_tools.py); a malformed call is not.
    call = {"id": "c1", "type": "function"}
    with pytest.raises(ConfigurationError, match="needs an 'id' and a 'function'"):
        body(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": None, "tool_calls": [call]}])


def test_a_history_without_a_user_message_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="user message"):
        body(messages=[{"role": "system", "content": "s"}])


def test_an_empty_earlier_answer_is_left_out() -> None:
    got = body(
        messages=[
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "b"},
        ]
    )
    assert [c["role"] for c in got["contents"]] == ["user", "user"]


# --- turn state sent back ----------------------------------------------------------------------


def turn1() -> tuple[dict[str, Any], bytes]:
    raw = (FIXTURES / "gemini3_signature_turn1.sse").read_bytes()
    decoder, parser = SSEDecoder(), GeminiChunkParser()
    reasoning = answer = ""
    for event in decoder.decode(raw):
        chunk = parser.parse(event)
        if chunk is not None:
            reasoning += chunk.reasoning
            answer += chunk.content
    state = parser.turn_state()
    assert state is not None
    message = PROTOCOL.assistant_message(ThinkResult(reasoning=reasoning, answer=answer, reasoning_state=state))
    return message, raw


@pytest.mark.parametrize("preserve", [True, None, False])
def test_turn_one_state_is_sent_back_byte_for_byte(preserve: bool | None) -> None:
    message, raw = turn1()
    history = [{"role": "user", "content": "Which queue?"}, message, {"role": "user", "content": "Why not Kafka?"}]
    sent = json.dumps(body("gemini-3-flash-preview", history, preserve=preserve), ensure_ascii=False)
    model_turn = json.loads(sent)["contents"][1]
    parts = message[STATE_KEY]["parts"]
    if preserve is not True:
        # Without preserve_thinking the unsigned thought summary stays home; the rest is unchanged.
        assert parts[0].get("thought") is True and "thoughtSignature" not in parts[0]
        parts = parts[1:]
    assert model_turn == {"role": "model", "parts": parts}
    # The signature travels exactly as it arrived on the wire, and the state key itself never does.
    signature = message[STATE_KEY]["parts"][-1]["thoughtSignature"]
    assert f'"thoughtSignature": "{signature}"'.encode() in raw and signature in sent
    assert STATE_KEY not in sent and "reasoning_content" not in sent
    assert (json.dumps(message["reasoning_content"], ensure_ascii=False)[1:-1] in sent) is (preserve is True)


def test_signed_thought_parts_go_back_even_without_preserve() -> None:
    signed = {"text": "", "thought": True, "thoughtSignature": "S"}
    state = {"protocol": "gemini", "parts": [{"text": "t", "thought": True}, signed, {"text": "A"}]}
    message = {"role": "assistant", "content": "A", STATE_KEY: state}
    got = body(messages=[{"role": "user", "content": "q"}, message])
    assert got["contents"][1]["parts"] == [signed, {"text": "A"}]


def test_an_edited_answer_drops_its_stale_signature() -> None:
    message, _ = turn1()
    message["content"] = "something else"
    got = body("gemini-3-flash-preview", [{"role": "user", "content": "q"}, message])
    assert got["contents"][1] == {"role": "model", "parts": [{"text": "something else"}]}


def test_another_protocols_state_is_ignored() -> None:
    message = {"role": "assistant", "content": "A", STATE_KEY: {"protocol": "anthropic", "blocks": [1]}}
    got = body(messages=[{"role": "user", "content": "q"}, message])
    assert got["contents"][1] == {"role": "model", "parts": [{"text": "A"}]}


@pytest.mark.parametrize("parts", [None, "x", [1, 2]])
def test_a_damaged_state_is_refused(parts: Any) -> None:
    message = {"role": "assistant", "content": "A", STATE_KEY: {"protocol": "gemini", "parts": parts}}
    with pytest.raises(ConfigurationError, match="thinkbook_state"):
        body(messages=[{"role": "user", "content": "q"}, message])


# --- thinking options ----------------------------------------------------------------------------


def test_default_asks_only_for_thought_summaries() -> None:
    assert config("gemini-2.5-flash") == {"includeThoughts": True}
    assert config("gemini-3-flash-preview") == {"includeThoughts": True}


@pytest.mark.parametrize(
    ("model", "effort", "expected"),
    [
        ("gemini-3-flash-preview", "low", {"thinkingLevel": "low"}),
        ("gemini-3-flash-preview", "medium", {"thinkingLevel": "medium"}),
        ("gemini-3.1-pro-preview", "high", {"thinkingLevel": "high"}),
        ("gemini-3.5-flash", "medium", {"thinkingLevel": "medium"}),
        ("gemini-2.5-pro", "low", {"thinkingBudget": 1024}),
        ("gemini-2.5-flash", "medium", {"thinkingBudget": 8192}),
        ("gemini-2.5-flash-lite", "high", {"thinkingBudget": 24576}),
        ("gemini-flash-latest", "high", {"thinkingBudget": 24576}),
    ],
)
def test_effort_maps_to_level_or_budget(model: str, effort: str, expected: dict[str, Any]) -> None:
    assert config(model, effort=effort) == {"includeThoughts": True, **expected}


def test_gemini_3_pro_has_no_medium_level() -> None:
    with pytest.raises(ConfigurationError, match="no thinking level 'medium'"):
        config("gemini-3-pro-preview", effort="medium")


@pytest.mark.parametrize(
    ("model", "budget"), [("gemini-2.5-pro", 128), ("gemini-2.5-flash", 24576), ("gemini-3-flash-preview", 4096)]
)
def test_budget_is_sent_as_thinking_budget(model: str, budget: int) -> None:
    assert config(model, budget=budget) == {"includeThoughts": True, "thinkingBudget": budget}


@pytest.mark.parametrize(
    ("model", "budget"), [("gemini-2.5-pro", 64), ("gemini-2.5-pro", 40000), ("gemini-2.5-flash-lite", 100)]
)
def test_budget_outside_the_models_range_is_refused(model: str, budget: int) -> None:
    with pytest.raises(ConfigurationError, match="thinking budget of"):
        config(model, budget=budget)


def test_budget_and_effort_together_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        config("gemini-2.5-flash", budget=1000, effort="low")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gemini-2.5-flash", {"thinkingBudget": 0}),
        ("gemini-2.5-flash-lite", {"thinkingBudget": 0}),
        ("gemini-3-flash-preview", {"thinkingLevel": "minimal"}),
        ("gemini-2.0-flash", {"thinkingBudget": 0}),
    ],
)
def test_thinking_off(model: str, expected: dict[str, Any]) -> None:
    assert config(model, enable=False) == expected  # and no includeThoughts


@pytest.mark.parametrize("model", ["gemini-2.5-pro", "gemini-3-pro-preview", "gemini-3.1-pro-preview"])
def test_models_that_cannot_stop_thinking_say_what_to_do(model: str) -> None:
    with pytest.raises(ConfigurationError, match="cannot turn thinking off"):
        config(model, enable=False)


def test_thinking_off_with_a_budget_is_contradictory() -> None:
    with pytest.raises(ConfigurationError, match="enable_thinking=False"):
        config("gemini-2.5-flash", enable=False, effort="low")


def test_thinking_on_asks_for_dynamic_thinking_on_budget_models() -> None:
    assert config("gemini-2.5-flash-lite", enable=True) == {"includeThoughts": True, "thinkingBudget": -1}
    assert config("gemini-3-flash-preview", enable=True) == {"includeThoughts": True}


# --- providers and claims ------------------------------------------------------------------------


def test_provider_declaration() -> None:
    (google,) = PROTOCOL.providers
    assert google.name == "google" and google.protocol == "gemini"
    assert google.key_variables == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    assert google.default_base_url == "https://generativelanguage.googleapis.com/v1beta"
    assert google.model_prefixes == ("gemini-",)
    assert google.owns_host("generativelanguage.googleapis.com")
    assert not google.owns_host("generativelanguage.googleapis.com.evil.example")
    assert not google.owns_host("aiplatform.googleapis.com")


@pytest.mark.parametrize(
    ("host", "path", "claimed"),
    [
        ("generativelanguage.googleapis.com", "/v1beta", True),
        ("generativelanguage.googleapis.com", "/v1", True),
        ("generativelanguage.googleapis.com", "/v1beta/openai", False),
        ("generativelanguage.googleapis.com", "/v1beta/openai/", False),
        ("api.openai.com", "/v1", False),
        ("localhost", "/v1beta", False),
    ],
)
def test_claims(host: str, path: str, claimed: bool) -> None:
    assert PROTOCOL.claims(host, path) is claimed


def test_names() -> None:
    assert PROTOCOL.name == "gemini" and "Gemini" in PROTOCOL.title and "Gemini" in PROTOCOL.expected
    assert repr(PROTOCOL) == "<protocol gemini>"


@pytest.mark.parametrize(
    ("base", "match"),
    [
        ("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash", "model path"),
        (
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            "model path",
        ),
        ("https://gateway.example/gemini/v1beta/models/x:generateContent", "model path"),
        ("https://generativelanguage.googleapis.com", "no API version"),
        ("https://generativelanguage.googleapis.com/", "no API version"),
        ("https://generativelanguage.googleapis.com/v1beta/openai", "protocol='openai'"),
    ],
)
def test_base_urls_that_cannot_work_are_refused(base: str, match: str) -> None:
    (google,) = PROTOCOL.providers
    with pytest.raises(ConfigurationError, match=match):
        PROTOCOL.check_base(base, google, shown=base)


@pytest.mark.parametrize(
    "base",
    [
        "https://generativelanguage.googleapis.com/v1beta",
        "https://generativelanguage.googleapis.com/v1",
        "http://127.0.0.1:8080",
    ],
)
def test_base_urls_that_work_pass(base: str) -> None:
    (google,) = PROTOCOL.providers
    PROTOCOL.check_base(base, google, shown=base)
