"""markdown-it's link label and destination scans, made cheap on inputs full of ``[`` and ``(``.

markdown-it finds the ``]`` that ends a link text (``parseLinkLabel``) by skipping token after token
from the ``[``, and a nested ``[`` that is plain text makes it walk through the nested label again.
Its ``maxNesting`` guard keeps that linear, but with a constant of about ``maxNesting`` (100) steps
per character: 100 KB of ``[`` took 4 s, 50 KB of ``![`` 6 s (measured with markdown-it-py 4.3.0
alone, without thinkbook's rules). Here the outcome of every label scan (where it closes, or that it
never does, and the first nested link inside) is kept for the inline text being parsed; a scan that
meets a nested plain ``[`` whose label is known jumps to its end, or stops when it never closes.

The jump visits the same tokens the walk would: skipToken caches its result for every position, so
walking through a known label again follows the same path. One difference: with ``disableNested``
markdown-it stops at the first nested link, this scan goes on to the label's end (so its outcome
serves the image rule too); only the cache entries of later positions can differ, which matters only
past ``maxNesting``.

:func:`parse_link_destination` finds a destination's end by regex, then lets markdown-it parse it.
Both are installed on thinkbook's parser only (``md.helpers``, which markdown-it's rules call).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from markdown_it import MarkdownIt, helpers
from markdown_it.rules_inline import StateInline

__all__ = ["install_linear_link_labels", "parse_link_destination", "parse_link_label"]

#: (label start, end of the inline range) -> (position of the closing "]" or -1, first nested link or -1)
_Outcomes = dict[tuple[int, int], tuple[int, int]]
_OUTCOMES = "thinkbook_link_labels"
_LAST_CLOSER = "thinkbook_last_link_closer"


def _outcomes(state: StateInline) -> _Outcomes:
    """The label outcomes of this inline state (kept in env, with the state, so an id is never reused)."""
    kept = state.env.get(_OUTCOMES)
    if kept is None or kept[0] is not state:
        kept = state.env[_OUTCOMES] = (state, {})
    outcomes: _Outcomes = kept[1]
    return outcomes


def _scan_label(state: StateInline, start: int, outcomes: _Outcomes) -> tuple[int, int]:
    """markdown-it's walk from the ``[`` at ``start`` to its ``]``, jumping over labels already scanned."""
    old_pos = state.pos
    src, maximum = state.src, state.posMax
    skip_token = state.md.inline.skipToken
    state.pos = start + 1
    level = 1
    end = first_nested = -1
    while state.pos < maximum:
        marker = src[state.pos]
        if marker == "]":
            level -= 1
            if level == 0:
                end = state.pos
                break
        before = state.pos
        skip_token(state)
        if marker != "[":
            continue
        if before != state.pos - 1:  # the "[" opened a token: a nested link
            if first_nested < 0:
                first_nested = before
            continue
        level += 1  # a plain "[": its label nests in this one
        inner = outcomes.get((before, maximum))
        if inner is None:
            continue  # not scanned (skipToken's result was cached before): walk through it
        inner_end, inner_nested = inner
        if first_nested < 0:
            first_nested = inner_nested
        if inner_end < 0:
            break  # the nested label never closes, so neither does this one
        state.pos = inner_end  # its "]" brings the level back to this label's
    state.pos = old_pos
    return end, first_nested


def parse_link_label(state: StateInline, start: int, disableNested: bool = False) -> int:
    """markdown-it's ``parseLinkLabel``: the position of the ``]`` closing the label at ``start``, or -1."""
    outcomes = _outcomes(state)
    key = (start, state.posMax)
    outcome = outcomes.get(key)
    if outcome is None:
        outcome = outcomes[key] = _scan_label(state, start, outcomes) if _may_close(state, start) else (-1, -1)
    end, first_nested = outcome
    if disableNested and first_nested >= 0:
        return -1  # a link inside link text: not a link
    return end


def _may_close(state: StateInline, start: int) -> bool:
    """False when no ``]`` follows ``start`` in the range: then the walk to the end can be skipped."""
    last = state.env.get(_LAST_CLOSER)
    if last is None or last[0] is not state.src or last[1] != state.posMax:
        last = state.env[_LAST_CLOSER] = (state.src, state.posMax, state.src.rfind("]", 0, state.posMax))
    return bool(last[2] > start)


# The characters markdown-it's destination scan decides on; it steps over all others one by one.
_DESTINATION_STOPS = re.compile(r"[\x00-\x20\x7f\\()]")
_MAX_PARENTHESES = 32  # markdown-it refuses a destination nesting parentheses deeper


def parse_link_destination(string: str, pos: int, maximum: int) -> Any:
    """markdown-it's ``parseLinkDestination``, jumping between the characters that matter.

    A bare destination may nest 32 parentheses, so markdown-it walks up to 32 of them character by
    character before it gives up, at every ``(`` of ``[a](b[a](b...``: half of that case's time.
    This finds where the destination ends (or that it fails) with a regex search, then lets
    markdown-it parse exactly that range, so the result is markdown-it's own.
    """
    if string.startswith("<", pos):
        return helpers.parseLinkDestination(string, pos, maximum)  # stops at the first "<", ">" or newline
    start = pos
    level = 0
    while (stop := _DESTINATION_STOPS.search(string, pos, maximum)) is not None:
        pos = stop.start()
        char = string[pos]
        if char == "\\" and pos + 1 < maximum:
            if string[pos + 1] == " ":
                break
            pos += 2
            continue
        if char <= " " or char == "\x7f":
            break
        if char == "(":
            level += 1
            if level > _MAX_PARENTHESES:
                return helpers.parseLinkDestination(string, start, start)  # markdown-it's failure
        elif char == ")":
            if level == 0:
                break
            level -= 1
        pos += 1
    else:
        pos = maximum
    if pos == start or level != 0:
        return helpers.parseLinkDestination(string, start, start)
    return helpers.parseLinkDestination(string, start, pos)


def install_linear_link_labels(md: MarkdownIt) -> None:
    """Make ``md``'s link, image and reference rules use this module's helpers (this parser only)."""
    md.helpers = SimpleNamespace(  # type: ignore[assignment]
        parseLinkLabel=parse_link_label,
        parseLinkDestination=parse_link_destination,
        parseLinkTitle=helpers.parseLinkTitle,
    )
