"""think / athink / stream / astream against a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import thinkbook
from thinkbook import (
    AnswerDelta,
    AuthenticationError,
    ConfigurationError,
    Done,
    ReasoningDelta,
    ThinkInterrupted,
    UsageUpdate,
)
from thinkbook.testing import LoopbackServer, ScriptedResponse

FAKE_KEY = "sk-test-SECRET0123456789abcdef"


def openai_events(reasoning: list[str], answer: list[str], usage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"id": "chatcmpl-1", "model": "qwen-plus", "choices": [{"delta": {"reasoning_content": r}}]} for r in reasoning
    ]
    events += [{"choices": [{"delta": {"content": a}}]} for a in answer]
    events.append({"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}]})
    events.append(
        {
            "choices": [],
            "usage": usage
            or {
                "prompt_tokens": 10,
                "completion_tokens": 20,
                "total_tokens": 30,
                "completion_tokens_details": {"reasoning_tokens": 12},
            },
        }
    )
    return events


def native_events(reasoning: list[str], answer: list[str]) -> list[bytes]:
    import json

    chunks, output = [], 0
    pieces = [(r, "") for r in reasoning] + [("", a) for a in answer] + [("", "")]
    for index, (r, a) in enumerate(pieces, start=1):
        output += 1 if (r or a) else 0
        last = index == len(pieces)
        data = {
            "output": {
                "choices": [
                    {
                        "message": {"content": a, "reasoning_content": r, "role": "assistant"},
                        "finish_reason": "stop" if last else "null",
                    }
                ]
            },
            "usage": {
                "total_tokens": 11 + output,
                "input_tokens": 11,
                "output_tokens": output,
                "output_tokens_details": {"reasoning_tokens": min(output, len(reasoning))},
            },
            "request_id": "req-native-1",
        }
        chunks.append(
            f"id:{index}\nevent:result\n:HTTP_STATUS/200\ndata:{json.dumps(data, ensure_ascii=False)}\n\n".encode()
        )
    return chunks


def ask(server: LoopbackServer, **options: Any) -> thinkbook.ThinkResult:
    options.setdefault("model", "qwen-plus")
    return thinkbook.think("9.11 和 9.9 哪个大？", base_url=server.url + "/v1", api_key=FAKE_KEY, **options)


def test_think_splits_reasoning_and_answer_with_exact_usage(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events(["比较", "小数"], ["9.9", " 更大"])))
    result = ask(server, enable_thinking=True)
    assert (result.reasoning, result.answer) == ("比较小数", "9.9 更大")
    assert result.usage is not None and result.usage.reasoning_tokens == 12 and result.usage.total_tokens == 30
    assert result.finish_reason == "stop" and result.model == "qwen-plus" and result.request_id == "chatcmpl-1"
    assert result.timings.total_seconds is not None and result.timings.total_seconds >= 0
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert sent.json()["stream"] is True and sent.json()["stream_options"] == {"include_usage": True}


def test_native_protocol_keeps_last_cumulative_usage_and_null_finish(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse(body=native_events(["嗯", "，"], ["你好", "！"])))
    result = thinkbook.think(
        "你是谁",
        model="qwen-plus",
        base_url=server.url + "/api/v1",
        protocol="dashscope",
        api_key=FAKE_KEY,
        enable_thinking=True,
    )
    assert (result.reasoning, result.answer) == ("嗯，", "你好！")
    assert result.usage is not None and result.usage.completion_tokens == 4 and result.usage.prompt_tokens == 11
    assert result.finish_reason == "stop" and result.request_id == "req-native-1"
    sent = server.requests[0]
    assert sent.path == "/api/v1/services/aigc/text-generation/generation"
    assert sent.headers["x-dashscope-sse"] == "enable"
    assert sent.json()["parameters"] == {
        "result_format": "message",
        "incremental_output": True,
        "enable_thinking": True,
    }


def test_stream_yields_typed_events_in_order(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events(["a", "b"], ["c"])))
    events = list(thinkbook.stream("q", model="m", base_url=server.url, api_key=FAKE_KEY))
    kinds = [type(e) for e in events]
    assert kinds == [ReasoningDelta, ReasoningDelta, AnswerDelta, UsageUpdate, Done]
    done = events[-1]
    assert isinstance(done, Done) and done.result.answer == "c"


async def test_athink_and_astream_from_a_running_loop(server: LoopbackServer) -> None:
    server.enqueue(
        ScriptedResponse.from_sse(openai_events(["r"], ["x"])), ScriptedResponse.from_sse(openai_events(["r"], ["y"]))
    )
    result = await thinkbook.athink("q", model="m", base_url=server.url, api_key=FAKE_KEY)
    assert result.answer == "x"
    texts = [
        e.text
        async for e in thinkbook.astream("q", model="m", base_url=server.url, api_key=FAKE_KEY)
        if isinstance(e, AnswerDelta)
    ]
    assert texts == ["y"]


def test_reasoning_arrives_while_streaming_not_at_the_end(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events(["one", "two", "three"], ["done"]), delay=0.15))
    arrivals = []
    start = time.monotonic()
    for event in thinkbook.stream("q", model="m", base_url=server.url, api_key=FAKE_KEY):
        if isinstance(event, ReasoningDelta):
            arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 3
    assert arrivals[2] - arrivals[0] > 0.2  # delivered as they came, not buffered to the end


def test_bad_input_fails_before_any_request(server: LoopbackServer) -> None:
    with pytest.raises(ConfigurationError, match="thinking-only"):
        ask(server, model="qwq-plus", enable_thinking=False)
    with pytest.raises(ConfigurationError, match="positive integer"):
        ask(server, thinking_budget=0)
    with pytest.raises(ConfigurationError, match="empty"):
        thinkbook.think("   ", model="qwen-plus", base_url=server.url, api_key=FAKE_KEY)
    with pytest.raises(ConfigurationError, match="max_retries"):
        ask(server, max_retries=-1)
    with pytest.raises(ConfigurationError):
        thinkbook.stream("q", model="qwq-plus", base_url=server.url, enable_thinking=False)
    assert server.requests == []


def test_missing_key_names_the_variable_to_set() -> None:
    with pytest.raises(thinkbook.MissingAPIKeyError, match="DASHSCOPE_API_KEY") as info:
        thinkbook.think("a prompt no recording answers", model="qwen-plus")
    assert info.value.variable == "DASHSCOPE_API_KEY"
    with pytest.raises(ConfigurationError, match="DEEPSEEK_API_KEY"):
        thinkbook.think("hi", model="deepseek-reasoner")


def test_extra_body_goes_into_the_request_unchanged(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events([], ["ok"])))
    ask(server, temperature=0.3, top_p=0.9, seed=7, stream_options={"include_usage": True, "x": 1})
    body = server.requests[0].json()
    assert (body["temperature"], body["top_p"], body["seed"]) == (0.3, 0.9, 7)
    assert body["stream_options"] == {"include_usage": True, "x": 1}


def test_http_error_maps_to_typed_error_without_leaking_the_key(server: LoopbackServer) -> None:
    server.enqueue(
        ScriptedResponse.from_json(
            {
                "error": {"code": "invalid_api_key", "message": f"Incorrect API key provided: {FAKE_KEY}"},
                "request_id": "r-401",
            },
            status=401,
        )
    )
    with pytest.raises(AuthenticationError) as info:
        ask(server)
    error = info.value
    assert error.status_code == 401 and error.code == "invalid_api_key" and error.request_id == "r-401"
    assert FAKE_KEY not in str(error) and "region" in str(error)
    assert len(server.requests) == 1  # 401 is never retried


def test_sync_interrupt_closes_the_stream_and_keeps_the_partial(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events(["first ", "second"], ["never"]), stall_after=2))
    main = threading.main_thread()
    assert threading.current_thread() is main

    def interrupt_soon() -> None:
        time.sleep(0.4)
        import _thread

        _thread.interrupt_main()

    threading.Thread(target=interrupt_soon, daemon=True).start()
    with pytest.raises(ThinkInterrupted) as info:
        ask(server)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.partial is not None and info.value.partial.reasoning == "first second"
    assert server.wait_for_disconnect(timeout=2.0), "the HTTP stream was not closed"


async def test_cancelling_athink_closes_the_stream_promptly(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events(["slow"], ["never"]), stall_after=1))
    task = asyncio.create_task(thinkbook.athink("q", model="m", base_url=server.url, api_key=FAKE_KEY))
    assert await asyncio.to_thread(server.wait_for_requests, 1, 2.0)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(server.wait_for_disconnect, 2.0)


def test_breaking_out_of_stream_closes_the_connection(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events(["a", "b"], ["c"]), stall_after=2))
    for event in thinkbook.stream("q", model="m", base_url=server.url, api_key=FAKE_KEY):
        assert isinstance(event, ReasoningDelta)
        break
    assert server.wait_for_disconnect(timeout=2.0)


def test_several_streams_run_side_by_side(server: LoopbackServer) -> None:
    for index in range(3):
        server.enqueue(ScriptedResponse.from_sse(openai_events(["t"] * 5, [f"answer {index}"]), delay=0.1))
    start = time.monotonic()

    async def three() -> list[thinkbook.ThinkResult]:
        return await asyncio.gather(
            *(thinkbook.athink("q", model="m", base_url=server.url, api_key=FAKE_KEY) for _ in range(3))
        )

    results = asyncio.run(three())
    elapsed = time.monotonic() - start
    assert sorted(r.answer for r in results) == ["answer 0", "answer 1", "answer 2"]
    assert elapsed < 1.5  # 3 x 0.7 s streams in parallel, not one after another


async def test_stop_from_the_view_ends_athink_with_the_partial(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import thinkbook._api as api

    started: list[Any] = []
    real_start = api._start

    def spy(*args: Any, **kwargs: Any) -> Any:
        future, run = real_start(*args, **kwargs)
        started.append(future)
        return future, run

    monkeypatch.setattr(api, "_start", spy)
    server.enqueue(ScriptedResponse.from_sse(openai_events(["first ", "second"], ["never"]), stall_after=2))
    task = asyncio.create_task(thinkbook.athink("q", model="m", base_url=server.url, api_key=FAKE_KEY))
    while not started:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.4)
    started[0].cancel()  # what the view's Stop button does
    with pytest.raises(thinkbook.StreamStoppedError) as info:
        await task
    assert info.value.partial is not None and info.value.partial.reasoning == "first second"
    assert await asyncio.to_thread(server.wait_for_disconnect, 2.0)
