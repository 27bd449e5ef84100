"""Live token estimates while a stream runs (replaced by the server's exact usage at the end)."""

from __future__ import annotations

# Qwen/DeepSeek-style tokenizers average about 1.4 CJK characters and about 4 other characters
# per token; close enough for a live "≈" counter, never used for billing.
_CJK_CHARS_PER_TOKEN = 1.4
_OTHER_CHARS_PER_TOKEN = 4.0


def _is_cjk(code: int) -> bool:
    return 0x3000 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def token_weight(text: str) -> float:
    """Fractional tokens in ``text``: add these up over deltas, round when showing."""
    if text.isascii():
        return len(text) / _OTHER_CHARS_PER_TOKEN
    cjk = sum(1 for ch in text if _is_cjk(ord(ch)))
    return cjk / _CJK_CHARS_PER_TOKEN + (len(text) - cjk) / _OTHER_CHARS_PER_TOKEN


def estimate_tokens(text: str) -> int:
    """A rough token count for ``text``.

    >>> estimate_tokens("")
    0
    >>> estimate_tokens("hello world, this is a test")
    7
    """
    return round(token_weight(text))
