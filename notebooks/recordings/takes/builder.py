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
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from takes import wire
from thinkbook._counters import estimate_tokens, token_weight
from thinkbook._endpoints import resolve_endpoint
from thinkbook._replay import dump_recording
from thinkbook._request import build_messages, prepare_request

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


def build(take: Take) -> tuple[dict[str, Any], list[tuple[float, bytes]], dict[str, int]]:
    """(request body, timed wire chunks, usage) for ``take``."""
    endpoint = resolve_endpoint(take.model, env=_KEYS)
    messages = build_messages(take.prompt if isinstance(take.prompt, str) else list(take.prompt), take.system)
    request = prepare_request(
        endpoint,
        take.model,
        messages,
        enable_thinking=take.enable_thinking,
        thinking_budget=take.thinking_budget,
        preserve_thinking=take.preserve_thinking,
    ).body
    request_id = take.request_id or f"chatcmpl-thinkbook-{take.name}"
    reasoning = _cut_to_budget(take.reasoning, take.thinking_budget)
    if endpoint.protocol in wire.ENCODERS:
        return request, *_other_provider(take, endpoint.protocol, request, reasoning)
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
    chunks.append((clock, _chunk(take.model, request_id, {"content": "", "reasoning_content": None}, "stop")))
    prompt_text = "".join(str(m.get("content", "")) + str(m.get("reasoning_content", "")) for m in request["messages"])
    reasoning_tokens = estimate_tokens(reasoning) if reasoning else 0
    usage = {
        "prompt_tokens": estimate_tokens(prompt_text) + _PROMPT_OVERHEAD_TOKENS * len(request["messages"]),
        "completion_tokens": reasoning_tokens + estimate_tokens(take.answer),
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


def write(take: Take, directory: Path) -> Path:
    request, chunks, _ = build(take)
    return dump_recording(
        directory / f"{take.name}.jsonl",
        protocol=resolve_endpoint(take.model, env=_KEYS).protocol,
        model=take.model,
        request=request,
        chunks=chunks,
        source=take.source,
    )
