"""The Anthropic Messages stream parser on every recorded fixture, at every byte boundary."""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbook._errors import ResponseFormatError, error_for_status
from thinkbook._protocols.anthropic import PROTOCOL, AnthropicParser, anthropic_usage
from thinkbook._protocols.base import STATE_KEY, BodyInput, WireProtocol
from thinkbook._sse import ServerSentEvent, SSEDecoder
from thinkbook._types import ThinkResult
from thinkbook._wire import WireChunk

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "anthropic"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
STREAMS = sorted(n for n in EXPECTED if n.endswith(".sse"))


def replay_pieces(body: bytes, cuts: list[int]) -> tuple[dict[str, Any], int, ServerSentEvent | None]:
    """Feed ``body`` split at ``cuts``; (summary, dispatched event count, what flush returned)."""
    decoder, parser = SSEDecoder(), AnthropicParser()
    chunks: list[WireChunk] = []
    n_events = 0
    bounds = [0, *cuts, len(body)]
    for start, end in itertools.pairwise(bounds):
        for event in decoder.decode(body[start:end]):
            n_events += 1
            parsed = parser.parse(event)
            if parsed is not None:
                chunks.append(parsed)
                if parsed.error is not None:
                    return summarize(chunks, parser), n_events, None
    return summarize(chunks, parser), n_events, decoder.flush()


def replay(name: str, size: int | None = None) -> tuple[dict[str, Any], int, ServerSentEvent | None]:
    body = (FIXTURES / name).read_bytes()
    step = size or len(body)
    return replay_pieces(body, list(range(step, len(body), step)))


def summarize(chunks: list[WireChunk], parser: AnthropicParser) -> dict[str, Any]:
    usage = [c.usage for c in chunks if c.usage is not None]
    finish = [c.finish_reason for c in chunks if c.finish_reason]
    errors = [c for c in chunks if c.error is not None]
    return {
        "reasoning": "".join(c.reasoning for c in chunks),
        "answer": "".join(c.content for c in chunks),
        "usage": None if not usage else {k: v for k, v in usage[-1].to_dict().items() if k != "raw"},
        "finish_reason": finish[-1] if finish else None,
        "model": next((c.model for c in chunks if c.model), None),
        "request_id": next((c.request_id for c in chunks if c.request_id), None),
        "done": any(c.done for c in chunks),
        "hidden": any(c.reasoning_hidden for c in chunks),
        "error": errors[0] if errors else None,
        "state": parser.turn_state(),
    }


def test_fixtures_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_anthropic_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python tests/fixtures/anthropic/make_fixtures.py"


def test_every_fixture_file_has_an_expectation() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in (".sse", ".json")} - {"expected.json"}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("size", [None, 1, 97, 100000])
@pytest.mark.parametrize("name", STREAMS)
def test_fixture_replays_to_the_expected_result(name: str, size: int | None) -> None:
    expected = EXPECTED[name]
    got, n_events, leftover = replay(name, size)
    assert (got["reasoning"], got["answer"]) == (expected["reasoning"], expected["answer"])
    assert got["usage"] == expected["usage"]
    assert got["finish_reason"] == expected["finish_reason"]
    assert (got["model"], got["request_id"]) == (expected["model"], expected["request_id"])
    assert got["hidden"] == expected["reasoning_hidden"]
    if expected["error"] is None:
        assert got["error"] is None
        assert got["state"] == expected["state"]
        # Complete streams end with message_stop; a cut one leaves an unterminated event behind.
        assert got["done"] == (not expected["interrupted"])
        assert (leftover is not None) == expected["interrupted"]
        assert n_events + (leftover is not None) == expected["events"]
    else:
        err = got["error"]
        assert err.error["error"]["type"] == expected["error"]["type"]
        assert err.error_status == expected["error"]["status"]
        raised = error_for_status(err.error_status, err.error)
        assert type(raised).__name__ == expected["error"]["class"]
        assert raised.code == expected["error"]["type"]
        assert expected["error"]["message"] in str(raised)


@pytest.mark.parametrize("name", STREAMS)
def test_every_two_piece_split_gives_the_same_result(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    whole, _, _ = replay_pieces(body, [])
    for cut in range(1, len(body)):
        got, _, _ = replay_pieces(body, [cut])
        got["error"] = whole["error"] = None  # WireChunk identity differs; checked above
        assert got == whole, cut


def test_a_multibyte_character_split_inside_a_delta() -> None:
    body = (FIXTURES / "bailian_qwen_thinking.sse").read_bytes()
    at = body.index("千".encode()) + 1  # inside the 3-byte character
    assert replay_pieces(body, [at])[0] == replay_pieces(body, [])[0]


def test_the_truncated_fixture_leaves_a_cut_event_that_is_not_json() -> None:
    _, _, leftover = replay("claude_truncated.sse")
    assert leftover is not None and leftover.event == "content_block_delta"
    with pytest.raises(ValueError):
        json.loads(leftover.data)


def test_error_bodies_before_the_stream() -> None:
    for name in ("claude_error_401.json", "claude_error_529.json"):
        expected = EXPECTED[name]
        body = json.loads((FIXTURES / name).read_bytes())
        code, message, request_id = PROTOCOL.error_fields(body)
        assert (code, message, request_id) == (
            expected["error"]["type"],
            expected["error"]["message"],
            expected["request_id"],
        )
        err = error_for_status(expected["http_status"], body)
        assert type(err).__name__ == expected["error"]["class"]
        assert (err.code, err.request_id) == (expected["error"]["type"], expected["request_id"])


# --- events one by one ---------------------------------------------------------------------


def parse(parser: AnthropicParser, obj: Any, event: str = "message") -> WireChunk | None:
    return parser.parse(ServerSentEvent(json.dumps(obj), event))


def test_ping_blank_and_unknown_events_carry_nothing() -> None:
    p = AnthropicParser()
    assert parse(p, {"type": "ping"}, "ping") is None
    assert p.parse(ServerSentEvent("")) is None
    assert p.parse(ServerSentEvent("  ")) is None
    assert parse(p, {"type": "some_future_event", "x": 1}) is None
    assert parse(p, {"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta"}}) is None


def test_an_openai_done_marker_from_a_gateway_ends_the_stream() -> None:
    assert AnthropicParser().parse(ServerSentEvent("[DONE]")) == WireChunk(done=True)
    assert AnthropicParser().parse(ServerSentEvent(" [DONE] ")) == WireChunk(done=True)


def test_non_json_data_raises_a_clear_error_without_the_key() -> None:
    key = "sk-ant-api03-" + "A" * 40
    with pytest.raises(ResponseFormatError) as info:
        AnthropicParser().parse(ServerSentEvent(f"<html>bad gateway {key}</html>"))
    assert "Anthropic Messages event" in str(info.value)
    assert key not in str(info.value)


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "3"])
def test_json_that_is_not_an_object_raises(data: str) -> None:
    with pytest.raises(ResponseFormatError):
        AnthropicParser().parse(ServerSentEvent(data))


def test_an_openai_chunk_is_not_an_anthropic_event() -> None:
    with pytest.raises(ResponseFormatError, match="protocol='anthropic'"):
        parse(AnthropicParser(), {"choices": [{"delta": {"content": "hi"}}]})


def test_event_name_stands_in_for_a_missing_type() -> None:
    p = AnthropicParser()
    parse(p, {"index": 0, "content_block": {"type": "text", "text": ""}}, "content_block_start")
    chunk = parse(p, {"index": 0, "delta": {"type": "text_delta", "text": "hi"}}, "content_block_delta")
    assert chunk is None  # deltas must say their type: the hot path reads only "type"
    assert parse(p, {}, "message_stop") == WireChunk(done=True)


def test_error_event_with_text_data_and_unknown_type() -> None:
    chunk = AnthropicParser().parse(ServerSentEvent("upstream exploded", "error"))
    assert chunk is not None and chunk.error == {"type": "error", "error": {"message": "upstream exploded"}}
    odd = parse(AnthropicParser(), {"type": "error", "error": {"type": "brand_new_error", "message": "m"}})
    assert odd is not None and odd.error_status is None
    assert type(error_for_status(None, odd.error)).__name__ == "APIStatusError"


@pytest.mark.parametrize(
    ("etype", "status", "cls"),
    [
        ("overloaded_error", 529, "InternalServerError"),
        ("rate_limit_error", 429, "RateLimitError"),
        ("api_error", 500, "InternalServerError"),
        ("invalid_request_error", 400, "BadRequestError"),
        ("authentication_error", 401, "AuthenticationError"),
        ("permission_error", 403, "PermissionDeniedError"),
        ("not_found_error", 404, "NotFoundError"),
    ],
)
def test_in_stream_error_types_get_their_http_status(etype: str, status: int, cls: str) -> None:
    chunk = parse(AnthropicParser(), {"type": "error", "error": {"type": etype, "message": "m"}, "request_id": "r1"})
    assert chunk is not None and (chunk.error_status, chunk.request_id) == (status, "r1")
    assert type(error_for_status(chunk.error_status, chunk.error)).__name__ == cls


def test_odd_shapes_do_not_crash() -> None:
    p = AnthropicParser()
    for obj in (
        {"type": "message_start", "message": None},
        {"type": "message_start", "message": {"usage": "x", "model": 3, "id": None}},
        {"type": "content_block_start", "index": "0", "content_block": {"type": "text"}},
        {"type": "content_block_start", "index": 1, "content_block": None},
        {"type": "content_block_delta", "index": 9, "delta": {"type": "text_delta", "text": 5}},
        {"type": "content_block_delta", "delta": "x"},
        {"type": "content_block_stop", "index": 42},
        {"type": "message_delta", "delta": None, "usage": None},
    ):
        result = parse(p, obj)
        assert result is None or (not result.reasoning and not result.content and result.error is None)
    assert p.turn_state() is None


def test_a_delta_for_an_unknown_block_still_streams_but_is_not_kept() -> None:
    p = AnthropicParser()
    chunk = parse(p, {"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": "x"}})
    assert chunk is not None and chunk.content == "x"
    assert p.turn_state() is None


def test_an_unfinished_thinking_block_is_not_kept() -> None:
    p = AnthropicParser()
    parse(p, {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}})
    parse(p, {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}})
    assert p.turn_state() is None  # no content_block_stop: a signature may be missing


def test_thinking_tokens_without_any_thinking_block_mean_hidden_reasoning() -> None:
    p = AnthropicParser()
    chunk = parse(
        p,
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 50, "output_tokens_details": {"thinking_tokens": 40}},
        },
    )
    assert chunk is not None and chunk.reasoning_hidden and chunk.usage is not None
    assert chunk.usage.reasoning_tokens == 40


def test_usage_is_cumulative_and_keeps_the_input_counts_from_message_start() -> None:
    p = AnthropicParser()
    parse(p, {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 10, "output_tokens": 1}}})
    chunk = parse(p, {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 7, "input_tokens": None}})
    assert chunk is not None and chunk.usage is not None
    assert (chunk.usage.prompt_tokens, chunk.usage.completion_tokens, chunk.usage.total_tokens) == (10, 7, 17)
    assert chunk.finish_reason is None


@pytest.mark.parametrize(
    ("raw", "numbers"),
    [
        ({"input_tokens": 5, "output_tokens": 3}, (5, 3, 8, None, None)),
        (
            {"input_tokens": 5, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 900, "output_tokens": 3},
            (1005, 3, 1008, None, 900),
        ),
        ({"input_tokens": True, "output_tokens": -1}, (None, None, None, None, None)),
        ({"output_tokens": 3, "output_tokens_details": {"thinking_tokens": 2}}, (None, 3, None, 2, None)),
        ({"input_tokens": 2**60, "output_tokens": 1}, (None, 1, None, None, None)),
        ({"input_tokens": 2**52, "cache_read_input_tokens": 2**52, "output_tokens": 1}, (None, 1, None, None, 2**52)),
        ({"input_tokens": 2**53 - 2, "output_tokens": 2}, (2**53 - 2, 2, None, None, None)),
    ],
)
def test_usage_numbers(raw: dict[str, Any], numbers: tuple[int | None, ...]) -> None:
    u = anthropic_usage(raw)
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.reasoning_tokens, u.cached_tokens) == numbers
    assert u.raw is raw


# --- the protocol object -------------------------------------------------------------------


def test_protocol_identity() -> None:
    assert isinstance(PROTOCOL, WireProtocol)
    assert PROTOCOL.name == "anthropic"
    assert "Anthropic" in PROTOCOL.title and PROTOCOL.expected
    (spec,) = PROTOCOL.providers
    assert (spec.name, spec.protocol, spec.default_base_url) == ("anthropic", "anthropic", "https://api.anthropic.com")
    assert spec.key_variables == ("ANTHROPIC_API_KEY",) and spec.model_prefixes == ("claude-",)
    assert spec.owns_host("api.anthropic.com")
    assert not spec.owns_host("api.anthropic.com.evil.example") and not spec.owns_host("dashscope.aliyuncs.com")


def test_headers_send_the_key_as_x_api_key_only() -> None:
    headers = PROTOCOL.headers("sk-ant-test")
    assert headers["x-api-key"] == "sk-ant-test"
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers
    assert "x-api-key" not in PROTOCOL.headers(None)


@pytest.mark.parametrize(
    ("base_url", "path"),
    [
        ("https://api.anthropic.com", "/v1/messages"),
        ("https://dashscope.aliyuncs.com/apps/anthropic", "/v1/messages"),
        ("https://dashscope.aliyuncs.com/apps/anthropic/", "/v1/messages"),
        ("https://api.anthropic.com/v1", "/messages"),
        ("http://127.0.0.1:8080/v1/", "/messages"),
    ],
)
def test_path(base_url: str, path: str) -> None:
    assert PROTOCOL.path("claude-sonnet-4-6", base_url=base_url) == path


@pytest.mark.parametrize(
    ("host", "path", "claimed"),
    [
        ("api.anthropic.com", "", True),
        ("api.anthropic.com", "/v1", True),
        ("dashscope.aliyuncs.com", "/apps/anthropic", True),
        ("dashscope-intl.aliyuncs.com", "/apps/anthropic/", True),
        ("dashscope-us.aliyuncs.com", "/apps/anthropic", True),
        ("ws123.ap-southeast-1.maas.aliyuncs.com", "/apps/anthropic", True),
        ("coding.dashscope.aliyuncs.com", "/apps/anthropic/v1", True),
        ("dashscope.aliyuncs.com", "/compatible-mode/v1", False),
        ("api.openai.com", "/v1", False),
        ("example.com", "/anthropical", False),
    ],
)
def test_claims(host: str, path: str, claimed: bool) -> None:
    assert PROTOCOL.claims(host, path) is claimed


def test_turn_state_round_trip_is_byte_identical() -> None:
    """Turn 1's blocks, through a ThinkResult and the history, come back unchanged in turn 2."""
    got, _, _ = replay("claude_turn1.sse")
    state = got["state"]
    frozen = json.dumps(state, ensure_ascii=False)
    result = ThinkResult(answer=got["answer"], reasoning=got["reasoning"], reasoning_state=state)
    assistant = PROTOCOL.assistant_message(result)
    history = [
        {"role": "user", "content": "What is 27 * 453?"},
        copy.deepcopy(assistant),
        {"role": "user", "content": "And divided by 3?"},
    ]
    body = PROTOCOL.build_body(BodyInput(model="claude-opus-4-7", messages=history))
    sent = json.dumps(body["messages"][1]["content"], ensure_ascii=False)
    assert sent == json.dumps(EXPECTED["claude_turn1.sse"]["state"]["content"], ensure_ascii=False)
    resent = {"protocol": "anthropic", "content": body["messages"][1]["content"]}
    assert json.dumps(resent, ensure_ascii=False) == frozen
    assert STATE_KEY not in json.dumps(body) and "reasoning_content" not in json.dumps(body)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(STREAMS), cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=12))
def test_any_split_gives_the_same_result(name: str, cuts: list[int]) -> None:
    body = (FIXTURES / name).read_bytes()
    points = sorted({c % len(body) for c in cuts} - {0})
    got, whole = replay_pieces(body, points)[0], replay_pieces(body, [])[0]
    got["error"] = whole["error"] = None
    assert got == whole
