"""Is this input sendable at all? Checks every front door shares, run before a request exists.

Text that is blank to a reader (zero-width characters included) or that UTF-8 cannot carry (a lone
surrogate), a value JSON cannot carry (``nan``, a set, an object), an API key that no HTTP header
can carry (non-ASCII, a line break), a URL that cannot be sent (a bad port, an unclosed IPv6
bracket, a space in the host), and a view language (``lang=``) with no labels. Each problem is a
:class:`ConfigurationError` naming the field, never echoing a key or URL credentials.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._errors import ConfigurationError, redact

# Characters that draw nothing but are not ``str.isspace()``: zero-width space, non-joiner, joiner,
# word joiner, byte order mark, soft hyphen, Mongolian vowel separator.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only whitespace and zero-width characters."""
    return all(char.isspace() or char in _INVISIBLE for char in text)


def check_encodable(text: str, what: str) -> None:
    """Refuse a lone surrogate (``"\\ud800"``): UTF-8 cannot encode it, so the request could not be sent.

    It usually comes from bytes decoded with ``errors="surrogateescape"`` (a file or command-line
    argument in another encoding) or from half of an emoji cut by slicing.
    """
    found = _SURROGATE.search(text)
    if found is not None:
        raise ConfigurationError(
            f"{what} contains a lone surrogate character (U+{ord(found.group()):04X} at position {found.start()}), "
            "which cannot be sent as UTF-8: it comes from text decoded with the wrong encoding or an emoji cut in "
            "half; fix the text (e.g. text.encode('utf-8', 'replace').decode())"
        )


def check_json_field(name: str, value: Any, what: str = "extra body field") -> None:
    """Refuse a value the JSON request body cannot carry, naming the field."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        if isinstance(exc, UnicodeEncodeError):
            reason = "it contains a lone surrogate character, which UTF-8 cannot carry"
        elif isinstance(exc, TypeError):
            reason = str(exc)  # "Object of type set is not JSON serializable"
        elif isinstance(exc, RecursionError):
            reason = "it refers to itself"
        elif "float" in str(exc):  # "Out of range float values are not JSON compliant"
            reason = "JSON has no nan or infinity (use a finite number or None)"
        else:  # e.g. an integer too long to write out
            reason = " ".join(str(exc).split())
        raise ConfigurationError(f"{what} {name!r} cannot be sent as JSON: {reason}") from None


def close_match(name: str, options: Iterable[str]) -> str | None:
    """The option ``name`` was probably meant to be (``enable_thinkng`` -> ``enable_thinking``)."""
    matches = difflib.get_close_matches(name, list(options), n=1, cutoff=0.8)
    return matches[0] if matches else None


def check_api_key(key: str, source: str) -> str:
    """The key as it goes into the ``Authorization`` header; refuses what no header can carry.

    Surrounding whitespace (a newline copied from a file) is dropped. The message names where the
    key came from (``source``), never the key.
    """
    stripped = key.strip()
    for position, char in enumerate(stripped):
        if not char.isascii():
            raise ConfigurationError(
                f"the API key from {source} has a non-ASCII character (position {position + 1} of {len(stripped)}): "
                "keys are plain ASCII; copy it again from the console (a typographic quote or dash may have slipped in)"
            )
        if not char.isprintable() or char.isspace():
            raise ConfigurationError(
                f"the API key from {source} has a space or control character (position {position + 1} of "
                f"{len(stripped)}): copy it again from the console"
            )
    return stripped


_BAD_HOST_CHARACTERS = re.compile(r"[\s%<>\"{}|\\^`]")


def check_url(url: str, what: str = "base_url", secrets: Iterable[str | None] = ()) -> None:
    """Refuse a URL httpx cannot send: a bad port, an unclosed ``[``, a space in the host...

    The URL in the message has its credentials hidden, and any of ``secrets`` pasted into it.
    """
    shown = redact(url, *secrets)
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:  # InvalidURL is not a ValueError
        reason = " ".join(str(exc).split())
        raise ConfigurationError(f"{what} {shown!r} is not a valid URL ({reason}): check it for typos") from None
    host = parts.hostname or ""
    if not host:
        raise ConfigurationError(f"{what} {shown!r} has no host name, e.g. https://dashscope-intl.aliyuncs.com/...")
    if _BAD_HOST_CHARACTERS.search(parts.netloc.rpartition("@")[2]):
        raise ConfigurationError(f"{what} {shown!r}: the host name contains a space or a character hosts cannot have")
    if port == 0:
        raise ConfigurationError(f"{what} {shown!r}: port 0 cannot be connected to; use the server's port (1-65535)")


def check_timeout(timeout: Any) -> None:
    """``timeout``: seconds of silence tolerated, > 0 (``math.inf`` waits forever), or None (600 s)."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or math.isnan(timeout) or timeout <= 0:
        raise ConfigurationError(
            f"timeout must be a positive number of seconds (or None for the default 600), got {timeout!r}"
        )


LANGS = ("en", "zh")


def check_lang(lang: str | None) -> str | None:
    """``lang=``: the language of the view's labels, ``"en"`` or ``"zh"`` (None: the locale's)."""
    if lang is not None and lang not in LANGS:
        raise ConfigurationError(f"lang must be 'en' or 'zh' (or None for the locale's), got {lang!r}")
    return lang


def check_fields(fields: Mapping[str, Any], what: str = "extra body field") -> None:
    """:func:`check_json_field` for each of ``fields``."""
    for name, value in fields.items():
        check_json_field(name, value, what)
