"""Markdown answers to safe HTML, rendered once (:func:`render_markdown`); streaming lives in ``_live_markdown``.

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

__all__ = ["is_safe_url", "render_markdown"]

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
