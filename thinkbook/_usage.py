"""Turn a server's usage object into :class:`~thinkbook._types.Usage`, whatever its dialect.

Three shapes are understood (the first key found wins, in this order):

========================  ===========================  =====================  =================
field                     OpenAI-compatible            DashScope native       Ollama native
========================  ===========================  =====================  =================
prompt_tokens             ``prompt_tokens``            ``input_tokens``       ``prompt_eval_count``
completion_tokens         ``completion_tokens``        ``output_tokens``      ``eval_count``
total_tokens              ``total_tokens``             ``total_tokens``       (computed)
reasoning_tokens          ``completion_tokens_details  ``output_tokens_       --
                          .reasoning_tokens``          details.reasoning_
                                                       tokens``
cached_tokens             ``prompt_tokens_details      same as OpenAI         --
                          .cached_tokens``, else
                          DeepSeek's
                          ``prompt_cache_hit_tokens``
========================  ===========================  =====================  =================

A number the server did not send stays ``None``: a missing breakdown is "unknown", never 0.
The one derived number is ``total_tokens`` = prompt + completion, and only when the server
omitted the total and both parts are known. Values that are not plain non-negative ints
(``null``, strings, floats, booleans) are ignored rather than trusted, and so are counts past
:data:`MAX_TOKENS`: a server can send a 4000-digit integer, which no float (rates, costs) and no
browser (widget state) can hold.
"""

from __future__ import annotations

from typing import Any

from ._types import Usage

__all__ = ["MAX_TOKENS", "parse_usage"]

MAX_TOKENS = 2**53 - 1
"""The largest count believed: JavaScript's largest exact integer (and exact as a float)."""


def _count(value: object) -> int | None:
    """``value`` if it is a token count. ``type() is int`` on purpose: ``True`` is an int too."""
    if type(value) is int and 0 <= value <= MAX_TOKENS:
        return value
    return None


def _first(raw: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = raw.get(key)
        if type(value) is int and 0 <= value <= MAX_TOKENS:
            return value
    return None


def _detail(raw: dict[str, Any], section: str, key: str) -> int | None:
    details = raw.get(section)
    if type(details) is dict:
        return _count(details.get(key))
    return None


_PROMPT_ALIASES = ("input_tokens", "prompt_eval_count")
_COMPLETION_ALIASES = ("output_tokens", "eval_count")


def parse_usage(raw: dict[str, Any]) -> Usage:
    """Read any supported usage dict; ``Usage.raw`` is ``raw`` itself (not a copy).

    >>> u = parse_usage({"input_tokens": 11, "output_tokens": 367, "total_tokens": 378})
    >>> u.prompt_tokens, u.completion_tokens, u.total_tokens, u.reasoning_tokens
    (11, 367, 378, None)
    >>> parse_usage({"prompt_tokens": 10, "completion_tokens": 5}).total_tokens
    15
    """
    # DashScope repeats the usage on every streamed event, so this runs once per token: the
    # common names are read inline and the helpers only run for the rarer dialects.
    get = raw.get
    prompt = get("prompt_tokens")
    if type(prompt) is not int or not 0 <= prompt <= MAX_TOKENS:
        prompt = _first(raw, _PROMPT_ALIASES)
    completion = get("completion_tokens")
    if type(completion) is not int or not 0 <= completion <= MAX_TOKENS:
        completion = _first(raw, _COMPLETION_ALIASES)
    total = get("total_tokens")
    if type(total) is not int or not 0 <= total <= MAX_TOKENS:
        total = None
        if prompt is not None and completion is not None and prompt + completion <= MAX_TOKENS:
            total = prompt + completion

    reasoning = _detail(raw, "completion_tokens_details", "reasoning_tokens")
    if reasoning is None:
        reasoning = _detail(raw, "output_tokens_details", "reasoning_tokens")

    cached = _detail(raw, "prompt_tokens_details", "cached_tokens")
    if cached is None:
        # OpenAI Responses-style naming, seen on some compatible gateways.
        cached = _detail(raw, "input_tokens_details", "cached_tokens")
        if cached is None:
            # DeepSeek reports its context cache as top-level hit/miss counts.
            cached = _count(get("prompt_cache_hit_tokens"))

    return Usage(prompt, completion, total, reasoning, cached, raw)
