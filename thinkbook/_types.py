"""Value types shared by every layer: usage, timings, the finished result and stream events.

All are small frozen dataclasses so views can ``match`` on them and hand them across threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ._redact import redact, redact_data, remove_secrets, secret_forms


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the server reported them; a field is None when the server did not say.

    ``reasoning_tokens`` is part of ``completion_tokens`` (reasoning is billed as output).
    ``raw`` is the server's own usage object, untouched.
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def answer_tokens(self) -> int | None:
        """Output tokens that were not reasoning, when both numbers are known."""
        if self.completion_tokens is None or self.reasoning_tokens is None:
            return None
        return max(self.completion_tokens - self.reasoning_tokens, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cached_tokens": self.cached_tokens,
            "raw": self.raw,
        }


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the time went, in seconds from the moment the request was sent.

    ``thinking_seconds`` runs from the first reasoning token to the first answer token (or to the
    end when no answer came). ``tokens_per_second`` is output tokens over the streaming time, from
    the server's usage when it sent one.
    """

    time_to_first_reasoning: float | None = None
    time_to_first_answer: float | None = None
    thinking_seconds: float | None = None
    total_seconds: float | None = None
    tokens_per_second: float | None = None

    @property
    def time_to_first_token(self) -> float | None:
        """The earlier of the first reasoning and first answer token."""
        candidates = [t for t in (self.time_to_first_reasoning, self.time_to_first_answer) if t is not None]
        return min(candidates) if candidates else None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "time_to_first_reasoning": self.time_to_first_reasoning,
            "time_to_first_answer": self.time_to_first_answer,
            "thinking_seconds": self.thinking_seconds,
            "total_seconds": self.total_seconds,
            "tokens_per_second": self.tokens_per_second,
        }


@dataclass
class ToolCall:
    """One call the model asked for, and what came of it.

    ``arguments`` is the decoded JSON object (``{}`` until the call is complete); ``raw_arguments``
    the text the model sent. ``result`` is what the function returned, ``error`` why it did not
    run or what it raised (the model sees it), ``seconds`` how long it ran. ``state`` is opaque
    protocol data a later request must carry back with the call (e.g. a Gemini thought signature).
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    seconds: float | None = None
    raw_arguments: str = ""
    state: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.seconds is not None or self.error is not None

    def redacted(self, *secrets: str | None) -> ToolCall:
        """This call with the given secrets removed from its arguments, result and error (what a view
        shows and a notebook saves); its protocol ``state`` is left as the API must get it back."""
        if not secret_forms(*secrets):
            return self
        result = self.result
        if isinstance(result, str | dict | list | tuple):
            result = redact_data(result, *secrets, patterns=False)
        elif result is not None and remove_secrets(text := _result_text(result), *secrets) != text:
            result = remove_secrets(text, *secrets)  # (an object whose text holds the secret: its text, cleaned)
        return replace(
            self,
            arguments=redact_data(self.arguments, *secrets, patterns=False),
            result=result,
            error=remove_secrets(self.error, *secrets) if self.error else self.error,
            raw_arguments=remove_secrets(self.raw_arguments, *secrets),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the result as the text the model saw)."""
        return {
            "id": self.id,
            "name": self.name,
            "arguments": self.arguments,
            "result": None if self.result is None else _result_text(self.result),
            "error": self.error,
            "seconds": self.seconds,
        }


def _result_text(result: Any) -> str:
    from .tools.calls import result_text  # the one place results become text (a leaf import: no cycle)

    return result_text(result)


@dataclass
class Round:
    """One request of a tool loop: what the model thought and said, and the calls it asked for."""

    reasoning: str = ""
    answer: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    # The round's opaque protocol state (see ThinkResult.reasoning_state): a history rebuilt
    # from the rounds (Conversation, panels) sends it back with the round's tool calls.
    reasoning_state: dict[str, Any] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reasoning": self.reasoning,
            "answer": self.answer,
            "tool_calls": [call.to_dict() for call in self.tool_calls],
            "usage": self.usage.to_dict() if self.usage else None,
            "finish_reason": self.finish_reason,
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One web source the model's answer may cite (``index`` is the number it cites)."""

    index: int
    title: str
    url: str
    site_name: str = ""
    icon: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "title": self.title,
            "url": self.url,
            "site_name": self.site_name,
            "icon": self.icon,
        }


@dataclass(frozen=True, slots=True)
class ThinkResult:
    """What one streamed call produced.

    >>> r = ThinkResult(reasoning="9.9 = 9.90 > 9.11", answer="9.9 is larger.")
    >>> r.answer
    '9.9 is larger.'
    """

    reasoning: str = ""
    answer: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None
    request_id: str | None = None
    timings: Timings = field(default_factory=Timings)
    # The provider reported reasoning (tokens, an encrypted or redacted block) but sent no
    # reasoning text: views say "not shown by the provider" instead of showing nothing.
    reasoning_hidden: bool = False
    # Opaque, JSON-ready state a later turn must send back unchanged (Anthropic thinking blocks
    # with signatures, Responses reasoning items, Gemini thought signatures); None when the
    # protocol needs none. See thinkbook/_protocols/base.py.
    reasoning_state: dict[str, Any] | None = None
    # Tool loops: every call in order (``rounds`` holds each request's own share), and the web
    # sources of a search (Bailian's native protocol).
    tool_calls: list[ToolCall] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    search_results: list[SearchResult] = field(default_factory=list)

    def __str__(self) -> str:
        return self.answer

    def redacted(self, *secrets: str | None) -> ThinkResult:
        """This result with the request's own secrets removed from every text a server sent.

        That includes the answer and reasoning: a key that a server or a model echoes back is
        never what the user asked for, and the result ends up in saved notebooks. Only the exact
        secrets are removed from those two (an answer explaining ``Bearer`` tokens stays as it is);
        the fields the server wrote for machines are redacted fully.
        """
        usage = self.usage
        if usage is not None:
            usage = replace(usage, raw=redact_data(usage.raw, *secrets))
        rounds = [replace(r, tool_calls=[c.redacted(*secrets) for c in r.tool_calls]) for r in self.rounds]
        return replace(
            self,
            tool_calls=[call.redacted(*secrets) for call in self.tool_calls],
            rounds=rounds,
            reasoning=remove_secrets(self.reasoning, *secrets),
            answer=remove_secrets(self.answer, *secrets),
            usage=usage,
            finish_reason=redact(self.finish_reason, *secrets) if self.finish_reason else self.finish_reason,
            model=redact(self.model, *secrets) if self.model else self.model,
            request_id=redact(self.request_id, *secrets) if self.request_id else self.request_id,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (no credentials are ever part of a result)."""
        return {
            "model": self.model,
            "request_id": self.request_id,
            "finish_reason": self.finish_reason,
            "reasoning": self.reasoning,
            "answer": self.answer,
            "usage": self.usage.to_dict() if self.usage else None,
            "timings": self.timings.to_dict(),
            "reasoning_hidden": self.reasoning_hidden,
            **({"tool_calls": [call.to_dict() for call in self.tool_calls]} if self.tool_calls else {}),
            **({"rounds": [r.to_dict() for r in self.rounds]} if len(self.rounds) > 1 else {}),
            **({"search_results": [s.to_dict() for s in self.search_results]} if self.search_results else {}),
        }


# --- stream events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """More reasoning ("thinking") text."""

    text: str


@dataclass(frozen=True, slots=True)
class AnswerDelta:
    """More answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class AnswerWasReasoning:
    """The answer text streamed so far was really reasoning: move it to the reasoning side.

    Happens when a server without a reasoning parser streams a model whose chat template pre-fills
    ``<think>``: the output has only the closing ``</think>``, so the text before it can only be
    recognised as reasoning when that tag arrives. ``text`` is the text to move.
    """

    text: str


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    """The server reported (cumulative) token usage."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Done:
    """The stream finished normally; ``result`` is the complete result."""

    result: ThinkResult


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model asked for a tool call and it is about to run (``call.result`` not set yet)."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A tool call finished: ``call.result`` or ``call.error`` and ``call.seconds`` are set."""

    call: ToolCall


ThinkEvent = ReasoningDelta | AnswerDelta | AnswerWasReasoning | UsageUpdate | ToolCallStarted | ToolCallFinished | Done
