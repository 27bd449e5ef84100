"""Math in markdown answers: the ``$``, ``$$``, ``\\(...\\)`` and ``\\[...\\]`` rules, and TeX to MathML.

The delimiter rules find their closers in time linear in the text overall. The upstream rules
(mdit-py-plugins' texmath regexes and dollarmath's ``$$`` block scan) search forward from every
opener to the end of the text when no closer comes, so an answer with thousands of unclosed ``\\(``
took seconds (20 KB 1.3 s, 100 KB 25 s). Here each text's closer positions are listed once and
looked up by bisection, and a failed ``$$`` block scan is remembered for the openers inside it. They
accept exactly what the upstream rules accept, inside the inline range being parsed.

latex2mathml writes ``\\log``, ``\\sin`` and the other function names as a bare ``<mi>log</mi>``
next to its argument, which browsers draw as "nlogn": :func:`math_html` adds the function
application operator and TeX's thin spaces around the name.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache
from xml.etree.ElementTree import Element, tostring

from latex2mathml.converter import convert_to_element
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.utils import EnvType
from mdit_py_plugins.dollarmath.index import math_inline_dollar

from ._sanitize import escape_text

__all__ = ["MAX_TEX_CHARS", "math_html", "math_plugin"]

# --- TeX to MathML ----------------------------------------------------------------------------

#: Function names latex2mathml writes as ``<mi>`` (its FUNCTIONS list, plus ``\arg``, which it leaves
#: as the literal text "\arg"). ``\lim``, ``\max``, ``\det`` and friends come out as ``<mo>``, which
#: browsers already space.
_FUNCTION_NAMES = frozenset(
    {"arccos", "arcctg", "arcsin", "arctan", "arctg", "arg", "ch", "cos", "cosh", "cosec", "cot", "cotg"}
    | {"coth", "csc", "ctg", "cth", "deg", "dim", "exp", "hom", "ker", "ln", "lg", "log", "sec", "sh"}
    | {"sin", "sinh", "tan", "tanh", "tg", "th"}
)
_SCRIPTED = frozenset({"msub", "msup", "msubsup"})
# Elements whose children form a row; the others (mfrac, msub, mroot...) have a fixed number of children.
_ROWS = frozenset({"math", "mrow", "mstyle", "mtd", "msqrt", "mpadded", "mphantom", "menclose", "merror"})
_APPLY_FUNCTION = "\u2061"
_THIN_SPACE = "0.1667em"  # TeX's \, (3mu)
# TeX puts no space between a function name and an opening bracket or punctuation after it
# ("\log(x)", "\sin,"), nor after an opening bracket before it.
_NO_SPACE_AFTER = frozenset("([{⟨⌊⌈,;.!" + _APPLY_FUNCTION)
_NO_SPACE_BEFORE_UNLESS = frozenset(")]}⟩⌋⌉")  # an <mo> before a name gets a space only if it closes


def _function_name(element: Element) -> Element | None:
    """The ``<mi>`` of a function name, if ``element`` is one (``\\log``) or carries one (``\\log_2``)."""
    if element.tag in _SCRIPTED and len(element):
        element = element[0]
    return element if element.tag == "mi" and element.text in _FUNCTION_NAMES else None


def _space() -> Element:
    return Element("mspace", {"width": _THIN_SPACE})


def _space_before(element: Element) -> bool:
    """Whether TeX puts a thin space between ``element`` and a function name after it."""
    if element.tag == "mspace":
        return False
    return element.tag != "mo" or (element.text or "") in _NO_SPACE_BEFORE_UNLESS


def _space_function_names(root: Element) -> None:
    """``n\\log n`` as TeX sets it: ``n``, thin space, ``log``, function application, thin space, ``n``."""
    for row in [node for node in root.iter() if node.tag in _ROWS]:
        children = list(row)
        if not any(_function_name(child) is not None for child in children):
            continue
        spaced: list[Element] = []
        for index, child in enumerate(children):
            if _function_name(child) is None:
                spaced.append(child)
                continue
            before = spaced[-1] if spaced else None
            if before is not None and _space_before(before):
                spaced.append(_space())
            spaced.append(child)
            apply = Element("mo")
            apply.text = _APPLY_FUNCTION
            spaced.append(apply)
            after = children[index + 1] if index + 1 < len(children) else None
            if after is not None and not (after.tag == "mo" and (after.text or "") in _NO_SPACE_AFTER):
                spaced.append(_space())
        row[:] = spaced


#: Longest TeX source converted to MathML (a long matrix is ~2,000 characters).
MAX_TEX_CHARS = 10_000


@lru_cache(maxsize=1024)
def math_html(tex: str, display: bool) -> str:
    """MathML for ``tex``, or its escaped source in ``<code class="tb-math-error">``.

    Cached: a streamed answer is re-rendered while it grows, and formulas repeat. A formula longer
    than :data:`MAX_TEX_CHARS` is shown as source: latex2mathml takes ~8 µs a character, and no real
    formula is that long (unclosed delimiters are what makes one).
    """
    if len(tex) > MAX_TEX_CHARS:
        return f'<code class="tb-math-error">{escape_text(tex)}</code>'
    try:
        element = convert_to_element(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises assorted types (its own, IndexError, RecursionError) on bad TeX
        return f'<code class="tb-math-error">{escape_text(tex)}</code>'
    # latex2mathml's own serializer unescapes its output, so "\text{<b>}" would come out as a real tag.
    # Decode the character references it puts in text, then let ElementTree escape everything.
    for node in element.iter():
        node.attrib.pop("xmlns", None)
        node.text = html.unescape(node.text) if node.text else node.text
        node.tail = html.unescape(node.tail) if node.tail else node.tail
        if node.tag == "mi" and node.text == "\\arg":  # latex2mathml does not know \arg
            node.text = "arg"
    _space_function_names(element)
    with suppress(RecursionError):  # (a tree latex2mathml built just under the limit: leave the rest wrapped)
        _unwrap_single_rows(element)
    return tostring(element, encoding="unicode")


def _unwrap_single_rows(parent: Element) -> None:
    """Replace each ``<mrow>`` holding exactly one element (no text, no attributes) with that element.

    MathML defines a one-argument ``mrow`` as equivalent to its argument (also as an argument of
    ``mfrac`` or ``msup``: the count of arguments is unchanged); latex2mathml wraps every group in
    one, so ``\frac{3}{5}`` took 71 bytes instead of 39, in the live view and in every saved output.
    """
    for index, child in enumerate(list(parent)):
        _unwrap_single_rows(child)
        while child.tag == "mrow" and not child.attrib and len(child) == 1 and not child.text:
            (only,) = child
            if only.tail:
                break
            only.tail = child.tail
            parent[index] = only
            child = only


# --- finding closers --------------------------------------------------------------------------


def _positions(env: EnvType, pattern: re.Pattern[str], text: str) -> list[int]:
    """Where ``pattern`` matches in ``text``, ascending; computed once per text and render."""
    index: dict[tuple[str, int], tuple[str, list[int]]] = env.setdefault("thinkbook_math_positions", {})
    key = (pattern.pattern, id(text))
    cached = index.get(key)
    if cached is None or cached[0] is not text:  # the text is kept with its list, so its id stays unique
        cached = index[key] = (text, [match.start() for match in pattern.finditer(text)])
    positions: list[int] = cached[1]
    return positions


def _first_at_or_after(positions: list[int], start: int) -> int | None:
    found = bisect_left(positions, start)
    return positions[found] if found < len(positions) else None


# \(...\) and \[...\] inside a paragraph: the shortest non-empty content up to the closer, as the
# texmath rule "^\\\((.+?)\\\)" (DOTALL) matches it.
_INLINE_CLOSERS = {"\\(": re.compile(r"\\\)"), "\\[": re.compile(r"\\\]")}


def _bracket_inline_rule(opener: str, token_type: str) -> Callable[[StateInline, bool], bool]:
    closers = _INLINE_CLOSERS[opener]

    def rule(state: StateInline, silent: bool) -> bool:
        if not state.src.startswith(opener, state.pos):
            return False
        closer = _first_at_or_after(_positions(state.env, closers, state.src), state.pos + 3)
        if closer is None or closer + 2 > state.posMax:
            return False
        if not silent:
            token = state.push(token_type, "math", 0)
            token.content = state.src[state.pos + 2 : closer]
            token.markup = opener
        state.pos = closer + 2
        return True

    return rule


# \[...\] opening a block: as texmath's "^\\\[((?:[^\n]|\n(?![ \t]*\n))+?)\\\][ \t]*$" (MULTILINE) on
# the document from the line's first character: the first \] that ends its line (but for spaces and
# tabs), with no blank line before it. Like texmath, the whole match must lie in the current block.
_BLOCK_CLOSERS = re.compile(r"\\\](?=[ \t]*(?:\n|\Z))")
_BLANK_LINE_STARTS = re.compile(r"\n(?=[ \t]*\n)")
_TRAILING_BLANKS = re.compile(r"[ \t]*")


def _bracket_block_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    begin = state.bMarks[start_line] + state.tShift[start_line]
    src = state.src
    if not src.startswith("\\[", begin):
        return False
    closer = _first_at_or_after(_positions(state.env, _BLOCK_CLOSERS, src), begin + 3)
    if closer is None:
        return False
    blank = _first_at_or_after(_positions(state.env, _BLANK_LINE_STARTS, src), begin + 2)
    if blank is not None and blank < closer:
        return False
    trailing = _TRAILING_BLANKS.match(src, closer + 2)
    last = (trailing.end() if trailing else closer + 2) - 1  # the match's last character
    line = start_line
    while line < end_line and last > state.eMarks[line]:
        line += 1
    if line >= end_line or last < state.bMarks[line]:
        return False  # the closer lies outside the current block (e.g. after a blockquote ends)
    if not silent:
        token = state.push("math_block", "math", 0)
        token.block = True
        token.content = src[begin + 2 : closer]
        token.info = token.content  # as texmath sets it (its only group); nothing renders it
        token.markup = "\\["
    state.line = line + 1
    return True


# $$...$$ opening a block: dollarmath's rule for allow_labels=False, allow_blank_lines=False, whose
# search for the closing line stops at the first blank line. A search that failed from one line
# fails from every line before its stop too: remember it, so "$$a" lines between headings cost O(n).
_FAILED_SCAN = "thinkbook_math_failed_dollar_scan"


def _closing_dollar_line(state: StateBlock, start_line: int, end_line: int) -> int | None:
    """The line after ``start_line`` that ends with ``$$``, if one comes before a blank line."""
    failed = state.env.get(_FAILED_SCAN)
    if failed is not None:
        scan_end_line, scan_start, stop, stop_begin = failed
        # Whether a line ends with "$$" does not depend on the containers around it (their markers
        # are at the start of the line), but whether the stop line is blank does: check its start.
        if (
            scan_end_line == end_line
            and scan_start < start_line < stop
            and (stop >= end_line or state.bMarks[stop] + state.tShift[stop] == stop_begin)
        ):
            return None
    line = start_line + 1
    while line < end_line:
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].strip()
        if text.endswith("$$"):
            return line
        if not text:
            break
        line += 1
    stop_begin = state.bMarks[line] + state.tShift[line] if line < end_line else -1
    state.env[_FAILED_SCAN] = (end_line, start_line, line, stop_begin)
    return None


def _dollar_block_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.is_code_block(start_line):
        return False
    start = state.bMarks[start_line] + state.tShift[start_line]
    end = state.eMarks[start_line]
    if start + 2 > end or not state.src.startswith("$$", start):
        return False
    line_text = state.src[start:end]
    stripped = line_text.strip()
    last_line = start_line
    if len(stripped) > 3 and stripped.endswith("$$"):  # $$...$$ on one line
        end = end - 2 - (len(line_text) - len(stripped))
    elif len(stripped) > 3 and "$$" in line_text[2:]:
        return False  # a closer not at the end of the line is ambiguous: dollarmath does not scan on
    else:
        closing = _closing_dollar_line(state, start_line, end_line)
        if closing is None:
            return False
        last_line = closing
        line_text = state.src[state.bMarks[closing] + state.tShift[closing] : state.eMarks[closing]]
        end = state.eMarks[closing] - 2 - (len(line_text) - len(line_text.strip()))
    state.line = last_line + 1
    if silent:
        return True
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = _dollar_block_content(state, start_line, start, last_line, end)
    token.markup = "$$"
    token.map = [start_line, state.line]
    return True


def _dollar_block_content(state: StateBlock, start_line: int, start: int, end_line: int, end: int) -> str:
    """The math between the delimiters, without the container prefixes (``> ``) of its lines."""
    if start_line == end_line:
        return state.src[start + 2 : end]
    parts = [state.src[start + 2 : state.eMarks[start_line]], "\n"]
    for line in range(start_line + 1, end_line):
        parts += [state.src[state.bMarks[line] : state.eMarks[line]], "\n"]
    parts.append(state.src[state.bMarks[end_line] : end])
    return "".join(parts)


def math_plugin(md: MarkdownIt) -> None:
    """Parse ``$x$``, ``$$x$$``, ``\\(x\\)`` and ``\\[x\\]`` into ``math_inline``, ``math_inline_double``
    and ``math_block`` tokens, as dollarmath names them (render rules are the caller's).

    Pandoc's rules for ``$``: no space inside the delimiters, no digit after the closing one, so
    "from $5 to $10" stays prose. No blank line inside display math, as in LaTeX. ``\\(`` and ``\\[``
    are what Qwen and DeepSeek write most.
    """
    dollar = math_inline_dollar(allow_space=False, allow_digits=False, allow_double=True)
    parenthesis = _bracket_inline_rule("\\(", "math_inline")
    bracket = _bracket_inline_rule("\\[", "math_inline_double")

    # One inline rule for the three delimiters: every inline rule runs at every markup character
    # (twice where a link label is scanned), so the number of rules is markdown-it's main cost.
    def inline_math(state: StateInline, silent: bool) -> bool:
        char = state.src[state.pos]
        if char == "$":
            return dollar(state, silent)
        return char == "\\" and (parenthesis(state, silent) or bracket(state, silent))

    md.inline.ruler.before("escape", "math_inline", inline_math)
    md.block.ruler.before("fence", "math_block", _dollar_block_rule)
    md.block.ruler.before("fence", "math_block_brackets", _bracket_block_rule)
