"""Tests for DashScopeChunkParser: native message shape, "null" finish, parts, usage, errors, fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from thinkbook._errors import ResponseFormatError, error_for_status
from thinkbook._protocols.dashscope import DashScopeChunkParser
from thinkbook._sse import ServerSentEvent, SSEDecoder
from thinkbook._wire import WireChunk

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
RID = "25d58c29-c47b-9e8d-a0f1-d6c309ec58b1"


def parse(payload: Any, event: str = "result") -> WireChunk | None:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return DashScopeChunkParser().parse(ServerSentEvent(data, event=event))


def chunk(payload: Any, event: str = "result") -> WireChunk:
    result = parse(payload, event)
    assert result is not None
    return result


def native(
    content: Any = "", reasoning: Any = "", finish: Any = "null", usage: Any = None, **top: Any
) -> dict[str, Any]:
    message = {"content": content, "reasoning_content": reasoning, "role": "assistant"}
    body: dict[str, Any] = {"output": {"choices": [{"message": message, "finish_reason": finish}]}}
    if usage is not None:
        body["usage"] = usage
    return {**body, "request_id": RID, **top}


# --- text and finish ------------------------------------------------------------------------


def test_seed_first_event() -> None:
    data = (
        '{"output":{"choices":[{"message":{"content":"","reasoning_content":"嗯","role":"assistant"},'
        '"finish_reason":"null"}]},"usage":{"total_tokens":14,"input_tokens":11,"output_tokens":3},'
        '"request_id":"25d58c29-c47b-9e8d-a0f1-d6c309ec58b1"}'
    )
    c = chunk(data)
    assert (c.reasoning, c.content, c.finish_reason, c.request_id, c.model) == ("嗯", "", None, RID, None)
    assert c.usage is not None
    assert (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.total_tokens) == (11, 3, 14)
    assert c.usage.reasoning_tokens is None
    assert (c.error, c.done) == (None, False)


def test_answer_event() -> None:
    c = chunk(native(content="帮助"))
    assert (c.reasoning, c.content) == ("", "帮助")


def test_string_null_finish_reason_is_none_and_stop_is_kept() -> None:
    assert chunk(native(content="a", finish="null")).finish_reason is None
    assert chunk(native(finish="stop")).finish_reason == "stop"
    assert chunk(native(finish="length")).finish_reason == "length"


@pytest.mark.parametrize("finish", [None, "", 0, ["stop"]])
def test_odd_finish_reasons_are_none(finish: Any) -> None:
    assert chunk(native(content="a", finish=finish)).finish_reason is None


def test_content_as_text_parts_is_joined() -> None:
    parts = [{"text": "9.9"}, {"image": "http://x/y.png"}, {"text": "更大"}, {"text": None}, "junk", {"text": 3}]
    assert chunk(native(content=parts)).content == "9.9更大"


def test_empty_parts_list_is_no_content() -> None:
    c = chunk(native(content=[], reasoning="想"))
    assert (c.reasoning, c.content) == ("想", "")


def test_reasoning_as_text_parts_is_joined_too() -> None:
    assert chunk(native(reasoning=[{"text": "a"}, {"text": "b"}])).reasoning == "ab"


@pytest.mark.parametrize("value", [None, 5, {"text": "x"}, True])
def test_non_string_text_is_absent(value: Any) -> None:
    c = chunk(native(content=value, reasoning=value))
    assert (c.reasoning, c.content, c.request_id) == ("", "", RID)


def test_result_format_text_output() -> None:
    c = chunk({"output": {"text": "你好", "finish_reason": "null"}, "request_id": RID})
    assert (c.content, c.finish_reason) == ("你好", None)
    last = chunk({"output": {"text": "", "finish_reason": "stop"}, "request_id": RID})
    assert (last.content, last.finish_reason) == ("", "stop")


@pytest.mark.parametrize(
    "output",
    [{"choices": "x"}, {"choices": [None]}, {"choices": [{"message": "x"}]}, {"choices": [{}]}, {"text": 5}],
)
def test_odd_shapes_do_not_crash(output: dict[str, Any]) -> None:
    c = chunk({"output": output, "request_id": RID})
    assert (c.reasoning, c.content, c.finish_reason, c.request_id) == ("", "", None, RID)


def test_event_carrying_nothing_is_none() -> None:
    assert parse({"output": {"choices": [{"message": {"content": ""}, "finish_reason": "null"}]}}) is None
    assert parse({}) is None
    assert parse("") is None


# --- usage -----------------------------------------------------------------------------------


def test_cumulative_usage_comes_with_every_event() -> None:
    parser = DashScopeChunkParser()
    totals = []
    for output in (3, 4, 5):
        body = native(reasoning="x", usage={"total_tokens": 11 + output, "input_tokens": 11, "output_tokens": output})
        c = parser.parse(ServerSentEvent(json.dumps(body)))
        assert c is not None and c.usage is not None
        totals.append((c.usage.completion_tokens, c.usage.total_tokens))
    assert totals == [(3, 14), (4, 15), (5, 16)]


def test_usage_with_reasoning_breakdown() -> None:
    usage = {
        "total_tokens": 149,
        "output_tokens": 138,
        "input_tokens": 11,
        "output_tokens_details": {"reasoning_tokens": 50},
    }
    c = chunk(native(finish="stop", usage=usage))
    assert c.usage is not None
    assert (c.usage.reasoning_tokens, c.usage.answer_tokens, c.usage.raw) == (50, 88, usage)


@pytest.mark.parametrize("usage", ["x", 5, [], {}])
def test_odd_usage_is_ignored(usage: Any) -> None:
    assert chunk(native(content="a", usage=usage)).usage is None


# --- errors and oddities -----------------------------------------------------------------------

ERROR_BODY = {
    "request_id": "a4b1c7e2",
    "code": "DataInspectionFailed",
    "message": "Output data may contain inappropriate content.",
}


def test_error_event() -> None:
    c = chunk(ERROR_BODY, event="error")
    assert (c.error, c.error_status, c.request_id) == (ERROR_BODY, None, "a4b1c7e2")
    assert (c.reasoning, c.content, c.usage) == ("", "", None)
    assert type(error_for_status(c.error_status, c.error)).__name__ == "BadRequestError"


def test_code_without_output_is_an_error_even_as_a_result_event() -> None:
    c = chunk(ERROR_BODY)
    assert (c.error, c.error_status) == (ERROR_BODY, None)


def test_empty_code_with_output_is_not_an_error() -> None:
    c = chunk(native(content="a", code="", message=""))
    assert (c.error, c.content) == (None, "a")


def test_error_event_with_text_data() -> None:
    c = chunk("upstream failure", event="error")
    assert (c.error, c.request_id) == ({"message": "upstream failure"}, None)


def test_error_event_without_data_still_reports_an_error() -> None:
    error = chunk("", event="error").error
    assert error is not None and error["message"]


def test_done_marker_is_honoured_though_the_protocol_has_none() -> None:
    assert chunk("[DONE]") == WireChunk(done=True)


def test_non_json_data_raises_a_clear_error() -> None:
    with pytest.raises(ResponseFormatError) as info:
        parse("Internal Server Error: sk-abcdefghijklmnop")
    message = str(info.value)
    assert "DashScope JSON object" in message and "Internal Server Error" in message
    assert "abcdefghijklmnop" not in message


@pytest.mark.parametrize("data", ["[1]", '"x"', "7"])
def test_json_that_is_not_an_object_raises(data: str) -> None:
    with pytest.raises(ResponseFormatError, match="JSON object"):
        parse(data)


# --- recorded fixtures ---------------------------------------------------------------------

NATIVE_STREAMS = sorted(n for n, e in EXPECTED.items() if e["protocol"] == "dashscope" and n.endswith(".sse"))


def replay(name: str, size: int | None) -> tuple[list[WireChunk], int]:
    body = (FIXTURES / name).read_bytes()
    decoder, parser = SSEDecoder(), DashScopeChunkParser()
    step = size or len(body)
    events = [e for i in range(0, len(body), step) for e in decoder.decode(body[i : i + step])]
    assert decoder.flush() is None  # every fixture closes its last event with a blank line
    chunks = [c for c in (parser.parse(e) for e in events) if c is not None]
    return chunks, len(events)


@pytest.mark.parametrize("size", [None, 1, 100])
@pytest.mark.parametrize("name", NATIVE_STREAMS)
def test_native_fixture_replays_to_the_expected_result(name: str, size: int | None) -> None:
    expected = EXPECTED[name]
    chunks, n_events = replay(name, size)
    assert n_events == expected["events"]
    assert "".join(c.reasoning for c in chunks) == expected["reasoning"]
    assert "".join(c.content for c in chunks) == expected["answer"]
    usages = [c.usage for c in chunks if c.usage is not None]
    last = None if not usages else {k: v for k, v in usages[-1].to_dict().items() if k != "raw"}
    assert last == expected["usage"]
    # Cumulative usage never goes backwards.
    assert [u.completion_tokens or 0 for u in usages] == sorted(u.completion_tokens or 0 for u in usages)
    finishes = [c.finish_reason for c in chunks if c.finish_reason]
    assert finishes == ([expected["finish_reason"]] if expected["finish_reason"] else [])
    assert next((c.request_id for c in chunks if c.request_id), None) == expected["request_id"]
    assert all(c.model is None and not c.done for c in chunks)
    errors = [c for c in chunks if c.error is not None]
    if expected["error"] is None:
        assert errors == []
    else:
        (err,) = errors
        assert chunks[-1] is err and err.error is not None
        assert (err.error["code"], err.error["message"]) == (expected["error"]["code"], expected["error"]["message"])
        assert err.error_status == expected["error"]["status"]
        assert type(error_for_status(err.error_status, err.error)).__name__ == expected["error"]["class"]


def test_native_error_body_fixture() -> None:
    expected = EXPECTED["native_error_before.json"]
    body = json.loads((FIXTURES / "native_error_before.json").read_bytes())
    err = error_for_status(expected["http_status"], body)
    assert type(err).__name__ == expected["error"]["class"]
    assert (err.code, err.request_id) == (expected["error"]["code"], expected["request_id"])
    # The same body arriving as a stream event is recognised as an error by the parser too.
    c = chunk(body)
    assert (c.error, c.request_id) == (body, expected["request_id"])
