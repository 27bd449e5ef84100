"""Keeping credentials out of everything a user sees or saves: messages, data, log records.

A request's credentials are its API key and any ``user:password@`` in its URL. Servers are not
trusted to keep them to themselves: a gateway may echo the key in an error message, an error
code, a request id or an answer. Everything thinkbook shows, raises, logs or saves that could hold
server text goes through :func:`redact` (text) or :func:`redact_data` (decoded JSON), with the
request's own secrets; on top of those, anything shaped like a key (``sk-...``, ``Bearer ...``)
and the user-info part of any URL are removed whatever the secrets passed.

>>> redact("key tbk_9fQ2xL7vR4mN8pW3zT6y rejected by http://me:pw@proxy:8080/v1", "tbk_9fQ2xL7vR4mN8pW3zT6y")
'key *** rejected by http://***@proxy:8080/v1'

Log records are emitted deep inside httpx and httpcore: httpx logs every request's URL at INFO
(with its ``user:password@``), httpcore every response header at DEBUG (with a key a server
echoes). A filter on those loggers and thinkbook's own, installed when this module is imported,
rewrites any record holding URL credentials or a secret registered with :func:`watch_secrets`.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "StreamRedactor",
    "credentials_in",
    "redact",
    "redact_data",
    "remove_secrets",
    "secret_forms",
    "watch_secrets",
]

MASK = "***"

# Shorter strings are placeholders that local servers accept ("EMPTY", "none", "dummy"), not
# credentials: masking them would garble ordinary words in messages and protect nothing.
MIN_SECRET_LENGTH = 6

_SHAPED_LIKE_A_KEY = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9_\-.=~+/]{8,}")
# base64 of user:password; it must hold a digit, "+", "/" or "=", so "Basic Authentication" stays.
_BASIC = re.compile(r"\b([Bb]asic\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}")
# scheme://userinfo@host: everything between "://" and the last "@" before the path.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s\"'<>]*@")

# Decoded JSON deeper than this is not an error body; past it, data is replaced, not walked.
_MAX_DEPTH = 40


def secret_forms(*secrets: str | None) -> list[str]:
    """Every spelling of ``secrets`` that redaction replaces (as given, percent-encoded and decoded)."""
    return _forms(secrets)


def _forms(secrets: Iterable[str | None]) -> list[str]:
    """Every spelling of the secrets worth replacing, longest first (a key containing another)."""
    forms: set[str] = set()
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            continue
        # As sent, percent-encoded (a URL, httpx's log line) and percent-decoded (a URL's own form).
        for form in (secret, quote(secret, safe=""), unquote(secret)):
            if len(form) >= MIN_SECRET_LENGTH:
                forms.add(form)
    return sorted(forms, key=len, reverse=True)


def _replace(text: str, forms: list[str]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def _redact_with(text: str, forms: list[str]) -> str:
    text = _replace(text, forms)
    text = _URL_USERINFO.sub(rf"\1{MASK}@", text)
    text = _SHAPED_LIKE_A_KEY.sub(f"sk-{MASK}", text)
    text = _BASIC.sub(rf"\1{MASK}", text)
    return _BEARER.sub(rf"\1{MASK}", text)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` without the given secrets, anything shaped like a key, or URL credentials.

    Secrets of any shape are replaced wherever they occur (also percent-encoded); ``None`` and
    placeholder-short strings are ignored, so ``redact(message, endpoint.api_key)`` is always safe.
    """
    return _redact_with(text, _forms(secrets))


def remove_secrets(text: str, *secrets: str | None) -> str:
    """``text`` without the given secrets, and nothing else changed.

    For content the user asked for (a model's answer): patterns would mangle an answer that
    explains ``Authorization: Bearer ...`` or quotes ``https://user@host``; the secrets are exact.
    """
    return _replace(text, _forms(secrets))


class StreamRedactor:
    """:func:`remove_secrets` for text that arrives in pieces (a stream's deltas).

    A secret split across two deltas is still removed: the end of a piece that could be the start
    of a secret is held back until the next piece (or :meth:`flush`) shows whether it is one. Only
    those few characters wait; everything else passes at once. Joined, the output is
    ``remove_secrets`` of the joined input.

    >>> r = StreamRedactor("tbk_9fQ2xL7vR4")
    >>> r.feed("key: tbk_9f"), r.feed("Q2xL7vR4 ok"), r.flush()
    ('key: ', '*** ok', '')
    """

    __slots__ = ("_forms", "_held")

    def __init__(self, *secrets: str | None) -> None:
        self._forms = _forms(secrets)
        self._held = ""

    def __bool__(self) -> bool:
        """False when there is no secret to look for (the stream passes unchanged)."""
        return bool(self._forms)

    def feed(self, text: str) -> str:
        if self._held:
            text, self._held = self._held + text, ""
        text = _replace(text, self._forms)
        keep = self._open_tail(text)
        if keep:
            text, self._held = text[:-keep], text[-keep:]
        return text

    def passes(self, text: str) -> bool:
        """True when ``text``, fed now, would come out unchanged and hold nothing back.

        One check for many deltas at once (a network read holds hundreds when a server is fast):
        the stream pays per read, not per token, until a secret or its start shows up.
        """
        return not self._held and not self._open_tail(text) and not any(form in text for form in self._forms)

    def flush(self) -> str:
        """What is held back (the stream ended: it was not a secret after all)."""
        held, self._held = self._held, ""
        return held

    def _open_tail(self, text: str) -> int:
        """Length of the longest end of ``text`` that a secret starts with."""
        longest, size = 0, len(text)
        for form in self._forms:
            at = text.find(form[0], max(0, size - len(form) + 1))
            while at != -1 and size - at > longest:
                if form.startswith(text[at:]):
                    longest = size - at
                    break
                at = text.find(form[0], at + 1)
        return longest


def redact_data(value: Any, *secrets: str | None, patterns: bool = True) -> Any:
    """A copy of decoded JSON (dicts, lists, strings, numbers) with every string redacted.

    Keys are redacted too (a server can put text anywhere). Data nested deeper than any error body
    is replaced by a placeholder rather than walked. ``patterns=False`` removes only the exact
    secrets (for the user's own content, such as a request's messages).
    """
    forms = _forms(secrets)
    return _redact_value(value, forms, 0, _redact_with if patterns else _replace)


def _redact_value(value: Any, forms: list[str], depth: int, clean: Any) -> Any:
    if isinstance(value, str):
        return clean(value, forms)
    if isinstance(value, dict | list | tuple) and depth >= _MAX_DEPTH:
        return "[nested too deeply to show]"
    if isinstance(value, dict):
        return {
            _redact_value(k, forms, depth + 1, clean): _redact_value(v, forms, depth + 1, clean)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(item, forms, depth + 1, clean) for item in value)
    return value


def credentials_in(url: str | None) -> tuple[str, ...]:
    """The secrets of ``scheme://user:password@host/...`` in every form a server may echo them.

    The user name, the password, and ``user:password`` in base64 (httpx sends URL credentials as
    ``Authorization: Basic ...``). Empty when the URL has none.
    """
    if not url or "@" not in url:
        return ()
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return ()
    user, password = unquote(user or ""), unquote(password or "")
    if not user and not password:
        return ()
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return tuple(part for part in (user, password, basic) if part)


# --- log records -----------------------------------------------------------------------------

# httpx logs each request's URL at INFO and httpcore every response header at DEBUG.
_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "thinkbook",
)
_MAX_WATCHED = 64  # most recent secrets kept: a long session may rotate keys, never thousands


class _RedactingFilter(logging.Filter):
    """Rewrites a record whose message holds a watched secret or URL credentials."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: dict[str, None] = {}  # insertion-ordered set
        self._forms: list[str] = []

    def watch(self, secrets: Iterable[str | None]) -> None:
        with self._lock:
            for secret in _forms(secrets):
                self._secrets.pop(secret, None)
                self._secrets[secret] = None
            while len(self._secrets) > _MAX_WATCHED:
                del self._secrets[next(iter(self._secrets))]
            self._forms = _forms(self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: let logging report it
            return True
        cleaned = _redact_with(message, self._forms)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_filter = _RedactingFilter()
for _name in _LOGGERS:
    # At import: URL credentials are redacted from the very first request's log line.
    logging.getLogger(_name).addFilter(_filter)


def watch_secrets(*secrets: str | None) -> None:
    """Redact these secrets from httpx, httpcore and thinkbook logs from now on.

    Call it with a request's key (and its URL's credentials) before sending it; it is cheap to
    call for every request, and the most recent secrets are kept.
    """
    _filter.watch(secrets)
