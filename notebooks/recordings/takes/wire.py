"""Wire bytes of one streamed answer in each protocol thinkbook speaks, for illustrative takes.

``builder.py`` writes Bailian's OpenAI-compatible chunks itself; a take for another provider (a
notebook column for Claude, GPT or Gemini) is written here in that provider's streaming format, in
the shapes each provider documents (see ``tests/fixtures/<protocol>/README.md`` for the sources):

* ``anthropic``: ``message_start``, a ``thinking`` block (``thinking_delta`` pieces, then a
  ``signature_delta``), a ``text`` block, ``message_delta`` with ``stop_reason`` and the output
  tokens, ``message_stop``;
* ``responses``: ``response.created``, a ``reasoning`` item streamed as
  ``response.reasoning_summary_text.delta``, a ``message`` item as ``response.output_text.delta``,
  ``response.completed`` with ``usage.output_tokens_details.reasoning_tokens``;
* ``gemini``: ``streamGenerateContent?alt=sse`` chunks whose parts carry ``"thought": true`` for
  reasoning, a ``thoughtSignature`` on the first answer part, ``usageMetadata`` with
  ``thoughtsTokenCount``, ``finishReason: STOP`` on the last.

Each function takes the take's pieces with their times and returns ``(seconds, bytes)`` pairs.

:func:`dashscope` writes Bailian's *native* stream (``protocol="dashscope"``), which a take asks for
to show web search with its sources: ``id:`` / ``event:result`` / ``:HTTP_STATUS/200`` events whose
``output.choices[0].message`` holds the text pieces, ``finish_reason`` the string ``"null"`` until
the last event, the cumulative ``usage`` on every event, no ``[DONE]``; with search, the first
packet holds only ``output.search_info.search_results`` and ``usage.plugins.search.count`` is 1.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

Timed = list[tuple[float, bytes]]
Pieces = Sequence[tuple[float, str]]


def _data(body: dict[str, Any], event: str | None = None) -> bytes:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def _opaque(name: str, size: int = 96) -> str:
    """A stand-in for a provider's signature or encrypted reasoning: fixed per take, meaningless."""
    digest = hashlib.sha256(name.encode()).digest() * (size // 32 + 1)
    return base64.b64encode(digest[:size]).decode()


def anthropic(name: str, model: str, reasoning: Pieces, answer: Pieces, usage: dict[str, int]) -> Timed:
    start = reasoning[0][0] if reasoning else answer[0][0]
    out: Timed = [
        (
            start,
            _data(
                {
                    "type": "message_start",
                    "message": {
                        "id": f"msg_thinkbook_{name}",
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": 1},
                    },
                },
                "message_start",
            ),
        )
    ]
    index = 0
    if reasoning:
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}
        out.append((start, _data(block, "content_block_start")))
        for at, piece in reasoning:
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": piece}}
            out.append((at, _data(delta, "content_block_delta")))
        end = reasoning[-1][0]
        signature = {"type": "signature_delta", "signature": _opaque(name)}
        out.append((end, _data({"type": "content_block_delta", "index": 0, "delta": signature}, "content_block_delta")))
        out.append((end, _data({"type": "content_block_stop", "index": 0}, "content_block_stop")))
        index = 1
    first = answer[0][0]
    block = {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
    out.append((first, _data(block, "content_block_start")))
    for at, piece in answer:
        delta = {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}
        out.append((at, _data(delta, "content_block_delta")))
    last = answer[-1][0]
    out.append((last, _data({"type": "content_block_stop", "index": index}, "content_block_stop")))
    ending = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": usage["completion_tokens"]},
    }
    out.append((last, _data(ending, "message_delta")))
    out.append((last, _data({"type": "message_stop"}, "message_stop")))
    return out


def responses(name: str, model: str, reasoning: Pieces, answer: Pieces, usage: dict[str, int]) -> Timed:
    sequence = iter(range(1_000_000))
    response_id, reasoning_id, message_id = f"resp_{name}", f"rs_{name}", f"msg_{name}"

    def event(at: float, kind: str, **fields: Any) -> tuple[float, bytes]:
        return at, _data({"type": kind, "sequence_number": next(sequence), **fields}, kind)

    start = reasoning[0][0] if reasoning else answer[0][0]
    head = {"id": response_id, "object": "response", "status": "in_progress", "model": model, "output": []}
    out: Timed = [event(start, "response.created", response=head)]
    summary = "".join(piece for _, piece in reasoning)
    output: list[dict[str, Any]] = []
    if reasoning:
        item = {"id": reasoning_id, "type": "reasoning", "summary": []}
        out.append(event(start, "response.output_item.added", output_index=0, item=item))
        for at, piece in reasoning:
            out.append(
                event(
                    at,
                    "response.reasoning_summary_text.delta",
                    item_id=reasoning_id,
                    output_index=0,
                    summary_index=0,
                    delta=piece,
                )
            )
        done = {**item, "summary": [{"type": "summary_text", "text": summary}], "encrypted_content": _opaque(name)}
        out.append(event(reasoning[-1][0], "response.output_item.done", output_index=0, item=done))
        output.append(done)
    where = len(output)
    first = answer[0][0]
    message = {"id": message_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    out.append(event(first, "response.output_item.added", output_index=where, item=message))
    for at, piece in answer:
        out.append(
            event(
                at, "response.output_text.delta", item_id=message_id, output_index=where, content_index=0, delta=piece
            )
        )
    text = "".join(piece for _, piece in answer)
    output.append({**message, "status": "completed", "content": [{"type": "output_text", "text": text}]})
    reasoning_tokens = usage["reasoning_tokens"]
    completed = {
        **head,
        "status": "completed",
        "output": output,
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": usage["total_tokens"],
        },
    }
    out.append(event(answer[-1][0], "response.completed", response=completed))
    return out


def gemini(name: str, model: str, reasoning: Pieces, answer: Pieces, usage: dict[str, int]) -> Timed:
    thoughts, said = 0, 0
    reasoning_tokens = usage["reasoning_tokens"]
    answer_tokens = usage["completion_tokens"] - reasoning_tokens

    def chunk(at: float, part: dict[str, Any], finish: bool = False) -> tuple[float, bytes]:
        candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = "STOP"
        metadata: dict[str, Any] = {"promptTokenCount": usage["prompt_tokens"]}
        if said:
            metadata["candidatesTokenCount"] = said
        metadata["totalTokenCount"] = usage["prompt_tokens"] + thoughts + said
        if thoughts:
            metadata["thoughtsTokenCount"] = thoughts
        body = {"candidates": [candidate], "usageMetadata": metadata, "modelVersion": model, "responseId": name}
        return at, _data(body)

    out: Timed = []
    for number, (at, piece) in enumerate(reasoning, start=1):
        thoughts = round(reasoning_tokens * number / len(reasoning))
        out.append(chunk(at, {"text": piece, "thought": True}))
    for number, (at, piece) in enumerate(answer, start=1):
        said = round(answer_tokens * number / len(answer))
        part: dict[str, Any] = {"text": piece}
        if number == 1 and reasoning:
            part["thoughtSignature"] = _opaque(name)
        out.append(chunk(at, part, finish=number == len(answer)))
    return out


def dashscope(
    request_id: str, reasoning: Pieces, answer: Pieces, usage: dict[str, int], sources: list[dict[str, Any]] | None
) -> Timed:
    out: Timed = []
    thought = said = 0
    reasoning_tokens = usage["reasoning_tokens"]
    answer_tokens = usage["completion_tokens"] - reasoning_tokens

    def event(at: float, message: dict[str, str], finish: str = "null", **output: Any) -> tuple[float, bytes]:
        counted: dict[str, Any] = {
            "total_tokens": usage["prompt_tokens"] + thought + said,
            "output_tokens": thought + said,
            "input_tokens": usage["prompt_tokens"],
            "output_tokens_details": {"reasoning_tokens": thought},
        }
        if sources is not None:
            counted["plugins"] = {"search": {"count": 1, "strategy": "turbo"}}
        choice = {"message": {"content": "", "reasoning_content": "", "role": "assistant", **message}}
        body = {
            "output": {"choices": [{**choice, "finish_reason": finish}], **output},
            "usage": counted,
            "request_id": request_id,
        }
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return at, f"id:{len(out) + 1}\nevent:result\n:HTTP_STATUS/200\ndata:{text}\n\n".encode()

    start = reasoning[0][0] if reasoning else answer[0][0]
    if sources is not None:
        out.append(event(start, {}, search_info={"search_results": sources}))
    for number, (at, piece) in enumerate(reasoning, start=1):
        thought = round(reasoning_tokens * number / len(reasoning))
        out.append(event(at, {"reasoning_content": piece}))
    for number, (at, piece) in enumerate(answer, start=1):
        said = round(answer_tokens * number / len(answer))
        out.append(event(at, {"content": piece}))
    out.append(event(answer[-1][0], {}, "stop"))
    return out


ENCODERS: dict[str, Callable[[str, str, Pieces, Pieces, dict[str, int]], Timed]] = {
    "anthropic": anthropic,
    "responses": responses,
    "gemini": gemini,
}
