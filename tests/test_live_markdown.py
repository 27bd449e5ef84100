"""Tests for the live (streaming) markdown renderer: blocks once, the open block again, code line by line.

The block-splitting tests come from tests/test_markdown.py's IncrementalMarkdown tests (LiveMarkdown
started as a copy of it); the code-block and cost tests are LiveMarkdown's own.
"""

from __future__ import annotations

import re
import statistics
import time
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xss_corpus import XSS_PAYLOADS, find_dangerous

from thinkbook._live_markdown import LiveMarkdown, common_prefix_length
from thinkbook._markdown import render_markdown


@pytest.mark.parametrize(("name", "payload"), XSS_PAYLOADS, ids=[name for name, _ in XSS_PAYLOADS])
def test_xss_payloads_stream_harmless(name: str, payload: str) -> None:
    # Streaming renders each piece on its own: it must be as safe as the whole.
    md = LiveMarkdown()
    for char in payload:
        md.append(char)
        blocks, tail = md.update()
        assert find_dangerous("".join(blocks) + tail) == []


# --- blocks (as IncrementalMarkdown) ---------------------------------------------------------------------------

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


def stream(text: str, cuts: list[int]) -> tuple[LiveMarkdown, list[str], str]:
    """Feed ``text`` cut at ``cuts``, updating after every piece; return the renderer, all blocks and the last tail."""
    md = LiveMarkdown()
    blocks: list[str] = []
    tail = ""
    bounds = [0, *sorted(set(cuts)), len(text)]
    for start, end in pairwise(bounds):
        md.append(text[start:end])
        new, tail = md.update()
        blocks += new
    return md, blocks, tail


def test_incremental_example() -> None:
    md = LiveMarkdown()
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
    md = LiveMarkdown()
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
    md = LiveMarkdown()
    streamed_code: list[str] = []
    for line in text.splitlines(keepends=True):
        md.append(line)
        blocks, _ = md.update()
        for block in blocks:
            streamed_code += re.findall(r"<pre.*?</pre>", block, re.DOTALL)
    streamed_code += re.findall(r"<pre.*?</pre>", md.update()[1], re.DOTALL)
    assert streamed_code == final_code


def test_fence_is_finished_when_its_closing_line_is_complete() -> None:
    md = LiveMarkdown()
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
    md = LiveMarkdown()
    md.append(f"{opener}\na\n{fake_closer}\n\nb\n\nc")
    assert md.update()[0] == []


def test_inline_code_is_not_a_fence() -> None:
    md = LiveMarkdown()
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
    md = LiveMarkdown()
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
    small, large = LiveMarkdown(), LiveMarkdown()
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


# --- LiveMarkdown's own: code blocks line by line, bounded cost ------------------------------------


def long_code(size: int) -> str:
    lines = [f"def f{i}(x):\n    return x + {i}  # 思考 {i}\n" for i in range(size // 40 + 1)]
    return "```python\n" + "".join(lines)


def test_a_long_code_block_costs_its_length_not_its_square() -> None:
    code = long_code(150_000)
    md = LiveMarkdown()
    browser = b""  # the tail as the browser rebuilds it from the deltas, in UTF-16 (JS strings)
    sent = 0
    for index in range(0, len(code), 20):  # 7,500 pieces of 20 characters, an update every 50
        md.append(code[index : index + 20])
        if index % 1000 == 0:
            blocks, fields = md.update_delta()
            assert blocks == []
            browser = browser[: 2 * fields.get("ak", 0)] + fields["a"].encode("utf-16-le")
            sent += len(fields["a"])
    assert browser.decode("utf-16-le") == md.tail
    assert sent < 1.5 * len(md.tail)  # each update sends what changed, not the whole block again
    # Each character is highlighted about once (plus the open line): the whole block re-rendered at
    # every update would be ~75x.
    assert md.rendered_chars < 1.5 * len(code)
    md.append("```\n")
    (block,), tail = md.update()
    assert tail == "" and block == render_markdown(code + "```\n")


def test_the_open_code_line_is_highlighted_as_it_grows() -> None:
    md = LiveMarkdown()
    md.append("```python\nx = 1\nde")
    _, tail = md.update()
    assert tail.startswith('<pre class="tb-code"><code class="language-python">')
    assert '<span class="n">x</span>' in tail and tail.endswith("de</span></code></pre>\n")
    md.append("f f(): pass\n")
    _, tail = md.update()
    assert '<span class="k">def</span>' in tail and "\n\n" not in tail


def test_a_fence_right_after_a_paragraph_starts_its_own_block() -> None:
    text = "Run this:\n```bash\necho hi\n```\nDone.\n"
    _, blocks, tail = stream(text, list(range(len(text))))
    assert blocks[0] == "<p>Run this:</p>\n" and blocks[1].startswith('<pre class="tb-code">')
    assert "".join(blocks) + tail == render_markdown(text)


@pytest.mark.parametrize("info", ["", "no-such-language", "python"])
def test_code_breakouts_stay_text_while_streaming(info: str) -> None:
    text = f"```{info}\n</code></pre><script>alert(1)</script>\n<img src=x onerror=alert(1)>\n"
    md = LiveMarkdown()
    for char in text:
        md.append(char)
        blocks, tail = md.update()
        assert find_dangerous("".join(blocks) + tail) == []
        assert "<script" not in tail and "<img" not in tail


def test_common_prefix_length() -> None:
    a = "x" * 10_000 + "abc"
    assert common_prefix_length(a, a) == len(a)
    assert common_prefix_length(a, "x" * 10_000 + "abd") == 10_002
    assert common_prefix_length(a, "y") == 0 and common_prefix_length("", a) == 0
    assert common_prefix_length(a, a[:5000] + "z", start=4000) == 5000
