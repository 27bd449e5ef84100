"""Shared by the protocols' tool tests: feed a recorded stream to a parser, cut anywhere, and
assemble its ``tool_calls`` deltas the way the pipeline does (``ToolCallAssembler``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from thinkbook._protocols.base import ChunkParser
from thinkbook._sse import SSEDecoder
from thinkbook._types import ThinkResult, ToolCall
from thinkbook._wire import WireChunk
from thinkbook.tools.calls import ToolCallAssembler


def feed(new_parser: Callable[[], ChunkParser], raw: bytes, cuts: list[int]) -> tuple[list[WireChunk], ChunkParser]:
    """The chunks ``raw`` parses into when it arrives cut at ``cuts``, and the parser."""
    decoder, parser = SSEDecoder(), new_parser()
    chunks: list[WireChunk] = []
    for start, end in itertools.pairwise([0, *cuts, len(raw)]):
        for event in decoder.decode(raw[start:end]):
            chunk = parser.parse(event)
            if chunk is not None:
                chunks.append(chunk)
    return chunks, parser


def assembled(chunks: list[WireChunk]) -> list[ToolCall]:
    assembler = ToolCallAssembler()
    for chunk in chunks:
        assembler.add(chunk.tool_calls)
    return assembler.calls()


def call_triples(calls: list[ToolCall]) -> list[tuple[str, str, str]]:
    return [(call.id, call.name, call.raw_arguments) for call in calls]


def expected_triples(expected: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["id"], c["name"], c["arguments"]) for c in expected["tool_calls"]]


def round_result(new_parser: Callable[[], ChunkParser], raw: bytes) -> tuple[ThinkResult, list[ToolCall]]:
    """The finished round as the pipeline would hold it: text, state and the assembled calls."""
    chunks, parser = feed(new_parser, raw, [])
    finish = [c.finish_reason for c in chunks if c.finish_reason]
    calls = assembled(chunks)
    result = ThinkResult(
        reasoning="".join(c.reasoning for c in chunks),
        answer="".join(c.content for c in chunks),
        finish_reason=finish[-1] if finish else None,
        reasoning_state=parser.turn_state(),
        tool_calls=calls,
    )
    return result, calls


def finished(calls: list[ToolCall], *results: Any) -> list[ToolCall]:
    """The calls as the loop leaves them after running: a result each."""
    for call, value in zip(calls, results, strict=True):
        call.result, call.seconds = value, 0.01
    return calls
