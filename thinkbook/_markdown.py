"""Markdown answers to safe HTML: once (:func:`render_markdown`) or while they stream (:class:`IncrementalMarkdown`).

markdown-it-py (``js-default`` preset, raw HTML escaped) with GFM tables and strikethrough, Pygments
for fenced code, and latex2mathml for ``$...$``, ``$$...$$``, ``\\(...\\)`` and ``\\[...\\]`` math
(:mod:`thinkbook._markdown_math`). Rendering time is linear in the text, also on inputs built to be
slow (:mod:`thinkbook._markdown_links`, ``tests/test_markdown_pathological.py``).
Images become links (a remote image is a tracking channel), only http, https and mailto URLs become
links, and everything ends in :func:`~thinkbook._sanitize.sanitize_html`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]

from ._markdown_links import install_linear_link_labels
from ._markdown_math import math_html, math_plugin
from ._sanitize import ALLOWED_URL_SCHEMES, escape_text, sanitize_html

__all__ = ["IncrementalMarkdown", "is_safe_url", "render_markdown"]

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def is_safe_url(url: str) -> bool:
    """True for absolute http, https and mailto URLs: the only links we render.

    Relative URLs are refused as well: in a notebook they would resolve against the Jupyter server.
    """
    if any(ord(char) <= 0x20 or char == "\\" for char in url):
        return False  # browsers strip or reinterpret these, which is how "java\tscript:" slips through
    match = _SCHEME.match(url)
    return match is not None and match.group(1).lower() in ALLOWED_URL_SCHEMES


class _SafeMarkdownIt(MarkdownIt):
    # markdown-it consults validateLink for links, images, autolinks and reference definitions, so
    # one override covers them all (its own check stays in front); a refused URL stays visible as text.
    def validateLink(self, url: str) -> bool:
        return super().validateLink(url) and is_safe_url(url)


_FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    """The Pygments lexer for a fence's language name, or None: we never guess a language."""
    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return None


def _render_fence(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    info = unescapeAll(token.info).strip()
    language = info.split(maxsplit=1)[0].lower() if info else ""
    lexer = _lexer(language) if language else None
    if lexer is None:
        return f'<pre class="tb-code"><code>{escape_text(token.content)}</code></pre>\n'
    code = str(highlight(token.content, lexer, _FORMATTER))
    return f'<pre class="tb-code"><code class="language-{escape_text(language)}">{code}</code></pre>\n'


def _render_image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # Loading a model-chosen image URL would tell a third party that (and when) the answer was viewed,
    # and the URL can carry data from the conversation: show a link the user may choose to follow.
    token = tokens[idx]
    src = str(token.attrGet("src") or "")  # validated by _SafeMarkdownIt before the token existed
    alt = self.renderInlineAsText(token.children, options, env) or src
    title = token.attrGet("title")
    title_attr = f' title="{escape_text(str(title))}"' if title else ""
    return f'<a class="tb-image-link" href="{escape_text(src)}"{title_attr}>{escape_text(alt)}</a>'


def _render_cell(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # markdown-it aligns cells with style="text-align:x"; no style attribute survives sanitizing.
    token = tokens[idx]
    style = str(token.attrs.pop("style", ""))
    if style.startswith("text-align:"):
        token.attrSet("class", "tb-align-" + style.removeprefix("text-align:"))
    return self.renderToken(tokens, idx, options, env)


def _render_table(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # A wrapper that can scroll sideways, so a wide table does not widen the whole answer pane.
    html_ = self.renderToken(tokens, idx, options, env)
    return '<div class="tb-table">' + html_ if tokens[idx].nesting == 1 else html_ + "</div>\n"


def _math_rule(display: bool, block: bool) -> Any:
    def render(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        mathml = math_html(tokens[idx].content.strip(), display)
        return f'<div class="tb-math-block">{mathml}</div>\n' if block else mathml

    return render


def _build_parser() -> MarkdownIt:
    md = _SafeMarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # Rules that never fire here (linkify and html are off) still run at every markup character.
    md.disable(["linkify", "html_inline", "html_block"])
    math_plugin(md)
    install_linear_link_labels(md)
    md.add_render_rule("math_inline", _math_rule(display=False, block=False))
    md.add_render_rule("math_inline_double", _math_rule(display=True, block=False))
    md.add_render_rule("math_block", _math_rule(display=True, block=True))
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("image", _render_image)
    for name in ("th_open", "td_open"):
        md.add_render_rule(name, _render_cell)
    for name in ("table_open", "table_close"):
        md.add_render_rule(name, _render_table)
    return md


_PARSER = _build_parser()


def render_markdown(text: str) -> str:
    """Render untrusted markdown to sanitized HTML, safe for ``innerHTML``.

    >>> render_markdown("**hi** <script>alert(1)</script>")
    '<p><strong>hi</strong> &lt;script&gt;alert(1)&lt;/script&gt;</p>\\n'
    """
    return sanitize_html(str(_PARSER.render(text)))


# A fence opener (any indentation: inside list items fences are indented) and a closer.
_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*")


class IncrementalMarkdown:
    """Render a streaming answer block by block: each finished block once, the open tail on every update.

    >>> md = IncrementalMarkdown()
    >>> md.append("# Title\\n\\nSome *text")
    >>> md.update()
    (['<h1>Title</h1>\\n'], '<p>Some *text</p>\\n')
    >>> md.finish() == render_markdown(md.source)
    True

    A block is finished when a blank line outside a fenced code block is followed by a line starting
    in column 0 (an indented line after a blank line still belongs to the block above: a list item's
    next paragraph, an indented code block), or, for a top-level fenced block, when its closing fence
    line is complete. So no finished block splits a construct that can span a blank line (display
    math cannot: ``$$`` and ``\\[`` blocks follow LaTeX and allow no blank line).

    Each update costs the new text plus the open block, however long the answer grows. The price is
    that blocks are rendered without their neighbours. :meth:`finish` renders the whole source once
    and is authoritative; until then the streamed HTML can differ from it in known ways:

    - a loose list (items separated by blank lines) shows as consecutive lists, numbered correctly
      (``<ol start="2">``) but without the loose list's paragraph spacing;
    - a reference-style link (``[x][1]``) whose definition comes in a later block stays text;
    - a blockquote interrupted by a blank line shows as two blockquotes;
    - a line that merely looks like a fence (inside an indented code block) can delay finishing.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []  # appended text not yet seen by update(): append stays O(1)
        self._finished_sources: list[str] = []
        self._finished_blocks: list[str] = []
        self._open = ""  # source after the last finished block
        self._scan = 0  # offset in _open of the first line not yet classified
        self._fence = ""  # the opening fence while inside a fenced block, e.g. "````"
        self._fence_top_level = False
        self._after_blank = False
        self._tail = ""
        #: Source characters passed to the renderer so far (finished blocks plus every tail render):
        #: lets tests and benchmarks check that the cost of an update stays flat.
        self.rendered_chars = 0

    @property
    def source(self) -> str:
        """The markdown appended so far."""
        return "".join(self._finished_sources) + self._open + "".join(self._pending)

    @property
    def finished_html(self) -> str:
        """All finished blocks rendered so far, in order (without the open tail)."""
        return "".join(self._finished_blocks)

    def append(self, text: str) -> None:
        """Add more markdown source; nothing is parsed or rendered until :meth:`update`."""
        if text:
            self._pending.append(text)

    def update(self) -> tuple[list[str], str]:
        """Return ``(blocks, tail)``: HTML of the blocks finished since the last update, and of the open block.

        Every finished block is returned exactly once; the tail is ``""`` when nothing is open.
        """
        if not self._pending:
            return [], self._tail
        self._open += "".join(self._pending)
        self._pending.clear()
        blocks: list[str] = []
        while (end := self._next_boundary()) is not None:
            chunk, self._open = self._open[:end], self._open[end:]
            self._scan -= end
            self._finished_sources.append(chunk)
            block = self._render(chunk)
            if block:  # a chunk of blank lines renders to nothing
                self._finished_blocks.append(block)
                blocks.append(block)
        self._tail = self._render(self._open)
        return blocks, self._tail

    def finish(self) -> str:
        """Render the whole source at once: the final, authoritative HTML."""
        return self._render(self.source)

    def _render(self, source: str) -> str:
        self.rendered_chars += len(source)
        return render_markdown(source) if source.strip(" \t\r\n") else ""

    def _next_boundary(self) -> int | None:
        """Classify the complete lines from ``_scan`` on; the offset where a finished block ends, if any."""
        text = self._open
        while True:
            start = self._scan
            if self._after_blank and start < len(text) and text[start] not in " \t\r\n":
                self._after_blank = False  # a column-0 line after a blank line opens a new block
                return start
            newline = text.find("\n", start)
            if newline < 0:
                return None  # the last line is incomplete: decide when it is
            self._scan = newline + 1
            if self._classify(text[start:newline].rstrip("\r")):
                return self._scan

    def _classify(self, line: str) -> bool:
        """Update the fence state with one complete line; True when it closed a top-level fence."""
        if self._fence:
            closer = _FENCE_CLOSE.fullmatch(line)
            marker = closer.group(1) if closer else ""
            if marker[:1] == self._fence[0] and len(marker) >= len(self._fence):
                self._fence = ""
                return self._fence_top_level
            return False
        if not line.strip(" \t"):  # markdown's blank line: only spaces and tabs (U+3000 is text)
            self._after_blank = True
            return False
        self._after_blank = False
        opener = _FENCE_OPEN.fullmatch(line)
        # A backtick fence's info string cannot hold a backtick (then it is inline code, not a fence).
        if opener and not (opener.group(1)[0] == "`" and "`" in opener.group(2)):
            self._fence = opener.group(1)
            self._fence_top_level = not line[0].isspace()
        return False
