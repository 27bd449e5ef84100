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
    import thinkbook._run as run_module

    started: list[Any] = []
    real_start = run_module._start

    def spy(*args: Any, **kwargs: Any) -> Any:
        future, run = real_start(*args, **kwargs)
        started.append(future)
        return future, run

    monkeypatch.setattr(run_module, "_start", spy)
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


# --- bad input is refused before anything is sent (issue 9, points 2 and 7) ----------------------

REFUSED_BEFORE_SENDING: list[tuple[str, Any, dict[str, Any], str]] = [
    # (name, prompt, options, what the message says)
    ("zero-width prompt", "\u200b\u200c\u200d\u2060\ufeff", {}, "empty"),
    ("whitespace and zero-width", " \n\u200b\t", {}, "empty"),
    ("content None", [{"role": "user", "content": None}], {}, "content None"),
    ("blank user message", [{"role": "user", "content": " "}], {}, "empty"),
    ("messages as extra field", "q", {"messages": [{"role": "user", "content": "x"}]}, "replace the prompt"),
    ("input as extra field", "q", {"input": {"messages": []}}, "replace the prompt"),
    ("lone surrogate", "a\ud800b", {}, "surrogate"),
    ("lone surrogate in system", "q", {"system": "\udc80"}, "surrogate"),
    ("object in extra field", "q", {"temperature": object()}, "'temperature'"),
    ("nan in extra field", "q", {"temperature": float("nan")}, "'temperature'"),
    ("timeout nan", "q", {"timeout": float("nan")}, "timeout"),
    ("timeout negative", "q", {"timeout": -1}, "timeout"),
    ("timeout bool", "q", {"timeout": True}, "timeout"),
    ("non-ASCII key", "q", {"api_key": "sk-тест1234567890"}, "non-ASCII"),
    ("key with a line break inside", "q", {"api_key": "sk-abc\ndef1234"}, "control character"),
]


@pytest.mark.parametrize(
    ("prompt", "options", "message"),
    [case[1:] for case in REFUSED_BEFORE_SENDING],
    ids=[case[0] for case in REFUSED_BEFORE_SENDING],
)
def test_bad_input_is_a_configuration_error_and_nothing_is_sent(
    server: LoopbackServer, prompt: Any, options: dict[str, Any], message: str
) -> None:
    options = {"model": "qwen-plus", "base_url": server.url + "/v1", "api_key": FAKE_KEY, **options}
    for call in (thinkbook.think, thinkbook.stream, thinkbook.submit):
        with pytest.raises(ConfigurationError, match=message) as info:
            call(prompt, **options)
        assert "тест" not in str(info.value) and FAKE_KEY not in str(info.value)
    with pytest.raises(ConfigurationError, match=message):
        asyncio.run(thinkbook.athink(prompt, **options))
    assert server.requests == []


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://127.0.0.1:99999/v1", "Port out of range"),
        ("http://127.0.0.1:0/v1", "port 0"),
        ("http://[::1", "not a valid URL"),
        ("http://my host/v1", "host name contains a space"),
        ("http://exa\nmple.com/v1", "not a valid URL"),
        ("http://h:80:80/v1", "not a valid URL"),
        ("http:///v1", "no host"),
        ("", "base_url is empty"),
        ("   ", "base_url is empty"),
    ],
)
def test_unusable_base_urls_fail_before_sending(base_url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        thinkbook.think("q", model="qwen-plus", base_url=base_url, api_key=FAKE_KEY)


def test_base_url_credentials_never_appear_in_errors() -> None:
    with pytest.raises(ConfigurationError) as info:
        thinkbook.think("q", model="qwen-plus", base_url="http://ann:hunter2secret@h:99999/v1", api_key=FAKE_KEY)
    assert "hunter2secret" not in str(info.value) and "ann:" not in str(info.value)
    assert "***@h:99999" in str(info.value)


def test_surrounding_whitespace_of_a_key_is_dropped(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events([], ["ok"])))
    thinkbook.think("q", model="m", base_url=server.url, api_key=f"  {FAKE_KEY}\n")
    assert server.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_infinite_timeout_means_wait_forever(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events([], ["ok"])))
    assert thinkbook.think("q", model="m", base_url=server.url, api_key=FAKE_KEY, timeout=float("inf")).answer == "ok"


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("enable_thinkng", "enable_thinking"),
        ("thinking_budgt", "thinking_budget"),
        ("preserve_thinkin", "preserve_thinking"),
        ("max_retires", "max_retries"),
        ("base_ur", "base_url"),
        ("sytem", "system"),
    ],
)
def test_a_misspelled_option_warns_with_the_close_match_and_is_not_sent(
    server: LoopbackServer, typo: str, meant: str
) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events([], ["ok"])))
    with pytest.warns(thinkbook.ThinkbookWarning, match=f"{typo}.*did you mean {meant}") as caught:
        ask(server, **{typo: True})
    assert caught[0].filename == __file__  # points at the user's line
    assert typo not in server.requests[0].json()


def test_a_real_extra_field_near_an_option_name_is_not_a_typo(server: LoopbackServer) -> None:
    import warnings

    server.enqueue(ScriptedResponse.from_sse(openai_events([], ["ok"])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ask(server, max_tokens=50, thinking={"type": "enabled"})
    body = server.requests[0].json()
    assert (body["max_tokens"], body["thinking"]) == (50, {"type": "enabled"})


def test_misspelled_options_warn_in_stream_and_athink_too(server: LoopbackServer) -> None:
    server.enqueue(
        ScriptedResponse.from_sse(openai_events([], ["a"])), ScriptedResponse.from_sse(openai_events([], ["b"]))
    )
    options = {"model": "m", "base_url": server.url, "api_key": FAKE_KEY, "enable_thinkng": False}
    with pytest.warns(thinkbook.ThinkbookWarning, match="enable_thinking"):
        list(thinkbook.stream("q", **options))
    with pytest.warns(thinkbook.ThinkbookWarning, match="enable_thinking"):
        asyncio.run(thinkbook.athink("q", **options))
    assert all("enable_thinkng" not in request.json() for request in server.requests)


def test_dialect_bailian_reaches_a_local_gateway(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(openai_events(["r"], ["ok"])))
    ask(server, dialect="bailian", enable_thinking=True, thinking_budget=64)
    body = server.requests[0].json()
    assert (body["enable_thinking"], body["thinking_budget"]) == (True, 64) and "chat_template_kwargs" not in body


def test_unknown_dialect_is_refused_before_sending(server: LoopbackServer) -> None:
    with pytest.raises(ConfigurationError, match=r"unknown dialect 'litellm'.*'bailian'"):
        ask(server, dialect="litellm")
    assert server.requests == []


def test_dashscope_key_is_not_sent_to_a_gateway_that_copies_bailians_path(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", FAKE_KEY)
    server.enqueue(
        ScriptedResponse.from_sse(openai_events([], ["a"])), ScriptedResponse.from_sse(openai_events([], ["b"]))
    )
    with pytest.warns(thinkbook.ThinkbookWarning, match="DASHSCOPE_API_KEY is set but was not sent"):
        thinkbook.think("q", model="qwen-plus", base_url=server.url + "/compatible-mode/v1")
    assert "authorization" not in server.requests[0].headers
    thinkbook.think("q", model="qwen-plus", base_url=server.url + "/compatible-mode/v1", api_key=FAKE_KEY)
    assert server.requests[1].headers["authorization"] == f"Bearer {FAKE_KEY}"  # passed explicitly: sent
