"""Tests for the HTML sanitizer: the allow-lists, links, classes, MathML, and XSS payloads as raw HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xss_corpus import FORBIDDEN_ATTRIBUTES, FORBIDDEN_TAGS, XSS_PAYLOADS, find_dangerous

from thinkbook._sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    escape_text,
    sanitize_html,
)


class _TagNames(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.append(tag)


def tag_names(html: str) -> list[str]:
    """The start tags in ``html``, sorted: what a re-parse must neither add to nor take from."""
    parser = _TagNames()
    parser.feed(html)
    parser.close()
    return sorted(parser.names)


def assert_stable(once: str) -> None:
    """Parsing the sanitized output again (as the browser will) must not create or lose elements.

    Mutation XSS is markup that changes meaning when serialized and parsed again; equality is too
    strict (the parser legally re-nests ``<h6>`` inside ``<h1>``), the set of elements is not.
    """
    assert tag_names(sanitize_html(once)) == tag_names(once)


def test_allow_lists_hold_nothing_dangerous() -> None:
    assert not ALLOWED_TAGS & FORBIDDEN_TAGS
    for tag, names in ALLOWED_ATTRIBUTES.items():
        assert tag in ALLOWED_TAGS
        assert not names & FORBIDDEN_ATTRIBUTES, tag
        assert not {name for name in names if name.startswith("on")}, tag
        assert "class" not in names, "classes are filtered per value through ALLOWED_CLASSES"
    assert set(ALLOWED_CLASSES) <= ALLOWED_TAGS
    assert {"mathcolor", "mathbackground", "href"}.isdisjoint(ALLOWED_ATTRIBUTES["mi"])
    assert {"http", "https", "mailto"} == ALLOWED_URL_SCHEMES


@pytest.mark.parametrize(("name", "payload"), XSS_PAYLOADS, ids=[name for name, _ in XSS_PAYLOADS])
def test_payloads_as_raw_html_come_out_harmless(name: str, payload: str) -> None:
    # The renderer escapes raw HTML before the sanitizer sees it; here the sanitizer stands alone.
    assert find_dangerous(sanitize_html(payload)) == []


@pytest.mark.parametrize(
    "payload",
    [
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=alert(1)>">',
        "<math><annotation-xml encoding=text/html><style><img src=x onerror=alert(1)></style></annotation-xml></math>",
        "<math><mi><table><mi><style><!--</style><img src=x onerror=alert(1)>--></style></mi></table></mi></math>",
        '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    ],
)
def test_mutation_xss_is_stable(payload: str) -> None:
    # Namespace-confusion payloads: the output must be safe, and stay the same when parsed again.
    once = sanitize_html(payload)
    assert find_dangerous(once) == []
    assert_stable(once)


def test_basic_markup_survives() -> None:
    source = (
        "<h2>T</h2><p><strong>b</strong> <em>i</em> <del>d</del> <s>s</s> <code>c</code><br></p><hr>"
        '<blockquote><p>q</p></blockquote><ol start="3"><li>x</li></ol><ul><li>y</li></ul>'
    )
    assert sanitize_html(source) == source


def test_table_keeps_alignment_classes_only() -> None:
    out = sanitize_html(
        '<div class="tb-table"><table><thead><tr><th class="tb-align-center" style="color:red" align="left">a</th>'
        '</tr></thead><tbody><tr><td class="tb-align-right jp-Dialog">1</td></tr></tbody></table></div>'
    )
    assert '<th class="tb-align-center">a</th>' in out
    assert '<td class="tb-align-right">1</td>' in out
    assert "style" not in out and "align=" not in out and "jp-Dialog" not in out


@pytest.mark.parametrize("href", ["https://example.org/x?a=1&b=2", "http://example.org", "mailto:someone@example.org"])
def test_safe_links_get_rel_and_target(href: str) -> None:
    out = sanitize_html(f'<a href="{escape_text(href)}" rel="opener" target="_self">x</a>')
    assert out == f'<a href="{escape_text(href)}" target="_blank" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java&#x09;script:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "/api/kernels",
        "//evil.example/x",
        "#top",
    ],
)
def test_unsafe_and_relative_hrefs_are_dropped(href: str) -> None:
    out = sanitize_html(f'<a href="{href}">x</a>')
    assert "href" not in out
    assert out.endswith(">x</a>")


def test_classes_are_filtered_per_tag() -> None:
    out = sanitize_html(
        '<pre class="tb-code jp-OutputArea"><code class="language-python language-nonsense">'
        '<span class="k evil">def</span><span class="tb-code">x</span></code></pre>'
    )
    # nh3 keeps an emptied class attribute: harmless.
    assert out == (
        '<pre class="tb-code"><code class="language-python">'
        '<span class="k">def</span><span class="">x</span></code></pre>'
    )
    assert sanitize_html('<code class="tb-math-error">\\frac{</code>') == '<code class="tb-math-error">\\frac{</code>'
    assert sanitize_html('<a class="tb-image-link other">x</a>').startswith('<a class="tb-image-link"')


def test_mathml_survives_with_presentational_attributes() -> None:
    mathml = (
        '<math display="block"><mrow><mo stretchy="true" fence="true" form="prefix">(</mo>'
        '<mfrac linethickness="0"><mi mathvariant="bold">x</mi><mn>2</mn></mfrac>'
        '<mspace width="1em"></mspace><mtable columnalign="left"><mtr><mtd><mi>a</mi></mtd></mtr></mtable>'
        '<menclose notation="box"><mi>b</mi></menclose></mrow></math>'
    )
    assert sanitize_html(mathml) == mathml


def test_mathml_loses_links_colours_and_namespaces() -> None:
    out = sanitize_html(
        '<math xmlns="http://www.w3.org/1998/Math/MathML"><mrow href="javascript:alert(1)">'
        '<mstyle mathcolor="white" mathbackground="white"><mi xlink:href="https://x">x</mi></mstyle>'
        "<maction actiontype=toggle><mi>a</mi></maction></mrow></math>"
    )
    assert out == "<math><mrow><mstyle><mi>x</mi></mstyle><mi>a</mi></mrow></math>"


def test_dropped_elements_lose_their_content_too() -> None:
    out = sanitize_html("<p>a<script>s()</script><style>p{}</style><iframe>i</iframe><textarea>t</textarea>b</p>")
    assert out == "<p>ab</p>"


def test_no_ids_or_comments() -> None:
    assert sanitize_html('<p id="x">a<!-- hidden --></p>') == "<p>a</p>"


def test_escape_text() -> None:
    assert escape_text('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert sanitize_html(escape_text("<script>alert(1)</script>")) == "&lt;script&gt;alert(1)&lt;/script&gt;"


# Pieces of tags, comments and the names mutation XSS plays with, glued together at random.
_WORDS = (
    "<!-- --> <![CDATA[ ]]> script img svg math mtext mglyph style table a p div span mi annotation-xml noscript"
    " template iframe src href onerror onload alert(1) javascript: data: encoding text/html class tb-code k"
)
_FRAGMENTS = st.sampled_from([*"<>/=\"' \n&#;x", *_WORDS.split()])


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=60).map("".join))
def test_random_tag_soup_is_safe_and_stable(soup: str) -> None:
    once = sanitize_html(soup)
    assert find_dangerous(once) == []
    assert_stable(once)
