"""How the engine judges failures: foreign exceptions and non-answers become ``ThinkbookError``.

:func:`as_thinkbook_error` is the one place where an exception from httpx (or below it) becomes a
thinkbook error; :func:`retryable` says whether sending again may help; :func:`status_error` and
:func:`not_an_answer` judge responses that are not a streamed answer. Every message built from
server data or exception text goes through :func:`redact` with the request's own key.
"""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any

import httpx

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    InternalServerError,
    RateLimitError,
    ResponseFormatError,
    StreamInterruptedError,
    ThinkbookError,
    error_for_status,
    redact,
)
from ._pipeline import StreamPipeline
from ._redact import credentials_in
from ._request import PreparedRequest
from ._retry import is_retryable_status

if TYPE_CHECKING:
    from ._engine import StreamRun


# An error body is read whole to judge it; a server cannot make that unbounded.
MAX_ERROR_BODY = 1 << 20


async def read_capped(response: httpx.Response) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for data in response.aiter_bytes():
        parts.append(data)
        size += len(data)
        if size >= MAX_ERROR_BODY:
            break
    return b"".join(parts)[:MAX_ERROR_BODY]


def request_secrets(request: PreparedRequest) -> tuple[str | None, ...]:
    """The request's own credentials: its key and whatever ``user:password@`` its URL carries."""
    return (request.endpoint.api_key, *credentials_in(request.endpoint.url))


def retryable(error: ThinkbookError, cause: Exception) -> bool:
    """Whether sending again may work (the caller checks that nothing was streamed yet)."""
    if isinstance(error, APIStatusError):
        if error.status_code is None:
            # An in-stream error event names its failure by code (Throttling, InternalError).
            return isinstance(error, RateLimitError | InternalServerError)
        return is_retryable_status(error.status_code)
    if isinstance(error, StreamInterruptedError | APITimeoutError):
        return True
    # A network failure, not a refusal thinkbook decided on (a redirect into the replay...).
    return isinstance(error, APIConnectionError) and isinstance(cause, httpx.TransportError)


def as_thinkbook_error(exc: Exception, run: StreamRun) -> ThinkbookError:
    """The one place where a foreign exception becomes a :class:`ThinkbookError`.

    Errors thinkbook raised itself pass unchanged; the caller raises the result ``from exc``.
    An exception this does not know is a bug and propagates as it is. Two kinds are mapped where
    they arise, by the helpers below, because only there is their meaning certain: ``ImportError``
    while making the client (:func:`missing_proxy_support`) and values that cannot be encoded
    while building or sending the request (:func:`bad_request_value`).
    """
    if isinstance(exc, ThinkbookError):
        return exc
    request = run.request
    secrets = request_secrets(request)
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


def first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    first = group.exceptions[0]
    return first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def missing_proxy_support(exc: ImportError) -> ConfigurationError:
    # httpx builds a transport per proxy from the environment when the client is made; a
    # socks5:// one needs the optional socksio package.
    return ConfigurationError(
        "a SOCKS proxy is configured (ALL_PROXY / HTTPS_PROXY / HTTP_PROXY), but SOCKS "
        f'support is not installed: pip install "httpx[socks]" ({redact(str(exc))})'
    )


def bad_request_value(exc: Exception, request: PreparedRequest) -> ConfigurationError:
    """A value in the request that HTTP cannot carry (a non-ASCII key, a non-JSON body value...)."""
    secrets = request_secrets(request)
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
    return redact(shown, *request_secrets(run.request))


def _describe_timeout(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.ReadTimeout):
        return "read timeout"
    return type(exc).__name__


def not_an_answer(response: httpx.Response, base_url: str, secrets: tuple[str | None, ...]) -> ResponseFormatError:
    """A status that is neither an answer nor an error: 204/205, or a redirect with nowhere to go."""
    status = response.status_code
    where = redact(base_url, *secrets)
    if status in (204, 205):
        reason = redact(response.reason_phrase, *secrets) or "No Content"
        what = f"HTTP {status} ({reason[:60]}): it accepted the request but sent no answer"
    elif 300 <= status < 400:
        what = f"HTTP {status}, a redirect, but without a Location header to follow"
    else:
        what = f"HTTP {status}, which is not an answer"
    return ResponseFormatError(
        f"{where} answered {what}; check base_url (it should be the API's base URL, e.g. ending in /v1)"
    )


def status_error(
    run: StreamRun, response: httpx.Response, raw: bytes, secrets: tuple[str | None, ...]
) -> APIStatusError:
    """The error for a 4xx/5xx response, whatever its body: JSON, text, or an event stream."""
    status = response.status_code
    protocol = run.request.endpoint.wire_protocol
    request_id = response.headers.get("x-request-id") or response.headers.get("x-dashscope-request-id")
    text = raw.decode("utf-8", errors="replace")
    if "event-stream" in response.headers.get("content-type", "") or text.lstrip().startswith(("data:", "event:")):
        # DashScope sends its errors as SSE error events under 4xx statuses; other servers send
        # a 429/5xx with an event-stream type. The event says what happened when there is one.
        pipeline = StreamPipeline(protocol, http_status=status, secrets=secrets)
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
    return error_for_status(status, body, request_id=request_id, secrets=secrets, fields=protocol.error_fields)
