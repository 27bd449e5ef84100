"""Turn a written-out "take" (prompt, reasoning, answer) into a thinkbook recording file.

The notebooks must run top to bottom with no API key, so every model call in them has a recording in
``notebooks/recordings/``. No live recording exists yet (nobody on the project holds a key), so each
file is one of two kinds, and says which in its ``source`` header field (the ThinkView and the offline
warning show it):

* ``SEED``: texts and usage taken from the transcripts in Alibaba Cloud Bailian's deep-thinking guide.
* ``ILLUSTRATIVE``: texts written by the thinkbook developers to show the mechanics offline. They
  are *not* model output, and the numbers a notebook computes from them (accuracy, tokens, seconds)
  demonstrate the analysis, not a measurement. Run the notebook with a key to measure.

A take for a model of another provider (``claude-*``, ``gpt-*``, ``gemini-*``) is written in that
provider's own streaming format by ``wire.py``, with the request thinkbook builds for that provider.
For Bailian models, the wire bytes are what Bailian's OpenAI-compatible endpoint sends (``reasoning_content`` deltas,
then ``content`` deltas, a finish chunk, a usage chunk with ``completion_tokens_details.
reasoning_tokens``, ``[DONE]``); the request is exactly what thinkbook would send for the same
call (built by ``thinkbook``'s own request code, with a dummy key that is never stored). Token counts
come from thinkbook's live estimator, the pacing from a fixed tokens-per-second rate.

Beyond one plain answer, a take can hold:

* a round of a tool loop (工具调用): ``tools`` (the very functions the notebook passes, so the request's
  ``tools`` field is what thinkbook builds) and ``tool_calls`` (the calls this round asks for: they
  stream as OpenAI ``delta.tool_calls`` chunks, then ``finish_reason: "tool_calls"``).
  :func:`tool_loop` writes a whole loop, one take per round: it runs the calls with thinkbook's own
  :func:`~thinkbook.tools.calls.run_tool_call` and grows the history with
  :func:`~thinkbook.tools.loop.tool_messages`, so each later round's request is exactly the one
  thinkbook sends after running the notebook's functions (offline replay finds each round by the
  ids of the tool results it carries);
* web search (联网搜索) on the native protocol: ``protocol="dashscope"`` and ``search`` (the
  ``search_options``); the sources stream as ``output.search_info.search_results`` in the first
  packet (``wire.dashscope``);
* ``images`` (anything ``images=`` takes, e.g. a matplotlib figure): the request then holds the
  image as a data URL, so the recording holds its bytes (replay matches the text, not the image).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from takes import wire
from thinkbook._counters import estimate_tokens, token_weight
from thinkbook._endpoints import Endpoint, resolve_endpoint
from thinkbook._images import attach_images, image_inputs
from thinkbook._replay import dump_recording
from thinkbook._request import build_messages, prepare_request
from thinkbook._search import search_fields
from thinkbook._tool_run import tool_options
from thinkbook._types import ThinkResult, ToolCall
from thinkbook.tools.calls import run_tool_call
from thinkbook.tools.loop import tool_messages

SEED = "built from the Bailian deep-thinking guide's transcript, not a live recording; pacing synthesized"
ILLUSTRATIVE = (
    "illustrative: written by the thinkbook developers to show the mechanics offline, not model output "
    "and not a measurement; set DASHSCOPE_API_KEY to ask the live model"
)
# Where the takes' requests would go live; only used to build the request body thinkbook sends
# (a model name with a provider's prefix goes to that provider: its key variable is set too).
_KEYS = {
    name: "dummy-never-stored"
    for name in ("DASHSCOPE_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY")
}
# Chat-template overhead Bailian counts on top of the messages' text.
_PROMPT_OVERHEAD_TOKENS = 9


@dataclass(frozen=True)
class Call:
    """One tool call a round asks for (its id is what the next round's tool result answers)."""

    id: str
    name: str
    arguments: dict[str, Any]

    @property
    def raw(self) -> str:
        """The arguments as the model streams them (and as the next request sends them back)."""
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass(frozen=True)
class Take:
    """One recorded call: what was asked, how, and what came back."""

    name: str  # file stem in notebooks/recordings/
    model: str
    prompt: str | Sequence[dict[str, Any]]  # the user text, or the whole message list
    answer: str
    reasoning: str = ""
    enable_thinking: bool | None = None
    thinking_budget: int | None = None
    preserve_thinking: bool | None = None
    system: str | None = None
    source: str = ILLUSTRATIVE
    first_token_seconds: float = 0.45
    reasoning_tokens_per_second: float = 90.0
    answer_tokens_per_second: float = 60.0
    cached_tokens: int = 0
    request_id: str = ""
    protocol: str | None = None  # None: the model's default (OpenAI-compatible for Bailian)
    tools: tuple[Callable[..., Any] | dict[str, Any], ...] = ()
    tool_calls: tuple[Call, ...] = ()  # this round asks for these (then ``answer`` is usually "")
    search: Mapping[str, Any] | None = None  # search_options: web search on (the native protocol)
    search_results: tuple[dict[str, Any], ...] = ()
    images: tuple[Any, ...] = field(default=(), repr=False)


def _pieces(text: str, tokens_per_piece: float = 3.0) -> list[str]:
    """Split ``text`` into stream deltas of about ``tokens_per_piece`` estimated tokens."""
    pieces: list[str] = []
    current = ""
    for char in text:
        current += char
        if token_weight(current) >= tokens_per_piece or char == "\n":
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _cut_to_budget(reasoning: str, budget: int | None) -> str:
    """What a budget leaves of the reasoning: the server stops thinking after ``budget`` tokens."""
    if budget is None or estimate_tokens(reasoning) <= budget:
        return reasoning
    kept = ""
    for piece in _pieces(reasoning, 1.0):
        if estimate_tokens(kept + piece) > budget:
            break
        kept += piece
    return kept


def _event(model: str, request_id: str, choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> bytes:
    """One ``chat.completion.chunk`` SSE event, in Bailian's field order."""
    body = {
        "choices": choices,
        "object": "chat.completion.chunk",
        "usage": usage,
        "created": 1764000000,
        "system_fingerprint": None,
        "model": model,
        "id": request_id,
    }
    return b"data: " + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def _chunk(model: str, request_id: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    return _event(model, request_id, [{"delta": delta, "finish_reason": finish, "index": 0, "logprobs": None}], None)


def _endpoint(take: Take) -> Endpoint:
    return resolve_endpoint(take.model, protocol=take.protocol, env=_KEYS)


def _request(take: Take, endpoint: Endpoint) -> dict[str, Any]:
    """The body thinkbook sends for ``take`` (tools, search and images as ``think()`` passes them)."""
    prompt = take.prompt if isinstance(take.prompt, str) else list(take.prompt)
    messages = attach_images(build_messages(prompt, take.system), image_inputs(take.images))
    return prepare_request(
        endpoint,
        take.model,
        messages,
        enable_thinking=take.enable_thinking,
        thinking_budget=take.thinking_budget,
        preserve_thinking=take.preserve_thinking,
        tools=tool_options(take.tools) if take.tools else None,
        search=search_fields(True, take.search) if take.search is not None else None,
    ).body


def _text(content: Any) -> str:
    """A message's text for the token estimate (content parts: their text; None: nothing)."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _call_chunks(take: Take, request_id: str, clock: float) -> list[tuple[float, bytes]]:
    """The round's calls as Bailian streams them: each call's id and name, then its arguments in pieces."""
    chunks = []
    for index, call in enumerate(take.tool_calls):
        head = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        chunks.append((clock, _chunk(take.model, request_id, {"content": None, "tool_calls": [head]})))
        for piece in _pieces(call.raw, 4.0):
            clock += token_weight(piece) / take.answer_tokens_per_second
            delta = {"content": None, "tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            chunks.append((clock, _chunk(take.model, request_id, delta)))
    return chunks


def build(take: Take) -> tuple[dict[str, Any], list[tuple[float, bytes]], dict[str, int]]:
    """(request body, timed wire chunks, usage) for ``take``."""
    endpoint = _endpoint(take)
    request = _request(take, endpoint)
    request_id = take.request_id or f"chatcmpl-thinkbook-{take.name}"
    reasoning = _cut_to_budget(take.reasoning, take.thinking_budget)
    if endpoint.protocol in wire.ENCODERS:
        return request, *_other_provider(take, endpoint.protocol, request, reasoning)
    if endpoint.protocol == "dashscope":
        return request, *_native(take, request, reasoning)
    clock = take.first_token_seconds
    chunks: list[tuple[float, bytes]] = [
        (clock, _chunk(take.model, request_id, {"content": None, "role": "assistant", "reasoning_content": ""}))
    ]
    for piece in _pieces(reasoning):
        clock += token_weight(piece) / take.reasoning_tokens_per_second
        chunks.append((clock, _chunk(take.model, request_id, {"content": None, "reasoning_content": piece})))
    for piece in _pieces(take.answer):
        clock += token_weight(piece) / take.answer_tokens_per_second
        chunks.append((clock, _chunk(take.model, request_id, {"content": piece, "reasoning_content": None})))
    if take.tool_calls:
        chunks += _call_chunks(take, request_id, clock)
        clock = chunks[-1][0]
    finish = "tool_calls" if take.tool_calls else "stop"
    chunks.append((clock, _chunk(take.model, request_id, {"content": "", "reasoning_content": None}, finish)))
    prompt_text = "".join(_text(m.get("content")) + str(m.get("reasoning_content", "")) for m in request["messages"])
    reasoning_tokens = estimate_tokens(reasoning) if reasoning else 0
    calls_text = "".join(call.name + call.raw for call in take.tool_calls)
    usage = {
        "prompt_tokens": estimate_tokens(prompt_text) + _PROMPT_OVERHEAD_TOKENS * len(request["messages"]),
        "completion_tokens": reasoning_tokens + estimate_tokens(take.answer) + estimate_tokens(calls_text),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    usage_details = {
        **usage,
        "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "prompt_tokens_details": {"cached_tokens": take.cached_tokens},
    }
    chunks.append((clock, _event(take.model, request_id, [], usage_details)))
    chunks.append((clock, b"data: [DONE]\n\n"))
    return request, chunks, {**usage, "reasoning_tokens": reasoning_tokens}


def _timed(text: str, start: float, tokens_per_second: float) -> list[tuple[float, str]]:
    """``text``'s stream pieces, each with the second it arrives (paced from ``start``)."""
    clock, timed = start, []
    for piece in _pieces(text):
        clock += token_weight(piece) / tokens_per_second
        timed.append((clock, piece))
    return timed


def _other_provider(
    take: Take, protocol: str, request: dict[str, Any], reasoning: str
) -> tuple[list[tuple[float, bytes]], dict[str, int]]:
    """The timed wire chunks and usage of ``take`` in ``protocol``'s format (see ``wire.py``)."""
    said = _timed(reasoning, take.first_token_seconds, take.reasoning_tokens_per_second)
    start = said[-1][0] if said else take.first_token_seconds
    answer = _timed(take.answer, start, take.answer_tokens_per_second)
    reasoning_tokens = estimate_tokens(reasoning) if reasoning else 0
    prompt = json.dumps(request.get("messages") or request.get("input") or request.get("contents"), ensure_ascii=False)
    usage = {
        "prompt_tokens": estimate_tokens(prompt),
        "completion_tokens": reasoning_tokens + estimate_tokens(take.answer),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    usage["reasoning_tokens"] = reasoning_tokens
    return wire.ENCODERS[protocol](take.name, take.model, said, answer, usage), usage


def _native(take: Take, request: dict[str, Any], reasoning: str) -> tuple[list[tuple[float, bytes]], dict[str, int]]:
    """The timed chunks and usage of ``take`` on Bailian's native protocol (``wire.dashscope``)."""
    if take.tool_calls:
        raise ValueError(f"{take.name}: tool rounds are written for the OpenAI-compatible protocol only")
    said = _timed(reasoning, take.first_token_seconds, take.reasoning_tokens_per_second)
    start = said[-1][0] if said else take.first_token_seconds
    answer = _timed(take.answer, start, take.answer_tokens_per_second)
    native_input = request.get("input", {})
    messages = native_input.get("messages", []) if isinstance(native_input, dict) else []
    prompt_text = "".join(_text(m.get("content")) for m in messages)
    reasoning_tokens = estimate_tokens(reasoning) if reasoning else 0
    usage = {
        "prompt_tokens": estimate_tokens(prompt_text) + _PROMPT_OVERHEAD_TOKENS * len(messages),
        "completion_tokens": reasoning_tokens + estimate_tokens(take.answer),
        "reasoning_tokens": reasoning_tokens,
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    request_id = take.request_id or f"thinkbook-{take.name}"
    sources = list(take.search_results) if take.search is not None else None
    return wire.dashscope(request_id, said, answer, usage, sources), usage


def tool_loop(
    name: str,
    model: str,
    prompt: str,
    tools: Sequence[Callable[..., Any] | dict[str, Any]],
    rounds: Sequence[tuple[str, Sequence[Call]]],
    answer: str,
    reasoning: str = "",
    **options: Any,
) -> list[Take]:
    """One take per round of a tool loop: ``rounds`` are (reasoning, calls) of the rounds that call
    tools, then the last round answers with ``reasoning`` and ``answer``. Takes are named
    ``{name}-round1``, ``{name}-round2``...

    The calls run here through thinkbook's own :func:`run_tool_call` on ``tools`` (the notebook's
    functions), so the results, and the errors a raising tool gives, are the ones the notebook's
    loop computes; each later round's history is what :func:`tool_messages` sends.
    """
    checked = tool_options(tools)
    by_name = {tool.name: tool for tool in checked.tools} if checked is not None else {}
    history: list[dict[str, Any]] = build_messages(prompt)
    takes: list[Take] = []
    for number, (said, calls) in enumerate(rounds, start=1):
        takes.append(
            Take(
                f"{name}-round{number}", model, list(history), "", said, tools=tuple(tools), tool_calls=tuple(calls),
                **options,
            )
        )  # fmt: skip
        ran = [ToolCall(id=c.id, name=c.name, arguments=dict(c.arguments), raw_arguments=c.raw) for c in calls]
        for call in ran:
            asyncio.run(run_tool_call(call, by_name))
        history = history + tool_messages(ThinkResult(reasoning=said, answer=""), ran)
    last = len(rounds) + 1
    takes.append(Take(f"{name}-round{last}", model, list(history), answer, reasoning, tools=tuple(tools), **options))
    return takes


def write(take: Take, directory: Path) -> Path:
    request, chunks, _ = build(take)
    return dump_recording(
        directory / f"{take.name}.jsonl",
        protocol=_endpoint(take).protocol,
        model=take.model,
        request=request,
        chunks=chunks,
        source=take.source,
    )
