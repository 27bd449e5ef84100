"""Tests for thinkbook.testing: the loopback HTTP server used by integration tests."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from thinkbook.testing import (
    LoopbackServer,
    RecordedRequest,
    ScriptedResponse,
    from_fixture,
    sse_chunks,
)

CHUNKS = [b"data: one\n\n", b"data: two\n\n", b"data: three\n\n", b"data: four\n\n"]
TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv
    assert srv.errors == []


def _client(server: LoopbackServer, timeout: httpx.Timeout = TIMEOUT) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=timeout)


# -- streaming -----------------------------------------------------------------------------------


def test_stream_arrives_chunk_by_chunk_sync(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=CHUNKS, delay=0.2))
    arrivals: list[tuple[float, bytes]] = []
    with _client(server) as client:
        start = time.monotonic()
        with client.stream("POST", "/v1/chat/completions", json={"stream": True}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"] == "text/event-stream"
            assert r.headers["transfer-encoding"] == "chunked"
            for piece in r.iter_raw():
                arrivals.append((time.monotonic() - start, piece))
    assert [piece for _, piece in arrivals] == CHUNKS  # one read per flushed chunk
    times = [t for t, _ in arrivals]
    assert times[0] < 0.15  # the first chunk is not held back until the end
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap > 0.12 for gap in gaps), gaps
    assert times[-1] > 0.5


async def test_stream_arrives_chunk_by_chunk_async(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=CHUNKS, delay=0.2))
    times: list[float] = []
    received = b""
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        start = time.monotonic()
        async with client.stream("GET", "/stream") as r:
            async for piece in r.aiter_bytes():
                times.append(time.monotonic() - start)
                received += piece
    assert received == b"".join(CHUNKS)
    assert len(times) == 4
    assert times[0] < 0.15
    assert times[-1] - times[0] > 0.45


def test_first_byte_delay(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b"late", first_byte_delay=0.3))
    with _client(server) as client:
        start = time.monotonic()
        r = client.get("/")
    assert r.content == b"late"
    assert time.monotonic() - start >= 0.25


# -- status and bodies ---------------------------------------------------------------------------


def test_status_and_json_body(server: LoopbackServer) -> None:
    body = {"error": {"message": "Invalid API key", "code": "invalid_api_key"}}
    server.enqueue(ScriptedResponse(status=401, body=json.dumps(body).encode(), headers={"X-Request-Id": "r1"}))
    with _client(server) as client:
        r = client.post("/v1/chat/completions", json={})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/json"
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers["x-request-id"] == "r1"
    assert r.json() == body


def test_default_and_explicit_content_types(server: LoopbackServer) -> None:
    server.enqueue(
        ScriptedResponse(body=b"plain"),
        ScriptedResponse(body=[b"a", b"b"], headers={"content-type": "application/x-ndjson"}),
        ScriptedResponse.from_json({"ok": True}, status=201),
        ScriptedResponse(status=204),
    )
    with _client(server) as client:
        plain = client.get("/")
        ndjson = client.get("/")
        created = client.get("/")
        empty = client.get("/")
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    assert plain.text == "plain"
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    assert ndjson.content == b"ab"
    assert (created.status_code, created.json()) == (201, {"ok": True})
    assert (empty.status_code, empty.content) == (204, b"")
    assert server.connections == 1


def test_head_request_has_no_body(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b"12345"), ScriptedResponse(body=b"after"))
    with _client(server) as client:
        head = client.head("/")
        after = client.get("/")
    assert head.headers["content-length"] == "5"
    assert head.content == b""
    assert after.content == b"after"  # the connection framing stayed in sync
    assert server.connections == 1


def test_exhausted_script_answers_500(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b"only one"))
    with _client(server) as client:
        assert client.get("/first").text == "only one"
        r = client.post("/v1/chat/completions", json={})
    assert r.status_code == 500
    error = r.json()["error"]
    assert "script exhausted" in error["message"]
    assert "POST /v1/chat/completions" in error["message"]
    assert error["type"] == "loopback_script_exhausted"
    assert len(server.requests) == 2


def test_enqueue_is_fifo_after_constructor_script() -> None:
    with LoopbackServer([ScriptedResponse(body=b"1")]) as server:
        server.enqueue(ScriptedResponse(body=b"2"), ScriptedResponse(body=b"3"))
        assert server.pending == 3
        with _client(server) as client:
            assert [client.get("/").text for _ in range(3)] == ["1", "2", "3"]
        assert server.pending == 0


def test_callable_responder_sees_the_request() -> None:
    def responder(request: RecordedRequest) -> ScriptedResponse:
        if request.path == "/boom":
            raise ValueError("scripted failure")
        return ScriptedResponse.from_json({"echo": request.json(), "path": request.path})

    with LoopbackServer(responder) as server:
        server.enqueue(ScriptedResponse(body=b"queued first"))
        with _client(server) as client:
            assert client.post("/a", json=1).text == "queued first"
            assert client.post("/b", json={"x": [1, 2]}).json() == {
                "echo": {"x": [1, 2]},
                "path": "/b",
            }
            boom = client.post("/boom", json=None)
        assert boom.status_code == 500
        assert "scripted failure" in boom.json()["error"]["message"]
        assert len(server.errors) == 1
        assert "scripted failure" in server.errors[0]


# -- recorded requests ---------------------------------------------------------------------------


def test_recorded_request_headers_and_body(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b"{}"), ScriptedResponse(body=b"{}"))
    payload = {"model": "qwen3-max", "messages": [{"role": "user", "content": "你好"}]}
    with _client(server) as client:
        client.post(
            "/v1/chat/completions?x=1",
            json=payload,
            headers={"Authorization": "Bearer sk-test", "X-DashScope-SSE": "enable"},
        )
        # A generator body goes out with chunked transfer-encoding.
        client.put("/upload", content=iter([b"part1-", b"part2"]))
    first, second = server.requests
    assert first.method == "POST"
    assert first.path == "/v1/chat/completions?x=1"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert first.headers["x-dashscope-sse"] == "enable"
    assert first.headers["content-type"] == "application/json"
    assert all(name == name.lower() for name in first.headers)
    assert first.json() == payload
    assert second.method == "PUT"
    assert second.headers["transfer-encoding"] == "chunked"
    assert second.body == b"part1-part2"


def test_wait_for_requests(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b"x"))
    assert server.wait_for_requests(1, timeout=0.05) is False
    with _client(server) as client:
        client.get("/")
    assert server.wait_for_requests(1, timeout=1)


# -- keep-alive and connection handling ----------------------------------------------------------


def test_keep_alive_three_requests_one_connection(server: LoopbackServer) -> None:
    server.enqueue(
        ScriptedResponse(body=b'{"n": 1}'),
        ScriptedResponse(body=sse_chunks([{"n": 2}])),
        ScriptedResponse(body=b'{"n": 3}'),
    )
    ports = []
    with _client(server) as client:
        for _ in range(3):
            with client.stream("POST", "/v1/chat/completions", json={}) as r:
                r.read()
                stream = r.extensions["network_stream"]
                ports.append(stream.get_extra_info("socket").getsockname()[1])
    assert len(set(ports)) == 1
    assert server.connections == 1
    assert len(server.requests) == 3
    assert server.disconnects == 0


async def test_keep_alive_async_client(server: LoopbackServer) -> None:
    server.enqueue(*(ScriptedResponse(body=CHUNKS) for _ in range(3)))
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        for _ in range(3):
            r = await client.get("/")
            assert r.content == b"".join(CHUNKS)
    assert server.connections == 1


def test_connection_close_from_client_or_script(server: LoopbackServer) -> None:
    server.enqueue(
        ScriptedResponse(body=b"a"),
        ScriptedResponse(body=b"b", headers={"Connection": "close"}),
        ScriptedResponse(body=b"c"),
    )
    with _client(server) as client:
        r1 = client.get("/", headers={"Connection": "close"})
        r2 = client.get("/")
        r3 = client.get("/")
    assert r1.headers["connection"] == "close"
    assert r2.headers["connection"] == "close"
    assert [r1.text, r2.text, r3.text] == ["a", "b", "c"]
    assert server.connections == 3
    assert server.disconnects == 0


def test_raw_http10_and_bad_request(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b"old"))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert data.endswith(b"\r\n\r\nold")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        data = _read_all(sock)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert server.requests[0].http_version == "HTTP/1.0"


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


# -- failures: dropped and stalled streams -------------------------------------------------------


def test_drop_after_raises_on_sync_client(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=CHUNKS, drop_after=2), ScriptedResponse(body=b"next"))
    received: list[bytes] = []
    with _client(server) as client:
        with (
            pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)),
            client.stream("GET", "/") as r,
        ):
            for piece in r.iter_raw():
                received.append(piece)
        assert b"".join(received) == b"".join(CHUNKS[:2])
        assert client.get("/").text == "next"  # the client recovers on a new connection
    assert server.connections == 2
    assert server.disconnects == 0  # the server dropped it; the client did not go away


async def test_drop_after_raises_on_async_client(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=CHUNKS, drop_after=len(CHUNKS)))
    received = b""
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            async with client.stream("GET", "/") as r:
                async for piece in r.aiter_raw():
                    received += piece
    assert received == b"".join(CHUNKS)  # every chunk, but no terminator


def test_drop_after_zero_truncates_content_length_body(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b'{"never": "sent"}', drop_after=0))
    with _client(server) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/")


def test_stall_after_hits_client_read_timeout(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=CHUNKS, stall_after=1))
    received: list[bytes] = []
    with _client(server, timeout=httpx.Timeout(5.0, read=0.3)) as client:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout), client.stream("GET", "/") as r:
            for piece in r.iter_raw():
                received.append(piece)
        elapsed = time.monotonic() - start
    assert received == CHUNKS[:1]
    assert 0.25 < elapsed < 3
    # The timed-out client closes its socket; the server notices.
    assert server.wait_for_disconnect(timeout=5)


async def test_stall_after_async_read_timeout(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=CHUNKS, stall_after=0))
    async with httpx.AsyncClient(base_url=server.url, timeout=httpx.Timeout(5.0, read=0.3)) as c:
        with pytest.raises(httpx.ReadTimeout):
            async with c.stream("GET", "/") as r:
                assert r.status_code == 200  # headers arrive, then nothing
                await r.aread()
    assert await asyncio.to_thread(server.wait_for_disconnect, 5)


def test_first_byte_delay_read_timeout_counts_disconnect(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=b"too late", first_byte_delay=30))
    with (
        _client(server, timeout=httpx.Timeout(5.0, read=0.2)) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/")
    assert server.wait_for_disconnect(timeout=5)


# -- disconnects ---------------------------------------------------------------------------------


def test_client_closing_early_is_counted_promptly(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=[b"x" * 10] * 50, delay=0.5))
    with _client(server) as client, client.stream("GET", "/") as r:
        # Keep the iterator referenced: a half-consumed httpx iterator that is garbage
        # collected closes the connection itself (GeneratorExit reaches httpcore).
        chunks = r.iter_raw()
        assert next(chunks) == b"x" * 10
        assert server.disconnects == 0
        closed_at = time.monotonic()
        r.close()  # unread body: httpx closes the connection
    assert server.wait_for_disconnect(timeout=5)
    assert time.monotonic() - closed_at < 0.4  # seen during the 0.5 s pause, not after it
    assert server.disconnects == 1


async def test_async_task_cancellation_closes_stream(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=[b"tick\n"] * 100, delay=0.2))
    got_first = asyncio.Event()

    async def consume(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/") as r:
            async for _ in r.aiter_raw():
                got_first.set()

    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        task = asyncio.create_task(consume(client))
        await asyncio.wait_for(got_first.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(server.wait_for_disconnect, 2)
    assert server.disconnects == 1


def test_normal_close_after_full_response_is_not_a_disconnect(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=CHUNKS), ScriptedResponse(body=b"done"))
    with _client(server) as client:
        client.get("/")
        client.get("/")
    assert server.wait_for_disconnect(timeout=0.3) is False
    assert server.disconnects == 0


def test_disconnects_print_no_tracebacks(capfd: pytest.CaptureFixture[str]) -> None:
    with LoopbackServer() as server:
        server.enqueue(
            ScriptedResponse(body=CHUNKS * 20, delay=0.01),
            ScriptedResponse(body=CHUNKS, stall_after=1),
            ScriptedResponse(body=CHUNKS, drop_after=1),
        )
        with _client(server, timeout=httpx.Timeout(5.0, read=0.2)) as client:
            with client.stream("GET", "/") as r:
                next(r.iter_raw())
            with pytest.raises(httpx.ReadTimeout), client.stream("GET", "/") as r:
                r.read()
            with pytest.raises(httpx.RemoteProtocolError), client.stream("GET", "/") as r:
                r.read()
        assert server.wait_for_disconnect(timeout=5, count=2)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert "Exception" not in out + err
    assert server.errors == []


# -- lifecycle -----------------------------------------------------------------------------------


def test_stop_is_prompt_with_stalled_and_idle_connections() -> None:
    server = LoopbackServer([ScriptedResponse(body=CHUNKS, stall_after=1)]).start()
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    client = _client(server, timeout=httpx.Timeout(30.0))
    try:
        with client.stream("GET", "/") as r:
            iterator = r.iter_raw()
            assert next(iterator) == CHUNKS[0]
            start = time.monotonic()
            server.stop()
            assert time.monotonic() - start < 2
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                next(iterator)
        assert idle.recv(1) == b""  # idle connection closed by the server too
    finally:
        idle.close()
        client.close()
    server.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=2)


def test_start_stop_contract() -> None:
    server = LoopbackServer()
    with pytest.raises(RuntimeError):
        _ = server.url
    server.stop()  # never started: no-op
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port > 0
        with pytest.raises(RuntimeError):
            server.start()
    assert "127.0.0.1" in repr(server)


def test_two_servers_get_different_ports() -> None:
    with LoopbackServer() as a, LoopbackServer() as b:
        assert a.port != b.port


def test_scripted_response_validation() -> None:
    with pytest.raises(ValueError):
        ScriptedResponse(status=42)
    with pytest.raises(TypeError):
        ScriptedResponse(body=["text, not bytes"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        ScriptedResponse(drop_after=-1)
    with pytest.raises(ValueError):
        ScriptedResponse(headers={"X-Evil": "a\r\nSet-Cookie: b"})


# -- helpers -------------------------------------------------------------------------------------


def test_sse_chunks() -> None:
    assert sse_chunks([{"a": 1, "text": "你好"}, "plain", "two\nlines", b": ping\n\n"]) == [
        'data: {"a":1,"text":"你好"}\n\n'.encode(),
        b"data: plain\n\n",
        b"data: two\ndata: lines\n\n",
        b": ping\n\n",
        b"data: [DONE]\n\n",
    ]
    assert sse_chunks([{"x": None}], done=False) == [b'data: {"x":null}\n\n']
    response = ScriptedResponse.from_sse([{"a": 1}], delay=0.1)
    assert response.body == [b'data: {"a":1}\n\n', b"data: [DONE]\n\n"]
    assert response.delay == 0.1


def test_from_fixture(tmp_path: Path) -> None:
    raw = b'data: {"a":1}\n\ndata: {"b":2}\r\n\r\n: comment\n\ndata: [DONE]\n\n'
    path = tmp_path / "stream.sse"
    path.write_bytes(raw)
    events = from_fixture(path)
    assert events == [
        b'data: {"a":1}\n\n',
        b'data: {"b":2}\r\n\r\n',
        b": comment\n\n",
        b"data: [DONE]\n\n",
    ]
    sliced = from_fixture(str(path), chunk_size=7)
    assert b"".join(sliced) == raw
    assert all(len(c) == 7 for c in sliced[:-1])
    with pytest.raises(ValueError):
        from_fixture(path, chunk_size=0)
    tail = tmp_path / "tail.sse"
    tail.write_bytes(b"data: 1\n\ndata: unterminated")
    assert from_fixture(tail) == [b"data: 1\n\n", b"data: unterminated"]


def test_fixture_replayed_through_server(server: LoopbackServer, tmp_path: Path) -> None:
    raw = "".join(f'data: {{"i":{i},"t":"数据"}}\n\n' for i in range(20)).encode()
    path = tmp_path / "s.sse"
    path.write_bytes(raw)
    server.enqueue(ScriptedResponse(body=from_fixture(path, chunk_size=5)))
    with _client(server) as client:
        assert client.get("/").content == raw
