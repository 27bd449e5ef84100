"""The Anthropic Messages API: Claude, and Anthropic-compatible servers (Bailian ``/apps/anthropic``).

``POST {base_url}/v1/messages`` with ``x-api-key`` and ``anthropic-version: 2023-06-01`` (no
``Authorization``; Bailian documents ``x-api-key`` too), ``stream: true``. Events::

    message_start        message.id -> request_id, message.model, usage (input and cache tokens)
    content_block_start  thinking / redacted_thinking / text (other types, e.g. tool_use, ignored)
    content_block_delta  thinking_delta -> reasoning, text_delta -> answer, signature_delta (kept)
    content_block_stop
    message_delta        stop_reason -> finish_reason, cumulative usage
    message_stop         the end (there is no [DONE])
    ping, error          keepalive (ignored); an in-stream error (overloaded_error = HTTP 529)

Usage: ``prompt_tokens`` = input + cache creation + cache read tokens (Anthropic's "total input"),
``cached_tokens`` = ``cache_read_input_tokens``, ``reasoning_tokens`` =
``output_tokens_details.thinking_tokens`` where the server reports it (newer API versions), else
unknown. Reasoning that happened but came without text (a ``redacted_thinking`` block, a thinking
block with a signature and no text: ``display: "omitted"``) sets ``reasoning_hidden``.

Thinking options by model (``claude-*`` names; other models are the server's, e.g. Qwen):

=====================  ===============================  ======================  =====================
model                  thinking on (enable / effort)    thinking_budget=N       enable_thinking=False
=====================  ===============================  ======================  =====================
claude-3 / 3.5         ConfigurationError (none)        ConfigurationError      nothing sent
claude-3-7 ... 4.5     enabled, budget_tokens by        enabled, budget_tokens  nothing sent
                       effort: low 1024, medium 4096,   (>= 1024; not with
                       high 16384 (enable alone: high)  effort)
claude-*-4-6           adaptive + output_config.effort  enabled + budget        nothing sent (effort
                                                        (deprecated there)      alone still sent)
claude 4.7 and later   adaptive + output_config.effort  ConfigurationError      nothing sent
claude-mythos/fable    adaptive (also when not asked)   ConfigurationError      ConfigurationError
other (Qwen...)        enabled, budget_tokens by effort enabled, budget_tokens  {"type": "disabled"}
=====================  ===============================  ======================  =====================

Claude thinking configs carry ``display: "summarized"`` from 4.6 on (4.7 and later default to
"omitted": empty thinking text). ``max_tokens`` (required) is 16000 for Claude 3.7+, 4096 for
older Claude, 8192 elsewhere, and always at least budget + 4096; extra body fields override it.
(Sources: platform.claude.com thinking / adaptive-thinking / effort / streaming / errors pages,
anthropics/anthropic-sdk-python types, help.aliyun.com model-studio anthropic-api-messages.)

Multi-turn: :meth:`AnthropicParser.turn_state` keeps the finished thinking, redacted_thinking
and text blocks exactly as received, in order; the next request sends them back as that
assistant turn's content (:mod:`.anthropic_body`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._errors import ConfigurationError, ResponseFormatError, redact
from .._sse import ServerSentEvent
from .._types import Usage
from .._usage import MAX_TOKENS
from .._wire import WireChunk, loads_json
from .anthropic_body import convert_messages, max_tokens_for, thinking_fields
from .base import BodyInput, ProviderSpec, ThinkingOptions, WireProtocol

__all__ = ["PROTOCOL", "AnthropicParser", "AnthropicProtocol"]

NAME = "anthropic"
API_VERSION = "2023-06-01"
_EXPECTED = "an Anthropic Messages event"
_SNIPPET = 120

# In-stream errors carry no HTTP status: the error type names it (platform.claude.com errors).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

# Blocks a later turn must get back (tool_use and server tool blocks are not kept: sent back
# without their results they would be refused).
_KEPT = ("thinking", "redacted_thinking", "text")


def _owns_anthropic(host: str) -> bool:
    return host == "api.anthropic.com"


PROVIDERS = (
    ProviderSpec(
        name="anthropic",
        protocol=NAME,
        default_base_url="https://api.anthropic.com",
        key_variables=("ANTHROPIC_API_KEY",),
        owns_host=_owns_anthropic,
        model_prefixes=("claude-",),
    ),
)


def _format_error(data: str, expected: str) -> ResponseFormatError:
    """Shows the payload's start, redacted before it is cut (a cut key could escape redact)."""
    shown = redact(data)
    if len(shown) > _SNIPPET:
        shown = shown[:_SNIPPET] + "…"
    return ResponseFormatError(
        f"the server sent a stream event that is not {expected}; its data starts with {shown!r}. "
        "Check that base_url points at an Anthropic Messages API (protocol='anthropic')"
    )


def _count(value: object) -> int | None:
    return value if type(value) is int and 0 <= value <= MAX_TOKENS else None


def anthropic_usage(raw: dict[str, Any]) -> Usage:
    """:class:`Usage` from an Anthropic usage object (``raw`` kept as it is)."""
    fresh = _count(raw.get("input_tokens"))
    created = _count(raw.get("cache_creation_input_tokens"))
    cached = _count(raw.get("cache_read_input_tokens"))
    prompt = None if fresh is None else fresh + (created or 0) + (cached or 0)
    if prompt is not None and prompt > MAX_TOKENS:
        prompt = None
    completion = _count(raw.get("output_tokens"))
    total = prompt + completion if prompt is not None and completion is not None else None
    if total is not None and total > MAX_TOKENS:
        total = None
    details = raw.get("output_tokens_details")
    reasoning = _count(details.get("thinking_tokens")) if type(details) is dict else None
    return Usage(prompt, completion, total, reasoning, cached, raw)


class AnthropicParser:
    """Parses one Messages stream; keeps the content blocks a later turn must send back.

    Text pieces are collected in lists (joined once in :meth:`turn_state`): appending to a
    string held in a dict copies it every token.
    """

    __slots__ = ("_blocks", "_pieces", "_saw_reasoning", "_stopped", "_usage")

    def __init__(self) -> None:
        self._blocks: dict[int, dict[str, Any]] = {}
        self._pieces: dict[int, tuple[str, list[str], list[str]]] = {}  # index -> (field, text, signature)
        self._stopped: set[int] = set()
        self._usage: dict[str, Any] = {}
        self._saw_reasoning = False

    def parse(self, event: ServerSentEvent) -> WireChunk | None:
        """One event in, a :class:`WireChunk` (or None for an event that carries nothing) out."""
        data = event.data
        try:
            obj = loads_json(data)
        except ValueError:
            stripped = data.strip()
            if not stripped:
                return None
            if stripped == "[DONE]":  # a gateway that adds OpenAI's end marker after message_stop
                return WireChunk(done=True)
            if event.event == "error":
                return WireChunk(error={"type": "error", "error": {"message": data}})
            raise _format_error(data, _EXPECTED) from None
        if type(obj) is not dict:
            raise _format_error(data, f"{_EXPECTED} (a JSON object)")
        kind = obj.get("type")
        if kind == "content_block_delta":  # the hot path: one per token
            delta = obj.get("delta")
            if type(delta) is dict:
                dtype = delta.get("type")
                if dtype == "text_delta":
                    text = delta.get("text")
                    if type(text) is str and text:
                        self._add(obj.get("index"), text, False)
                        return WireChunk("", text)
                elif dtype == "thinking_delta":
                    text = delta.get("thinking")
                    if type(text) is str and text:
                        self._add(obj.get("index"), text, False)
                        self._saw_reasoning = True
                        return WireChunk(text)
                elif dtype == "signature_delta":
                    text = delta.get("signature")
                    if type(text) is str:
                        self._add(obj.get("index"), text, True)
            return None
        if kind is None and event.event != "message":
            kind = event.event  # a server that names the event but leaves out "type"
        if kind == "content_block_start":
            return self._start(obj)
        if kind == "content_block_stop":
            return self._stop(obj.get("index"))
        if kind == "message_start":
            return self._message_start(obj.get("message"))
        if kind == "message_delta":
            return self._message_delta(obj)
        if kind == "message_stop":
            return WireChunk(done=True)
        if kind == "error" or (kind is None and "error" in obj):
            error = obj.get("error")
            etype = error.get("type") if type(error) is dict else None
            request_id = obj.get("request_id")
            return WireChunk(
                error=obj,
                error_status=ERROR_STATUS.get(etype) if type(etype) is str else None,
                request_id=request_id if type(request_id) is str and request_id else None,
            )
        if type(kind) is str:
            return None  # ping, and event types added later (the API says to ignore them)
        raise _format_error(data, _EXPECTED)

    def _add(self, index: object, text: str, signature: bool) -> None:
        entry = self._pieces.get(index) if type(index) is int else None
        if entry is not None:
            (entry[2] if signature else entry[1]).append(text)

    def _start(self, obj: dict[str, Any]) -> WireChunk | None:
        index, block = obj.get("index"), obj.get("content_block")
        if type(index) is not int or type(block) is not dict:
            return None
        btype = block.get("type")
        if btype not in _KEPT:
            return None
        self._blocks[index] = dict(block)
        if btype == "redacted_thinking":
            self._saw_reasoning = True
            return WireChunk(reasoning_hidden=True)
        field = "text" if btype == "text" else "thinking"
        first = block.get(field)
        first = first if type(first) is str else ""
        signature = block.get("signature")
        self._pieces[index] = (field, [first], [signature] if type(signature) is str else [])
        if not first:
            return None
        if btype == "text":
            return WireChunk("", first)
        self._saw_reasoning = True
        return WireChunk(first)

    def _stop(self, index: object) -> WireChunk | None:
        if type(index) is not int or index not in self._blocks:
            return None
        self._stopped.add(index)
        block, entry = self._blocks[index], self._pieces.get(index)
        if block.get("type") == "thinking" and entry is not None and not "".join(entry[1]) and "".join(entry[2]):
            # Signed thinking with no text: the server omitted it (display "omitted").
            self._saw_reasoning = True
            return WireChunk(reasoning_hidden=True)
        return None

    def _message_start(self, message: object) -> WireChunk | None:
        if type(message) is not dict:
            return None
        model, request_id, usage = message.get("model"), message.get("id"), message.get("usage")
        if type(usage) is dict:
            self._usage = {k: v for k, v in usage.items() if v is not None}
        return WireChunk(
            "",
            "",
            anthropic_usage(dict(self._usage)) if self._usage else None,
            None,
            model if type(model) is str and model else None,
            request_id if type(request_id) is str and request_id else None,
        )

    def _message_delta(self, obj: dict[str, Any]) -> WireChunk | None:
        delta, usage = obj.get("delta"), obj.get("usage")
        stop = delta.get("stop_reason") if type(delta) is dict else None
        parsed = None
        if type(usage) is dict:
            # Cumulative counts; input counts may be absent here, so they stay from message_start.
            self._usage = {**self._usage, **{k: v for k, v in usage.items() if v is not None}}
            parsed = anthropic_usage(dict(self._usage))
        hidden = bool(parsed and parsed.reasoning_tokens and not self._saw_reasoning)
        if parsed is None and not (type(stop) is str and stop):
            return None
        return WireChunk("", "", parsed, stop if type(stop) is str and stop else None, reasoning_hidden=hidden)

    def turn_state(self) -> dict[str, Any] | None:
        """``{"protocol": "anthropic", "content": [blocks]}``: the finished thinking,
        redacted_thinking and text blocks as received, in order; None when there was no
        reasoning block (the answer text alone is then the whole turn)."""
        blocks: list[dict[str, Any]] = []
        for index in sorted(self._stopped):
            block = self._blocks[index]
            entry = self._pieces.get(index)
            if entry is not None:
                field, text, signature = entry
                if field == "text":
                    block = {"type": "text", "text": "".join(text)}
                else:
                    block[field] = "".join(text)
                    if signature or "signature" in block:
                        block["signature"] = "".join(signature)
            blocks.append(block)
        if not any(b.get("type") != "text" for b in blocks):
            return None
        return {"protocol": NAME, "content": blocks}


class AnthropicProtocol(WireProtocol):
    """Anthropic Messages (``protocol="anthropic"``); see the module docstring."""

    name: ClassVar[str] = NAME
    title: ClassVar[str] = "Anthropic Messages API"
    expected: ClassVar[str] = _EXPECTED
    providers: ClassVar[tuple[ProviderSpec, ...]] = PROVIDERS
    # Bailian serves this protocol in every region at {region host}/apps/anthropic.
    region_path: ClassVar[str | None] = "/apps/anthropic"
    # A pasted full endpoint URL loses its tail (path() adds it back).
    suffixes: ClassVar[tuple[str, ...]] = ("/v1/messages",)

    def path(self, model: str, *, base_url: str) -> str:
        # A base URL already ending in the version segment (".../v1") gets no second one.
        if urlsplit(base_url).path.rstrip("/").endswith("/v1"):
            return "/messages"
        return "/v1/messages"

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "anthropic-version": API_VERSION,
        }
        if api_key:
            headers["x-api-key"] = api_key
        return headers

    def build_body(self, request: BodyInput) -> dict[str, Any]:
        fields = thinking_fields(request.model, request.thinking)
        system, messages = convert_messages(request.messages, preserve=request.thinking.preserve, name=NAME)
        if not messages:
            raise ConfigurationError("the request has no user or assistant message: add the question to ask")
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": max_tokens_for(request.model, fields.get("thinking")),
            "stream": True,
        }
        if system is not None:
            body["system"] = system
        body["messages"] = messages
        body.update(fields)
        return body

    def new_parser(self) -> AnthropicParser:
        return AnthropicParser()

    def recorded_thinking(self, body: Mapping[str, Any]) -> ThinkingOptions:
        """``thinking.type``: enabled or adaptive is on, disabled off (the budget thinkbook picks
        for ``enabled`` is its own default, so it is not the user's ``thinking_budget``)."""
        thinking = body.get("thinking")
        kind = thinking.get("type") if isinstance(thinking, Mapping) else None
        return ThinkingOptions(enable={"enabled": True, "adaptive": True, "disabled": False}.get(str(kind)))

    def claims(self, host: str, path: str) -> bool:
        """api.anthropic.com, and any base URL whose path ends in ``/anthropic`` (Bailian's
        ``/apps/anthropic`` in every region, other vendors' Anthropic-compatible ``/anthropic``),
        with or without a trailing ``/v1``."""
        if _owns_anthropic(host):
            return True
        path = path.rstrip("/")
        if path.endswith("/v1"):
            path = path[:-3]
        return path.endswith("/anthropic")


PROTOCOL = AnthropicProtocol()
