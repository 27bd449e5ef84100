"""The engine: one background event loop and one shared ``httpx.AsyncClient`` per process.

Everything that streams goes through :meth:`Engine.stream_batches`. Running the loop in its own
thread keeps streams flowing while a notebook cell runs other code, and lets blocking callers wait
in short, interruptible steps (no ``nest_asyncio``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import httpx

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    ResponseFormatError,
    StreamInterruptedError,
    ThinkbookError,
    error_for_status,
    redact,
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
                # httpx builds a transport per proxy from the environment when the client is
                # made; a socks5:// one needs the optional socksio package.
                raise ConfigurationError(
                    "a SOCKS proxy is configured (ALL_PROXY / HTTPS_PROXY / HTTP_PROXY), but SOCKS "
                    f'support is not installed: pip install "httpx[socks]" ({redact(str(exc))})'
                ) from exc
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
        what escapes is a :class:`ThinkbookError` (see :func:`_as_thinkbook_error`). Must run on
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
                error = _as_thinkbook_error(exc, run)
                if run.partial() is None and attempt < max_retries and _retryable(error, exc):
                    await asyncio.sleep(backoff_delay(attempt, run.retry_after))
                    attempt += 1
                    continue
                if error is exc:
                    raise
                raise error from exc

    async def _attempt(self, run: StreamRun, timeout: float | None) -> AsyncIterator[list[ThinkEvent]]:
        """One request and its response, start to end."""
        request = run.request
        secrets = (request.endpoint.api_key,)
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
                raw = await _read_capped(response)
                if recording is not None:
                    recording.append((time.monotonic() - started, raw))
                raise _status_error(run, response, raw, secrets)
            if not 200 <= status < 300 or status in (204, 205):
                raise _not_an_answer(response, request.endpoint.base_url, secrets)
            pipeline = StreamPipeline(
                request.endpoint.protocol,
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
            raise _bad_request_value(exc, request) from exc
        origin_is_replay = outgoing.url.host == REPLAY_HOST
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = await client.send(outgoing, stream=True)
            except (httpx.InvalidURL, UnicodeEncodeError, ValueError, OverflowError) as exc:
                raise _bad_request_value(exc, request) from exc
            except ExceptionGroup as group:
                # anyio's connect wraps e.g. "port must be 0-65535" (OverflowError) in a group.
                leaf = _first_leaf(group)
                if not isinstance(leaf, ValueError | OverflowError):
                    raise
                raise _bad_request_value(leaf, request) from group
            following = response.next_request
            if following is None:
                return response
            await response.aclose()
            if following.url.host == REPLAY_HOST and not origin_is_replay:
                raise APIConnectionError(
                    f"{redact(str(outgoing.url), *_secrets(request))} redirected to thinkbook's offline "
                    "replay address; refused (a server may not make the client read local recordings)"
                )
            outgoing = following
        raise APIConnectionError(
            f"{redact(request.endpoint.base_url, *_secrets(request))} redirected more than {MAX_REDIRECTS} "
            f"times (last to {redact(str(outgoing.url), *_secrets(request))}); check base_url"
        )


# An error body is read whole to judge it; a server cannot make that unbounded.
MAX_ERROR_BODY = 1 << 20


async def _read_capped(response: httpx.Response) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for data in response.aiter_bytes():
        parts.append(data)
        size += len(data)
        if size >= MAX_ERROR_BODY:
            break
    return b"".join(parts)[:MAX_ERROR_BODY]


def _secrets(request: PreparedRequest) -> tuple[str | None, ...]:
    return (request.endpoint.api_key,)


def _retryable(error: ThinkbookError, cause: Exception) -> bool:
    """Whether sending again may work (the caller checks that nothing was streamed yet)."""
    if isinstance(error, APIStatusError):
        return is_retryable_status(error.status_code)
    if isinstance(error, StreamInterruptedError | APITimeoutError):
        return True
    # A network failure, not a refusal thinkbook decided on (a redirect into the replay...).
    return isinstance(error, APIConnectionError) and isinstance(cause, httpx.TransportError)


def _as_thinkbook_error(exc: Exception, run: StreamRun) -> ThinkbookError:
    """The one place where a foreign exception becomes a :class:`ThinkbookError`.

    Errors thinkbook raised itself pass unchanged; the caller raises the result ``from exc``.
    An exception this does not know is a bug and propagates as it is.
    """
    if isinstance(exc, ThinkbookError):
        return exc
    request = run.request
    secrets = _secrets(request)
    base_url = redact(request.endpoint.base_url, *secrets)
    partial = run.partial()
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"no data from {base_url} for too long ({_describe_timeout(exc)}); check the server, or pass "
            "a larger timeout=" + (" (the text received so far is in the error's .partial)" if partial else ""),
            partial=partial,
        )
    if isinstance(exc, httpx.DecodingError):
        return ResponseFormatError(
            f"the server's compressed body from {base_url} is corrupt ({redact(str(exc), *secrets)})"
            + ("; the text received so far is in the error's .partial" if partial else "; try again later"),
            partial=partial,
        )
    pipeline = run.pipeline
    if isinstance(exc, httpx.TransportError) and pipeline is not None:
        # The answer had started (headers arrived) and its body broke off.
        try:
            pipeline.finish(broken=type(exc).__name__)
        except ThinkbookError as error:
            return error
        return StreamInterruptedError(  # finished_at_end() said no, so finish() raises: unreachable
            f"the connection broke ({type(exc).__name__})", partial=partial
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigurationError(
            f"cannot send to {base_url}: {redact(str(exc), *secrets)}; base_url must start with http:// or https://"
        )
    if isinstance(exc, httpx.TransportError):
        proxy = _proxy_for(exc, run)
        via = f" through the proxy {proxy} (from the environment)" if proxy else ""
        advice = (
            "check that the proxy is running, or add the host to NO_PROXY"
            if proxy
            else "check base_url, the network, or that the local server is running"
        )
        return APIConnectionError(
            f"could not reach {base_url}{via} ({type(exc).__name__}: {redact(str(exc), *secrets)}); {advice}"
        )
    if isinstance(exc, httpx.HTTPError | httpx.InvalidURL | UnicodeError):
        return APIConnectionError(f"request to {base_url} failed ({type(exc).__name__}: {redact(str(exc), *secrets)})")
    raise exc


def _first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _bad_request_value(exc: Exception, request: PreparedRequest) -> ConfigurationError:
    """A value in the request that HTTP cannot carry (a non-ASCII key, a non-JSON body value...)."""
    secrets = _secrets(request)
    if isinstance(exc, UnicodeEncodeError) and exc.encoding.lower().replace("-", "") == "utf8":
        what = "the prompt or a body value has a character that cannot be sent as UTF-8 (a lone surrogate?)"
    elif isinstance(exc, UnicodeEncodeError):
        what = "a header (the API key?) or the URL has characters HTTP headers cannot carry; use ASCII only"
    elif isinstance(exc, httpx.InvalidURL):
        what = f"base_url is not a valid URL: {redact(request.endpoint.base_url, *secrets)}"
    elif isinstance(exc, TypeError | ValueError) and "JSON" in str(exc):
        what = "the request body has a value JSON cannot encode (check extra body fields)"
    else:
        what = "an option has a value that cannot be sent (check timeout=, base_url and extra body fields)"
    return ConfigurationError(f"{what} ({type(exc).__name__}: {redact(str(exc), *secrets)})")


def _proxy_for(exc: httpx.TransportError, run: StreamRun) -> str | None:
    """The environment proxy httpx went through for this request, credentials hidden; else None."""
    try:
        url = exc.request.url
    except RuntimeError:  # no request attached
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.host):  # NO_PROXY
        return None
    try:
        shown = str(httpx.URL(proxy if "://" in proxy else f"http://{proxy}").copy_with(username=None, password=None))
    except (httpx.InvalidURL, ValueError, TypeError):
        shown = "(unparsable proxy URL)"
    return redact(shown, *_secrets(run.request))


def _describe_timeout(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.ReadTimeout):
        return "read timeout"
    return type(exc).__name__


def _not_an_answer(response: httpx.Response, base_url: str, secrets: tuple[str | None, ...]) -> ResponseFormatError:
    """A status that is neither an answer nor an error: 204/205, or a redirect with nowhere to go."""
    status = response.status_code
    where = redact(base_url, *secrets)
    if status in (204, 205):
        what = f"HTTP {status} ({response.reason_phrase or 'No Content'}): it accepted the request but sent no answer"
    elif 300 <= status < 400:
        what = f"HTTP {status}, a redirect, but without a Location header to follow"
    else:
        what = f"HTTP {status}, which is not an answer"
    return ResponseFormatError(
        f"{where} answered {what}; check base_url (it should be the API's base URL, e.g. ending in /v1)"
    )


def _status_error(
    run: StreamRun, response: httpx.Response, raw: bytes, secrets: tuple[str | None, ...]
) -> APIStatusError:
    """The error for a 4xx/5xx response, whatever its body: JSON, text, or an event stream."""
    status = response.status_code
    request_id = response.headers.get("x-request-id") or response.headers.get("x-dashscope-request-id")
    text = raw.decode("utf-8", errors="replace")
    if "event-stream" in response.headers.get("content-type", "") or text.lstrip().startswith(("data:", "event:")):
        # DashScope sends its errors as SSE error events under 4xx statuses; other servers send
        # a 429/5xx with an event-stream type. The event says what happened when there is one.
        pipeline = StreamPipeline(run.request.endpoint.protocol, http_status=status, secrets=secrets)
        try:
            pipeline.feed(raw)
            pipeline.finish()
        except APIStatusError as error:
            # Nothing was shown: the error carries no partial text, so it is retried like any.
            error.partial = None
            if error.status_code is None:
                error.status_code = status
            return error
        except ThinkbookError:
            pass  # no error event in it: judged by its status below
    body: Any
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    return error_for_status(status, body, request_id=request_id, secrets=secrets)


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
