"""The Gemini stream parser on its recorded-wire fixtures (tests/fixtures/gemini) and on units.

Every fixture is decoded whole, in fragments of 1, 97 and 100000 bytes and split at every byte
boundary: text, usage, finish reason, ids, hidden-reasoning flag, error and turn state must come
out identical each way.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from thinkbook import ResponseFormatError
from thinkbook._errors import error_for_status
from thinkbook._protocols.gemini import PROTOCOL, GeminiChunkParser
from thinkbook._sse import ServerSentEvent, SSEDecoder
from thinkbook._wire import WireChunk

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gemini"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
STREAMS = sorted(name for name in EXPECTED if name.endswith(".sse"))
BODIES = sorted(name for name in EXPECTED if name.endswith(".json"))


def run(pieces: list[bytes]) -> dict[str, Any]:
    """Decode ``pieces`` as one stream and parse it as the pipeline would (stop at an error)."""
    decoder, parser = SSEDecoder(), GeminiChunkParser()
    chunks: list[WireChunk] = []
    events = 0
    for piece in pieces:
        for event in decoder.decode(piece):
            events += bool(event.data)
            chunk = parser.parse(event)
            if chunk is not None:
                chunks.append(chunk)
    decoder.flush()  # a cut event is left undispatched: its data is incomplete
    return summarize(chunks, parser, events)


def summarize(chunks: list[WireChunk], parser: GeminiChunkParser, events: int) -> dict[str, Any]:
    usages = [c.usage for c in chunks if c.usage is not None]
    finishes = [c.finish_reason for c in chunks if c.finish_reason]
    errors = [c for c in chunks if c.error is not None]
    return {
        "reasoning": "".join(c.reasoning for c in chunks),
        "answer": "".join(c.content for c in chunks),
        "usage": None if not usages else {k: v for k, v in usages[-1].to_dict().items() if k != "raw"},
        "finish_reason": finishes[-1] if finishes else None,
        "model": next((c.model for c in chunks if c.model), None),
        "request_id": next((c.request_id for c in chunks if c.request_id), None),
        "reasoning_hidden": any(c.reasoning_hidden for c in chunks),
        "error": errors[0] if errors else None,
        "state": parser.turn_state(),
        "events": events,
    }


def fragments(raw: bytes, size: int) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def test_fixtures_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("gemini_make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs: its dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert module.main(["--check"]) == 0, "run: python tests/fixtures/gemini/make_fixtures.py"


def test_every_fixture_file_has_an_expectation_and_vice_versa() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in (".sse", ".json")} - {"expected.json"}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", STREAMS)
def test_fixture_replays_to_the_expected_result(name: str) -> None:
    expected = EXPECTED[name]
    got = run([(FIXTURES / name).read_bytes()])
    assert (got["reasoning"], got["answer"]) == (expected["reasoning"], expected["answer"])
    assert got["usage"] == expected["usage"]
    assert got["finish_reason"] == expected["finish_reason"]
    assert (got["model"], got["request_id"]) == (expected["model"], expected["request_id"])
    assert got["reasoning_hidden"] == expected["reasoning_hidden"]
    assert got["state"] == expected["state"]
    assert got["events"] == expected["events"]
    assert (got["finish_reason"] is None) == expected["interrupted"]
    if expected["error"] is None:
        assert got["error"] is None
    else:
        chunk = got["error"]
        assert chunk.error_status == expected["error"]["status"]
        code, message, _ = PROTOCOL.error_fields(chunk.error)
        assert code == expected["error"]["code"]
        assert type(build_error(chunk.error_status, chunk.error)).__name__ == expected["error"]["class"]
        if "message" in expected["error"]:
            assert message == expected["error"]["message"]


def _accepts_fields() -> bool:
    import inspect

    return "fields" in inspect.signature(error_for_status).parameters


def build_error(status: int | None, body: Any, secrets: tuple[str, ...] = ()) -> Exception:
    """``error_for_status`` reading the body with the protocol's ``error_fields`` once it can."""
    if _accepts_fields():
        return error_for_status(status, body, secrets=secrets, fields=PROTOCOL.error_fields)  # type: ignore[call-arg]
    return error_for_status(status, body, secrets=secrets)


@pytest.mark.parametrize("name", BODIES)
def test_error_body_before_the_stream(name: str) -> None:
    expected = EXPECTED[name]
    body = json.loads((FIXTURES / name).read_bytes())
    code, message, request_id = PROTOCOL.error_fields(body)
    assert (code, message, request_id) == (expected["error"]["code"], expected["error"]["message"], None)
    key = expected["key"]
    err = build_error(expected["http_status"], body, secrets=(key,) if key else ())
    # API_KEY_INVALID (a 400 that is about the key) needs the protocol's own error_fields.
    if _accepts_fields() or code != "API_KEY_INVALID":
        assert type(err).__name__ == expected["error"]["class"]
    if key:
        assert key not in repr(err.body) and key not in str(err)  # type: ignore[attr-defined]


def test_error_fields_of_a_list_wrapped_body_and_of_the_bare_status() -> None:
    status = {"code": 403, "message": "no", "status": "PERMISSION_DENIED"}
    assert PROTOCOL.error_fields([{"error": status}]) == ("PERMISSION_DENIED", "no", None)
    assert PROTOCOL.error_fields(status) == ("PERMISSION_DENIED", "no", None)
    assert PROTOCOL.error_fields({"error": {"code": 500}}) == ("500", None, None)
    assert PROTOCOL.error_fields("Bad Gateway") == (None, None, None)
    assert PROTOCOL.error_fields([]) == (None, None, None)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "INVALID_ARGUMENT", "BadRequestError"),
        (400, "FAILED_PRECONDITION", "BadRequestError"),
        (401, "UNAUTHENTICATED", "AuthenticationError"),
        (403, "PERMISSION_DENIED", "PermissionDeniedError"),
        (404, "NOT_FOUND", "NotFoundError"),
        (429, "RESOURCE_EXHAUSTED", "RateLimitError"),
        (500, "INTERNAL", "InternalServerError"),
        (503, "UNAVAILABLE", "InternalServerError"),
        (504, "DEADLINE_EXCEEDED", "InternalServerError"),
    ],
)
def test_rpc_statuses_pick_the_class_with_or_without_the_http_status(status: int, code: str, cls: str) -> None:
    body = {"error": {"code": status, "message": "m", "status": code}}
    assert type(build_error(status, body)).__name__ == cls
    if _accepts_fields():  # in-stream, where only the body tells
        assert type(build_error(None, body)).__name__ == cls


@pytest.mark.parametrize("size", [1, 97, 100000])
@pytest.mark.parametrize("name", STREAMS)
def test_fragment_sizes_give_the_same_result(name: str, size: int) -> None:
    raw = (FIXTURES / name).read_bytes()
    assert run(fragments(raw, size)) == run([raw])


@pytest.mark.parametrize("name", STREAMS)
def test_every_byte_boundary_gives_the_same_result(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    whole = run([raw])
    for cut in range(len(raw) + 1):
        assert run([raw[:cut], raw[cut:]]) == whole, f"split at byte {cut}"


def test_fixtures_split_multibyte_characters() -> None:
    """The boundary test above covers cuts inside UTF-8 sequences: make sure some fixture has them."""
    raw = (FIXTURES / "flash25_thinking.sse").read_bytes()
    inside = [i for i in range(1, len(raw)) if 0x80 <= raw[i] < 0xC0]  # continuation bytes
    assert inside, "the fixture has no multi-byte characters"
    assert "🙂" in EXPECTED["flash25_thinking.sse"]["answer"]
    cut = next(i for i in inside if raw[i - 1] >= 0xF0)  # inside the 4-byte emoji
    assert run([raw[:cut], raw[cut:]]) == run([raw])


def test_signature_state_round_trips_through_json() -> None:
    state = run([(FIXTURES / "gemini3_signature_turn1.sse").read_bytes()])["state"]
    assert json.loads(json.dumps(state)) == state
    assert state["parts"][-1] == {
        "text": "",
        "thoughtSignature": EXPECTED["gemini3_signature_turn1.sse"]["state"]["parts"][-1]["thoughtSignature"],
    }


# --- units ---------------------------------------------------------------------------------


def parse(payload: Any, parser: GeminiChunkParser | None = None) -> WireChunk | None:
    return (parser or GeminiChunkParser()).parse(
        ServerSentEvent(payload if isinstance(payload, str) else json.dumps(payload))
    )


def candidate(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    return {"candidates": [cand]}


@pytest.mark.parametrize("data", ["", "   ", "{}"])
def test_empty_data_is_nothing(data: str) -> None:
    assert parse(data) is None


@pytest.mark.parametrize("data", ["<html>502 Bad Gateway</html>", "[DONE]", "[1, 2]", '"text"'])
def test_data_that_is_not_a_json_object_raises(data: str) -> None:
    with pytest.raises(ResponseFormatError, match="Gemini GenerateContentResponse"):
        parse(data)


def test_another_protocols_chunk_raises() -> None:
    with pytest.raises(ResponseFormatError, match="base_url"):
        parse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "hi"}}]})


def test_thought_parts_are_reasoning_and_others_answer() -> None:
    chunk = parse(candidate({"text": "think ", "thought": True}, {"text": "say"}))
    assert chunk is not None and (chunk.reasoning, chunk.content) == ("think ", "say")


@pytest.mark.parametrize("thought", [False, "true", 1, None])
def test_only_thought_true_marks_reasoning(thought: Any) -> None:
    chunk = parse(candidate({"text": "x", "thought": thought}))
    assert chunk is not None and (chunk.reasoning, chunk.content) == ("", "x")


@pytest.mark.parametrize(
    "payload",
    [
        {"candidates": []},
        {"candidates": "x"},
        {"candidates": [None]},
        {"candidates": [{"content": None}]},
        {"candidates": [{"content": {"parts": "x"}}]},
        {"candidates": [{"content": {"parts": [None, 3, {"text": 5}, {"inlineData": {}}]}}]},
        {"candidates": [{"finishReason": 7}]},
        {"usageMetadata": "x"},
    ],
)
def test_odd_shapes_carry_nothing(payload: dict[str, Any]) -> None:
    chunk = parse(payload)
    assert chunk is None or (chunk.reasoning, chunk.content, chunk.finish_reason, chunk.usage) == ("", "", None, None)


@pytest.mark.parametrize(("wire", "ours"), [("STOP", "stop"), ("MAX_TOKENS", "length"), ("SAFETY", "safety")])
def test_finish_reason_is_lower_cased(wire: str, ours: str) -> None:
    chunk = parse(candidate(finish=wire))
    assert chunk is not None and chunk.finish_reason == ours


def test_only_the_first_candidate_is_read() -> None:
    payload = candidate({"text": "a"})
    payload["candidates"].append({"content": {"parts": [{"text": "b"}]}, "index": 1})
    chunk = parse(payload)
    assert chunk is not None and chunk.content == "a"


def test_usage_mapping() -> None:
    raw = {
        "promptTokenCount": 100,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "toolUsePromptTokenCount": 5,
        "cachedContentTokenCount": 64,
        "totalTokenCount": 155,
    }
    chunk = parse({"usageMetadata": raw})
    assert chunk is not None and chunk.usage is not None
    u = chunk.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.reasoning_tokens, u.cached_tokens) == (
        105,
        50,
        155,
        30,
        64,
    )
    assert u.answer_tokens == 20 and u.raw == raw


def test_usage_missing_numbers_stay_unknown() -> None:
    chunk = parse({"usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7}})
    assert chunk is not None and chunk.usage is not None
    u = chunk.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.reasoning_tokens, u.cached_tokens) == (
        7,
        None,
        7,
        None,
        None,
    )


@pytest.mark.parametrize("bad", [-1, 1.5, "9", True, None, 2**60])
def test_usage_values_that_are_not_counts_are_ignored(bad: Any) -> None:
    chunk = parse({"usageMetadata": {"promptTokenCount": bad, "thoughtsTokenCount": bad, "candidatesTokenCount": 3}})
    assert chunk is not None and chunk.usage is not None
    assert (chunk.usage.prompt_tokens, chunk.usage.reasoning_tokens, chunk.usage.completion_tokens) == (None, None, 3)


def test_model_and_response_id() -> None:
    chunk = parse({"modelVersion": "gemini-2.5-pro", "responseId": "abc"})
    assert chunk is not None and (chunk.model, chunk.request_id) == ("gemini-2.5-pro", "abc")


def test_hidden_reasoning_is_flagged_once_the_answer_starts_without_thoughts() -> None:
    parser = GeminiChunkParser()
    usage = {"usageMetadata": {"promptTokenCount": 3, "thoughtsTokenCount": 90, "totalTokenCount": 93}}
    first = parse(usage, parser)  # thought tokens so far, no text yet: not decided
    assert first is not None and not first.reasoning_hidden
    second = parse({**candidate({"text": "answer"}), **usage}, parser)
    assert second is not None and second.reasoning_hidden


def test_reasoning_with_text_is_not_hidden() -> None:
    parser = GeminiChunkParser()
    usage = {"usageMetadata": {"thoughtsTokenCount": 90}}
    parse({**candidate({"text": "hm", "thought": True}), **usage}, parser)
    chunk = parse({**candidate({"text": "answer"}, finish="STOP"), **usage}, parser)
    assert chunk is not None and not chunk.reasoning_hidden


def test_no_thought_tokens_is_not_hidden() -> None:
    chunk = parse({**candidate({"text": "a"}, finish="STOP"), "usageMetadata": {"thoughtsTokenCount": 0}})
    assert chunk is not None and not chunk.reasoning_hidden


def test_error_data_line() -> None:
    body = {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    chunk = parse(body)
    assert chunk is not None and chunk.error == body and chunk.error_status == 429
    assert PROTOCOL.error_fields(chunk.error) == ("RESOURCE_EXHAUSTED", "slow down", None)


@pytest.mark.parametrize("error", ["boom", 42, ["x"]])
def test_error_that_is_not_an_object_keeps_a_message(error: Any) -> None:
    chunk = parse({"error": error})
    assert chunk is not None and chunk.error is not None and chunk.error_status is None
    assert PROTOCOL.error_fields(chunk.error)[1]


def test_blocked_prompt_is_an_error_naming_the_reason() -> None:
    chunk = parse({"promptFeedback": {"blockReason": "SAFETY"}, "responseId": "r1"})
    assert chunk is not None and chunk.error is not None and chunk.request_id == "r1"
    code, message, _ = PROTOCOL.error_fields(chunk.error)
    assert code == "PROMPT_BLOCKED" and message is not None and "SAFETY" in message and "rephrase" in message


def test_prompt_feedback_without_block_is_not_an_error() -> None:
    chunk = parse({**candidate({"text": "ok"}), "promptFeedback": {"safetyRatings": []}})
    assert chunk is not None and chunk.error is None and chunk.content == "ok"


# --- turn state ------------------------------------------------------------------------------


def state_of(*payloads: dict[str, Any]) -> dict[str, Any] | None:
    parser = GeminiChunkParser()
    for payload in payloads:
        parse(payload, parser)
    return parser.turn_state()


def test_no_signature_no_state() -> None:
    assert state_of(candidate({"text": "a", "thought": True}), candidate({"text": "b"})) is None


def test_plain_runs_join_and_signed_parts_stay_whole() -> None:
    state = state_of(
        candidate({"text": "t1", "thought": True}),
        candidate({"text": "t2", "thought": True}),
        candidate({"text": "a1", "thoughtSignature": "S1"}),
        candidate({"text": "a2"}),
        candidate({"text": "a3"}),
        candidate({"text": "", "thoughtSignature": "S2"}, finish="STOP"),
    )
    assert state == {
        "protocol": "gemini",
        "parts": [
            {"text": "t1t2", "thought": True},
            {"text": "a1", "thoughtSignature": "S1"},
            {"text": "a2a3"},
            {"text": "", "thoughtSignature": "S2"},
        ],
    }


def test_function_call_parts_are_kept_as_received() -> None:
    call = {"functionCall": {"name": "f", "args": {"x": [1, {"y": None}]}}, "thoughtSignature": "S"}
    state = state_of(candidate(dict(call)))
    assert state == {"protocol": "gemini", "parts": [call]}


def test_turn_state_can_be_asked_twice() -> None:
    parser = GeminiChunkParser()
    parse(candidate({"text": "", "thoughtSignature": "S"}), parser)
    parse(candidate({"text": "tail"}), parser)
    assert parser.turn_state() == parser.turn_state()
    assert parser.turn_state() == {
        "protocol": "gemini",
        "parts": [{"text": "", "thoughtSignature": "S"}, {"text": "tail"}],
    }


def test_parsers_do_not_share_state() -> None:
    a, b = PROTOCOL.new_parser(), PROTOCOL.new_parser()
    parse(candidate({"text": "x", "thoughtSignature": "S"}), a)
    assert b.turn_state() is None and a.turn_state() is not None
