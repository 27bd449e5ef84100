"""Test utilities: a real loopback HTTP/1.1 server that plays scripted (streaming) responses.

:class:`LoopbackServer` is to integration tests what :class:`httpx.MockTransport` is to unit tests:
it listens on ``127.0.0.1`` (a random free port) in a background daemon thread with its own
asyncio event loop, records every request and answers from a script of :class:`ScriptedResponse`
objects. Because it is a real socket, the whole client stack runs: connection pooling, keep-alive,
timeouts, chunked decoding, dropped and stalled streams, and cancellation closing the connection.

Example::

    import httpx
    from thinkbook.testing import LoopbackServer, ScriptedResponse, sse_chunks

    chunks = sse_chunks([{"choices": [{"delta": {"content": "Hi"}}]}])
    with LoopbackServer([ScriptedResponse(body=chunks, delay=0.05)]) as server:
        with httpx.Client(base_url=server.url) as client:
            with client.stream("POST", "/v1/chat/completions", json={"stream": True}) as r:
                for piece in r.iter_bytes():
                    ...
        assert server.requests[0].json() == {"stream": True}

Only the standard library is used here, so the module can be imported wherever ``thinkbook`` is.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import logging
import os
import re
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from comm.base_comm import BaseComm

__all__ = [
    "LoopbackServer",
    "RecordedRequest",
    "ScriptedResponse",
    "from_fixture",
    "sse_chunks",
]

logger = logging.getLogger(__name__)

_MAX_HEAD = 64 * 1024  # bytes allowed for a request line plus headers
_READ_SIZE = 64 * 1024
_STOP_TIMEOUT = 10.0


# --------------------------------------------------------------------------------------------
# Scripts and recordings
# --------------------------------------------------------------------------------------------


@dataclass
class ScriptedResponse:
    """One answer the :class:`LoopbackServer` plays back.

    ``body`` as ``bytes`` is sent in one write with ``Content-Length``; as a ``list`` of ``bytes``
    it is sent with ``Transfer-Encoding: chunked``, one HTTP chunk per item, each written and
    flushed separately (an empty item sends nothing but still counts as a step, e.g. for
    ``delay``). A ``bytes`` body counts as one chunk for ``drop_after`` / ``stall_after``.

    ``content-type`` defaults to ``text/event-stream`` for list bodies, ``application/json`` for
    bytes bodies starting with ``{`` or ``[``, and ``text/plain; charset=utf-8`` for other
    non-empty bytes. Entries in ``headers`` replace defaults (case-insensitively), except the
    framing headers ``Content-Length`` / ``Transfer-Encoding``, which the server always sets.
    A ``Connection: close`` header makes the server close the connection after this response.

    Timing and failures:

    * ``first_byte_delay``: seconds to wait before the status line is sent.
    * ``delay``: seconds to wait before each chunk after the first.
    * ``drop_after=n``: after ``n`` chunks have been sent, close the TCP connection without
      finishing the body (no chunked terminator, or fewer bytes than ``Content-Length``).
      For list bodies ``n >= len(body)`` sends every chunk but still no terminator; for a bytes
      body only ``drop_after=0`` truncates it. Clients see ``httpx.RemoteProtocolError``.
    * ``stall_after=n``: after ``n`` chunks, send nothing more and keep the connection open until
      the client goes away or the server stops (to exercise read timeouts).

    Example::

        ScriptedResponse(body=[b"data: 1\\n\\n", b"data: 2\\n\\n"], delay=0.1, drop_after=1)
        ScriptedResponse(status=429, body=b'{"error": {"message": "slow down"}}')
    """

    status: int = 200
    body: bytes | list[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    first_byte_delay: float = 0.0
    drop_after: int | None = None
    stall_after: int | None = None

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be in 100..599, not {self.status}")
        if isinstance(self.body, list):
            for i, chunk in enumerate(self.body):
                if not isinstance(chunk, bytes | bytearray):
                    raise TypeError(f"body[{i}] must be bytes, not {type(chunk).__name__}")
        elif not isinstance(self.body, bytes | bytearray):
            raise TypeError(f"body must be bytes or list[bytes], not {type(self.body).__name__}")
        if self.delay < 0 or self.first_byte_delay < 0:
            raise ValueError("delays must be >= 0")
        for name in ("drop_after", "stall_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0 or None")
        for key, value in self.headers.items():
            if any(c in f"{key}{value}" for c in "\r\n\0") or ":" in key or not key.strip():
                raise ValueError(f"invalid header {key!r}: {value!r}")

    @classmethod
    def from_json(cls, obj: Any, *, status: int = 200, **options: Any) -> ScriptedResponse:
        """A JSON answer: ``ScriptedResponse.from_json({"error": {...}}, status=400)``."""
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **options.pop("headers", {})}
        return cls(status=status, body=body, headers=headers, **options)

    @classmethod
    def from_sse(
        cls, events: Iterable[dict[str, Any] | str | bytes], *, done: bool = True, **options: Any
    ) -> ScriptedResponse:
        """A streamed SSE answer built with :func:`sse_chunks`, one event per chunk."""
        return cls(body=sse_chunks(events, done=done), **options)

    @property
    def chunks(self) -> list[bytes]:
        """The body as the list of writes the server makes."""
        if isinstance(self.body, list):
            return [bytes(c) for c in self.body]
        return [bytes(self.body)]


@dataclass
class RecordedRequest:
    """A request the server received. Header names are lower-cased (repeats joined by ``", "``)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    http_version: str = "HTTP/1.1"

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


Responder = Callable[[RecordedRequest], ScriptedResponse]


# --------------------------------------------------------------------------------------------
# Helpers to build bodies
# --------------------------------------------------------------------------------------------


def sse_chunks(events: Iterable[dict[str, Any] | str | bytes], *, done: bool = True) -> list[bytes]:
    """Encode events the way OpenAI-compatible APIs stream them, one event per chunk.

    A ``dict`` becomes ``data: {compact JSON, UTF-8}\\n\\n``; a ``str`` is the data payload as is
    (a multi-line string becomes several ``data:`` lines); ``bytes`` are passed through verbatim
    (for comments such as ``b": ping\\n\\n"``, ``event:`` fields or deliberately odd framing).
    ``done`` appends ``data: [DONE]\\n\\n``.

    Example::

        >>> sse_chunks([{"a": 1}, "hi"])
        [b'data: {"a":1}\\n\\n', b'data: hi\\n\\n', b'data: [DONE]\\n\\n']
    """
    out: list[bytes] = []
    for event in events:
        if isinstance(event, bytes | bytearray):
            out.append(bytes(event))
            continue
        payload = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        lines = payload.split("\n") if payload else [""]
        out.append("".join(f"data: {line}\n" for line in lines).encode("utf-8") + b"\n")
    if done:
        out.append(b"data: [DONE]\n\n")
    return out


_BLANK_LINE = re.compile(rb"(?>\r\n|\r|\n)(?>\r\n|\r|\n)")


def from_fixture(path: str | os.PathLike[str], chunk_size: int | None = None) -> list[bytes]:
    """Read a raw recorded response body (e.g. a captured SSE stream) and split it into chunks.

    With ``chunk_size=None`` the split is after every blank line, i.e. one SSE event per chunk
    (as servers usually flush). With an integer the bytes are cut every ``chunk_size`` bytes,
    which splits events, lines and UTF-8 characters across chunks, to test decoders.

    Example::

        ScriptedResponse(body=from_fixture("tests/fixtures/qwen_stream.sse", chunk_size=7))
    """
    with open(path, "rb") as f:
        data = f.read()
    if chunk_size is not None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be > 0")
        return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    chunks: list[bytes] = []
    start = 0
    for match in _BLANK_LINE.finditer(data):
        chunks.append(data[start : match.end()])
        start = match.end()
    if start < len(data):
        chunks.append(data[start:])
    return chunks


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _BadRequest(Exception):
    pass


def _has_close(connection_header: str) -> bool:
    return "close" in (token.strip().lower() for token in connection_header.split(","))


class _Connection:
    """Buffered reads from one client socket, with a pump that notices the client leaving."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.eof = False
        self._data = asyncio.Event()
        self._eof = asyncio.Event()
        self.pump_task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        # Always reading means a FIN/RST from the client is seen at once, even while the server
        # is sleeping between chunks or stalled. HTTP/1.1 clients (httpx) do not pipeline.
        try:
            while True:
                data = await self.reader.read(_READ_SIZE)
                if not data:
                    break
                self.buf += data
                self._data.set()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.eof = True
            self._eof.set()
            self._data.set()

    async def _more(self) -> bool:
        if self.eof:
            return False
        self._data.clear()
        await self._data.wait()
        return True

    async def read_until(self, sep: bytes, limit: int) -> bytes | None:
        """Bytes up to and including ``sep``; None if the client closed first."""
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[: i + len(sep)])
                del self.buf[: i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise _BadRequest("request head too large")
            if not self.buf and self.eof:
                return None
            if not await self._more():
                return None

    async def read_exactly(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not await self._more():
                return None
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def gone_within(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True as soon as the client has closed the connection."""
        if self.eof:
            return True
        if timeout <= 0:
            await asyncio.sleep(0)
            return self.eof
        try:
            await asyncio.wait_for(self._eof.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_gone(self) -> None:
        await self._eof.wait()


class LoopbackServer:
    """A real HTTP/1.1 server on ``127.0.0.1`` that plays :class:`ScriptedResponse` objects.

    ``responses`` is either an iterable (played in order; more can be added with
    :meth:`enqueue`) or a callable ``responder(request) -> ScriptedResponse`` called on the server
    thread for every request once the queue is empty. With neither left, the server answers
    ``500`` with an OpenAI-style JSON error saying the script ran out.

    Every request is appended to :attr:`requests` before it is answered. :attr:`disconnects`
    counts clients that closed the connection before their response was completely sent
    (during ``first_byte_delay``, between chunks, or while stalled); :meth:`wait_for_disconnect`
    waits for that, to check that cancelling a stream really closes it.

    Keep-alive is supported (several requests on one connection); ``Connection: close`` from
    either side ends the connection after the response. Request bodies are read by
    ``Content-Length`` or chunked encoding; ``Expect: 100-continue`` is honoured.

    Example::

        with LoopbackServer() as server:
            server.enqueue(ScriptedResponse(status=401, body=b'{"error": {"message": "no"}}'))
            r = httpx.post(server.url + "/v1/chat/completions", json={})
            assert r.status_code == 401 and server.requests[0].method == "POST"
    """

    def __init__(self, responses: Iterable[ScriptedResponse] | Responder = ()) -> None:
        self._queue: deque[ScriptedResponse] = deque()
        self._responder: Responder | None = None
        if callable(responses):
            self._responder = responses
        else:
            self._queue.extend(responses)
        self._cond = threading.Condition()
        self.requests: list[RecordedRequest] = []
        """Every request received, in order."""
        self.errors: list[str] = []
        """Internal problems (a failing responder, unexpected exceptions); normally empty."""
        self._disconnects = 0
        self._connections = 0
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._stopping = False
        self._stopped = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._transports: weakref.WeakSet[asyncio.WriteTransport] = weakref.WeakSet()

    # -- public API ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash). Available after :meth:`start`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LoopbackServer is not started")
        return self._port

    @property
    def disconnects(self) -> int:
        """How many times a client closed the connection while its response was in progress."""
        with self._cond:
            return self._disconnects

    @property
    def connections(self) -> int:
        """How many TCP connections have been accepted (1 for a keep-alive client's requests)."""
        with self._cond:
            return self._connections

    def start(self) -> LoopbackServer:
        """Bind a free port and serve in a daemon thread. Returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("LoopbackServer can only be started once")
        self._thread = threading.Thread(target=self._thread_main, name="thinkbook-loopback-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            raise RuntimeError("LoopbackServer failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Close the listener and every connection (mid-stream or stalled), join the thread.

        Idempotent; safe to call if :meth:`start` failed or was never called.
        """
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None or self._stopped:
            return
        self._stopped = True
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        if thread is threading.current_thread():
            return
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError("LoopbackServer thread did not stop")

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def enqueue(self, *responses: ScriptedResponse) -> None:
        """Append responses to the script (first in, first out). Thread-safe."""
        with self._cond:
            self._queue.extend(responses)

    @property
    def pending(self) -> int:
        """How many queued responses have not been used yet."""
        with self._cond:
            return len(self._queue)

    def wait_for_disconnect(self, timeout: float = 5.0, *, count: int = 1) -> bool:
        """Wait until :attr:`disconnects` is at least ``count``; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._disconnects >= count, timeout)

    def wait_for_requests(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` requests have been received; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= count, timeout)

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not started"
        return f"<LoopbackServer {where} requests={len(self.requests)}>"

    # -- server thread ------------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # pragma: no cover - reported via start() or errors
            if not self._ready.is_set():
                self._startup_error = exc
            else:
                self._record_error(f"server loop crashed: {exc!r}")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._on_loop_exception)
        self._loop = loop
        self._stop_event = asyncio.Event()
        server = await asyncio.start_server(self._on_connect, "127.0.0.1", 0)
        self._port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            self._stopping = True
            server.close()
            await self._close_all()
            with contextlib.suppress(Exception):
                await server.wait_closed()
            await self._close_all()

    async def _close_all(self) -> None:
        for transport in list(self._transports):
            transport.abort()
        # Handlers swallow their cancellation, so this finishes promptly.
        for _ in range(3):
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0)  # let aborted transports close their sockets
        for transport in list(self._transports):
            transport.abort()
        await asyncio.sleep(0)

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message", "asyncio error"))
        self._record_error(f"{message}: {exc!r}" if exc is not None else message)

    def _record_error(self, message: str) -> None:
        logger.debug("LoopbackServer: %s", message)
        with self._cond:
            self.errors.append(message)
            self._cond.notify_all()

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback (not a coroutine) so that asyncio does not attach its own done
        # callback, which would log our cancellations at shutdown as errors.
        self._transports.add(writer.transport)
        with self._cond:
            self._connections += 1
        if self._stopping:
            writer.transport.abort()
            return
        task = asyncio.get_running_loop().create_task(self._handle(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(reader, writer)
        try:
            await self._serve(conn)
        except asyncio.CancelledError:
            pass  # server stopping
        except _BadRequest as exc:
            with contextlib.suppress(Exception):
                body = json.dumps({"error": {"message": f"bad request: {exc}"}}).encode()
                writer.write(self._head(400, {"Content-Type": "application/json"}, body, True))
                writer.write(body)
        except Exception as exc:
            self._record_error(f"connection handler failed: {exc!r}")
        finally:
            conn.pump_task.cancel()
            if self._stopping:
                writer.transport.abort()
            else:
                writer.close()  # flushes what was written, then closes

    async def _serve(self, conn: _Connection) -> None:
        while not self._stopping:
            request = await self._read_request(conn)
            if request is None:
                return
            with self._cond:
                self.requests.append(request)
                self._cond.notify_all()
            response = self._pick_response(request)
            connection = request.headers.get("connection", "")
            http10 = request.http_version == "HTTP/1.0" and "keep-alive" not in connection.lower()
            close = (
                http10
                or _has_close(connection)
                or any(k.lower() == "connection" and _has_close(v) for k, v in response.headers.items())
            )
            finished = await self._send(conn, request, response, close)
            if close or not finished:
                return

    async def _read_request(self, conn: _Connection) -> RecordedRequest | None:
        head = await conn.read_until(b"\r\n\r\n", _MAX_HEAD)
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        while lines and not lines[0]:  # tolerate stray CRLFs between requests
            lines.pop(0)
        parts = lines[0].split(" ") if lines else []
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _BadRequest(f"malformed request line {lines[0] if lines else ''!r}")
        method, path, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequest(f"malformed header line {line!r}")
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            conn.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(conn)
        else:
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise _BadRequest("bad Content-Length") from None
            if length < 0:
                raise _BadRequest("bad Content-Length")
            body = await conn.read_exactly(length)
        if body is None:
            return None
        return RecordedRequest(method=method, path=path, headers=headers, body=body, http_version=version)

    async def _read_chunked(self, conn: _Connection) -> bytes | None:
        body = bytearray()
        while True:
            line = await conn.read_until(b"\r\n", _MAX_HEAD)
            if line is None:
                return None
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = await conn.read_until(b"\r\n", _MAX_HEAD)
                    if trailer is None:
                        return None
                    if trailer == b"\r\n":
                        return bytes(body)
            data = await conn.read_exactly(size + 2)
            if data is None:
                return None
            body += data[:-2]

    def _pick_response(self, request: RecordedRequest) -> ScriptedResponse:
        with self._cond:
            if self._queue:
                return self._queue.popleft()
        if self._responder is not None:
            try:
                return self._responder(request)
            except Exception as exc:
                self._record_error(f"responder failed: {exc!r}")
                return ScriptedResponse.from_json(
                    {
                        "error": {
                            "message": f"LoopbackServer responder raised {exc!r}",
                            "type": "loopback_responder_error",
                        }
                    },
                    status=500,
                )
        message = (
            f"LoopbackServer script exhausted: no scripted response left for "
            f"{request.method} {request.path} (request #{len(self.requests)})"
        )
        return ScriptedResponse.from_json(
            {"error": {"message": message, "type": "loopback_script_exhausted"}}, status=500
        )

    def _client_gone(self) -> None:
        with self._cond:
            self._disconnects += 1
            self._cond.notify_all()

    @staticmethod
    def _head(status: int, headers: dict[str, str], body: bytes | None, close: bool) -> bytes:
        """Status line and headers; ``body=None`` means chunked framing."""
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {status} {reason}".rstrip()]
        framing = {"content-length", "transfer-encoding"}
        lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in framing]
        no_body = status < 200 or status in (204, 304)
        if not no_body:
            if body is None:
                lines.append("Transfer-Encoding: chunked")
            else:
                lines.append(f"Content-Length: {len(body)}")
        if close and not any(k.lower() == "connection" for k in headers):
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    @staticmethod
    def _headers_for(response: ScriptedResponse) -> dict[str, str]:
        headers = dict(response.headers)
        if not any(k.lower() == "content-type" for k in headers):
            body = response.body
            if isinstance(body, list):
                headers["Content-Type"] = "text/event-stream"
            elif body.lstrip()[:1] in (b"{", b"["):
                headers["Content-Type"] = "application/json"
            elif body:
                headers["Content-Type"] = "text/plain; charset=utf-8"
        return headers

    async def _send(self, conn: _Connection, request: RecordedRequest, response: ScriptedResponse, close: bool) -> bool:
        """Play one response. True if it was sent completely and the connection is reusable."""
        writer = conn.writer
        if response.first_byte_delay and await conn.gone_within(response.first_byte_delay):
            self._client_gone()
            return False
        chunked = isinstance(response.body, list)
        chunks = response.chunks
        no_body = request.method == "HEAD" or response.status < 200 or response.status in (204, 304)
        head = self._head(response.status, self._headers_for(response), None if chunked else chunks[0], close)
        if no_body:
            chunks = []
        try:
            writer.write(head)
            await writer.drain()
            for i in range(len(chunks) + 1):
                if response.drop_after is not None and i >= response.drop_after:
                    writer.close()  # flush what was sent, then FIN: the body stays unfinished
                    return False
                if response.stall_after is not None and i >= response.stall_after:
                    await conn.wait_gone()
                    self._client_gone()
                    return False
                if i == len(chunks):
                    break
                # Between chunks, wait (at least one loop turn) watching for the client leaving.
                gone = await conn.gone_within(response.delay) if i > 0 else conn.eof
                if gone:
                    self._client_gone()
                    return False
                chunk = chunks[i]
                if chunk:
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                    await writer.drain()
            if chunked and not no_body:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            self._client_gone()
            return False
        return True


# --------------------------------------------------------------------------------------------
# Recording widget comms (for testing views without a browser)
# --------------------------------------------------------------------------------------------


def recording_comms() -> contextlib.AbstractContextManager[list[RecordingComm]]:
    """Within the block, every widget created talks to a :class:`RecordingComm`.

    Example::

        with recording_comms() as comms:
            view = ThinkView(model="qwen-plus")
            view.push([ReasoningDelta("hmm")]); view.flush()
        comms[0].custom_messages()  # [{"t": "d", "s": 1, "r": "hmm", ...}]
    """
    return _recording_comms()


@contextlib.contextmanager
def _recording_comms() -> Iterator[list[RecordingComm]]:
    import comm  # the module attribute is what ipywidgets looks up

    created: list[RecordingComm] = []
    original = comm.create_comm

    def factory(*args: Any, **kwargs: Any) -> RecordingComm:
        recording = RecordingComm(*args, **kwargs)
        created.append(recording)
        return recording

    comm.create_comm = factory
    try:
        yield created
    finally:
        comm.create_comm = original


class RecordingComm(BaseComm):
    """A widget comm that keeps every message it would have sent to the browser, with its size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def publish_msg(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
    ) -> None:
        size = len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))
        size += sum(len(memoryview(b)) for b in buffers or ())
        self.messages.append({"msg_type": msg_type, "data": data, "bytes": size})

    def custom_messages(self) -> list[Any]:
        """The ``widget.send(...)`` payloads, in order."""
        return [
            m["data"]["content"]
            for m in self.messages
            if m["msg_type"] == "comm_msg" and m["data"].get("method") == "custom"
        ]

    def state_updates(self) -> list[dict[str, Any]]:
        """The synced-trait updates, in order."""
        return [
            m["data"]["state"]
            for m in self.messages
            if m["msg_type"] == "comm_msg" and m["data"].get("method") == "update"
        ]

    @property
    def bytes_sent(self) -> int:
        """Bytes of every message after the initial open (what streaming cost)."""
        return sum(m["bytes"] for m in self.messages if m["msg_type"] == "comm_msg")


def openai_events(
    reasoning: Iterable[str],
    answer: Iterable[str],
    usage: dict[str, Any] | None = None,
    *,
    model: str = "qwen-plus",
    chunk_id: str = "chatcmpl-test",
) -> list[dict[str, Any]]:
    """Chunks of an OpenAI-compatible (Bailian compatible-mode) thinking stream.

    One chunk per reasoning piece, then one per answer piece, the ``stop`` chunk and, when given,
    the final usage chunk (``choices: []``); pass them to :meth:`ScriptedResponse.from_sse`,
    which adds ``[DONE]``.
    """
    base = {"id": chunk_id, "object": "chat.completion.chunk", "model": model}
    events: list[dict[str, Any]] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None, "reasoning_content": r}}]}
        for r in reasoning
    ]
    events += [{**base, "choices": [{"index": 0, "delta": {"content": a}}]} for a in answer]
    events.append({**base, "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}]})
    if usage is not None:
        events.append({**base, "choices": [], "usage": usage})
    return events
