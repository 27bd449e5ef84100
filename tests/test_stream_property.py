"""Property: any valid stream, cut anywhere and fed in any pieces, never loses a character.

Whatever ends the stream early, the result (or the error's ``.partial``) holds exactly the text of
every event whose data had fully arrived, so reasoning and answer are prefixes of the full texts;
a stream cut after the model finished returns the full texts.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from thinkbook import Done, ThinkbookError
from thinkbook._pipeline import StreamPipeline

Protocol = Literal["openai", "dashscope"]

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=6)
# Content-only streams go through the <think> splitter: no "<" there, so no tag can form.
_PLAIN = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="<"), min_size=1, max_size=6)


def _payload(protocol: Protocol, reasoning: str, content: str, finish: bool) -> dict[str, Any]:
    if protocol == "dashscope":
        message = {"content": content, "reasoning_content": reasoning}
        return {"output": {"choices": [{"message": message, "finish_reason": "stop" if finish else "null"}]}}
    delta = {key: value for key, value in (("reasoning_content", reasoning), ("content", content)) if value}
    return {"choices": [{"delta": delta, "finish_reason": "stop" if finish else None}]}


@st.composite
def streams(draw: st.DrawFn) -> tuple[Protocol, bytes, list[tuple[int, str, str, bool]]]:
    """(protocol, body, events as (data_end, reasoning, answer, finished))."""
    protocol: Protocol = draw(st.sampled_from(["openai", "dashscope"]))
    with_reasoning = draw(st.booleans())
    reasoning = draw(st.lists(_TEXT, min_size=1, max_size=4)) if with_reasoning else []
    answer = draw(st.lists(_TEXT if with_reasoning else _PLAIN, min_size=1, max_size=4))
    line_end = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    deltas = [(r, "") for r in reasoning] + [("", a) for a in answer]
    body, events = b"", []
    for index, (r, a) in enumerate(deltas):
        finish = index == len(deltas) - 1
        data = json.dumps(_payload(protocol, r, a, finish), ensure_ascii=draw(st.booleans())).encode()
        head = b"event:result" + line_end + b"data:" if protocol == "dashscope" else b"data: "
        body += head
        events.append((len(body) + len(data), r, a, finish))
        body += data + line_end + line_end
    if protocol == "openai" and draw(st.booleans()):
        body += b"data: [DONE]" + line_end + line_end
    return protocol, body, events


@settings(max_examples=400, deadline=None)
@given(streams(), st.data())
def test_a_cut_anywhere_never_loses_a_character_that_arrived(
    stream: tuple[Protocol, bytes, list[tuple[int, str, str, bool]]], data: st.DataObject
) -> None:
    protocol, body, events = stream
    cut = data.draw(st.integers(0, len(body)), label="cut")
    cuts = sorted(data.draw(st.lists(st.integers(0, cut), max_size=5), label="pieces"))
    received = body[:cut]
    pipeline = StreamPipeline(protocol)
    for start, end in zip([0, *cuts], [*cuts, cut], strict=True):
        pipeline.feed(received[start:end])

    whole = [e for e in events if cut >= e[0]]
    expected = ("".join(e[1] for e in whole), "".join(e[2] for e in whole))
    full = ("".join(e[1] for e in events), "".join(e[2] for e in events))
    try:
        done = pipeline.finish()[-1]
    except ThinkbookError as error:
        assert not any(e[3] for e in whole)
        got = ("", "") if error.partial is None else (error.partial.reasoning, error.partial.answer)
    else:
        assert isinstance(done, Done)
        got = (done.result.reasoning, done.result.answer)
        assert got == full
    assert got == expected
    assert full[0].startswith(got[0]) and full[1].startswith(got[1])
