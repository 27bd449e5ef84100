"""The growing result of one stream: texts (kept compact), usage, finish reason, timings, the tool
calls the model asked for (assembled by index) and the web sources of a search."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ._search import parse_search_results
from ._types import (
    AnswerDelta,
    AnswerWasReasoning,
    Done,
    ReasoningDelta,
    SearchResult,
    ThinkEvent,
    ThinkResult,
    Timings,
    Usage,
    UsageUpdate,
)
from .tools.calls import ToolCallAssembler

__all__ = ["Accumulator", "Clock", "append_text"]

Clock = Callable[[], float]


# A one-character str costs ~50 bytes: joining every few hundred deltas keeps a long stream's
# memory near the size of its text instead of ~17x it, for ~0.1 µs per delta.
_COMPACT_EVERY = 256


def append_text(parts: list[str], text: str) -> None:
    """Append a delta, joining every few hundred into one string (see above)."""
    parts.append(text)
    if len(parts) % _COMPACT_EVERY == 0:
        parts[-_COMPACT_EVERY:] = ["".join(parts[-_COMPACT_EVERY:])]


class Accumulator:
    """Builds a :class:`ThinkResult` from events and stamps the timings."""

    def __init__(self, model: str | None, *, clock: Clock = time.monotonic, started: float | None = None):
        self._clock = clock
        self.started = clock() if started is None else started
        self._reasoning: list[str] = []
        self._answer: list[str] = []
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.model = model
        self.request_id: str | None = None
        self.first_reasoning_at: float | None = None
        self.first_answer_at: float | None = None
        self.ended_at: float | None = None
        # A chunk said reasoning happened that the provider does not send as text.
        self.reasoning_hidden = False
        # The parser's turn_state() once the answer is whole (set by the pipeline).
        self.reasoning_state: dict[str, Any] | None = None
        # Tool calls the model asked for, assembled from their deltas by index.
        self.tool_calls = ToolCallAssembler()
        # Web sources (Bailian native search): the first packet's, checked and sanitized.
        self.search_results: list[SearchResult] = []

    def add_tool_calls(self, deltas: list[Any]) -> None:
        self.tool_calls.add(deltas)

    def add_search_results(self, raw: list[Any]) -> None:
        """Sources as the server sent them; a later packet that repeats them replaces them."""
        parsed = parse_search_results(raw)
        if parsed:
            self.search_results = parsed

    @property
    def has_text(self) -> bool:
        return bool(self._reasoning or self._answer)

    def add_reasoning(self, text: str) -> None:
        if self.first_reasoning_at is None:
            self.first_reasoning_at = self._clock()
        append_text(self._reasoning, text)

    def add_answer(self, text: str) -> None:
        if self.first_answer_at is None:
            self.first_answer_at = self._clock()
        append_text(self._answer, text)

    def add(self, event: ThinkEvent) -> None:
        match event:
            case ReasoningDelta(text):
                self.add_reasoning(text)
            case AnswerDelta(text):
                self.add_answer(text)
            case AnswerWasReasoning():
                # The "answer" so far was reasoning all along: it keeps its place in time.
                if self.first_reasoning_at is None:
                    self.first_reasoning_at = self.first_answer_at
                self.first_answer_at = None
                self._reasoning.extend(self._answer)
                self._answer.clear()
            case UsageUpdate(usage):
                self.usage = usage
            case Done():
                pass

    def timings(self) -> Timings:
        end = self.ended_at if self.ended_at is not None else self._clock()
        first_r, first_a = self.first_reasoning_at, self.first_answer_at
        thinking = None
        if first_r is not None:
            thinking = (first_a if first_a is not None else end) - first_r
        rate = None
        first = min((t for t in (first_r, first_a) if t is not None), default=None)
        if self.usage and self.usage.completion_tokens and first is not None and end > first:
            rate = self.usage.completion_tokens / (end - first)
        return Timings(
            time_to_first_reasoning=None if first_r is None else first_r - self.started,
            time_to_first_answer=None if first_a is None else first_a - self.started,
            thinking_seconds=thinking,
            total_seconds=end - self.started,
            tokens_per_second=rate,
        )

    @property
    def hidden(self) -> bool:
        """Reasoning the provider did not send as text: a chunk said so (a redacted or encrypted
        block), or usage counts reasoning tokens while no reasoning text came at all (summaries
        left out, Gemini spending thought tokens with no thought parts)."""
        if self.reasoning_hidden:
            return True
        usage = self.usage
        return not self._reasoning and usage is not None and bool(usage.reasoning_tokens)

    def result(self) -> ThinkResult:
        return ThinkResult(
            reasoning="".join(self._reasoning),
            answer="".join(self._answer),
            usage=self.usage,
            finish_reason=self.finish_reason,
            model=self.model,
            request_id=self.request_id,
            timings=self.timings(),
            reasoning_hidden=self.hidden,
            reasoning_state=self.reasoning_state,
            tool_calls=self.tool_calls.calls() if self.tool_calls else [],
            search_results=list(self.search_results),
        )
