"""Nothing raw escapes the engine; many calls at once; proxies named; in-stream request ids; splitting.

Each test drives the public API against a loopback server (or none) and checks what a user sees:
the error's class, that its message helps, and that the API key is not in it.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

import thinkbook
from thinkbook import APIConnectionError, BadRequestError, ConfigurationError, ThinkbookError
from thinkbook._engine import Engine
from thinkbook._request import PreparedRequest
from thinkbook.testing import LoopbackServer, ScriptedResponse

FAKE_KEY = "sk-test-SECRET0123456789abcdef"

OK_EVENTS: list[dict[str, Any]] = [
    {"choices": [{"delta": {"reasoning_content": "think"}}]},
    {"choices": [{"delta": {"content": "answer"}}]},
    {"choices": [{"delta": {}, "finish_reason": "stop"}]},
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _ask(base_url: str, **options: Any) -> thinkbook.ThinkResult:
    options.setdefault("api_key", FAKE_KEY)
    options.setdefault("max_retries", 0)
    return thinkbook.think("q", model="m", base_url=base_url, display=False, **options)


# --- point 2: every failure is a ThinkbookError -------------------------------------------------


def test_a_socks_proxy_without_socksio_is_a_configuration_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("httpx")
    try:
        import socksio  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("socksio is installed: the ImportError cannot happen")
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(ConfigurationError, match=r'pip install "httpx\[socks\]"') as info:
        _ask(f"http://127.0.0.1:{_free_port()}/v1")
    assert isinstance(info.value.__cause__, ImportError)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"api_key": "clé-secrète-0123456789"}, "API key"),
        ({"extra": {1, 2}}, "JSON"),
        ({"extra": float("nan")}, "JSON"),
    ],
    ids=["non-ascii-key", "set-in-body", "nan-in-body"],
)
def test_values_http_cannot_carry_are_configuration_errors(
    engine: Engine, server: LoopbackServer, options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says) as info:
        _ask(server.url + "/v1", **options)
    assert "clé-secrète" not in str(info.value)
    assert server.requests == []  # refused before anything was sent


def test_a_lone_surrogate_in_the_prompt_is_a_configuration_error(engine: Engine, server: LoopbackServer) -> None:
    with pytest.raises(ConfigurationError, match="UTF-8"):
        thinkbook.think("half a pair: \ud800", model="m", base_url=server.url + "/v1", display=False)
    assert server.requests == []


def test_the_engine_maps_every_raw_failure_of_a_prepared_request(engine: Engine) -> None:
    # Straight to the engine, past the option checks made while preparing (port 99999 and
    # "http://[::1" are refused there): what reaches the engine raw still comes out typed.
    import dataclasses

    from thinkbook._endpoints import Endpoint
    from thinkbook._engine import StreamRun

    bad = {
        "port": "http://127.0.0.1:99999/v1/chat/completions",
        "bracket": "http://[::1/v1/chat/completions",
        "scheme": "ftp://127.0.0.1/v1/chat/completions",
    }
    for name, url in bad.items():
        endpoint = Endpoint(url=url, base_url=url, protocol="openai", provider="local", api_key=FAKE_KEY)
        request = PreparedRequest(endpoint=endpoint, model="m", body={"messages": []})
        for body in ({"messages": []}, {"x": object()}):
            run = StreamRun(dataclasses.replace(request, body=body))

            async def drain(run: StreamRun = run) -> None:
                async for _batch in engine.stream_batches(run, max_retries=0):
                    pass

            with pytest.raises(ThinkbookError) as info:
                engine.submit(drain()).result(10)
            assert FAKE_KEY not in str(info.value), name


# --- point 10: many calls at once; proxies ------------------------------------------------------


def test_seventy_concurrent_calls_all_finish_even_when_waiting_for_a_connection(engine: Engine) -> None:
    # Each stream lasts ~1.2 s and the pool has 64 connections: six calls wait for one longer
    # than their own read timeout. Waiting for the pool is not that timeout.
    events = [*OK_EVENTS, {"choices": [], "usage": {"total_tokens": 3}}]
    with LoopbackServer([ScriptedResponse.from_sse(events, delay=0.3) for _ in range(70)]) as server:

        async def all_at_once() -> list[thinkbook.ThinkResult]:
            calls = [
                thinkbook.athink("q", model="m", base_url=server.url + "/v1", display=False, timeout=1.0, max_retries=0)
                for _ in range(70)
            ]
            return await asyncio.gather(*calls)

        results = asyncio.run(all_at_once())
    assert [r.answer for r in results] == ["answer"] * 70


def test_a_dead_proxy_is_named_without_its_password(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy_port = _free_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://alice:pa55w0rd@127.0.0.1:{proxy_port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(APIConnectionError) as info:
        _ask("http://example.invalid/v1")
    message = str(info.value)
    assert f"proxy http://127.0.0.1:{proxy_port}" in message
    assert "pa55w0rd" not in message and "alice" not in message


# --- point 11: the in-stream error's own request id -----------------------------------------------


def test_a_native_error_event_keeps_its_own_request_id(engine: Engine, server: LoopbackServer) -> None:
    first = (
        b'id:1\nevent:result\ndata:{"output":{"choices":[{"message":{"content":"Hel"},"finish_reason":"null"}]},'
        b'"request_id":"r-early"}\n\n'
    )
    error = b'id:2\nevent:error\ndata:{"request_id":"r-error","code":"DataInspectionFailed","message":"no"}\n\n'
    server.enqueue(ScriptedResponse(body=[first, error]))
    with pytest.raises(BadRequestError) as info:
        _ask(server.url + "/api/v1", protocol="dashscope")
    assert info.value.request_id == "r-error"
    assert info.value.partial is not None and info.value.partial.answer == "Hel"


def test_a_throttling_error_event_before_any_text_is_retried(engine: Engine, server: LoopbackServer) -> None:
    throttled = b'event:error\ndata:{"request_id":"r-1","code":"Throttling.RateQuota","message":"slow"}\n\n'
    answer = b'data:{"output":{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}]}}\n\n'
    server.enqueue(ScriptedResponse(body=[throttled]), ScriptedResponse(body=[answer]))
    assert _ask(server.url + "/api/v1", protocol="dashscope", max_retries=1).answer == "ok"
    assert len(server.requests) == 2
