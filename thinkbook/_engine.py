"""The engine: one background event loop and one shared ``httpx.AsyncClient`` per process.

Everything that streams goes through :meth:`Engine.stream_batches`. Running the loop in its own
thread keeps streams flowing while a notebook cell runs other code, and lets blocking callers wait
in short, interruptible steps (no ``nest_asyncio``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import httpx

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    StreamInterruptedError,
    ThinkbookError,
    error_for_status,
)
from ._pipeline import StreamPipeline
from ._replay import REPLAY_HOST, ReplayTransport
from ._request import PreparedRequest
from ._retry import backoff_delay, is_retryable_status, parse_retry_after
from ._types import ThinkEvent, ThinkResult

T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
# Thinking models can go quiet for minutes before the first token: the read gap is generous.
DEFAULT_READ_TIMEOUT = 600.0


def make_timeout(read_timeout: float | None) -> httpx.Timeout:
    read = DEFAULT_READ_TIMEOUT if read_timeout is None else read_timeout
    return httpx.Timeout(connect=min(CONNECT_TIMEOUT, read), read=read, write=30.0, pool=30.0)


class StreamRun:
    """One request in flight: holds the pipeline so callers can read the partial result any time."""

    def __init__(self, request: PreparedRequest) -> None:
        self.request = request
        self.pipeline: StreamPipeline | None = None
        self.attempts = 0
        # Set once the stream has closed and its view is final, even after a cancellation
        # (a cancelled future reports at once, before that).
        self.settled = threading.Event()
        # Set to a list to keep the raw bytes (seconds since the request, bytes) of the final
        # attempt, for --record; the status and content type come with them.
        self.recording: list[tuple[float, bytes]] | None = None
        self.response_status = 0
        self.response_content_type = ""

    def partial(self) -> ThinkResult | None:
        """What streamed so far, or None if no text arrived."""
        if self.pipeline is None or not self.pipeline.acc.has_text:
            return None
        return self.pipeline.partial()


class Engine:
    """Owns the background loop thread, the HTTP client, retries, timeouts and cancellation.

    ``transport`` is injectable (e.g. ``httpx.MockTransport`` or a replay transport) for tests.
    """

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self._lock = threading.Lock()

    # --- loop and client ---------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="thinkbook-engine", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def in_engine_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def client(self) -> httpx.AsyncClient:
        """The shared client; only touch it from the engine loop."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=make_timeout(None),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
                follow_redirects=True,
                # Recorded answers replay through the very same client, decoder and views.
                mounts={f"http://{REPLAY_HOST}": ReplayTransport()},
            )
        return self._client

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the engine loop; cancel the returned future to cancel it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        """Close the client and stop the loop (tests; interpreter exit does this implicitly)."""
        if self._loop is None:
            return
        if self._client is not None:
            client, self._client = self._client, None
            asyncio.run_coroutine_threadsafe(client.aclose(), self._loop).result(timeout=5)
        loop = self._loop
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                loop.close()  # an unclosed loop warns (ResourceWarning) when collected
        self._loop = None
        self._thread = None

    # --- streaming ---------------------------------------------------------------------------

    async def stream_batches(
        self,
        run: StreamRun,
        *,
        max_retries: int = 2,
        timeout: float | None = None,
    ) -> AsyncIterator[list[ThinkEvent]]:
        """Send ``run.request`` and yield event batches (one per network read), retrying safely.

        Retries (up to ``max_retries``) cover connection errors, 408, 409, 429 and 5xx, but only
        before any text arrived; afterwards an error carries ``.partial`` instead of re-sending.
        Must run on the engine loop.
        """
        request = run.request
        secrets = (request.endpoint.api_key,)
        client = self.client()
        attempt = 0
        while True:
            run.attempts = attempt + 1
            started = time.monotonic()
            retry_after: float | None = None
            try:
                async with client.stream(
                    "POST",
                    request.endpoint.url,
                    headers=request.headers(),
                    json=request.body,
                    timeout=make_timeout(timeout),
                ) as response:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    pipeline = StreamPipeline(
                        request.endpoint.protocol,
                        model=request.model,
                        started=started,
                        http_status=response.status_code,
                        secrets=secrets,
                    )
                    run.pipeline = pipeline
                    run.response_status = response.status_code
                    run.response_content_type = response.headers.get("content-type", "")
                    recording = run.recording
                    if recording is not None:
                        recording.clear()  # only the attempt that answered is kept
                    if response.status_code >= 400 and "event-stream" not in run.response_content_type:
                        raise _status_error(response, await response.aread(), secrets)
                    async for data in response.aiter_bytes():
                        if recording is not None:
                            recording.append((time.monotonic() - started, data))
                        events = pipeline.feed(data)
                        if events:
                            yield events
                    yield pipeline.finish()
                    return
            except APIStatusError as exc:
                if run.partial() is None and attempt < max_retries and is_retryable_status(exc.status_code):
                    await asyncio.sleep(backoff_delay(attempt, retry_after))
                    attempt += 1
                    continue
                raise
            except httpx.TimeoutException as exc:
                error: ThinkbookError = APITimeoutError(
                    f"no data from {request.endpoint.base_url} for too long ({_describe_timeout(exc)}); "
                    "check the server, or pass a larger timeout=",
                    partial=run.partial(),
                )
                if run.partial() is None and attempt < max_retries:
                    await asyncio.sleep(backoff_delay(attempt))
                    attempt += 1
                    continue
                raise error from exc
            except httpx.TransportError as exc:
                partial = run.partial()
                if partial is not None:
                    raise StreamInterruptedError(
                        f"the connection broke while streaming ({type(exc).__name__}); the text "
                        "received so far is in the error's .partial",
                        partial=partial,
                    ) from exc
                if attempt < max_retries:
                    await asyncio.sleep(backoff_delay(attempt))
                    attempt += 1
                    continue
                raise APIConnectionError(
                    f"could not reach {request.endpoint.base_url} ({type(exc).__name__}: {exc}); "
                    "check base_url, the network, or that the local server is running"
                ) from exc


def _describe_timeout(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.ReadTimeout):
        return "read timeout"
    return type(exc).__name__


def _status_error(response: httpx.Response, raw: bytes, secrets: tuple[str | None, ...]) -> APIStatusError:
    import json

    text = raw.decode("utf-8", errors="replace")
    body: Any
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    return error_for_status(
        response.status_code,
        body,
        request_id=response.headers.get("x-request-id") or response.headers.get("x-dashscope-request-id"),
        secrets=secrets,
    )


_default_engine: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The per-process engine (one loop, one client) every front door shares."""
    global _default_engine
    with _default_lock:
        if _default_engine is None:
            _default_engine = Engine()
        return _default_engine


def set_default_engine(engine: Engine | None) -> Engine | None:
    """Swap the shared engine (tests, replay); returns the previous one."""
    global _default_engine
    with _default_lock:
        previous, _default_engine = _default_engine, engine
        return previous
