"""Scripted tool-calling rounds for the loopback tests, in each protocol's own wire shape."""

from __future__ import annotations

import json
from typing import Any

from thinkbook.testing import ScriptedResponse, openai_events

Call = tuple[str, str, dict[str, Any]]  # (id, name, arguments)

USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def openai_tool_round(reasoning: str, calls: list[Call], *, usage: dict[str, Any] | None = None) -> ScriptedResponse:
    """Reasoning, then the calls' deltas (first each call's name, then its arguments in two
    pieces, interleaved across parallel calls), ``finish_reason: tool_calls``, usage."""
    base = {"id": "chatcmpl-tools", "model": "qwen-plus"}
    events: list[dict[str, Any]] = [{**base, "choices": [{"index": 0, "delta": {"reasoning_content": reasoning}}]}]
    for index, (call_id, name, _) in enumerate(calls):
        head = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        events.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [head]}}]})
    texts = [json.dumps(arguments) for _, _, arguments in calls]
    for half in (0, 1):
        for index, text in enumerate(texts):
            middle = len(text) // 2
            piece = text[:middle] if half == 0 else text[middle:]
            delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            events.append({**base, "choices": [{"index": 0, "delta": delta}]})
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    events.append({**base, "choices": [], "usage": usage or USAGE})
    return ScriptedResponse.from_sse(events)


def openai_answer(reasoning: str, answer: str, *, usage: dict[str, Any] | None = None) -> ScriptedResponse:
    return ScriptedResponse.from_sse(openai_events([reasoning] if reasoning else [], [answer], usage or USAGE))


def _native_event(index: int, payload: dict[str, Any]) -> bytes:
    return f"id:{index}\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def _native(message: dict[str, Any], finish: str, **output: Any) -> dict[str, Any]:
    return {
        "output": {
            "choices": [{"message": {"role": "assistant", "content": "", **message}, "finish_reason": finish}],
            **output,
        },
        "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
        "request_id": "req-native",
    }


def native_tool_round(reasoning: str, calls: list[Call]) -> ScriptedResponse:
    payloads = [_native({"reasoning_content": reasoning}, "null")]
    for index, (call_id, name, arguments) in enumerate(calls):
        head = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        payloads.append(_native({"tool_calls": [head]}, "null"))
        rest = {"index": index, "function": {"arguments": json.dumps(arguments)}}
        payloads.append(_native({"tool_calls": [rest]}, "null"))
    payloads.append(_native({}, "tool_calls"))
    return ScriptedResponse(body=[_native_event(i, p) for i, p in enumerate(payloads, start=1)])


def native_answer(reasoning: str, answer: str, *, sources: list[dict[str, Any]] | None = None) -> ScriptedResponse:
    payloads = []
    if sources is not None:  # prepend_search_result: a first packet of sources only
        payloads.append(_native({}, "null", search_info={"search_results": sources}))
    if reasoning:
        payloads.append(_native({"reasoning_content": reasoning}, "null"))
    payloads.append(_native({"content": answer}, "null"))
    payloads.append(_native({}, "stop"))
    return ScriptedResponse(body=[_native_event(i, p) for i, p in enumerate(payloads, start=1)])
