"""A raw-socket HTTP/1.1 server for fault injection: it frames, cuts and ends replies by hand.

:class:`thinkbook.testing.LoopbackServer` plays well-formed scripts; this one writes the bytes a
broken server or network would: a body cut at any byte offset, in chunked or close-delimited
framing, ended by a clean close (FIN) or a reset (RST), statuses and headers of any kind. Each
request is answered by ``handler(request)``, so concurrent clients can each get their own fault
(route on ``request.path``).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

Framing = Literal["chunked", "close", "length"]
Ending = Literal["fin", "rst"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What to send. ``parts`` are written separately (one HTTP chunk each when chunked), with
    ``gap`` seconds between them; ``cut`` sends only that many body bytes, then ends the
    connection (``ending``) without finishing the framing. ``cut=None`` sends a complete reply."""

    parts: tuple[bytes, ...] = ()
    status: int = 200
    reason: str = "OK"
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/event-stream"),)
    framing: Framing = "close"
    cut: int | None = None
    ending: Ending = "fin"
    gap: float = 0.0

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)


def event_parts(body: bytes) -> tuple[bytes, ...]:
    """``body`` split after each blank line: one SSE event per part (per chunk)."""
    pieces = body.split(b"\n\n")
    parts = [piece + b"\n\n" for piece in pieces[:-1]]
    if pieces[-1]:
        parts.append(pieces[-1])
    return tuple(parts)


Handler = Callable[[Request], Reply]


@dataclass
class FaultServer:
    """Listens on 127.0.0.1 (a free port) in a daemon thread; use as a context manager."""

    handler: Handler
    requests: list[Request] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultServer:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def start() -> None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(start())
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-server", daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        loop, server = self._loop, self._server
        assert loop is not None and server is not None and self._thread is not None

        async def stop() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(5)
        loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: several requests may share a connection
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                reply = self.handler(request)
                if not await _send(writer, reply):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            if not writer.is_closing():
                writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, path, headers, body)


async def _send(writer: asyncio.StreamWriter, reply: Reply) -> bool:
    """Write ``reply``; False when the connection was ended (cut, close-delimited or by the reply)."""
    head = [f"HTTP/1.1 {reply.status} {reply.reason}"]
    head += [f"{name}: {value}" for name, value in reply.headers]
    if reply.framing == "chunked":
        head.append("Transfer-Encoding: chunked")
    elif reply.framing == "length":
        head.append(f"Content-Length: {len(reply.body)}")
    else:
        head.append("Connection: close")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    budget = len(reply.body) if reply.cut is None else reply.cut
    for index, part in enumerate(reply.parts):
        if index and reply.gap:
            await writer.drain()
            await asyncio.sleep(reply.gap)
        piece = part[: max(budget, 0)]
        budget -= len(part)
        if reply.framing == "chunked" and (piece or budget >= 0):
            # A cut chunk still announces its full size: the client sees a short chunk.
            writer.write(f"{len(part):x}\r\n".encode() + piece + (b"\r\n" if len(piece) == len(part) else b""))
        elif piece:
            writer.write(piece)
        if budget < 0:
            break
    if reply.cut is None and reply.framing == "chunked":
        writer.write(b"0\r\n\r\n")
    await writer.drain()
    if reply.cut is None and reply.framing != "close":
        return True
    sock = writer.get_extra_info("socket")
    if reply.ending == "rst":
        # Linger 0: close() sends RST instead of FIN (what a crashed peer or a middlebox does).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()
    return False
