"""Retries, Retry-After, dropped connections, slow streams and in-stream errors, over real HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import thinkbook
from thinkbook import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
    StreamInterruptedError,
)
from thinkbook._retry import backoff_delay
from thinkbook.testing import LoopbackServer, ScriptedResponse

FAKE_KEY = "sk-test-SECRET0123456789abcdef"

OK_EVENTS: list[dict[str, Any]] = [
    {"choices": [{"delta": {"reasoning_content": "think"}}]},
    {"choices": [{"delta": {"content": "answer"}}]},
    {"choices": [{"delta": {}, "finish_reason": "stop"}]},
    {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
]


def ask(server: LoopbackServer, **options: Any) -> thinkbook.ThinkResult:
    return thinkbook.think("q", model="m", base_url=server.url, api_key=FAKE_KEY, **options)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the retry schedule's shape but not its seconds."""
    monkeypatch.setattr(
        "thinkbook._engine.backoff_delay",
        lambda attempt, retry_after=None: min(backoff_delay(attempt, retry_after) / 50, 0.05),
    )


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_retryable_statuses_are_retried_then_succeed(server: LoopbackServer, status: int) -> None:
    server.enqueue(
        ScriptedResponse.from_json({"error": {"message": "busy"}}, status=status), ScriptedResponse.from_sse(OK_EVENTS)
    )
    assert ask(server).answer == "answer"
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(server: LoopbackServer, status: int) -> None:
    server.enqueue(
        ScriptedResponse.from_json({"code": "X", "message": "no"}, status=status), ScriptedResponse.from_sse(OK_EVENTS)
    )
    with pytest.raises(thinkbook.APIStatusError) as info:
        ask(server)
    assert info.value.status_code == status
    assert len(server.requests) == 1


def test_retries_stop_at_max_retries(server: LoopbackServer) -> None:
    for _ in range(4):
        server.enqueue(ScriptedResponse.from_json({"error": {"message": "down"}}, status=503))
    with pytest.raises(InternalServerError):
        ask(server, max_retries=2)
    assert len(server.requests) == 3
    server.enqueue(ScriptedResponse.from_json({"error": {"message": "down"}}, status=503))
    with pytest.raises(InternalServerError):
        ask(server, max_retries=0)
    assert len(server.requests) == 4


def test_retry_after_seconds_is_honoured(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("thinkbook._engine.backoff_delay", backoff_delay)  # the real schedule
    server.enqueue(
        ScriptedResponse.from_json({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "1"}),
        ScriptedResponse.from_sse(OK_EVENTS),
    )
    start = time.monotonic()
    assert ask(server).answer == "answer"
    assert time.monotonic() - start >= 0.95


def test_rate_limit_error_after_retries_says_what_to_do(server: LoopbackServer) -> None:
    for _ in range(3):
        server.enqueue(
            ScriptedResponse.from_json(
                {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded"}, status=429
            )
        )
    with pytest.raises(RateLimitError, match="retry") as info:
        ask(server)
    assert info.value.code == "Throttling.RateQuota"


def test_connection_refused_is_retried_then_reported(engine: object) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(APIConnectionError, match="could not reach") as info:
        thinkbook.think("q", model="m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)
    assert info.value.partial is None


def test_drop_before_any_text_is_retried(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(OK_EVENTS, drop_after=0), ScriptedResponse.from_sse(OK_EVENTS))
    assert ask(server).answer == "answer"
    assert len(server.requests) == 2


def test_drop_after_text_raises_with_partial_and_does_not_resend(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(OK_EVENTS, drop_after=2), ScriptedResponse.from_sse(OK_EVENTS))
    with pytest.raises(StreamInterruptedError) as info:
        ask(server)
    assert info.value.partial is not None
    assert (info.value.partial.reasoning, info.value.partial.answer) == ("think", "answer")
    assert len(server.requests) == 1


def test_clean_close_without_finish_is_an_interrupted_stream(server: LoopbackServer) -> None:
    # Ollama: "a stream that ends without a finish_reason means an error happened".
    server.enqueue(ScriptedResponse.from_sse(OK_EVENTS[:2], done=False))
    with pytest.raises(StreamInterruptedError) as info:
        ask(server)
    assert info.value.partial is not None and info.value.partial.answer == "answer"


def test_read_timeout_before_text_is_retried_then_raised(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(OK_EVENTS, stall_after=0), ScriptedResponse.from_sse(OK_EVENTS))
    assert ask(server, timeout=0.3).answer == "answer"
    server.enqueue(ScriptedResponse.from_sse(OK_EVENTS, stall_after=1))
    with pytest.raises(APITimeoutError) as info:
        ask(server, timeout=0.3)
    assert info.value.partial is not None and info.value.partial.reasoning == "think"
    assert len(server.requests) == 3


def test_slow_stream_within_the_timeout_completes(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(OK_EVENTS, delay=0.2, first_byte_delay=0.3))
    assert ask(server, timeout=1.0).answer == "answer"


def test_midstream_error_chunk_raises_with_partial(server: LoopbackServer) -> None:
    events: list[Any] = [
        *OK_EVENTS[:2],
        {"error": {"code": 502, "message": "upstream died"}, "choices": [{"delta": {}, "finish_reason": "error"}]},
    ]
    server.enqueue(ScriptedResponse.from_sse(events))
    with pytest.raises(InternalServerError, match="upstream died") as info:
        ask(server)
    assert info.value.partial is not None and info.value.partial.answer == "answer"
    assert len(server.requests) == 1


def test_native_error_event_under_4xx_status_is_read_not_guessed(server: LoopbackServer) -> None:
    body = (
        b'id:1\nevent:error\n:HTTP_STATUS/400\ndata:{"request_id":"r-9","code":"DataInspectionFailed",'
        b'"message":"Input data may contain inappropriate content."}\n\n'
    )
    server.enqueue(ScriptedResponse(status=400, body=[body]))
    with pytest.raises(BadRequestError, match="content filter") as info:
        thinkbook.think("q", model="qwen-plus", base_url=server.url + "/api/v1", protocol="dashscope", api_key=FAKE_KEY)
    assert info.value.code == "DataInspectionFailed" and info.value.request_id == "r-9"
    assert info.value.partial is None


def test_non_json_data_is_a_clear_format_error(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=[b"data: <html>oops</html>\n\n"]))
    with pytest.raises(thinkbook.ResponseFormatError, match="JSON"):
        ask(server)


def test_html_error_page_is_reported_with_its_status(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(status=404, body=b"<html>Not Found</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(thinkbook.NotFoundError, match="base_url"):
        ask(server)


def test_request_body_is_sent_as_json(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(OK_EVENTS))
    ask(server, enable_thinking=True)
    body = json.loads(server.requests[0].body)
    assert body["messages"] == [{"role": "user", "content": "q"}]
    assert body["chat_template_kwargs"] == {"enable_thinking": True}  # loopback = vLLM/llama.cpp style
