"""Say thinkbook's own messages in the words of the front end the user typed in.

Errors and warnings about options are written once, for Python callers (``enable_thinking=False``,
``thinking_budget``, ``api_key=...``), sometimes with the flag in parentheses. A ``%%think`` or
``python -m thinkbook`` user typed flags, so "Drop enable_thinking=False" after ``--no-think``
sends them looking for an option they never wrote. :func:`in_flag_words` rewrites those
spellings to the flags both front ends share. Only thinkbook's own messages go through it: a
server's error text is quoted as the server wrote it.
"""

from __future__ import annotations

import re
from typing import Literal

FrontEnd = Literal["magic", "cli"]

# Most specific first: "X (flag)" pairs collapse to the flag before the bare names are rewritten.
_SPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"enable_thinking=True \(--think\)", "--think"),
        (r"enable_thinking=False \(--no-think\)", "--no-think"),
        (r"thinking_budget=(\d+) \(--budget \1\)", r"--budget \1"),
        (r"preserve_thinking=True \(--preserve\)", "--preserve"),
        (r"model='([^']+)' \(-m \1\)", r"-m \1"),
        (r"dialect='([\w-]+)' \(or --dialect \1\)", r"--dialect \1"),
        (r"api_key=os\.environ\[('?)(\w+)\1\] \(or --api-key-env \2\)", r"--api-key-env \2"),
        (r" ?\((?:or )?pass api_key=[^()]*\)", " (or --api-key-env NAME)"),
        (r"\bno thinking_budget\b", "no --budget"),
        (r"\bno preserve_thinking\b", "no --preserve"),
        (r"(?<![\w-])enable_thinking=False\b", "--no-think"),
        (r"(?<![\w-])enable_thinking=True\b", "--think"),
        (r"(?<![\w-])thinking_budget=(\d+)", r"--budget \1"),
        (r"(?<![\w-])thinking_budget\b", "--budget"),
        (r"(?<![\w-])preserve_thinking\b(?!=)", "--preserve"),
        (r"(?<![\w-])enable_thinking\b(?!=)", "--think/--no-think"),
        (r"(?<![\w-])dialect='([\w-]+)'", r"--dialect \1"),
        (r"(?<![\w-])protocol='([\w-]+)'", r"--protocol \1"),
        (r"\b([Dd])rop dialect\b", r"\1rop --dialect"),
    )
)

_RECORDINGS = "thinkbook.recordings() (or %think recordings)"


def in_flag_words(text: str, front_end: FrontEnd) -> str:
    """``text`` with the Python option spellings replaced by the flags of ``front_end``.

    >>> in_flag_words("qwq-plus is thinking-only. Drop enable_thinking=False", "magic")
    'qwq-plus is thinking-only. Drop --no-think'
    """
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    listing = "%think recordings" if front_end == "magic" else "thinkbook.recordings() in Python"
    return text.replace(_RECORDINGS, listing)
