"""A streaming answer rendered as it grows: finished blocks once, the open block again, code line by line.

:class:`LiveMarkdown` cuts the answer into top-level blocks and renders each finished block once
with :func:`~thinkbook._markdown.render_markdown`. The open block is re-rendered whole at each
update, except a top-level fenced code block: there, finished lines are highlighted once (in one
piece per update) and only the open line is highlighted again, so a long code block costs its
length in highlighting, not the square of it. How often the open block is re-rendered is the
caller's business (``ThinkView`` paces it by its cost).

The final, authoritative HTML is one :func:`render_markdown` of the whole source; the streamed HTML
can differ from it in the ways listed in :class:`LiveMarkdown`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markdown_it.common.utils import unescapeAll
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]

from ._markdown import render_markdown
from ._sanitize import escape_text, sanitize_html

__all__ = ["LiveMarkdown", "common_prefix_length"]

# A fence opener (any indentation: inside list items fences are indented) and a closer.
_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*")
_FORMATTER = HtmlFormatter(nowrap=True)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    """A Pygments lexer that keeps leading and trailing newlines (pieces of a block are lexed apart)."""
    try:
        return get_lexer_by_name(language, stripnl=False)
    except ClassNotFound:
        return None


class _LiveFence:
    """The open top-level fenced code block: finished lines highlighted once, the open line on each update.

    Its html is ``prefix + finished lines + open line + suffix``; only the last three change, and
    the finished lines only grow, so a tail delta is "keep what was finished, add the rest".
    """

    def __init__(self, info: str) -> None:
        info = unescapeAll(info).strip()
        language = info.split(maxsplit=1)[0].lower() if info else ""
        self._lexer = _lexer(language) if language else None
        empty = '<pre class="tb-code"><code{}></code></pre>\n'.format(
            f' class="language-{escape_text(language)}"' if self._lexer is not None else ""
        )
        # The same wrapper as render_markdown's fences, through the same sanitizer.
        self._prefix, _, rest = sanitize_html(empty).partition("</code>")
        self._suffix = "</code>" + rest
        self._parts: list[str] = []  # html of the finished lines, one piece per update
        self._parts_chars = 0
        self._joined = ""  # "".join(self._parts[: self._joined_parts]), for html()
        self._joined_parts = 0
        self._open_html = ""
        self._consumed = 0  # characters of code (after the opener line) highlighted so far
        self._sent = 0  # parts in the last tail handed out
        self._sent_units = 0  # its stable start (prefix and those parts) in UTF-16 units
        self._sent_chars = 0  # ... and in characters
        self.kept = 0  # characters the last delta kept of the tail before it
        self.rendered_chars = 0

    def advance(self, code: str, *, final: bool = False) -> None:
        """Highlight what is new in ``code`` (everything after the opener line so far)."""
        end = code.rfind("\n") + 1 if not final else len(code)
        if self._lexer is not None:
            # render_markdown's lexer drops the code's leading and trailing newlines (stripnl): blank
            # lines wait until a line with text follows them, and go at the end.
            end = self._consumed + len(code[self._consumed : end].rstrip("\n"))
            end += end > self._consumed and not final
        if end > self._consumed:
            piece = code[self._consumed : end]
            if self._lexer is not None and not self._parts:
                piece = piece.lstrip("\n")
            if piece:
                self._parts.append(self._highlight(piece))
                self._parts_chars += len(self._parts[-1])
            self._consumed = end
        open_line = code[self._consumed :] if not final else ""
        if self._lexer is not None and not self._parts:
            open_line = open_line.lstrip("\n")
        self._open_html = ""
        if open_line:
            open_html = self._highlight(open_line + "\n")
            cut = open_html.rfind("\n")  # the newline the lexer adds; the line is not over yet
            self._open_html = open_html[:cut] + open_html[cut + 1 :]

    def html(self) -> str:
        if self._joined_parts < len(self._parts):  # join what is new to what was joined before
            self._joined += "".join(self._parts[self._joined_parts :])
            self._joined_parts = len(self._parts)
        return self._prefix + self._joined + self._open_html + self._suffix

    def delta(self, *, continuing: bool) -> dict[str, Any]:
        """The tail fields that turn the last tail handed out (when ``continuing``) into this one."""
        new = self._parts[self._sent :]
        if not continuing:
            fields: dict[str, Any] = {"a": self.html()}
            self.kept = 0
            self._sent_units = _utf16_units(fields["a"]) - _utf16_units(self._open_html + self._suffix)
        else:
            fields = {"ak": self._sent_units, "a": "".join(new) + self._open_html + self._suffix}
            self.kept = self._sent_chars
            self._sent_units += sum(_utf16_units(part) for part in new)
        self._sent_chars = len(self._prefix) + self._parts_chars
        self._sent = len(self._parts)
        return fields

    def _highlight(self, code: str) -> str:
        self.rendered_chars += len(code)
        if self._lexer is None:
            return escape_text(code)
        return sanitize_html(str(highlight(code, self._lexer, _FORMATTER)))


def _utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (JavaScript string indices count these)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


class LiveMarkdown:
    """Render a streaming answer block by block: each finished block once, the open tail on every update.

    >>> md = LiveMarkdown()
    >>> md.append("# Title\\n\\nSome *text")
    >>> md.update()
    (['<h1>Title</h1>\\n'], '<p>Some *text</p>\\n')
    >>> md.finish() == render_markdown(md.source)
    True

    A block is finished when a blank line outside a fenced code block is followed by a line starting
    in column 0 (an indented line after a blank line still belongs to the block above: a list item's
    next paragraph, an indented code block), before a fence opener in column 0 (it ends whatever
    came before), or, for such a top-level fenced block, when its closing fence line is complete.
    So no finished block splits a construct that can span a blank line (display math cannot:
    ``$$`` and ``\\[`` blocks follow LaTeX and allow no blank line).

    Each update costs the new text plus the open block (for a top-level code block: the new lines
    plus the open line), however long the answer grows. The price is that blocks are rendered
    without their neighbours. :meth:`finish` renders the whole source once and is authoritative;
    until then the streamed HTML can differ from it in known ways:

    - a loose list (items separated by blank lines) shows as consecutive lists, numbered correctly
      (``<ol start="2">``) but without the loose list's paragraph spacing;
    - a reference-style link (``[x][1]``) whose definition comes in a later block stays text;
    - a blockquote interrupted by a blank line shows as two blockquotes;
    - a line that merely looks like a fence (inside an indented code block) can delay finishing;
    - in a top-level code block, a token that spans lines (a docstring, a block comment) can be
      coloured as if it started at the line where an update cut the block.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []  # appended text not yet seen by update(): append stays O(1)
        self._finished_sources: list[str] = []
        self._finished_blocks: list[str] = []
        self._open = ""  # source after the last finished block
        self._scan = 0  # offset in _open of the first line not yet classified
        self._fence = ""  # the opening fence while inside a fenced block, e.g. "````"
        self._fence_top_level = False
        self._live: _LiveFence | None = None  # the open block is this top-level fence
        self._code_start = 0  # offset in _open of its first code line
        self._after_blank = False
        self._tail = ""  # the open block's html when it is not a live fence
        self._open_changed = False
        self._sent_tail = False
        #: Characters the last update kept of the tail before it (what its ``ak`` counts, in characters).
        self.tail_stable = 0
        self._rendered = 0

    @property
    def rendered_chars(self) -> int:
        """Source characters passed to the renderer and highlighter so far: tests and benchmarks
        check that the whole answer costs a few times its length, not its square."""
        return self._rendered + (self._live.rendered_chars if self._live else 0)

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

    @property
    def tail(self) -> str:
        """HTML of the open block ("" when nothing is open)."""
        return self._live.html() if self._live is not None else self._tail

    def update(self) -> tuple[list[str], str]:
        """Return ``(blocks, tail)``: HTML of the blocks finished since the last update, and of the open block.

        Every finished block is returned exactly once; the tail is ``""`` when nothing is open.
        """
        blocks, _ = self.update_delta()
        return blocks, self.tail

    def update_delta(self) -> tuple[list[str], dict[str, Any]]:
        """Like :meth:`update`, with the tail as the change from the previous update's tail.

        The fields are ``{"a": html}`` (the whole tail) or ``{"ak": n, "a": html}``: keep the first
        ``n`` UTF-16 code units of the previous tail (JavaScript string indices), then add ``html``.
        After new blocks the previous tail is ``""`` (the browser drops its tail when blocks come).
        Only the change is built: a long code block is not copied at every update.
        """
        previous = self._tail
        live_before = self._live
        blocks = self._advance()
        if self._live is not None:
            continuing = self._live is live_before and not blocks and self._sent_tail
            fields = self._live.delta(continuing=continuing)
            self.tail_stable = self._live.kept
        else:
            if blocks or not self._sent_tail:
                previous = ""
            self._tail = self._render(self._open) if self._open_changed else self._tail
            shared = common_prefix_length(previous, self._tail)
            self.tail_stable = shared
            tail = self._tail
            fields = {"a": tail} if not shared else {"ak": _utf16_units(tail[:shared]), "a": tail[shared:]}
        self._sent_tail = True
        self._open_changed = False
        return blocks, fields

    def _advance(self) -> list[str]:
        """Take the appended text: finish and render the blocks it completes, highlight new code lines."""
        if not self._pending:
            return []
        self._open += "".join(self._pending)
        self._pending.clear()
        self._open_changed = True
        blocks: list[str] = []
        while (end := self._next_boundary()) is not None:
            chunk, self._open = self._open[:end], self._open[end:]
            self._scan -= end
            self._finished_sources.append(chunk)
            if self._live is not None:  # a closed top-level fence: its lines are highlighted already
                closer = chunk.rstrip("\r\n").rfind("\n") + 1
                self._live.advance(chunk[self._code_start : closer], final=True)
                block = self._live.html()
                self._rendered += self._live.rendered_chars
                self._live = None
            else:
                block = self._render(chunk)
            if block:  # a chunk of blank lines renders to nothing
                self._finished_blocks.append(block)
                blocks.append(block)
        if self._live is not None:
            self._live.advance(self._open[self._code_start :])
            self._tail = ""
        return blocks

    def finish(self) -> str:
        """Render the whole source at once: the final, authoritative HTML."""
        return self._render(self.source)

    def _render(self, source: str) -> str:
        self._rendered += len(source)
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
            line = text[start:newline].rstrip("\r")
            if not self._fence and start and _opens_top_level_fence(line) and text[:start].strip(" \t\r\n"):
                return start  # a fence in column 0 ends the block before it; it opens the next one
            self._scan = newline + 1
            in_fence = bool(self._fence)
            if self._classify(line):
                return self._scan
            if self._fence and not in_fence and self._fence_top_level and not text[:start].strip(" \t\r\n"):
                opener = _FENCE_OPEN.fullmatch(line)  # the open block is this fence: highlight it line by line
                self._live = _LiveFence(opener.group(2) if opener else "")
                self._code_start = self._scan

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
        opener = _fence_opener(line)
        if opener:
            self._fence = opener
            self._fence_top_level = not line[0].isspace()
        return False


def _fence_opener(line: str) -> str:
    """The fence marker (e.g. "```") when ``line`` opens a fenced code block, else ""."""
    opener = _FENCE_OPEN.fullmatch(line)
    # A backtick fence's info string cannot hold a backtick (then it is inline code, not a fence).
    if opener and not (opener.group(1)[0] == "`" and "`" in opener.group(2)):
        return opener.group(1)
    return ""


def _opens_top_level_fence(line: str) -> bool:
    return bool(line) and not line[0].isspace() and bool(_fence_opener(line))


_BLOCK = 4096


def common_prefix_length(a: str, b: str, start: int = 0) -> int:
    """Length of the longest common prefix of ``a`` and ``b``, known to be at least ``start``.

    Compares in blocks (C speed) and only the first differing block by character:
    ``os.path.commonprefix`` walks every character in Python.
    """
    limit = min(len(a), len(b))
    i = min(start, limit)
    while i < limit:
        j = min(i + _BLOCK, limit)
        if a[i:j] == b[i:j]:
            i = j
            continue
        while a[i] == b[i]:
            i += 1
        return i
    return limit
