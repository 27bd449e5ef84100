"""The pipeline assembles tool-call deltas into ThinkResult.tool_calls and keeps a search's sources."""

from __future__ import annotations

import json
from typing import Any

from thinkbook._pipeline import StreamPipeline
from thinkbook._types import Done, ThinkResult
from thinkbook.testing import sse_chunks


def run(protocol: str, chunks: list[bytes], secrets: tuple[str, ...] = ()) -> ThinkResult:
    pipeline = StreamPipeline(protocol, model="m", secrets=secrets)
    for data in chunks:
        pipeline.feed(data)
    done = pipeline.finish()[-1]
    assert isinstance(done, Done)
    return done.result


def delta(**fields: Any) -> dict[str, Any]:
    return {"choices": [{"delta": fields}]}


def test_parallel_calls_interleaved_by_index_are_assembled() -> None:
    events = [
        delta(reasoning_content="two cities"),
        delta(tool_calls=[{"index": 0, "id": "a", "function": {"name": "weather", "arguments": ""}}]),
        delta(tool_calls=[{"index": 1, "id": "b", "function": {"name": "weather", "arguments": '{"city"'}}]),
        delta(tool_calls=[{"index": 0, "function": {"arguments": '{"city": "Oslo"}'}}]),
        delta(tool_calls=[{"index": 1, "function": {"arguments": ': "Rome"}'}}]),
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
    ]
    result = run("openai", sse_chunks(events))
    assert result.finish_reason == "tool_calls"
    assert result.reasoning == "two cities" and result.answer == ""
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("a", "weather", {"city": "Oslo"}),
        ("b", "weather", {"city": "Rome"}),
    ]


def test_a_round_of_only_tool_calls_finishes() -> None:
    events = [
        delta(tool_calls=[{"index": 0, "id": "a", "function": {"name": "now", "arguments": "{}"}}]),
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
    ]
    assert [c.name for c in run("openai", sse_chunks(events, done=False)).tool_calls] == ["now"]


def native(payload: dict[str, Any], index: int) -> bytes:
    return f"id:{index}\nevent:result\ndata:{json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def test_native_search_sources_become_search_results() -> None:
    sources = [
        {"index": 1, "title": "Hangzhou weather", "url": "https://w.example.com/hz", "site_name": "W"},
        {"index": 2, "title": "bad", "url": "javascript:alert(1)", "site_name": "X"},
    ]
    chunks = [
        native(
            {
                "output": {
                    "search_info": {"search_results": sources},
                    "choices": [{"message": {"content": ""}, "finish_reason": "null"}],
                }
            },
            1,
        ),
        native(
            {
                "output": {"choices": [{"message": {"content": "Sunny [1]."}, "finish_reason": "stop"}]},
                "usage": {"input_tokens": 3, "output_tokens": 2, "plugins": {"search": {"count": 1}}},
            },
            2,
        ),
    ]
    result = run("dashscope", chunks)
    assert result.answer == "Sunny [1]."
    assert [(s.index, s.title, s.url) for s in result.search_results] == [
        (1, "Hangzhou weather", "https://w.example.com/hz"),
        (2, "bad", ""),  # an unsafe URL is never kept
    ]
    assert result.usage is not None and result.usage.raw["plugins"]["search"]["count"] == 1


def test_live_redaction_still_works_beside_tool_calls() -> None:
    secret = "sk-live-SECRET-0123456789"
    events = [
        delta(reasoning_content=f"the key is {secret}"),
        delta(tool_calls=[{"index": 0, "id": "a", "function": {"name": "now", "arguments": "{}"}}]),
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
    ]
    pipeline = StreamPipeline("openai", model="m", secrets=(secret,))
    shown = []
    for data in sse_chunks(events):
        shown += pipeline.feed(data)
    shown += pipeline.finish()
    text = "".join(getattr(e, "text", "") for e in shown)
    assert secret not in text
    done = shown[-1]
    assert isinstance(done, Done) and secret not in done.result.reasoning
    assert [c.name for c in done.result.tool_calls] == ["now"]
