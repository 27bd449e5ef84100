"""Tests for the markdown renderer and its incremental (streaming) form."""

from __future__ import annotations

import re
import statistics
import time
from html.parser import HTMLParser
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from xss_corpus import XSS_PAYLOADS, find_dangerous

from thinkbook._markdown import IncrementalMarkdown, is_safe_url, render_markdown
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
    assert f"<mfrac><mrow><mi>log</mi>{_APPLY}{_THIN}<mi>n</mi></mrow><mrow><mn>2</mn></mrow></mfrac>" in fraction


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
    math = '<math display="block"><mrow><mi>x</mi></mrow></math>'
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
    md = IncrementalMarkdown()
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


# --- IncrementalMarkdown ---------------------------------------------------------------------------

QWEN_ANSWER = """## 解题思路

我们需要求解方程 \\(x^2 - 5x + 6 = 0\\)。

**第一步**：因式分解：

\\[
(x - 2)(x - 3) = 0
\\]

所以 $x = 2$ 或 $x = 3$。

| 方法 | 复杂度 |
|:-----|------:|
| 因式分解 | 低 |
| 求根公式 | 中 |

> 提示：先检查判别式 $\\Delta = b^2 - 4ac$。

$$
x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}
$$

```python
import math


def roots(a, b, c):
    d = math.sqrt(b * b - 4 * a * c)

    return (-b + d) / (2 * a), (-b - d) / (2 * a)
```

Done.
"""

CODE_HEAVY_ANSWER = """Here is the program:
```javascript
function main() {

  console.log("a\\n\\nb");


}
```
And the shell version, in a longer fence:

````bash
echo start

```
not a closing fence (too short)
```

echo end
````

~~~text
``` is not a closer for a tilde fence

~~~
Trailing paragraph with `code` and a [link](https://example.org).
"""

LIST_ANSWER = """1. First step

   Continued in the same item.

   ```python
   x = 1

   y = 2
   ```

2. Second step
   - nested bullet

     ```
     indented fence

     with a blank line
     ```

3. Third step

See [the docs][docs] and ![plot](https://example.org/p.png).

    indented code

    still indented code

[docs]: https://example.org/docs
"""

EDGE_ANSWER = """Text right before a fence
```
a

b
```
Text right after it.
$$
a = b
$$

$$
never

closed
\\[
x

y
\\]
> quote

> second quote
* * *
Setext heading
==============
"""

ANSWERS = [QWEN_ANSWER, CODE_HEAVY_ANSWER, LIST_ANSWER, EDGE_ANSWER, *(payload for _, payload in XSS_PAYLOADS)]
SIMPLE_ANSWERS = [QWEN_ANSWER, CODE_HEAVY_ANSWER]  # no construct whose streamed and final renders differ


def stream(text: str, cuts: list[int]) -> tuple[IncrementalMarkdown, list[str], str]:
    """Feed ``text`` cut at ``cuts``, updating after every piece; return the renderer, all blocks and the last tail."""
    md = IncrementalMarkdown()
    blocks: list[str] = []
    tail = ""
    bounds = [0, *sorted(set(cuts)), len(text)]
    for start, end in pairwise(bounds):
        md.append(text[start:end])
        new, tail = md.update()
        blocks += new
    return md, blocks, tail


def test_incremental_example() -> None:
    md = IncrementalMarkdown()
    assert md.update() == ([], "")
    md.append("# Title\n\nSome *text")
    assert md.update() == (["<h1>Title</h1>\n"], "<p>Some *text</p>\n")
    md.append("*\n\n")
    assert md.update() == ([], "<p>Some <em>text</em></p>\n")  # finished only once the next block starts
    md.append("More")
    assert md.update() == (["<p>Some <em>text</em></p>\n"], "<p>More</p>\n")
    assert md.source == "# Title\n\nSome *text*\n\nMore"
    assert md.finished_html == "<h1>Title</h1>\n<p>Some <em>text</em></p>\n"
    assert md.finish() == render_markdown(md.source)


def test_update_without_new_text_renders_nothing() -> None:
    md = IncrementalMarkdown()
    md.append("para\n\nnext")
    first = md.update()
    rendered = md.rendered_chars
    md.append("")
    assert md.update() == ([], first[1])
    assert md.rendered_chars == rendered


@pytest.mark.parametrize("text", [CODE_HEAVY_ANSWER, LIST_ANSWER, EDGE_ANSWER, QWEN_ANSWER])
def test_fenced_blocks_with_blank_lines_are_not_finished_early(text: str) -> None:
    # Line by line: every block finished along the way must hold whole code blocks only, exactly
    # as the final render draws them.
    final_code = re.findall(r"<pre.*?</pre>", render_markdown(text), re.DOTALL)
    md = IncrementalMarkdown()
    streamed_code: list[str] = []
    for line in text.splitlines(keepends=True):
        md.append(line)
        blocks, _ = md.update()
        for block in blocks:
            streamed_code += re.findall(r"<pre.*?</pre>", block, re.DOTALL)
    streamed_code += re.findall(r"<pre.*?</pre>", md.update()[1], re.DOTALL)
    assert streamed_code == final_code


def test_fence_is_finished_when_its_closing_line_is_complete() -> None:
    md = IncrementalMarkdown()
    md.append("```python\nx = 1\n\n\ny = 2\n``")
    assert md.update()[0] == []
    md.append("`")
    assert md.update()[0] == []  # the closing line might still grow into "````"
    md.append("\n")
    (block,), tail = md.update()
    assert block.startswith('<pre class="tb-code"><code class="language-python">') and "y" in block
    assert tail == ""


@pytest.mark.parametrize(
    ("opener", "fake_closer"), [("```", "~~~"), ("````", "```"), ("~~~~", "~~~"), ("```", "``` not")]
)
def test_closing_fence_must_match(opener: str, fake_closer: str) -> None:
    md = IncrementalMarkdown()
    md.append(f"{opener}\na\n{fake_closer}\n\nb\n\nc")
    assert md.update()[0] == []


def test_inline_code_is_not_a_fence() -> None:
    md = IncrementalMarkdown()
    md.append("``` inline `code` ```\n\nnext\n\nthird")
    blocks, _ = md.update()
    assert len(blocks) == 2


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(ANSWERS), st.lists(st.integers(min_value=0, max_value=1500), max_size=40))
def test_any_chunking_gives_the_same_blocks(text: str, cuts: list[int]) -> None:
    cuts = [cut for cut in cuts if cut < len(text)]
    md, blocks, tail = stream(text, cuts)
    reference, reference_tail = stream(text, [])[1:]
    assert blocks == reference, "a finished block depends only on the text, never on how it arrived"
    assert tail == reference_tail
    assert md.finished_html == "".join(blocks)
    assert md.source == text
    assert md.finish() == render_markdown(text)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(SIMPLE_ANSWERS), st.lists(st.integers(min_value=0, max_value=1500), max_size=40))
def test_simple_answers_stream_exactly_like_the_final_render(text: str, cuts: list[int]) -> None:
    md, blocks, tail = stream(text, cuts)
    assert len(blocks) > 3
    assert "".join(blocks) + tail == md.finish()


def test_every_update_returns_new_blocks_only() -> None:
    text = QWEN_ANSWER * 3
    md = IncrementalMarkdown()
    seen = 0
    for index in range(0, len(text), 7):
        md.append(text[index : index + 7])
        before = md.finished_html
        blocks, _ = md.update()
        assert md.finished_html == before + "".join(blocks)
        seen += len(blocks)
    assert seen == len(stream(text, [])[1])


@pytest.mark.parametrize(
    "text",
    [
        "1. a\n\n2. b\n",  # a loose list streams as two lists
        "[x][1]\n\n[1]: https://example.org\n",  # the definition comes after the reference
    ],
)
def test_documented_differences_are_fixed_by_finish(text: str) -> None:
    md, blocks, tail = stream(text, [])
    assert "".join(blocks) + tail != md.finish()
    assert md.finish() == render_markdown(text)


def realistic_answer(size: int) -> str:
    sections: list[str] = []
    index = 0
    while sum(len(section) for section in sections) < size:
        sections.append(
            f"### Part {index}\n\nSome prose about $x_{index}$ with **bold** and a [link](https://example.org/{index}).\n"
            f"It continues for a while, as answers do, with \\(a + b\\).\n\n"
            f"```python\ndef part_{index}(x):\n\n    return x * {index}\n```\n\n"
            f"- item one\n- item two\n\n$$\n\\sum_{{k=1}}^{{{index}}} k\n$$\n\n"
        )
        index += 1
    return "".join(sections)


def test_update_cost_stays_flat_as_the_answer_grows() -> None:
    # Two renderers, one holding a 5 KB answer and one a 100 KB answer, receive the same further
    # text in the same small deltas, alternately, so that machine load hits both measurements alike.
    small, large = IncrementalMarkdown(), IncrementalMarkdown()
    for md, size in ((small, 5_000), (large, 100_000)):
        md.append(realistic_answer(size) + "Same last block for both.\n\n")
        md.update()
    assert len(large.source) > 19 * len(small.source)
    continuation = realistic_answer(10_000)
    chars: dict[int, list[int]] = {id(small): [], id(large): []}
    seconds: dict[int, list[float]] = {id(small): [], id(large): []}
    for index in range(0, len(continuation), 16):
        for md in (small, large):
            md.append(continuation[index : index + 16])
            before, start = md.rendered_chars, time.perf_counter()
            md.update()
            seconds[id(md)].append(time.perf_counter() - start)
            chars[id(md)].append(md.rendered_chars - before)
    # Deterministic: what an update re-renders depends on the open block, never on the answer's length.
    assert chars[id(large)] == chars[id(small)]
    assert max(chars[id(large)]) < 400, "no update re-rendered more than about one section"
    # Timing, for the work the character count cannot see (scanning, joining, copying).
    assert statistics.median(seconds[id(large)]) <= 3 * statistics.median(seconds[id(small)])
