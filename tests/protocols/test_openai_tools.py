"""The OpenAI-compatible protocol with tools and web search: body fields, history, tool-call deltas."""

from __future__ import annotations

import json
from typing import Any

import pytest

from thinkbook import ConfigurationError
from thinkbook._protocols.base import STATE_KEY, BodyInput
from thinkbook._protocols.openai import PROTOCOL, OpenAIChunkParser
from thinkbook._sse import ServerSentEvent

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

TOOL_LOOP_HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "reasoning_content": "I should call the tool.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                STATE_KEY: {"protocol": "gemini", "signature": "x"},
            }
        ],
        STATE_KEY: {"protocol": "anthropic", "blocks": []},
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '"sunny"'},
]


def body(**options: Any) -> dict[str, Any]:
    options.setdefault("model", "qwen-plus")
    options.setdefault("messages", [{"role": "user", "content": "hi"}])
    return PROTOCOL.build_body(BodyInput(**options))


def parse(payload: Any) -> Any:
    return OpenAIChunkParser().parse(ServerSentEvent(json.dumps(payload)))


def test_tools_and_tool_choice_go_in_the_body_as_they_are() -> None:
    sent = body(tools=(WEATHER,), tool_choice="auto")
    assert sent["tools"] == [WEATHER]
    assert sent["tool_choice"] == "auto"
    assert "tools" not in body() and "tool_choice" not in body()


def test_no_tool_choice_when_none() -> None:
    assert "tool_choice" not in body(tools=(WEATHER,))


def test_search_fields_are_top_level_on_bailian() -> None:
    sent = body(search={"enable_search": True, "search_options": {"search_strategy": "max"}})
    assert sent["enable_search"] is True
    assert sent["search_options"] == {"search_strategy": "max"}


@pytest.mark.parametrize("dialect", ["vllm", "deepseek", "openrouter", "ollama", "openai"])
def test_search_on_a_dialect_without_it_is_refused(dialect: str) -> None:
    with pytest.raises(ConfigurationError, match=r"web search.*dialect='bailian'"):
        body(dialect=dialect, search={"enable_search": True})


def test_search_off_elsewhere_sends_nothing() -> None:
    assert "enable_search" not in body(dialect="vllm", search={"enable_search": False})
    assert body(search={"enable_search": False})["enable_search"] is False


def test_tool_loop_history_keeps_reasoning_and_drops_thinkbook_state() -> None:
    sent = body(messages=TOOL_LOOP_HISTORY)["messages"]
    assert sent == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "I should call the tool.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '"sunny"'},
    ]
    assert STATE_KEY in TOOL_LOOP_HISTORY[1]  # the caller's history is not touched


def test_deepseek_gets_an_empty_reasoning_content_on_a_tool_turn_that_lost_it() -> None:
    history = [dict(m) for m in TOOL_LOOP_HISTORY]
    del history[1]["reasoning_content"]
    sent = body(dialect="deepseek", messages=history)["messages"]
    assert sent[1]["reasoning_content"] == ""
    assert "reasoning_content" not in body(messages=history)["messages"][1]  # Bailian: as it is


def test_strict_openai_servers_get_no_reasoning_content() -> None:
    sent = body(dialect="openai", messages=TOOL_LOOP_HISTORY)["messages"]
    assert all("reasoning_content" not in m for m in sent)
    assert sent[1]["tool_calls"][0]["id"] == "call_1"


def test_tool_call_deltas_reach_the_chunk() -> None:
    first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    chunk = parse({"choices": [{"delta": {"tool_calls": [first]}}]})
    assert chunk is not None and chunk.tool_calls == [first]
    more = parse({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}}]})
    assert more is not None and more.tool_calls == [{"index": 0, "function": {"arguments": '{"ci'}}]
    end = parse({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]})
    assert end is not None and end.finish_reason == "tool_calls" and end.tool_calls is None


def test_a_chunk_without_tool_calls_has_none() -> None:
    chunk = parse({"choices": [{"delta": {"content": "hi", "tool_calls": []}}]})
    assert chunk is not None and chunk.tool_calls is None and chunk.content == "hi"
