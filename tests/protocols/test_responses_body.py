"""Responses protocol: request bodies, thinking options, history, turn-state round trip, parser units."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from thinkbook._errors import ConfigurationError, ResponseFormatError
from thinkbook._protocols.base import STATE_KEY, BodyInput, ThinkingOptions
from thinkbook._protocols.responses import OPENAI, PROTOCOL, ResponsesParser
from thinkbook._sse import ServerSentEvent, SSEDecoder
from thinkbook._types import ThinkResult

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "responses"
USER = {"role": "user", "content": "Which is larger, 9.11 or 9.9?"}


def body(model: str = "gpt-5", provider: str = "openai", messages: Any = None, **thinking: Any) -> dict[str, Any]:
    return PROTOCOL.build_body(
        BodyInput(
            model=model,
            messages=[USER] if messages is None else messages,
            thinking=ThinkingOptions(**thinking),
            provider=provider,
        )
    )


def parse_fixture(name: str) -> tuple[ThinkResult, ResponsesParser]:
    decoder, parser = SSEDecoder(), PROTOCOL.new_parser()
    reasoning = answer = ""
    for event in decoder.decode((FIXTURES / name).read_bytes()):
        chunk = parser.parse(event)
        if chunk is not None:
            reasoning += chunk.reasoning
            answer += chunk.content
    return ThinkResult(reasoning=reasoning, answer=answer, reasoning_state=parser.turn_state()), parser


# --- the protocol's declarations -----------------------------------------------------------


def test_declarations() -> None:
    assert PROTOCOL.name == "responses"
    assert PROTOCOL.path("gpt-5", base_url="https://api.openai.com/v1") == "/responses"
    assert OPENAI in PROTOCOL.providers
    assert (OPENAI.name, OPENAI.protocol, OPENAI.default_base_url) == (
        "openai",
        "responses",
        "https://api.openai.com/v1",
    )
    assert OPENAI.key_variables == ("OPENAI_API_KEY",)
    assert OPENAI.owns_host("api.openai.com") and not OPENAI.owns_host("api.openai.com.evil.example")
    assert all(p in OPENAI.model_prefixes for p in ("gpt-", "o1", "o3", "o4"))


@pytest.mark.parametrize(
    ("host", "path", "claimed"),
    [
        ("api.openai.com", "/v1", True),
        ("dashscope-intl.aliyuncs.com", "/api/v2/apps/protocols/compatible-mode/v1", True),
        ("dashscope-intl.aliyuncs.com", "/compatible-mode/v1", False),  # chat completions too
        ("localhost", "/v1", False),
        ("openrouter.ai", "/api/v1", False),
        ("evil.example", "/api/v2/apps/protocols/compatible-mode/v1", False),
    ],
)
def test_claims(host: str, path: str, claimed: bool) -> None:
    assert PROTOCOL.claims(host, path) is claimed


def test_headers_send_the_key_as_bearer() -> None:
    headers = PROTOCOL.headers("sk-test")
    assert headers["Authorization"] == "Bearer sk-test"
    assert headers["Accept"] == "text/event-stream"
    assert "Authorization" not in PROTOCOL.headers(None)


# --- OpenAI bodies -------------------------------------------------------------------------


def test_openai_reasoning_model_default_body() -> None:
    assert body() == {
        "model": "gpt-5",
        "input": [USER],
        "stream": True,
        "store": False,
        "reasoning": {"summary": "auto"},
        "include": ["reasoning.encrypted_content"],
    }


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_openai_effort_maps_to_reasoning_effort(effort: str) -> None:
    got = body(effort=effort)
    assert got["reasoning"] == {"effort": effort, "summary": "auto"}
    assert got["include"] == ["reasoning.encrypted_content"]


@pytest.mark.parametrize(
    ("model", "effort"),
    [
        ("gpt-5.1", "none"),
        ("gpt-5.2-codex", "none"),
        ("gpt-5", "minimal"),
        ("gpt-5-mini", "minimal"),
        ("openai/gpt-5-nano", "minimal"),
    ],
)
def test_openai_thinking_off_is_the_lowest_effort(model: str, effort: str) -> None:
    got = body(model, enable=False)
    assert got["reasoning"] == {"effort": effort}
    assert "include" not in got  # nothing to summarise or keep


@pytest.mark.parametrize("model", ["o3", "o4-mini", "o1"])
def test_openai_o_series_cannot_turn_reasoning_off(model: str) -> None:
    with pytest.raises(ConfigurationError, match="effort='low'"):
        body(model, enable=False)


def test_non_reasoning_model_gets_no_reasoning_fields_unless_asked() -> None:
    assert "reasoning" not in body("gpt-4.1")
    assert "reasoning" not in body("gpt-4.1", enable=False)
    assert body("gpt-4.1", enable=True)["reasoning"] == {"summary": "auto"}
    assert body("my-local-model", effort="high")["reasoning"] == {"effort": "high", "summary": "auto"}


def test_thinking_budget_has_no_openai_knob() -> None:
    with pytest.raises(ConfigurationError, match="effort"):
        body(budget=1024)


def test_thinking_off_with_an_effort_is_a_contradiction() -> None:
    with pytest.raises(ConfigurationError, match="contradict"):
        body(enable=False, effort="low")
    with pytest.raises(ConfigurationError, match="contradict"):
        body("qwen3-max", provider="bailian", enable=False, effort="low")


# --- Bailian bodies ------------------------------------------------------------------------


def test_bailian_body_uses_enable_thinking() -> None:
    assert body("qwen3-max", provider="bailian", enable=True) == {
        "model": "qwen3-max",
        "input": [USER],
        "stream": True,
        "enable_thinking": True,
    }
    assert body("qwen3-max", provider="bailian", enable=False)["enable_thinking"] is False
    assert "enable_thinking" not in body("qwen3-max", provider="bailian")


def test_bailian_effort_and_budget() -> None:
    assert body("qwen3-max", provider="bailian", effort="high")["reasoning"] == {"effort": "high"}
    with pytest.raises(ConfigurationError, match="protocol='openai'"):
        body("qwen3-max", provider="bailian", budget=500)


# --- history -------------------------------------------------------------------------------


def test_system_prompt_stays_a_message_in_input() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": "No tables."}, USER]
    got = body(messages=messages)
    assert got["input"] == messages
    assert "instructions" not in got


def test_images_become_input_image_parts() -> None:
    url = "data:image/png;base64,iVBORw0KGgo="
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": url}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}},
            ],
        }
    ]
    assert body(messages=messages)["input"][0]["content"] == [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": url, "detail": "auto"},
        {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "high"},
    ]


@pytest.mark.parametrize(
    "message",
    [
        {"role": "wizard", "content": "hi"},
        {"role": "user", "content": [{"type": "audio", "data": "..."}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {}}]},
        {"role": "user", "content": 42},
        {"role": "tool", "content": "42"},
        "not a dict",
    ],
)
def test_bad_history_is_a_configuration_error(message: Any) -> None:
    with pytest.raises(ConfigurationError):
        body(messages=[message])


def test_plain_assistant_turn_and_tools() -> None:
    messages = [
        USER,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "calc", "arguments": '{"a": 1}'}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "9.9"},
        {"role": "assistant", "content": "9.9 is larger.", "reasoning_content": "compare decimals"},
    ]
    assert body(messages=messages)["input"][1:] == [
        {"type": "function_call", "call_id": "call_1", "name": "calc", "arguments": '{"a": 1}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "9.9"},
        {"role": "assistant", "content": "9.9 is larger."},  # reasoning text alone cannot go back
    ]


# --- turn state round trip -----------------------------------------------------------------


def _turn1_history() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    result, _ = parse_fixture("openai_summary.sse")
    assistant = PROTOCOL.assistant_message(result)
    follow_up = {"role": "user", "content": "Why do people get this wrong?"}
    return [USER, assistant, follow_up], assistant


def test_turn_state_goes_back_byte_identical() -> None:
    history, assistant = _turn1_history()
    state = assistant[STATE_KEY]
    sent = body(messages=history)
    raw = (FIXTURES / "openai_summary.sse").read_text("utf-8")
    completed = json.loads(raw.rsplit("data: ", 1)[1])["response"]["output"]
    assert sent["input"][1:3] == completed == state["items"]
    # Byte for byte: the items serialise to what the server sent inside response.completed.
    wire = json.dumps(sent, ensure_ascii=False, separators=(",", ":"))
    for item in completed:
        assert json.dumps(item, ensure_ascii=False, separators=(",", ":")) in raw
        assert json.dumps(item, ensure_ascii=False, separators=(",", ":")) in wire
    assert sent["input"][3] == history[2]
    assert STATE_KEY not in wire and "thinkbook" not in wire


def test_turn_state_not_sent_when_preserve_is_off_or_the_answer_changed() -> None:
    history, assistant = _turn1_history()
    plain = {"role": "assistant", "content": assistant["content"]}
    assert body(messages=history, preserve=False)["input"][1] == plain
    edited = [USER, {**assistant, "content": "Edited answer."}, history[2]]
    assert body(messages=edited)["input"][1] == {"role": "assistant", "content": "Edited answer."}


def test_foreign_state_is_ignored() -> None:
    history, assistant = _turn1_history()
    history[1] = {**assistant, STATE_KEY: {"protocol": "anthropic", "blocks": [{"type": "thinking"}]}}
    assert body(messages=history)["input"][1] == {"role": "assistant", "content": assistant["content"]}


def test_bailian_state_goes_back_only_with_preserve() -> None:
    result, _ = parse_fixture("bailian_thinking.sse")
    history = [USER, PROTOCOL.assistant_message(result), {"role": "user", "content": "为什么?"}]
    assert body("qwen3-max", provider="bailian", messages=history)["input"][1] == {
        "role": "assistant",
        "content": result.answer,
    }
    replayed = body("qwen3-max", provider="bailian", messages=history, preserve=True)["input"]
    assert [item.get("id") for item in replayed[1:3]] == [item["id"] for item in result.reasoning_state["items"]]  # type: ignore[index]


def test_incomplete_reasoning_is_not_kept() -> None:
    _, parser = parse_fixture("openai_incomplete.sse")
    assert parser.turn_state() is None


# --- parser units --------------------------------------------------------------------------


def ev(obj: Any, event: str = "message") -> ServerSentEvent:
    return ServerSentEvent(obj if isinstance(obj, str) else json.dumps(obj), event)


def test_parser_ignores_blank_and_unknown_response_events() -> None:
    p = ResponsesParser()
    assert p.parse(ev("")) is None
    assert p.parse(ev({"type": "response.web_search_call.searching", "item_id": "ws_1"})) is None
    assert p.parse(ev({"type": "response.output_text.delta", "delta": ""})) is None


@pytest.mark.parametrize("data", ["<html>502</html>", "[1, 2]", '{"choices": [{"delta": {"content": "hi"}}]}'])
def test_parser_rejects_data_that_is_not_the_protocol(data: str) -> None:
    with pytest.raises(ResponseFormatError, match="Responses"):
        ResponsesParser().parse(ev(data))


def test_error_event_with_text_data_and_nested_error() -> None:
    chunk = ResponsesParser().parse(ev("upstream died", "error"))
    assert chunk is not None and chunk.error == {"message": "upstream died"}
    nested = ResponsesParser().parse(
        ev({"type": "error", "error": {"type": "server_error", "code": "server_error", "message": "x"}})
    )
    assert nested is not None and nested.error_status == 500


def test_failed_without_an_error_object_still_fails() -> None:
    chunk = ResponsesParser().parse(ev({"type": "response.failed", "response": {"status": "failed", "error": None}}))
    assert chunk is not None and chunk.error is not None and chunk.error["code"] == "response_failed"


def test_items_sent_whole_still_show_their_text() -> None:
    p = ResponsesParser()
    rs = {
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "id": "rs_1",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "A"}, {"type": "summary_text", "text": "B"}],
        },
    }
    msg = {
        "type": "response.output_item.done",
        "output_index": 1,
        "item": {"id": "msg_1", "type": "message", "content": [{"type": "output_text", "text": "ok"}]},
    }
    first, second = p.parse(ev(rs)), p.parse(ev(msg))
    assert first is not None and first.reasoning == "A\n\nB"
    assert second is not None and second.content == "ok"
    assert p.turn_state() == {"protocol": "responses", "items": [rs["item"], msg["item"]]}


def test_streamed_items_are_not_repeated_by_their_done_event() -> None:
    p = ResponsesParser()
    p.parse(ev({"type": "response.output_text.delta", "item_id": "msg_1", "delta": "ok"}))
    done = {
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {"id": "msg_1", "type": "message", "content": [{"type": "output_text", "text": "ok"}]},
    }
    assert p.parse(ev(done)) is None


def test_refusal_is_the_answer() -> None:
    chunk = ResponsesParser().parse(ev({"type": "response.refusal.delta", "delta": "I can't help with that."}))
    assert chunk is not None and chunk.content == "I can't help with that."


def test_done_marker_from_a_gateway_is_tolerated() -> None:
    chunk = ResponsesParser().parse(ev("[DONE]"))
    assert chunk is not None and chunk.done
