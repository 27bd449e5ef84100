"""What the panels export as markdown: a chat transcript, a comparison table, both safe to paste.

Model output is untrusted, and so is what it quotes: an exported chat pasted into a markdown
renderer that passes raw HTML through (Python-Markdown, many static site generators) must not run
the model's ``<script>`` or ``<img onerror=...>``. :func:`safe_markdown` keeps the markdown (code
blocks, emphasis, lists, tables, links to web pages) and takes the HTML out of it:

- every ``<`` outside code becomes ``&lt;`` (no tag, comment or autolink survives; the renderer
  shows the text as it was written), code fences, indented code and code spans stay verbatim
  (markdown never reads HTML there);
- a link or reference definition whose URL is not http(s)/mailto/relative becomes plain text
  (``[x]\\(javascript:...)``), images become links (as in the live view: a remote image is a
  tracking channel);
- a code fence left open (a stopped answer) is closed, so it cannot swallow the rest of the file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from markdown_it import MarkdownIt

_BLOCKS = MarkdownIt("commonmark")  # only to find the code blocks (token.map gives their lines)
_SAFE_SCHEMES = ("http", "https", "mailto")
_TOKEN_KINDS = ("prompt_tokens", "cached_tokens", "reasoning_tokens", "answer_tokens", "total_tokens")
_SENTINEL = "thinkbook-end-of-text-7f3a"
_BACKTICKS = re.compile(r"`+")
# An inline link's or image's destination: <...> or a run without spaces (one level of parentheses).
_INLINE_LINK = re.compile(r"\]\(\s*(<[^>\n]*>|(?:[^\s()]|\([^\s()]*\))*)")
_REFERENCE = re.compile(r"^( {0,3})\[([^\]\n]+)\]:[ \t]*(\S+)", re.MULTILINE)
_IMAGE = re.compile(r"!\[(?=[^\]\n]*\]\s*[(\[])")


def _url_is_safe(url: str) -> bool:
    """True for http(s)/mailto and relative URLs, read as a browser reads them (entities, controls)."""
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(url.strip("<>"))).lower()
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)
    return scheme is None or scheme.group(1) in _SAFE_SCHEMES


def _unsafe_reference(match: re.Match[str]) -> str:
    """A reference definition with an unsafe URL, its ``[`` escaped: no longer a definition."""
    indent, whole = match.group(1), match.group(0)
    return whole if _url_is_safe(match.group(3)) else indent + "\\" + whole[len(indent) :]


def _defang_prose(text: str) -> str:
    """Markdown prose (no code spans in it): unsafe links unlinked, images as links, ``<`` escaped."""
    text = _IMAGE.sub("[", text)
    text = _INLINE_LINK.sub(lambda m: m.group(0) if _url_is_safe(m.group(1)) else "]\\(" + m.group(0)[2:], text)
    text = _REFERENCE.sub(_unsafe_reference, text)
    # A backslash already escapes the next "<" (an odd run of them): leave those as written.
    return re.sub(r"(?<!\\)((?:\\\\)*)<", r"\1&lt;", text)


def _prose(text: str) -> str:
    """Text between code blocks: code spans verbatim, the rest defanged."""
    out, at = [], 0
    for match in _BACKTICKS.finditer(text):
        if match.start() < at:
            continue  # inside a code span found already
        if match.start() > 0 and text[match.start() - 1] == "\\":
            continue  # an escaped backtick opens nothing
        run = match.group(0)
        close = re.compile(rf"(?<!`){run}(?!`)").search(text, match.end())
        if close is None:
            continue  # no closing run of the same length: literal backticks
        out.append(_defang_prose(text[at : match.start()]))
        out.append(text[match.start() : close.end()])
        at = close.end()
    out.append(_defang_prose(text[at:]))
    return "".join(out)


def safe_markdown(text: str) -> str:
    """``text`` (markdown from a model) with its raw HTML escaped and unsafe links unlinked.

    >>> safe_markdown("**hi** <script>alert(1)</script>\\n\\n```\\n<b>code</b>\\n```")
    '**hi** &lt;script>alert(1)&lt;/script>\\n\\n```\\n<b>code</b>\\n```'
    """
    lines = text.split("\n")
    code: list[tuple[int, int]] = []
    closing = ""
    # A line after the text shows whether a fence is still open: it then lands inside the fence.
    for token in _BLOCKS.parse(text + "\n\n" + _SENTINEL):
        if token.type in ("fence", "code_block") and token.map:
            start, end = token.map
            code.append((start, min(end, len(lines))))
            if token.type == "fence" and _SENTINEL in token.content:
                closing = token.markup
    out: list[str] = []
    at = 0
    for start, end in code:
        if start > at:
            out.append(_prose("\n".join(lines[at:start])))
        out.append("\n".join(lines[start:end]))
        at = end
    if at < len(lines):
        out.append(_prose("\n".join(lines[at:])))
    result = "\n".join(out)
    return result + ("\n" + closing if closing else "")


def _inline(text: str) -> str:
    """A one-line value (a model name, a label) as inert markdown text."""
    return " ".join(html.escape(text, quote=False).replace("|", "\\|").split())


def totals_line(totals: Mapping[str, Any], lang: str = "en") -> str:
    """``Session: 2 turns · tokens ... · cost ...`` (singular for one turn; Chinese with ``lang="zh"``)."""
    turns = int(totals.get("turns") or 0)
    parts = [f"{k.removesuffix('_tokens')} {totals[k]}" for k in _TOKEN_KINDS if totals.get(k)]
    if lang == "zh":
        text = f"本次会话：{turns} 轮" + (" · token " + " · ".join(parts) if parts else "")
    else:
        text = f"Session: {turns} turn{'' if turns == 1 else 's'}" + (" · tokens " + " · ".join(parts) if parts else "")
    costs = totals.get("cost") or {}
    if costs:
        text += (" · 费用 " if lang == "zh" else " · cost ") + " + ".join(
            f"{amount:.4f} {currency}" for currency, amount in costs.items()
        )
    return text


def chat_markdown(
    model: str,
    system: str | None,
    turns: Sequence[tuple[str, Any]],
    totals: Mapping[str, Any],
    usage_of: Any,
) -> str:
    """A chat as markdown: each turn's question, folded reasoning, answer and usage; the totals.

    ``turns``: ``(user text, ThinkResult)`` pairs; ``usage_of(result)`` the usage as a dict.
    Every text the model or the user wrote goes through :func:`safe_markdown`.
    """
    lines = [f"# Chat with {_inline(model)}", ""]
    if system:
        lines += ["**System:** " + safe_markdown(system), ""]
    for index, (question, result) in enumerate(turns, 1):
        lines += [f"## Turn {index}", "", "**You:**", "", safe_markdown(question), ""]
        lines += [f"**{_inline(result.model or model)}:**", ""]
        if result.reasoning:
            reasoning = safe_markdown(result.reasoning)
            lines += ["<details><summary>Reasoning</summary>", "", reasoning, "", "</details>", ""]
        lines += [safe_markdown(result.answer), ""]
        usage = usage_of(result.usage)
        if usage:
            parts = [f"{k.removesuffix('_tokens')} {usage[k]}" for k in _TOKEN_KINDS if usage.get(k) is not None]
            lines += ["*Tokens: " + " · ".join(parts) + "*", ""]
    lines += ["---", "", totals_line(totals), ""]
    return "\n".join(lines)


def table_cell(text: str) -> str:
    """A markdown table cell: one line, ``|`` escaped, no raw HTML."""
    return _inline(text)
