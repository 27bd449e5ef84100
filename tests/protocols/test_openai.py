"""Tests for OpenAIChunkParser: field priority, dedup, nulls, usage, errors, and the recorded fixtures."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from thinkbook._errors import ResponseFormatError, error_for_status
from thinkbook._protocols.openai import OpenAIChunkParser, error_status
from thinkbook._sse import ServerSentEvent, SSEDecoder
from thinkbook._wire import WireChunk

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))


def parse(payload: Any, event: str = "message") -> WireChunk | None:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return OpenAIChunkParser().parse(ServerSentEvent(data, event=event))


def chunk(payload: Any, event: str = "message") -> WireChunk:
    result = parse(payload, event)
    assert result is not None
    return result


def delta(**fields: Any) -> dict[str, Any]:
    return {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


# --- [DONE], blank and malformed data --------------------------------------------------------


@pytest.mark.parametrize("data", ["[DONE]", " [DONE]", "[DONE]\n", "\t[DONE] "])
def test_done_marker(data: str) -> None:
    assert chunk(data) == WireChunk(done=True)


@pytest.mark.parametrize("data", ["", " ", "\n"])
def test_blank_data_is_nothing(data: str) -> None:
    assert parse(data) is None


def test_non_json_data_raises_a_clear_error() -> None:
    with pytest.raises(ResponseFormatError) as info:
        parse("<html><body>502 Bad Gateway</body></html>")
    message = str(info.value)
    assert "OpenAI-compatible JSON chunk" in message
    assert "<html><body>502 Bad Gateway</body></html>" in message
    assert "base_url" in message


def test_non_json_snippet_is_cut_to_about_120_characters() -> None:
    data = "x" * 119 + "END" + "y" * 5000
    with pytest.raises(ResponseFormatError) as info:
        parse(data)
    message = str(info.value)
    assert "x" * 119 + "E" in message
    assert "END" not in message and "yyy" not in message
    assert "…" in message
    assert len(message) < 400


def test_non_json_snippet_never_shows_a_key() -> None:
    # The key straddles the 120-character cut: redacting after cutting would leak its head.
    data = "a" * 110 + "sk-0123456789abcdefABCDEF" + " trailing"
    with pytest.raises(ResponseFormatError) as info:
        parse(data)
    assert "sk-0123456789" not in str(info.value)
    assert "0123456789" not in str(info.value)


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_raises(data: str) -> None:
    with pytest.raises(ResponseFormatError, match="JSON object"):
        parse(data)


# --- where the reasoning is -------------------------------------------------------------------


def test_reasoning_content() -> None:
    c = chunk(delta(content=None, reasoning_content="嗯"))
    assert (c.reasoning, c.content) == ("嗯", "")


def test_reasoning_field() -> None:
    assert chunk(delta(reasoning="Okay")).reasoning == "Okay"


def test_reasoning_details_text_and_summary_but_not_encrypted() -> None:
    details = [
        {"type": "reasoning.text", "text": "a", "index": 0},
        {"type": "reasoning.summary", "summary": "b", "index": 0},
        {"type": "reasoning.encrypted", "data": "SECRET", "index": 1},
        {"type": "reasoning.encrypted", "text": "NOT-THIS-EITHER"},
        {"type": "reasoning.text", "signature": "sig", "index": 0},
        {"type": "reasoning.summary", "text": "wrong-key"},
        "junk",
        {"type": "reasoning.text", "text": None},
        {"type": "reasoning.text", "text": 7},
    ]
    assert chunk(delta(reasoning=None, reasoning_details=details)).reasoning == "ab"


@pytest.mark.parametrize(
    "fields",
    [
        {"reasoning": "same", "reasoning_content": "same"},  # vLLM rename window
        {"reasoning": "same", "reasoning_details": [{"type": "reasoning.text", "text": "same"}]},  # OpenRouter
        {
            "reasoning_content": "same",
            "reasoning": "same",
            "reasoning_details": [{"type": "reasoning.text", "text": "same"}],
        },
    ],
)
def test_text_sent_in_two_fields_is_taken_once(fields: dict[str, Any]) -> None:
    assert chunk(delta(**fields)).reasoning == "same"


def test_priority_reasoning_content_then_reasoning_then_details() -> None:
    details = [{"type": "reasoning.text", "text": "3"}]
    assert chunk(delta(reasoning_content="1", reasoning="2", reasoning_details=details)).reasoning == "1"
    assert chunk(delta(reasoning_content="", reasoning="2", reasoning_details=details)).reasoning == "2"
    assert chunk(delta(reasoning_content=None, reasoning=None, reasoning_details=details)).reasoning == "3"


@pytest.mark.parametrize("value", [None, "", 5, ["x"], {"text": "x"}, True])
def test_empty_or_non_string_reasoning_is_absent(value: Any) -> None:
    c = chunk(delta(reasoning_content=value, reasoning=value, content="a"))
    assert (c.reasoning, c.content) == ("", "a")


def test_non_string_reasoning_falls_through_to_the_next_source() -> None:
    assert chunk(delta(reasoning_content=5, reasoning="ok")).reasoning == "ok"


@pytest.mark.parametrize("value", [None, "", 5, [], [{"type": "image_url", "text": "x"}, 3, {"text": 4}], {"a": 1}])
def test_empty_or_non_string_content_is_absent(value: Any) -> None:
    assert chunk(delta(content=value, reasoning_content="r")).content == ""


def test_content_sent_as_a_list_of_text_parts_is_joined() -> None:
    parts = [
        {"type": "text", "text": "Hello, "},
        {"type": "image_url", "image_url": {}},
        {"type": "text", "text": "world"},
    ]
    assert chunk(delta(content=parts)).content == "Hello, world"
    message = {"choices": [{"message": {"content": [{"type": "text", "text": "whole"}]}, "finish_reason": "stop"}]}
    assert chunk(message).content == "whole"


def test_content_and_reasoning_in_one_chunk_are_both_kept() -> None:
    c = chunk(delta(reasoning_content="end of thought", content="Answer"))
    assert (c.reasoning, c.content) == ("end of thought", "Answer")


def test_content_keeps_inline_think_tags_for_the_next_layer() -> None:
    assert chunk(delta(content="<think>\nhm")).content == "<think>\nhm"


def test_only_the_first_choice_is_read() -> None:
    payload = {"choices": [{"delta": {"content": "first"}}, {"delta": {"content": "second"}}]}
    assert chunk(payload).content == "first"


def test_message_instead_of_delta_is_accepted() -> None:
    payload = {"choices": [{"message": {"reasoning_content": "r", "content": "a"}, "finish_reason": "stop"}]}
    c = chunk(payload)
    assert (c.reasoning, c.content, c.finish_reason) == ("r", "a", "stop")


@pytest.mark.parametrize(
    "payload",
    [
        {"choices": "nope", "id": "x"},
        {"choices": [None], "id": "x"},
        {"choices": ["str"], "id": "x"},
        {"choices": [{"delta": "str"}], "id": "x"},
        {"choices": [{"delta": None, "finish_reason": 3}], "id": "x"},
        {"choices": {}, "id": "x"},
    ],
)
def test_odd_shapes_do_not_crash(payload: dict[str, Any]) -> None:
    c = chunk(payload)
    assert (c.reasoning, c.content, c.finish_reason, c.request_id) == ("", "", None, "x")


# --- metadata, finish, usage -----------------------------------------------------------------


def test_finish_reason_model_and_id() -> None:
    payload = {
        "id": "chatcmpl-1",
        "model": "qwen-plus",
        "choices": [{"delta": {"content": ""}, "finish_reason": "length"}],
    }
    c = chunk(payload)
    assert (c.finish_reason, c.model, c.request_id) == ("length", "qwen-plus", "chatcmpl-1")


@pytest.mark.parametrize("value", [None, "", 0, ["stop"]])
def test_odd_finish_reasons_are_none(value: Any) -> None:
    assert chunk({"id": "x", "choices": [{"delta": {}, "finish_reason": value}]}).finish_reason is None


def test_role_only_first_chunk_still_reports_model_and_id() -> None:
    c = chunk(delta(role="assistant", content=None, reasoning_content=""))
    assert (c.model, c.request_id, c.reasoning, c.content, c.usage) == ("m", "c1", "", "", None)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [], "usage": None},
        {"choices": [], "usage": {}},
        {"model": "", "id": None},
    ],
)
def test_chunks_that_carry_nothing_are_none(payload: dict[str, Any]) -> None:
    assert parse(payload) is None


def test_usage_chunk_with_empty_choices() -> None:
    payload = {
        "choices": [],
        "object": "chat.completion.chunk",
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 221,
            "total_tokens": 231,
            "completion_tokens_details": {"reasoning_tokens": 172},
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        "model": "qwen-plus",
        "id": "chatcmpl-1",
    }
    c = chunk(payload)
    assert c.usage is not None
    assert (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens) == (10, 221, 231)
    assert (c.usage.reasoning_tokens, c.usage.cached_tokens) == (172, 0)
    assert c.usage.raw == payload["usage"]


def test_usage_on_the_finishing_chunk_is_kept_with_it() -> None:  # DeepSeek
    payload = {
        "id": "d",
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 84, "completion_tokens": 47, "prompt_cache_hit_tokens": 64},
    }
    c = chunk(payload)
    assert c.finish_reason == "stop"
    assert c.usage is not None and (c.usage.total_tokens, c.usage.cached_tokens) == (131, 64)


@pytest.mark.parametrize("usage", [None, "10", 10, [1, 2]])
def test_usage_that_is_not_an_object_is_ignored(usage: Any) -> None:
    assert chunk({**delta(content="a"), "usage": usage}).usage is None


# --- errors ----------------------------------------------------------------------------------


def test_vllm_error_event() -> None:
    error = {"object": "error", "message": "boom", "type": "BadRequestError", "param": None, "code": 400}
    c = chunk(json.dumps({"error": error}))
    assert (c.error, c.error_status) == (error, 400)
    assert (c.reasoning, c.content, c.done) == ("", "", False)


def test_openrouter_error_chunk_keeps_its_text_and_finish_reason() -> None:
    payload = {
        "id": "gen-1",
        "model": "deepseek/deepseek-r1",
        "error": {"code": 502, "message": "Provider returned error"},
        "choices": [{"delta": {"content": "tail", "reasoning": "last thought"}, "finish_reason": "error"}],
    }
    c = chunk(payload)
    assert c.error == {"code": 502, "message": "Provider returned error"}
    assert c.error_status == 502
    assert (c.content, c.reasoning, c.finish_reason, c.request_id) == ("tail", "last thought", "error", "gen-1")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (400, 400),
        (502, 502),
        (599, 599),
        ("429", 429),
        ("invalid_api_key", None),
        (200, None),
        (600, None),
        (399, None),
        (None, None),
        (True, None),
        (429.0, None),
        ("4２9", None),
        ("²", None),
    ],
)
def test_error_status_from_code(code: Any, status: int | None) -> None:
    assert error_status(code) == status
    assert chunk({"error": {"code": code, "message": "m"}}).error_status == status


def test_error_as_a_plain_string() -> None:
    c = chunk({"error": "upstream timed out"})
    assert (c.error, c.error_status) == ({"message": "upstream timed out"}, None)


def test_null_error_is_not_an_error() -> None:
    c = chunk({**delta(content="a"), "error": None})
    assert (c.error, c.content) == (None, "a")


def test_error_event_type_with_a_bare_error_object() -> None:
    c = chunk({"message": "overloaded", "code": 503}, event="error")
    assert (c.error, c.error_status) == ({"message": "overloaded", "code": 503}, 503)


def test_error_event_type_with_text_data() -> None:
    c = chunk("Internal Server Error", event="error")
    assert (c.error, c.error_status) == ({"message": "Internal Server Error"}, None)


def test_error_fields_feed_error_for_status() -> None:
    c = chunk({"error": {"code": 502, "message": "Provider returned error"}})
    err = error_for_status(c.error_status, c.error)
    assert type(err).__name__ == "InternalServerError"


def test_wirechunk_field_order() -> None:
    # Both parsers build WireChunk positionally (it is the hot path): pin the order they assume.
    names = [f.name for f in dataclasses.fields(WireChunk)]
    assert names[:8] == [
        "reasoning",
        "content",
        "usage",
        "finish_reason",
        "model",
        "request_id",
        "error",
        "error_status",
    ]


# --- recorded fixtures ---------------------------------------------------------------------


def replay(name: str, size: int | None) -> tuple[list[WireChunk], int]:
    """Decode a fixture fed in ``size``-byte pieces; return the chunks and the SSE event count."""
    body = (FIXTURES / name).read_bytes()
    decoder, parser = SSEDecoder(), OpenAIChunkParser()
    step = size or len(body)
    events = [e for i in range(0, len(body), step) for e in decoder.decode(body[i : i + step])]
    assert decoder.flush() is None  # every fixture closes its last event with a blank line
    chunks: list[WireChunk] = []
    for event in events:
        parsed = parser.parse(event)
        if parsed is not None:
            chunks.append(parsed)
    return chunks, len(events)


def summarize(chunks: list[WireChunk]) -> dict[str, Any]:
    usage = [c.usage for c in chunks if c.usage is not None]
    finish = [c.finish_reason for c in chunks if c.finish_reason]
    errors = [c for c in chunks if c.error is not None]
    return {
        "reasoning": "".join(c.reasoning for c in chunks),
        "content": "".join(c.content for c in chunks),
        "usage": None if not usage else {k: v for k, v in usage[-1].to_dict().items() if k != "raw"},
        "finish_reason": finish[-1] if finish else None,
        "model": next((c.model for c in chunks if c.model), None),
        "request_id": next((c.request_id for c in chunks if c.request_id), None),
        "done": any(c.done for c in chunks),
        "error": errors[0] if errors else None,
    }


OPENAI_STREAMS = sorted(n for n, e in EXPECTED.items() if e["protocol"] == "openai" and n.endswith(".sse"))


def test_every_fixture_file_has_an_expectation_and_vice_versa() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in (".sse", ".json")} - {"expected.json"}
    assert on_disk == set(EXPECTED)


def test_fixtures_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python tests/fixtures/make_fixtures.py"


@pytest.mark.parametrize("size", [None, 1, 97])
@pytest.mark.parametrize("name", OPENAI_STREAMS)
def test_openai_fixture_replays_to_the_expected_result(name: str, size: int | None) -> None:
    expected = EXPECTED[name]
    chunks, n_events = replay(name, size)
    got = summarize(chunks)
    assert n_events == expected["events"]
    assert got["done"] == expected["done_marker"]
    if expected["inline_tags"]:
        assert (got["reasoning"], got["content"]) == ("", expected["wire_content"])
    else:
        assert (got["reasoning"], got["content"]) == (expected["reasoning"], expected["answer"])
    assert got["usage"] == expected["usage"]
    assert got["finish_reason"] == expected["finish_reason"]
    assert (got["model"], got["request_id"]) == (expected["model"], expected["request_id"])
    assert (not got["done"] and got["finish_reason"] is None) == expected["interrupted"]
    if expected["error"] is None:
        assert got["error"] is None
    else:
        err = got["error"]
        assert err.error["code"] == expected["error"]["code"]
        assert err.error["message"] == expected["error"]["message"]
        assert err.error_status == expected["error"]["status"]
        assert type(error_for_status(err.error_status, err.error)).__name__ == expected["error"]["class"]


@pytest.mark.parametrize("name", [n for n in OPENAI_STREAMS if EXPECTED[n]["inline_tags"]])
def test_inline_tag_fixture_splits_as_expected(name: str) -> None:
    splitter_module = pytest.importorskip("thinkbook._think_tags")
    from thinkbook._types import AnswerDelta, AnswerWasReasoning, ReasoningDelta

    splitter = splitter_module.ThinkTagSplitter()
    reasoning, answer = "", ""
    chunks, _ = replay(name, None)
    for event in [e for c in chunks for e in splitter.feed(c.content)] + splitter.flush():
        if isinstance(event, ReasoningDelta):
            reasoning += event.text
        elif isinstance(event, AnswerDelta):
            answer += event.text
        elif isinstance(event, AnswerWasReasoning):
            reasoning, answer = reasoning + answer, ""
    assert (reasoning, answer) == (EXPECTED[name]["reasoning"], EXPECTED[name]["answer"])


def test_openai_error_body_fixture() -> None:
    expected = EXPECTED["openai_error_401.json"]
    body = json.loads((FIXTURES / "openai_error_401.json").read_bytes())
    err = error_for_status(expected["http_status"], body)
    assert type(err).__name__ == expected["error"]["class"]
    assert (err.code, err.request_id) == (expected["error"]["code"], expected["request_id"])
