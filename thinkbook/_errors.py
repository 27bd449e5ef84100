"""Every error thinkbook raises, and the one place where server answers become them.

Exception tree::

    ThinkbookError
    ├── ConfigurationError          bad options or a missing key; raised before any request
    │   └── MissingAPIKeyError      no key for a provider that needs one (.variable names it)
    ├── APIError
    │   ├── APIStatusError          the server said no (.status_code, .code, .request_id, .body)
    │   │   ├── BadRequestError           400 (also content-filter codes such as DataInspectionFailed)
    │   │   ├── AuthenticationError       401
    │   │   ├── PermissionDeniedError     403
    │   │   ├── NotFoundError             404
    │   │   ├── RateLimitError            429
    │   │   └── InternalServerError       >= 500
    │   ├── APIConnectionError      could not reach the server, or the connection broke
    │   │   └── APITimeoutError     no answer within the timeout
    │   ├── StreamInterruptedError  the connection ended before the model finished
    │   ├── StreamStoppedError      the view's Stop button stopped an awaited stream (.partial)
    │   └── ResponseFormatError     the server sent something that is not the expected format
    └── (warnings) ThinkbookWarning

    ThinkInterrupted(KeyboardInterrupt)   the user stopped a blocking call; .partial holds the text

Every error raised after text started streaming carries ``.partial``: a ``ThinkResult`` with what
was received. API keys never appear in errors: :func:`error_for_status` redacts the request's
secrets (any shape) and URL credentials from the message, ``.code``, ``.request_id``, ``.body``
(deeply) and ``.partial``; every other message built from server data goes through :func:`redact`.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

from ._redact import credentials_in, redact, redact_data, remove_secrets
from ._types import ThinkResult

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "InternalServerError",
    "MissingAPIKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseFormatError",
    "StreamInterruptedError",
    "StreamStoppedError",
    "ThinkInterrupted",
    "ThinkbookError",
    "ThinkbookWarning",
    "credentials_in",
    "error_for_status",
    "redact",
    "redact_data",
    "remove_secrets",
]


class ThinkbookWarning(UserWarning):
    """A request was changed or may not do what was asked (e.g. a budget the model ignores).

    What merely happened (an answer replayed offline) is a notice, not a warning: one quiet line
    in a notebook or terminal (:func:`thinkbook._notices.notice`), this warning only elsewhere.
    """


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def warn_user(message: str) -> None:
    """Issue a :class:`ThinkbookWarning` pointing at the user's line, however deep the call."""
    level = 1
    frame = sys._getframe(0)  # this function is level 1; walk out of the package
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, ThinkbookWarning, stacklevel=level)


class ThinkbookError(Exception):
    """Base of every thinkbook error. ``.partial`` is what streamed before it, if anything."""

    def __init__(self, message: str, *, partial: ThinkResult | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.partial = partial


class ConfigurationError(ThinkbookError):
    """Bad options or missing credentials; always raised before a request is sent."""


class MissingAPIKeyError(ConfigurationError):
    """No API key was passed or found in the environment; ``.variable`` is the one to set."""

    def __init__(self, message: str, *, variable: str | None) -> None:
        super().__init__(message)
        self.variable = variable


class APIError(ThinkbookError):
    """Something went wrong talking to the model server."""


class APIStatusError(APIError):
    """The server answered with an error status or an error event."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        partial: ThinkResult | None = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.body = body


class BadRequestError(APIStatusError):
    """400: the request was rejected (bad parameter, content filter, ...)."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong, or belongs to another region."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or workspace."""


class NotFoundError(APIStatusError):
    """404: unknown model or wrong base URL."""


class RateLimitError(APIStatusError):
    """429: too many requests or quota used up."""


class InternalServerError(APIStatusError):
    """>= 500: the server failed; retried automatically before any text arrived."""


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before any text."""


class APITimeoutError(APIConnectionError):
    """No response (or no new data) within the timeout."""


class StreamInterruptedError(APIError):
    """The connection ended before the model said it had finished."""


class StreamStoppedError(APIError):
    """The view's Stop button stopped a stream that was being awaited; ``.partial`` has the text.

    (A blocking call stopped with Ctrl-C raises :class:`ThinkInterrupted` instead. An async
    stream cannot raise a ``KeyboardInterrupt``: asyncio would let it escape the event loop.)
    """


class ResponseFormatError(APIError):
    """The server sent data that is not the expected stream format (e.g. non-JSON ``data:``)."""


class ThinkInterrupted(KeyboardInterrupt):
    """A blocking call was interrupted (Ctrl-C, the kernel's stop button).

    Still a ``KeyboardInterrupt`` so loops and scripts stop as users expect; ``.partial`` holds
    what had streamed.
    """

    def __init__(self, partial: ThinkResult | None = None) -> None:
        super().__init__("stopped by the user")
        self.partial = partial


# --- mapping server answers to classes -----------------------------------------------------

_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}

# Error codes that arrive without a usable status (DashScope in-stream events, OpenRouter
# chunks): the code alone tells the class. Compared case-insensitively.
_CODE_CLASSES: dict[str, type[APIStatusError]] = {
    "invalidparameter": BadRequestError,
    "invalid_parameter_error": BadRequestError,
    "datainspectionfailed": BadRequestError,
    "data_inspection_failed": BadRequestError,
    "invalidapikey": AuthenticationError,
    "invalid_api_key": AuthenticationError,
    "accessdenied": PermissionDeniedError,
    "access_denied": PermissionDeniedError,
    "arrearage": PermissionDeniedError,
    "modelnotfound": NotFoundError,
    "model_not_found": NotFoundError,
    "throttling": RateLimitError,
    "limit_requests": RateLimitError,
    "insufficient_quota": RateLimitError,
    "internalerror": InternalServerError,
    "internal_error": InternalServerError,
    # Google RPC statuses (Gemini API error bodies and in-stream errors), and two Gemini codes.
    "invalid_argument": BadRequestError,
    "failed_precondition": BadRequestError,
    "out_of_range": BadRequestError,
    "prompt_blocked": BadRequestError,
    "unauthenticated": AuthenticationError,
    "api_key_invalid": AuthenticationError,
    "permission_denied": PermissionDeniedError,
    "not_found": NotFoundError,
    "resource_exhausted": RateLimitError,
    "internal": InternalServerError,
    "unavailable": InternalServerError,
    "deadline_exceeded": InternalServerError,
}

# What to do next, by class: appended to the server's message so every error says it.
_HINTS: dict[type[APIStatusError], str] = {
    AuthenticationError: (
        "check the API key; Bailian keys are per region, so a key from one region gets 401 on "
        "another: pass region=... or the matching base_url"
    ),
    PermissionDeniedError: "the key may not use this model or workspace (or the account is in arrears)",
    NotFoundError: "check the model name and base_url",
    RateLimitError: "wait and retry, or lower the request rate",
    InternalServerError: "the server failed; try again later",
}


def _class_for(status: int | None, code: str | None) -> type[APIStatusError]:
    if code:
        lowered = code.lower()
        for prefix, cls in _CODE_CLASSES.items():
            # "Throttling.RateQuota" and friends share their family's class.
            if lowered == prefix or lowered.startswith(prefix + "."):
                return cls
    if status is not None:
        if status in _STATUS_CLASSES:
            return _STATUS_CLASSES[status]
        if status >= 500:
            return InternalServerError
    return APIStatusError


# (code, message, request_id) read from a provider's error body.
ErrorFields = tuple[str | None, str | None, str | None]


def default_error_fields(body: Any) -> ErrorFields:
    """OpenAI-style ``{"error": {"code"|"type", "message"}}``, DashScope-style ``{"code",
    "message"}`` and Anthropic-style ``{"type": "error", "error": {"type", "message"}}``.

    A protocol whose error bodies differ reads them itself (``WireProtocol.error_fields``).
    """
    if not isinstance(body, dict):
        return None, None, None
    request_id = body.get("request_id") or body.get("id")
    err = body.get("error")
    if isinstance(err, dict):
        code = err.get("code") or err.get("type") or err.get("status")
        message = err.get("message")
    elif isinstance(err, str):
        code, message = None, err
    else:
        code, message = body.get("code"), body.get("message")
    return (
        str(code) if code not in (None, "") else None,
        str(message) if message not in (None, "") else None,
        str(request_id) if request_id else None,
    )


def error_for_status(
    status: int | None,
    body: Any,
    *,
    request_id: str | None = None,
    partial: ThinkResult | None = None,
    secrets: tuple[str | None, ...] = (),
    fields: Callable[[Any], ErrorFields] = default_error_fields,
) -> APIStatusError:
    """Build the right ``APIStatusError`` subclass from a status and a decoded error body.

    ``body`` is the parsed JSON (or raw text) the server sent; ``fields`` reads (code, message,
    request_id) from it: the protocol's own ``error_fields`` (default: the OpenAI-compatible
    shape ``{"error": {"code", "message"}}`` or the DashScope shape ``{"code", "message"}``).
    ``secrets`` are the request's own credentials (its key, the user and password of its URL):
    the server may echo them anywhere, so the body is redacted (deeply) before anything is read
    from it, and so are ``request_id`` and ``partial``.
    """
    body = redact_data(body, *secrets)
    code, message, body_request_id = fields(body)
    if message is None and isinstance(body, str) and body.strip():
        message = body.strip()[:500]
    cls = _class_for(status, code)
    parts = []
    if status is not None:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(code)
    head = " ".join(parts) or "error"
    text = f"{head}: {message or 'the server returned an error'}"
    hint = _HINTS.get(cls)
    if code and code.lower().replace("_", "") == "datainspectionfailed":
        hint = "the provider's content filter rejected the input or output; rephrase the prompt"
    if hint:
        text = f"{text} ({hint})"
    chosen_request_id = request_id or body_request_id
    return cls(
        redact(text, *secrets),
        status_code=status,
        code=code,
        request_id=redact(chosen_request_id, *secrets) if chosen_request_id else None,
        body=body,
        partial=partial.redacted(*secrets) if partial is not None else None,
    )
