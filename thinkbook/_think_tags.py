"""Split inline ``<think>...</think>`` reasoning out of a model's streamed *content* text.

Servers without a reasoning parser (raw Qwen3, DeepSeek-R1 distills, MiniMax-M2 on vLLM,
llama.cpp or Ollama) put the reasoning inline in the content. :class:`ThinkTagSplitter` turns
that stream into :class:`ReasoningDelta` / :class:`AnswerDelta` events, incrementally.

Rules (for whole-stream input ``s``; any chunking gives the same final reasoning and answer):

* A tag-less answer is passed through unchanged, leading and trailing whitespace included (an
  answer that opens with an indented code block keeps its indentation). Whitespace before a
  tag is dropped. "Whitespace" is what :meth:`str.strip` strips.
* ``<think>`` is a tag only at the very start (after that whitespace). Reasoning runs to the
  first ``</think>``; everything after it is answer, tags included (no nesting, no re-opening).
  ``<thinking>``, ``<Think>`` and other look-alikes are plain text.
* Without an opening tag, the first ``</think>`` anywhere ends the reasoning: newer Qwen3
  templates pre-fill ``<think>`` in the prompt. The text before it was already streamed as
  answer (it could not be known), so the splitter emits ``AnswerWasReasoning`` with exactly the
  answer emitted so far, once, then ``ReasoningDelta`` for the rest before the tag. Known cost:
  a tag-less answer that *mentions* ``</think>`` is split there; that cannot be told apart.
  With ``bare_close=False`` (thinking was explicitly turned off, so nothing was pre-filled)
  this rule is off and such a ``</think>`` is answer text.
* Whitespace inside reasoning or answer is kept exactly. Reasoning drops its leading whitespace
  and the whitespace just before ``</think>``. After ``</think>`` the answer drops the blank
  lines that separate it from the tag (its whitespace up to and including the last line break;
  all of it when there is no line break), so its first line keeps its indentation.
* An unclosed ``<think>`` makes everything reasoning; :meth:`ThinkTagSplitter.flush` releases
  held-back text (a partial tag, trailing whitespace) to the side it was on; after a
  ``</think>``, an answer that is nothing but whitespace is empty.
* Once a tag has been handled, the rest is answer and :meth:`feed` is a near no-op pass-through.

Held-back text: a trailing possible prefix of the tag being looked for (tags may be split across
chunks, down to one character per chunk) and, while a ``</think>`` may still come, trailing
whitespace (it is dropped if the tag follows). It is released as soon as the next chunk proves
it is ordinary text; likewise leading whitespace, until the next chunk shows whether a tag or
the answer follows it. No event ever has empty text.
"""

from __future__ import annotations

from typing import TypeAlias

from ._types import AnswerDelta, AnswerWasReasoning, ReasoningDelta

__all__ = ["SplitEvent", "ThinkTagSplitter"]

SplitEvent: TypeAlias = ReasoningDelta | AnswerDelta | AnswerWasReasoning

_OPEN = "<think>"
_CLOSE = "</think>"

# States. UNDECIDED: only whitespace or a partial tag seen. MAYBE_ANSWER: text without a tag,
# streamed as answer but a "</think>" may still turn it into reasoning. REASONING: inside an
# opened "<think>". ANSWER_START / ANSWER: after a tag, dropping / keeping leading whitespace.
_UNDECIDED, _MAYBE_ANSWER, _REASONING, _ANSWER_START, _ANSWER = range(5)


def _hold_start(text: str) -> int:
    """Index where the tail to hold back starts: a possible ``</think>`` prefix and whitespace.

    Only the last ``len(_CLOSE) - 1`` characters can start an incomplete tag (a complete one
    was already searched for), so this is O(1) for text that does not end in whitespace.
    """
    n = len(text)
    j = text.find("<", max(n - len(_CLOSE) + 1, 0))
    while j != -1 and not _CLOSE.startswith(text[j:]):
        j = text.find("<", j + 1)
    k = n if j == -1 else j
    while k and text[k - 1].isspace():
        k -= 1
    return k


class ThinkTagSplitter:
    """Incremental splitter of inline ``<think>`` reasoning; one instance per stream.

    >>> s = ThinkTagSplitter()
    >>> s.feed("<think>\\n9.9 > 9.11") + s.feed("\\n</think>\\n\\nIt is 9.9.") + s.flush()
    [ReasoningDelta(text='9.9 > 9.11'), AnswerDelta(text='It is 9.9.')]
    """

    __slots__ = ("_answered", "_bare_close", "_fast", "_held", "_lead", "_saw_tags", "_state")

    def __init__(self, *, bare_close: bool = True) -> None:
        # A "</think>" without an opening tag ends pre-filled reasoning (see the module docstring).
        self._bare_close = bare_close
        self._state = _UNDECIDED
        self._fast = False  # True in ANSWER: feed() is a plain pass-through
        self._held = ""  # text received but not yet emitted (see the module docstring)
        self._lead = True  # REASONING: leading whitespace is still being dropped
        # Answer emitted while in MAYBE_ANSWER, for AnswerWasReasoning.
        self._answered: list[str] = []
        self._saw_tags = False

    @property
    def saw_tags(self) -> bool:
        """True once a ``<think>`` or ``</think>`` tag has been recognised."""
        return self._saw_tags

    def feed(self, text: str) -> list[SplitEvent]:
        """Take the next chunk of content; return the events it settles (possibly none)."""
        if self._fast:
            return [AnswerDelta(text)] if text else []
        if self._held:
            text = self._held + text
            self._held = ""
        if self._state == _MAYBE_ANSWER:
            return self._maybe_answer(text)
        if self._state == _REASONING:
            return self._reasoning(text)
        if self._state == _ANSWER_START:
            return self._answer(text)
        return self._undecided(text)

    def flush(self) -> list[SplitEvent]:
        """End of stream: release held-back text to the side it was on. Safe to call twice."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self._state == _REASONING:
            return [ReasoningDelta(held)]
        if self._state == _ANSWER_START:
            return []  # only the whitespace that separates the answer from "</think>"
        # UNDECIDED (an unfinished tag such as "<thi" is just text) or MAYBE_ANSWER.
        return [AnswerDelta(held)]

    # --- per-state handlers; ``text`` already includes what was held back ------------------

    def _undecided(self, text: str) -> list[SplitEvent]:
        stripped = text.lstrip()
        if not stripped:
            self._held = text  # whitespace: before a tag it is dropped, before an answer kept
            return []
        if stripped.startswith(_OPEN):
            self._saw_tags = True
            self._state = _REASONING
            return self._reasoning(stripped[len(_OPEN) :])
        if self._bare_close and stripped.startswith(_CLOSE):
            # Pre-filled "<think>" and empty reasoning: nothing to move.
            self._saw_tags = True
            self._state = _ANSWER_START
            return self._answer(stripped[len(_CLOSE) :])
        if _OPEN.startswith(stripped) or (self._bare_close and _CLOSE.startswith(stripped)):
            self._held = text
            return []
        if not self._bare_close:
            self._state = _ANSWER
            self._fast = True
            return [AnswerDelta(text)]
        self._state = _MAYBE_ANSWER
        return self._maybe_answer(text)

    def _maybe_answer(self, text: str) -> list[SplitEvent]:
        i = text.find(_CLOSE)
        if i == -1:
            k = _hold_start(text)
            if k < len(text):
                self._held = text[k:]
                text = text[:k]
            if not text:
                return []
            self._answered.append(text)
            return [AnswerDelta(text)]
        self._saw_tags = True
        events: list[SplitEvent] = []
        if self._answered:
            events.append(AnswerWasReasoning("".join(self._answered)))
            self._answered = []
        before = text[:i].rstrip()
        if before:
            events.append(ReasoningDelta(before))
        self._state = _ANSWER_START
        events += self._answer(text[i + len(_CLOSE) :])
        return events

    def _reasoning(self, text: str) -> list[SplitEvent]:
        if self._lead:
            text = text.lstrip()
            if not text:
                return []
            self._lead = False
        i = text.find(_CLOSE)
        if i == -1:
            k = _hold_start(text)
            if k < len(text):
                self._held = text[k:]
                text = text[:k]
            return [ReasoningDelta(text)] if text else []
        before = text[:i].rstrip()
        self._state = _ANSWER_START
        events = self._answer(text[i + len(_CLOSE) :])
        return [ReasoningDelta(before), *events] if before else events

    def _answer(self, text: str) -> list[SplitEvent]:
        stripped = text.lstrip()
        if not stripped:
            self._held = text  # the answer's first line may still be indented
            return []
        lead = text[: len(text) - len(stripped)]
        line_break = max(lead.rfind("\n"), lead.rfind("\r"))
        self._state = _ANSWER
        self._fast = True
        return [AnswerDelta(text[line_break + 1 :] if line_break != -1 else stripped)]
