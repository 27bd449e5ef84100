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

from ._errors import APIConnectionError, redact
from ._failures import (
    as_thinkbook_error,
    bad_request_value,
    first_leaf,
    missing_proxy_support,
    not_an_answer,
    read_capped,
    request_secrets,
    retryable,
    status_error,
)
from ._pipeline import StreamPipeline
from ._redact import watch_secrets
from ._replay import REPLAY_HOST, ReplayTransport
from ._request import PreparedRequest
from ._retry import backoff_delay, parse_retry_after
from ._types import ThinkEvent, ThinkResult

T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
# Thinking models can go quiet for minutes before the first token: the read gap is generous.
DEFAULT_READ_TIMEOUT = 600.0


# Redirects followed before giving up (httpx's own default is 20; an API needs one or two).
MAX_REDIRECTS = 5


def make_timeout(read_timeout: float | None) -> httpx.Timeout:
    """The per-request timeouts. Waiting for a pooled connection has none (``pool=None``): it
    is not a failure of the server, only many calls at once, and each call's own read and
    connect timeouts still apply once it has a connection."""
    read = DEFAULT_READ_TIMEOUT if read_timeout is None else read_timeout
    return httpx.Timeout(connect=min(CONNECT_TIMEOUT, read), read=read, write=30.0, pool=None)


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
        # The current attempt's Retry-After, in seconds (None: the server did not say).
        self.retry_after: float | None = None

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
            try:
                self._client = httpx.AsyncClient(
                    transport=self._transport,
                    timeout=make_timeout(None),
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
                    # Followed by the engine itself, hop by hop: see _open.
                    follow_redirects=False,
                    # Recorded answers replay through the very same client, decoder and views.
                    mounts={f"http://{REPLAY_HOST}": ReplayTransport()},
                )
            except ImportError as exc:
                raise missing_proxy_support(exc) from exc
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

        Retries (up to ``max_retries``) cover connection failures, timeouts, a connection that
        ended before anything was streamed, 408, 409, 429 and 5xx, but only before any text
        arrived; afterwards an error carries ``.partial`` instead of re-sending. Whatever fails,
        what escapes is a :class:`ThinkbookError` (see :func:`as_thinkbook_error`). Must run on
        the engine loop.
        """
        attempt = 0
        while True:
            run.attempts = attempt + 1
            run.pipeline = None
            run.retry_after = None
            try:
                async for batch in self._attempt(run, timeout):
                    yield batch
                return
            except Exception as exc:  # not BaseException: cancellation passes through untouched
                error = as_thinkbook_error(exc, run)
                if run.partial() is None and attempt < max_retries and retryable(error, exc):
                    await asyncio.sleep(backoff_delay(attempt, run.retry_after))
                    attempt += 1
                    continue
                if error is exc:
                    raise
                raise error from exc

    async def _attempt(self, run: StreamRun, timeout: float | None) -> AsyncIterator[list[ThinkEvent]]:
        """One request and its response, start to end."""
        request = run.request
        secrets = request_secrets(request)
        watch_secrets(*secrets)
        started = time.monotonic()
        response = await self._open(self.client(), request, timeout)
        try:
            run.retry_after = parse_retry_after(response.headers.get("retry-after"))
            status = response.status_code
            content_type = response.headers.get("content-type", "")
            run.response_status = status
            run.response_content_type = content_type
            recording = run.recording
            if recording is not None:
                recording.clear()  # only the attempt that answered is kept
            if status >= 400:
                raw = await read_capped(response)
                if recording is not None:
                    recording.append((time.monotonic() - started, raw))
                raise status_error(run, response, raw, secrets)
            if not 200 <= status < 300 or status in (204, 205):
                raise not_an_answer(response, request.endpoint.base_url, secrets)
            pipeline = StreamPipeline(
                request.endpoint.wire_protocol,
                model=request.model,
                started=started,
                http_status=status,
                secrets=secrets,
                content_type=content_type,
                thinking_off=request.thinking_enabled is False,
            )
            run.pipeline = pipeline
            try:
                async for data in response.aiter_bytes():
                    if recording is not None:
                        recording.append((time.monotonic() - started, data))
                    events = pipeline.feed(data)
                    if events:
                        yield events
            except (httpx.TransportError, httpx.DecodingError):
                if not pipeline.finished_at_end():
                    raise
                # The model had said it was done: losing the connection before [DONE] or the
                # usage chunk loses nothing of the answer (usage stays None if it never came).
            yield pipeline.finish()
        finally:
            await response.aclose()

    async def _open(self, client: httpx.AsyncClient, request: PreparedRequest, timeout: float | None) -> httpx.Response:
        """Send the request, following redirects hop by hop: never into the offline replay."""
        try:
            outgoing = client.build_request(
                "POST",
                request.endpoint.url,
                headers=request.headers(),
                json=request.body,
                timeout=make_timeout(timeout),
            )
        except (httpx.InvalidURL, ValueError, TypeError, OverflowError) as exc:
            # H2 validates options before this; a value that still cannot be encoded ends here.
            raise bad_request_value(exc, request) from exc
        origin_is_replay = outgoing.url.host == REPLAY_HOST
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = await client.send(outgoing, stream=True)
            except (httpx.InvalidURL, UnicodeEncodeError, ValueError, OverflowError) as exc:
                raise bad_request_value(exc, request) from exc
            except ExceptionGroup as group:
                # anyio's connect wraps e.g. "port must be 0-65535" (OverflowError) in a group.
                leaf = first_leaf(group)
                if not isinstance(leaf, ValueError | OverflowError):
                    raise
                raise bad_request_value(leaf, request) from group
            following = response.next_request
            if following is None:
                return response
            await response.aclose()
            if following.url.host == REPLAY_HOST and not origin_is_replay:
                raise APIConnectionError(
                    f"{redact(str(outgoing.url), *request_secrets(request))} redirected to thinkbook's offline "
                    "replay address; refused (a server may not make the client read local recordings)"
                )
            outgoing = following
        raise APIConnectionError(
            f"{redact(request.endpoint.base_url, *request_secrets(request))} redirected more than {MAX_REDIRECTS} "
            f"times (last to {redact(str(outgoing.url), *request_secrets(request))}); check base_url"
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
