"""Tests for the markdown renderer and its incremental (streaming) form."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from xss_corpus import XSS_PAYLOADS, find_dangerous

from thinkbook._live_markdown import LiveMarkdown
from thinkbook._markdown import is_safe_url, render_markdown
from thinkbook._sanitize import ALLOWED_TAGS


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def tags(html: str) -> list[str]:
    return [tag for tag, _ in parse(html).tags]


# --- render_markdown ---------------------------------------------------------------------------


def test_headings_emphasis_and_strikethrough() -> None:
    out = render_markdown("# One\n\n###### Six\n\n**b** *i* ~~gone~~ `x<y`")
    assert out == ("<h1>One</h1>\n<h6>Six</h6>\n<p><strong>b</strong> <em>i</em> <s>gone</s> <code>x&lt;y</code></p>\n")


def test_lists_keep_their_numbering() -> None:
    out = render_markdown("- a\n- b\n  1. nested\n\n3. three\n4. four")
    assert tags(out) == ["ul", "li", "li", "ol", "li", "ol", "li", "li"]
    assert '<ol start="3">' in out


def test_tables_align_with_classes_in_a_scrolling_wrapper() -> None:
    out = render_markdown("| L | C | R | N |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |")
    assert out.startswith('<div class="tb-table"><table>')
    assert '<th class="tb-align-left">L</th>' in out
    assert '<th class="tb-align-center">C</th>' in out
    assert '<td class="tb-align-right">3</td>' in out
    assert "<td>4</td>" in out
    assert "style" not in out


def test_fenced_code_is_highlighted_with_its_language_class() -> None:
    out = render_markdown("```python\ndef f(x):\n    return x  # hi\n```")
    assert out.startswith('<pre class="tb-code"><code class="language-python"><span class="k">def</span>')
    assert '<span class="nf">f</span>' in out
    assert '<span class="c1"># hi</span>' in out
    assert out.endswith("</code></pre>\n")


@pytest.mark.parametrize("fence", ["```", "~~~", "````"])
def test_fence_kinds(fence: str) -> None:
    out = render_markdown(f"{fence}JS extra words\nlet a = 1;\n{fence}")
    assert '<code class="language-js">' in out
    assert '<span class="kd">let</span>' in out


@pytest.mark.parametrize("info", ["", "no-such-language", "not a language"])
def test_unknown_or_missing_language_is_plain_escaped_code(info: str) -> None:
    out = render_markdown(f"```{info}\nif a < b: <span>\n```")
    assert out == '<pre class="tb-code"><code>if a &lt; b: &lt;span&gt;\n</code></pre>\n'


@pytest.mark.parametrize(
    ("source", "display"),
    [
        ("$E = mc^2$", "inline"),
        ("\\(E = mc^2\\)", "inline"),
        ("$$E = mc^2$$", "block"),
        ("$$\nE = mc^2\n$$", "block"),
        ("\\[E = mc^2\\]", "block"),
        ("\\[\nE = mc^2\n\\]", "block"),
        ("so $$E = mc^2$$ inline", "block"),
        ("so \\[E = mc^2\\] inline", "block"),
    ],
)
def test_math_becomes_mathml_for_all_four_delimiters(source: str, display: str) -> None:
    out = render_markdown(source)
    assert f'<math display="{display}"><mrow><mi>E</mi><mo>=</mo><mi>m</mi>' in out
    assert "<msup><mi>c</mi><mn>2</mn></msup>" in out
    on_its_own_line = source.startswith(("$$", "\\["))
    assert out.startswith('<div class="tb-math-block"><math') == on_its_own_line
    assert "$" not in out and "\\(" not in out and "\\[" not in out


def test_bracket_math_in_a_qwen_style_answer() -> None:
    out = render_markdown("面积为 \\(A = \\pi r^2\\)，因此：\n\\[\nA = \\frac{1}{2} \\cdot 4\n\\]\n")
    assert out.count("<math") == 2
    assert "<mfrac>" in out and "<mi>π</mi>" in out


_THIN = '<mspace width="0.1667em"></mspace>'
_APPLY = "<mo>\u2061</mo>"  # U+2061 FUNCTION APPLICATION: "log of n" to a screen reader


def test_log_gets_thin_spaces_around_it() -> None:
    # latex2mathml alone gives <mi>n</mi><mi>log</mi><mi>n</mi>, which browsers draw as "nlogn".
    out = render_markdown("$O(n\\log n)$")
    assert f"<mi>n</mi>{_THIN}<mi>log</mi>{_APPLY}{_THIN}<mi>n</mi>" in out


@pytest.mark.parametrize(
    "name", ["log", "ln", "lg", "sin", "cos", "tan", "cot", "sinh", "arctan", "exp", "ker", "dim", "deg", "arg"]
)
def test_function_names_are_applied_to_what_follows(name: str) -> None:
    out = render_markdown(f"$\\{name} x$")
    assert f"<mi>{name}</mi>{_APPLY}{_THIN}<mi>x</mi>" in out
    assert "\\" not in out  # \arg is unknown to latex2mathml, which printed it as "\arg"


@pytest.mark.parametrize("name", ["lim", "max", "min", "det", "gcd", "sup", "inf"])
def test_operators_latex2mathml_writes_as_mo_keep_their_own_spacing(name: str) -> None:
    out = render_markdown(f"$a \\{name} x$")
    assert re.search(f"<mi>a</mi><mo[^>]*>{name}</mo><mi>x</mi>", out)


def test_no_space_between_a_function_name_and_its_bracket() -> None:
    out = render_markdown("$\\sin(x) + \\cos\\theta$")
    assert f'<mi>sin</mi>{_APPLY}<mo stretchy="false">(</mo>' in out
    assert f"<mo>+</mo><mi>cos</mi>{_APPLY}{_THIN}<mi>θ</mi>" in out  # none after a binary operator either


def test_function_names_with_scripts_and_inside_fractions() -> None:
    assert f"<msub><mi>log</mi><mn>2</mn></msub>{_APPLY}{_THIN}<mi>n</mi>" in render_markdown("$\\log_2 n$")
    assert f"<msup><mi>sin</mi><mn>2</mn></msup>{_APPLY}{_THIN}<mi>x</mi>" in render_markdown("$\\sin^2 x$")
    fraction = render_markdown("$\\frac{\\log n}{2}$")
    assert f"<mfrac><mrow><mi>log</mi>{_APPLY}{_THIN}<mi>n</mi></mrow><mn>2</mn></mfrac>" in fraction


def test_a_group_of_one_is_written_without_its_row() -> None:
    """A one-element ``<mrow>`` is its element (MathML's rule): ``\\frac{3}{5}`` in 39 bytes of markup, not 71."""
    assert (
        render_markdown("$\\frac{3}{5}$")
        == '<p><math display="inline"><mfrac><mn>3</mn><mn>5</mn></mfrac></math></p>\n'
    )
    assert "<msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>" in render_markdown("$x^{2}_{i}$")
    assert "<msqrt><mi>x</mi></msqrt>" in render_markdown("$\\sqrt{{x}}$")
    kept = render_markdown("$\\frac{a+b}{c}$")  # a row of several stays a row
    assert "<mfrac><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mi>c</mi></mfrac>" in kept


def test_a_function_name_alone_is_unchanged_but_applied() -> None:
    assert render_markdown("$\\sin$") == f'<p><math display="inline"><mrow><mi>sin</mi>{_APPLY}</mrow></math></p>\n'


def test_bracket_math_takes_precedence_over_link_brackets_like_code() -> None:
    # As with a code span ("[see `x](url) `"), the formula starts first, so there is no link.
    out = render_markdown("[see \\(x](https://example.org) \\)")
    assert out.startswith("<p>[see <math") and "<a " not in out


def test_display_math_blocks_follow_latex_rules() -> None:
    assert "<math" not in render_markdown("$$\na\n\nb\n$$")  # no blank line inside
    assert "<math" not in render_markdown("\\[\na\n\nb\n\\]")
    quoted = render_markdown("> $$\n> x\n> $$")
    math = '<math display="block"><mi>x</mi></math>'
    assert quoted == f'<blockquote>\n<div class="tb-math-block">{math}</div>\n</blockquote>\n'  # no ">" in the math


def test_unclosed_display_openers_do_not_hide_a_later_formula() -> None:
    # Each "$$a" scans for its closer and fails at the blank line; the remembered failure must not
    # reach past that line, where a real formula starts.
    out = render_markdown("$$a\n# h\n$$b\n# h\n\n$$\nx\n$$")
    assert out.count("<math") == 1 and "<mi>x</mi>" in out
    assert out.count("<h1>h</h1>") == 2


def test_very_long_formulas_show_their_source() -> None:
    tex = "x+" * 6_000
    out = render_markdown(f"$${tex}1$$")
    assert out == f'<div class="tb-math-block"><code class="tb-math-error">{tex}1</code></div>\n'


def test_bad_latex_shows_its_source() -> None:
    assert render_markdown("$\\frac{$") == '<p><code class="tb-math-error">\\frac{</code></p>\n'
    block = render_markdown("$$\n\\begin{matrix}\n$$")
    assert '<code class="tb-math-error">\\begin{matrix}</code>' in block


def test_latex_text_is_escaped_not_markup() -> None:
    out = render_markdown("$\\text{<b>x</b> & y}$")
    assert "<mtext>&lt;b&gt;x&lt;/b&gt;&nbsp;&amp;&nbsp;y</mtext>" in out
    assert "<b>" not in out


@pytest.mark.parametrize("text", ["from $5 to $10", "it costs $ 5 and $ 6", "US$3 or $4"])
def test_currency_is_not_math(text: str) -> None:
    assert "<math" not in render_markdown(text)


def test_escaped_dollar_is_not_math() -> None:
    assert render_markdown("\\$x\\$") == "<p>$x$</p>\n"


def test_links_open_in_a_new_tab_without_referrer() -> None:
    out = render_markdown('[docs](https://example.org/a?b=1&c=2 "Title") <https://x.example> <me@x.example>')
    (a1, attrs1), (_, attrs2), (_, attrs3) = parse(out).tags[1:]
    assert a1 == "a"
    assert attrs1 == {
        "href": "https://example.org/a?b=1&c=2",
        "title": "Title",
        "target": "_blank",
        "rel": "noopener noreferrer",
    }
    assert attrs2["href"] == "https://x.example"
    assert attrs3["href"] == "mailto:me@x.example"


@pytest.mark.parametrize(
    "source", ["[x](javascript:alert(1))", "[x](/api/kernels)", "[x](#top)", "[x](//evil.example)", "[x](file:///a)"]
)
def test_unsafe_or_relative_links_stay_text(source: str) -> None:
    out = render_markdown(source)
    assert "<a" not in out
    assert "[x](" in out


def test_is_safe_url() -> None:
    assert is_safe_url("https://example.org") and is_safe_url("HTTP://x") and is_safe_url("mailto:a@b")
    for url in ["javascript:alert(1)", "java\tscript:x", " https://x", "data:text/html,x", "x", "/a", "https:\\\\x"]:
        assert not is_safe_url(url), url


def test_images_become_links() -> None:
    out = render_markdown('![a *chart*](https://example.org/c.png "t")')
    assert out == (
        '<p><a class="tb-image-link" href="https://example.org/c.png" title="t" target="_blank" '
        'rel="noopener noreferrer">a chart</a></p>\n'
    )
    assert render_markdown("![](https://example.org/c.png)").count(">https://example.org/c.png</a>") == 1
    assert "<a" not in render_markdown("![x](data:image/png;base64,iVBORw0KGgo=)")


def test_raw_html_is_text() -> None:
    out = render_markdown("<b>bold</b> &lt;script&gt; &amp;")
    assert out == "<p>&lt;b&gt;bold&lt;/b&gt; &lt;script&gt; &amp;</p>\n"
    assert "".join(parse(out).text) == "<b>bold</b> <script> &\n"


@pytest.mark.parametrize(("name", "payload"), XSS_PAYLOADS, ids=[name for name, _ in XSS_PAYLOADS])
def test_xss_payloads_render_harmless(name: str, payload: str) -> None:
    out = render_markdown(payload)
    assert find_dangerous(out) == []
    assert set(tags(out)) <= ALLOWED_TAGS
    # Streaming renders each piece on its own: it must be just as safe.
    md = LiveMarkdown()
    for char in payload:
        md.append(char)
        blocks, tail = md.update()
        assert find_dangerous("".join(blocks) + tail) == []


def test_the_checker_catches_an_unsafe_renderer() -> None:
    # The corpus checks are only worth something if they fail on a renderer that lets things through.
    unsafe = MarkdownIt("commonmark", {"html": True})
    unsafe.validateLink = lambda url: True  # type: ignore[method-assign]
    caught = {name for name, payload in XSS_PAYLOADS if find_dangerous(unsafe.render(payload))}
    missed = {name for name, _ in XSS_PAYLOADS} - caught
    assert missed == {
        "entities spelling a tag",
        "numeric entities spelling a tag",
        "code block breakout",
        "highlighted code breakout",
        "fence info breakout",
        "inline code breakout",
        "latex href",  # commonmark has no math: the TeX is plain text
    }


def test_breakouts_stay_text() -> None:
    out = render_markdown("```\n</code><script>alert(1)</script>\n```")
    assert out == '<pre class="tb-code"><code>&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>\n'
    assert "&lt;script&gt;" in render_markdown("&lt;script&gt;")
    assert "<img" not in render_markdown("| a |\n|---|\n| <img src=x onerror=alert(1)> |")
