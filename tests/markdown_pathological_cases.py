"""Inputs that make naive markdown parsers slow, each built at a chosen size in characters.

The list follows the cases of the CommonMark reference implementation's pathological suite
(cmark's ``test/pathological_tests.py``), re-created here as generators of a given size, plus the
math delimiters thinkbook adds (``\\(``, ``\\[``, ``$``, ``$$``) and image openers. Shared by
``tests/test_markdown_pathological.py`` (limits) and ``benchmarks/bench_markdown.py`` (a table).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["BENCHMARK_ONLY_CASES", "PATHOLOGICAL_CASES", "build"]


def _repeat(unit: str, head: str = "", tail: str = "") -> Callable[[int], str]:
    """``head + unit * k + tail`` with ``k`` chosen so the text is about ``size`` characters."""

    def make(size: int) -> str:
        return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail

    return make


def _around(opener: str, middle: str, closer: str) -> Callable[[int], str]:
    """``opener * k + middle + closer * k``: the same number of openers and closers around a middle."""

    def make(size: int) -> str:
        count = max(1, (size - len(middle)) // (len(opener) + len(closer)))
        return opener * count + middle + closer * count

    return make


def _nested_list(size: int) -> str:
    # Each item is indented two more spaces than the one above, so the text grows with depth squared.
    lines: list[str] = []
    total = depth = 0
    while total < size:
        line = "  " * depth + "* a\n"
        lines.append(line)
        total += len(line)
        depth += 1
    return "".join(lines)


def _growing_backtick_runs(size: int) -> str:
    # "e`", "e``", "e```", ...: every run is a possible code span opener that no later run closes.
    parts: list[str] = []
    total = 0
    run = 1
    while total < size:
        part = "e" + "`" * run
        parts.append(part)
        total += len(part)
        run += 1
    return "".join(parts)


def _deep_list_then_blank_lines(size: int) -> str:
    count = size // 3
    return "- " * count + "x" + "\n" * count


def _deep_list_in_blockquote_then_quoted_blank_lines(size: int) -> str:
    count = size // 4
    return "> " + "- " * count + "x\n" + ">\n" * count


def _emphasis_in_deep_blockquote(size: int) -> str:
    count = size // 3
    return ">" * count + "a*" * count


def _distinct_formulas(size: int) -> str:
    # Every formula differs, so none comes from the cache: the cost of latex2mathml itself.
    parts: list[str] = []
    total = index = 0
    while total < size:
        part = f"$x_{{{index}}}$ "
        parts.append(part)
        total += len(part)
        index += 1
    return "".join(parts)


def _reference_definitions(size: int) -> str:
    # Many link reference definitions, each followed by a paragraph using the first one.
    parts: list[str] = []
    total = index = 0
    while total < size:
        part = f"[x{index}]: /url\n\n[x0]\n\n"
        parts.append(part)
        total += len(part)
        index += 1
    return "".join(parts)


#: name -> builder(size in characters) -> markdown source of about that size.
PATHOLOGICAL_CASES: dict[str, Callable[[int], str]] = {
    # cmark's cases
    "nested strong emphasis": _around("*a **a ", "b", " a** a*"),
    "emphasis closers without openers": _repeat("a_ "),
    "emphasis openers without closers": _repeat("_a "),
    "link closers without openers": _repeat("a]"),
    "link openers without closers": _repeat("[a"),
    "mismatched openers and closers": _repeat("*a_ "),
    "emphasis openers then mixed closers": _around("*a ", "", "_a*_ "),
    "openers and closers multiple of 3": _repeat("c* ", head="a**b"),
    "link openers and emphasis closers": _repeat("[ a_"),
    "pattern [ (]( repeated": _repeat("[ (]("),
    "pattern ![[]() repeated": _repeat("![[]()"),
    "nested brackets": _around("[", "a", "]"),
    "nested inline emphasis": _around("*", "a", "*"),
    "nested blockquotes": _repeat("> ", tail="a"),
    "deeply nested lists": _nested_list,
    "backtick runs": _growing_backtick_runs,
    "unclosed links with <": _repeat("[a](<b"),
    "unclosed links": _repeat("[a](b"),
    "unclosed html comments": _repeat("<!--", head="</"),
    "blank lines after a deep list": _deep_list_then_blank_lines,
    "blank lines after a deep list in a blockquote": _deep_list_in_blockquote_then_quoted_blank_lines,
    "emphasis in a deep blockquote": _emphasis_in_deep_blockquote,
    "link reference definitions": _reference_definitions,
    # thinkbook's own: math delimiters and images
    "many \\( openers": _repeat("\\("),
    "many \\( openers with text": _repeat("\\(a "),
    "many \\[ openers": _repeat("\\["),
    "many \\[ openers on lines": _repeat("\\[a\n"),
    "many $$": _repeat("$$"),
    "many $$ openers with text": _repeat("$$a "),
    "many $": _repeat("$a "),
    # An unclosed display opener at the start of every block (headings end the paragraphs). The
    # headings are prose-sized: 12,500 blocks in 100 KB cost markdown-it ~0.5 s even without math.
    "$$ blocks between headings": _repeat("$$x^2 + y^2\n# a short heading\n"),
    "\\[ blocks between headings": _repeat("\\[x^2 + y^2\n# a short heading\n"),
    "many [": _repeat("["),
    "many ![": _repeat("!["),
}


#: Linear, but over the 0.5 s limit at 100 KB on the libraries' own speed, so measured by the
#: benchmark only: latex2mathml (~70 µs a formula), and markdown-it on 12,500 blocks.
BENCHMARK_ONLY_CASES: dict[str, Callable[[int], str]] = {
    "distinct inline formulas": _distinct_formulas,
    "dense blocks: $$ between headings": _repeat("$$a\n# h\n"),
}


def build(name: str, size: int) -> str:
    """The input of case ``name`` at about ``size`` characters."""
    return {**PATHOLOGICAL_CASES, **BENCHMARK_ONLY_CASES}[name](size)
