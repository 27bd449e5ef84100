"""The panels' markdown exports are safe to paste into a renderer that passes raw HTML (issue 11, point 13)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markdown_it import MarkdownIt
from xss_corpus import FORBIDDEN_TAGS, XSS_PAYLOADS, find_dangerous

from thinkbook._panel_export import chat_markdown, safe_markdown, totals_line
from thinkbook._types import ThinkResult


def naive_render(markdown: str) -> str:
    """What a permissive renderer makes of it: raw HTML passed through, every link scheme accepted."""
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md.render(markdown)


def dangers(markdown: str) -> list[str]:
    # Plain markdown links carry no rel/target (the renderer's business, not the export's).
    return [f for f in find_dangerous(naive_render(markdown)) if not f.startswith("link without")]


@pytest.mark.parametrize(("name", "payload"), XSS_PAYLOADS, ids=[n for n, _ in XSS_PAYLOADS])
def test_every_xss_payload_is_inert_in_the_exported_chat(name: str, payload: str) -> None:
    assert dangers(payload) != [] or name in _HARMLESS_UNESCAPED, "the corpus payload should be dangerous raw"
    result = ThinkResult(reasoning="thinking " + payload, answer="**answer** " + payload, model="m<i>")
    exported = chat_markdown("qwen-plus", "sys " + payload, [("you " + payload, result)], {"turns": 1}, lambda u: {})
    assert dangers(exported) == [], (name, exported)
    page = naive_render(exported)
    tags = set(re.findall(r"<([a-z0-9]+)", page))
    assert not tags & FORBIDDEN_TAGS, tags
    assert "<details><summary>Reasoning</summary>" in page  # the export's own fold is kept


# Payloads that are inert even unescaped in commonmark (entities are text, code is code, titles are quoted).
_HARMLESS_UNESCAPED = {
    "entities spelling a tag",
    "numeric entities spelling a tag",
    "code block breakout",
    "highlighted code breakout",
    "fence info breakout",
    "inline code breakout",
    "latex href",
    "link title breakout",
}


def test_markdown_is_kept() -> None:
    text = (
        "# Title\n\n**bold** *em* `a<b>` and [docs](https://example.org)\n\n"
        "- one\n- two\n\n> quoted <b>\n\n```html\n<script>ok in code</script>\n```\n\n    indented <i>\n\n"
        "| a | b |\n|---|---|\n| 1 | <u>2</u> |\n"
    )
    page = naive_render(safe_markdown(text))
    assert "<h1>Title</h1>" in page and "<strong>bold</strong>" in page and "<em>em</em>" in page
    assert "<code>a&lt;b&gt;</code>" in page  # code spans verbatim: shown as written
    assert '<a href="https://example.org">docs</a>' in page and "<li>one</li>" in page
    assert "<blockquote>\n<p>quoted &lt;b&gt;</p>" in page
    assert "&lt;script&gt;ok in code&lt;/script&gt;" in page and "<script" not in page
    assert "<pre><code>indented &lt;i&gt;" in page
    assert "&lt;u&gt;2&lt;/u&gt;" in page and "<u>" not in page


def test_unsafe_links_become_text_and_images_links() -> None:
    page = naive_render(safe_markdown("[x](javascript:alert(1)) ![pic](https://t.example/p.png) [ok](mailto:a@b.c)"))
    assert "javascript:alert(1)" in page and 'href="javascript' not in page  # shown, not a link
    assert '<a href="https://t.example/p.png">pic</a>' in page and "<img" not in page
    assert '<a href="mailto:a@b.c">ok</a>' in page


def test_an_open_fence_cannot_swallow_what_follows() -> None:
    stopped = ThinkResult(reasoning="", answer="Here:\n```python\nprint(1)", model="m")
    done = ThinkResult(reasoning="", answer="second answer", model="m")
    exported = chat_markdown("m", None, [("q1", stopped), ("q2", done)], {"turns": 2}, lambda u: {})
    page = naive_render(exported)
    assert "<h2>Turn 2</h2>" in page and "<p>second answer</p>" in page


@pytest.mark.parametrize(
    ("turns", "lang", "expected"),
    [
        (1, "en", "Session: 1 turn"),
        (2, "en", "Session: 2 turns"),
        (0, "en", "Session: 0 turns"),
        (1, "zh", "本次会话：1 轮"),
    ],
)
def test_totals_line_counts_turns_in_words(turns: int, lang: str, expected: str) -> None:
    assert totals_line({"turns": turns}, lang) == expected


def test_compare_table_cells_hold_no_html(engine: Any) -> None:
    from thinkbook._compare_panel import _markdown_table

    row = {"label": "a <img src=x onerror=alert(1)> | b", "status": "error", "error": "<script>x</script>"}
    table = _markdown_table([row])
    assert "<img" not in table and "<script" not in table and "a &lt;img" in table and "\\| b" in table
    assert dangers(table) == []
