"""DashScope native with tools, web search and images: parameters, history, native deltas, search_info."""

from __future__ import annotations

import json
from typing import Any

import pytest

from thinkbook import ConfigurationError
from thinkbook._catalog import MULTIMODAL_GENERATION_PATH, TEXT_GENERATION_PATH
from thinkbook._protocols.base import STATE_KEY, BodyInput
from thinkbook._protocols.dashscope import PROTOCOL, DashScopeChunkParser
from thinkbook._sse import ServerSentEvent

BASE = "https://dashscope-intl.aliyuncs.com/api/v1"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
PNG = "data:image/png;base64,iVBORw0KGgo="


def body(**options: Any) -> dict[str, Any]:
    options.setdefault("model", "qwen-plus")
    options.setdefault("messages", [{"role": "user", "content": "hi"}])
    options.setdefault("url", BASE + TEXT_GENERATION_PATH)
    return PROTOCOL.build_body(BodyInput(**options))


def parse(payload: Any) -> Any:
    return DashScopeChunkParser().parse(ServerSentEvent(json.dumps(payload, ensure_ascii=False), event="result"))


def test_tools_and_search_go_inside_parameters() -> None:
    sent = body(
        tools=(WEATHER,),
        tool_choice="required",
        search={"enable_search": True, "search_options": {"enable_source": True}},
    )
    assert "tools" not in sent and "enable_search" not in sent
    assert sent["parameters"]["tools"] == [WEATHER]
    assert sent["parameters"]["tool_choice"] == "required"
    assert sent["parameters"]["enable_search"] is True
    assert sent["parameters"]["search_options"] == {"enable_source": True}


def test_tool_loop_history_on_the_native_protocol() -> None:
    history = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "call it",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}, STATE_KEY: {}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    sent = body(messages=history)["input"]["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": "",
        "reasoning_content": "call it",
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
    }
    assert sent[2] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}


def test_images_in_the_multimodal_spelling() -> None:
    content = [{"type": "image_url", "image_url": {"url": PNG}}, {"type": "text", "text": "What is this?"}]
    sent = body(
        model="qwen3-vl-plus",
        messages=[{"role": "user", "content": content}],
        url=BASE + MULTIMODAL_GENERATION_PATH,
    )
    assert sent["input"]["messages"] == [{"role": "user", "content": [{"image": PNG}, {"text": "What is this?"}]}]


def test_images_to_the_text_service_are_refused() -> None:
    content = [{"type": "image_url", "image_url": {"url": PNG}}, {"type": "text", "text": "?"}]
    with pytest.raises(ConfigurationError, match="multimodal-generation"):
        body(messages=[{"role": "user", "content": content}])


def test_native_tool_call_deltas() -> None:
    delta = {"index": 0, "id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": '{"c'}}
    chunk = parse(
        {
            "output": {
                "choices": [
                    {"message": {"content": "", "role": "assistant", "tool_calls": [delta]}, "finish_reason": "null"}
                ]
            },
            "request_id": "r1",
        }
    )
    assert chunk.tool_calls == [delta] and chunk.finish_reason is None
    end = parse({"output": {"choices": [{"message": {"content": ""}, "finish_reason": "tool_calls"}]}})
    assert end.finish_reason == "tool_calls"


SOURCES = [
    {"index": 1, "title": "杭州天气", "url": "https://weather.example.com/hz", "site_name": "天气网", "icon": ""},
    {"index": 2, "title": "Forecast", "url": "https://example.org/f", "site_name": "Example"},
]


def test_search_info_in_a_packet_that_holds_only_sources() -> None:
    # prepend_search_result: the first packet carries the sources and no text.
    chunk = parse(
        {
            "output": {
                "search_info": {"search_results": SOURCES},
                "choices": [{"message": {"content": "", "role": "assistant"}, "finish_reason": "null"}],
            },
            "request_id": "r2",
        }
    )
    assert chunk.search_results == SOURCES
    assert (chunk.reasoning, chunk.content) == ("", "")


def test_search_count_stays_in_the_raw_usage() -> None:
    chunk = parse(
        {
            "output": {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]},
            "usage": {"input_tokens": 5, "output_tokens": 1, "plugins": {"search": {"count": 2, "strategy": "turbo"}}},
        }
    )
    assert chunk.usage.raw["plugins"]["search"]["count"] == 2
    assert chunk.search_results is None
