"""Every recorded wire fixture, decoded end to end by the same pipeline live streams use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import thinkbook
from thinkbook import (
    AnswerDelta,
    AnswerWasReasoning,
    APIStatusError,
    Done,
    ReasoningDelta,
    StreamInterruptedError,
    ThinkEvent,
)
from thinkbook._pipeline import StreamPipeline
from thinkbook._wire import WireChunk

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
STREAMS = sorted(name for name in EXPECTED if name.endswith(".sse"))


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def run(name: str, size: int) -> tuple[list[ThinkEvent], thinkbook.ThinkResult | None, BaseException | None]:
    expected = EXPECTED[name]
    pipeline = StreamPipeline(expected["protocol"])
    events: list[ThinkEvent] = []
    try:
        for piece in pieces((FIXTURES / name).read_bytes(), size):
            events.extend(pipeline.feed(piece))
        events.extend(pipeline.finish())
    except thinkbook.ThinkbookError as error:
        return events, None, error
    done = events[-1]
    assert isinstance(done, Done)
    return events, done.result, None


def replay_events(events: list[ThinkEvent]) -> tuple[str, str]:
    """What a view that only follows the events would show."""
    reasoning, answer = "", ""
    for event in events:
        match event:
            case ReasoningDelta(text):
                reasoning += text
            case AnswerDelta(text):
                answer += text
            case AnswerWasReasoning(text):
                assert answer == text
                reasoning, answer = reasoning + text, ""
    return reasoning, answer


def sizes_for(name: str) -> list[int]:
    length = (FIXTURES / name).stat().st_size
    return ([1] if length < 40_000 else []) + [7, 97, 4096, 100_000]


@pytest.mark.parametrize("name", STREAMS)
def test_fixture_decodes_to_the_expected_result_at_any_chunking(name: str) -> None:
    expected = EXPECTED[name]
    for size in sizes_for(name):
        events, result, error = run(name, size)
        if expected["error"] or expected["interrupted"]:
            assert error is not None, f"{name} at {size}: expected an error"
            partial = error.partial  # type: ignore[attr-defined]
            assert partial is not None and (partial.reasoning, partial.answer) == (
                expected["reasoning"],
                expected["answer"],
            )
            if expected["interrupted"]:
                assert isinstance(error, thinkbook.StreamInterruptedError)
            else:
                assert type(error).__name__ == expected["error"]["class"]
                assert error.code == str(expected["error"]["code"])  # type: ignore[attr-defined]
            continue
        assert error is None, f"{name} at {size}: {error!r}"
        assert result is not None
        assert result.reasoning == expected["reasoning"], f"{name} at chunk size {size}"
        assert result.answer == expected["answer"], f"{name} at chunk size {size}"
        assert result.finish_reason == expected["finish_reason"]
        assert result.request_id == expected["request_id"]
        usage = expected["usage"]
        if usage is None:
            assert result.usage is None
        else:
            assert result.usage is not None
            got = {key: getattr(result.usage, key) for key in usage}
            assert got == usage
        assert replay_events(events) == (result.reasoning, result.answer)


def test_vllm_rename_window_never_doubles_the_reasoning() -> None:
    _, result, _ = run("vllm_both_fields.sse", 4096)
    assert result is not None
    assert result.reasoning == EXPECTED["vllm_both_fields.sse"]["reasoning"]
    half = len(result.reasoning) // 2
    assert result.reasoning[:half] != result.reasoning[half:]


def test_prefilled_think_moves_streamed_answer_to_reasoning() -> None:
    events, result, _ = run("prefilled_close_tag.sse", 5)
    assert result is not None and result.reasoning.startswith("Okay, 2 + 2 is 4.")
    assert result.answer == "2 + 2 = 4."
    assert any(isinstance(e, AnswerWasReasoning) for e in events)


def test_native_string_null_finish_reason_is_none_until_the_end() -> None:
    pipeline = StreamPipeline("dashscope")
    data = (FIXTURES / "bailian_native_whoami.sse").read_bytes()
    first_event_end = data.index(b"\n\n") + 2
    pipeline.feed(data[:first_event_end])
    assert pipeline.partial().finish_reason is None
    pipeline.feed(data[first_event_end:])
    assert pipeline.partial().finish_reason == "stop"


def test_timings_follow_the_clock() -> None:
    ticks = iter([0.0, 1.0, 1.5, 4.0, 10.0, 12.0, 12.0, 12.0])
    pipeline = StreamPipeline("openai", clock=lambda: next(ticks))  # started at 0.0
    pipeline.feed(b'data: {"choices":[{"delta":{"reasoning_content":"a"}}]}\n\n')  # 1.0
    pipeline.feed(b'data: {"choices":[{"delta":{"reasoning_content":"b"}}]}\n\n')  # no stamp
    pipeline.feed(b'data: {"choices":[{"delta":{"content":"c"},"finish_reason":"stop"}]}\n\n')  # 1.5
    pipeline.feed(b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":22,"total_tokens":23}}\n\n')
    (done,) = pipeline.finish()  # ends at 4.0
    assert isinstance(done, Done)
    t = done.result.timings
    assert (t.time_to_first_reasoning, t.time_to_first_answer, t.thinking_seconds, t.total_seconds) == (
        1.0,
        1.5,
        0.5,
        4.0,
    )
    assert t.tokens_per_second == pytest.approx(22 / 3.0)


# --- end of stream: WHATWG, and a whole last event ---------------------------------------------


def _answer_of(events: list[ThinkEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, AnswerDelta))


def test_an_event_cut_mid_json_is_an_interruption_with_the_text_so_far() -> None:
    pipeline = StreamPipeline("openai")
    pipeline.feed(b'data: {"choices":[{"delta":{"content":"Hello"}}]}\n\ndata: {"choices":[{"delta":{"con')
    with pytest.raises(StreamInterruptedError) as info:
        pipeline.finish()
    assert info.value.partial is not None and info.value.partial.answer == "Hello"


def test_a_whole_last_event_without_its_blank_line_still_counts() -> None:
    # DashScope native streams may close right after the last event's data.
    body = (
        b'id:1\nevent:result\ndata:{"output":{"choices":[{"message":{"content":"Hi"},"finish_reason":"null"}]}}\n\n'
        b'id:2\nevent:result\ndata:{"output":{"choices":[{"message":{"content":"!"},"finish_reason":"stop"}]},'
        b'"usage":{"input_tokens":1,"output_tokens":2}}'
    )
    pipeline = StreamPipeline("dashscope")
    events = pipeline.feed(body)
    events += pipeline.finish()
    assert _answer_of(events) == "Hi!"  # the last event's text is in the event stream, not only the result
    done = events[-1]
    assert isinstance(done, Done) and done.result.finish_reason == "stop" and done.result.usage is not None


def test_a_finished_model_cut_before_usage_returns_without_usage() -> None:
    pipeline = StreamPipeline("openai")
    pipeline.feed(
        b'data: {"choices":[{"delta":{"content":"ok"}}]}\n\ndata: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n'
        b'data: {"choices":[],"usage":{"total_tok'
    )
    done = pipeline.finish()[-1]
    assert isinstance(done, Done) and (done.result.answer, done.result.usage) == ("ok", None)


def test_absurd_token_counts_are_ignored_not_trusted() -> None:
    pipeline = StreamPipeline("openai")
    pipeline.feed(b'data: {"choices":[{"delta":{"content":"ok"},"finish_reason":"stop"}],"usage":{"total_tokens":')
    pipeline.feed(b"9" * 4000 + b"}}\n\n")
    done = pipeline.finish()[-1]
    assert isinstance(done, Done)
    assert done.result.usage is None or done.result.usage.total_tokens is None
    assert done.result.timings.tokens_per_second is None


# --- splitting keeps the answer's text (point 8) ------------------------------------------------


def _openai(*deltas: dict[str, object]) -> bytes:
    chunks = [{"choices": [{"delta": d}]} for d in deltas]
    chunks.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)


def _result(body: bytes, **options: Any) -> tuple[str, str]:
    pipeline = StreamPipeline("openai", **options)
    pipeline.feed(body)
    done = pipeline.finish()[-1]
    assert isinstance(done, Done)
    return done.result.reasoning, done.result.answer


def test_after_reasoning_in_a_field_a_close_tag_in_the_answer_is_answer_text() -> None:
    body = _openai({"reasoning_content": "r"}, {"content": "Use </think> to end"}, {"content": " it."})
    assert _result(body) == ("r", "Use </think> to end it.")


def test_with_thinking_off_a_bare_close_tag_is_answer_text() -> None:
    body = _openai({"content": "The tag "}, {"content": "</think> ends reasoning."})
    assert _result(body, thinking_off=True) == ("", "The tag </think> ends reasoning.")
    assert _result(body) == ("The tag", "ends reasoning.")  # otherwise: pre-filled <think>


def test_an_answer_that_opens_with_an_indented_code_block_keeps_it() -> None:
    assert _result(_openai({"content": "    x = 1\n"})) == ("", "    x = 1\n")
    assert _result(_openai({"content": "<think>r</think>\n\n    x = 1"})) == ("r", "    x = 1")


def test_content_sent_as_text_parts_is_joined() -> None:
    body = _openai({"content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]})
    assert _result(body) == ("", "Hello")


# --- in-stream errors ---------------------------------------------------------------------------


def test_the_error_events_own_request_id_wins() -> None:
    pipeline = StreamPipeline("dashscope")
    pipeline.feed(b'data:{"output":{"text":"a"},"request_id":"r-early"}\n\n')
    with pytest.raises(APIStatusError) as info:
        pipeline.feed(b'event:error\ndata:{"request_id":"r-error","code":"InternalError","message":"x"}\n\n')
    assert info.value.request_id == "r-error"


def test_an_event_stream_mislabelled_text_html_is_still_read() -> None:
    pipeline = StreamPipeline("openai", content_type="text/html")
    pipeline.feed(b'data: {"choices":[{"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n')
    done = pipeline.finish()[-1]
    assert isinstance(done, Done) and done.result.answer == "ok"


# --- hidden reasoning (issue 12, part 4) ------------------------------------------------------


def _openai_stream(reasoning: str, reasoning_tokens: int) -> bytes:
    events = [
        *([{"choices": [{"delta": {"reasoning_content": reasoning}}]}] if reasoning else []),
        {"choices": [{"delta": {"content": "42"}, "finish_reason": "stop"}]},
        {
            "choices": [],
            "usage": {
                "prompt_tokens": 3,
                "completion_tokens": 50,
                "total_tokens": 53,
                "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
            },
        },
    ]
    return b"".join(f"data: {json.dumps(event)}\n\n".encode() for event in events) + b"data: [DONE]\n\n"


@pytest.mark.parametrize(
    ("reasoning", "tokens", "hidden"),
    [("", 48, True), ("thought", 48, False), ("", 0, False)],
)
def test_reasoning_tokens_without_text_are_hidden_reasoning(reasoning: str, tokens: int, hidden: bool) -> None:
    pipeline = StreamPipeline("openai")
    pipeline.feed(_openai_stream(reasoning, tokens))
    result = pipeline.finish()[-1].result  # type: ignore[union-attr]
    assert result.reasoning_hidden is hidden
    assert result.to_dict()["reasoning_hidden"] is hidden
    assert result.reasoning_state is None  # chat completions carry no opaque state


def test_a_chunk_marked_hidden_marks_the_result() -> None:
    pipeline = StreamPipeline("openai")
    pipeline._take(WireChunk(reasoning_hidden=True), [])
    pipeline.feed(b'data: {"choices":[{"delta":{"reasoning_content":"some"}}]}\n\n')
    pipeline.feed(b'data: {"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}\n\n')
    result = pipeline.finish()[-1].result  # type: ignore[union-attr]
    assert result.reasoning_hidden is True and result.reasoning == "some"
