"""Property: a Responses stream of any text, fed in any pieces and cut anywhere, loses no character
and doubles none (the parser alone, through the SSE decoder)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbook._protocols.responses import PROTOCOL
from thinkbook._sse import SSEDecoder

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=6)


def _event(kind: str, **fields: Any) -> bytes:
    data = json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n".encode()


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[str], list[str], bool]:
    reasoning = draw(st.lists(_TEXT, max_size=5))
    answer = draw(st.lists(_TEXT, min_size=1, max_size=5))
    both = draw(st.booleans())  # a server that also sends raw reasoning_text for the same thoughts
    out = [_event("response.created", response={"id": "resp_1", "model": "m"})]
    for piece in reasoning:
        out.append(_event("response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0, delta=piece))
        if both:
            out.append(_event("response.reasoning_text.delta", item_id="rs_1", content_index=0, delta=piece))
    out += [_event("response.output_text.delta", item_id="msg_1", delta=piece) for piece in answer]
    out.append(_event("response.completed", response={"id": "resp_1", "status": "completed", "output": []}))
    return b"".join(out), reasoning, answer, both


@settings(max_examples=150, deadline=None)
@given(streams(), st.lists(st.integers(min_value=0), max_size=6), st.integers(min_value=0))
def test_any_split_and_any_cut_keeps_exact_prefixes(
    stream: tuple[bytes, list[str], list[str], bool], cuts: list[int], cut_at: int
) -> None:
    body, reasoning, answer, _ = stream
    end = cut_at % (len(body) + 1)
    data = body[:end]
    points = sorted({c % (len(data) + 1) for c in cuts})
    decoder, parser = SSEDecoder(), PROTOCOL.new_parser()
    got_reasoning = got_answer = ""
    finished = False
    start = 0
    for point in [*points, len(data)]:
        for event in decoder.decode(data[start:point]):
            chunk = parser.parse(event)
            if chunk is not None:
                got_reasoning += chunk.reasoning
                got_answer += chunk.content
                finished = finished or chunk.finish_reason is not None
        start = point
    full_reasoning, full_answer = "".join(reasoning), "".join(answer)
    assert full_reasoning.startswith(got_reasoning)
    assert full_answer.startswith(got_answer)
    if got_answer:
        assert got_reasoning == full_reasoning  # the answer comes after every thought
    if finished:
        assert (got_reasoning, got_answer) == (full_reasoning, full_answer)
    if end == len(body):
        assert finished
