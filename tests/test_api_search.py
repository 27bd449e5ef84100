"""think(enable_search=...) end to end: where each protocol puts the fields, the native sources,
the OpenAI-compatible protocol's one notice, and refusals before anything is sent."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from wire_tools import native_answer, openai_answer

import thinkbook
from thinkbook import ConfigurationError, ThinkbookWarning, _search
from thinkbook.testing import LoopbackServer

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
SOURCES = [
    {
        "index": 1,
        "title": "Hangzhou weather",
        "url": "https://weather.example.com/hz",
        "site_name": "Weather",
        "icon": "https://weather.example.com/i.png",
    },
    {"index": 2, "title": "<b>evil</b>", "url": "javascript:alert(1)", "site_name": "Evil"},
]


@pytest.fixture(autouse=True)
def _fresh_notice() -> None:
    _search._said_no_sources.clear()


def native(server: LoopbackServer, **options: Any) -> thinkbook.ThinkResult:
    return thinkbook.think(
        "杭州明天天气?",
        model="qwen-plus",
        base_url=server.url + "/api/v1",
        protocol="dashscope",
        api_key=FAKE_KEY,
        display=False,
        **options,
    )


def compatible(server: LoopbackServer, **options: Any) -> thinkbook.ThinkResult:
    options.setdefault("dialect", "bailian")
    return thinkbook.think(
        "杭州明天天气?", model="qwen-plus", base_url=server.url + "/v1", api_key=FAKE_KEY, display=False, **options
    )


def test_native_search_fields_go_in_parameters_and_sources_come_back(server: LoopbackServer) -> None:
    server.enqueue(native_answer("搜索结果显示", "明天晴 [1]。", sources=SOURCES))
    result = native(
        server,
        enable_search=True,
        search_options={"search_strategy": "max", "enable_citation": True, "prepend_search_result": True},
    )
    parameters = server.requests[0].json()["parameters"]
    assert parameters["enable_search"] is True
    assert parameters["search_options"] == {
        "search_strategy": "max",
        "enable_citation": True,
        "prepend_search_result": True,
        "enable_source": True,  # citations need sources
    }
    assert result.answer == "明天晴 [1]。"
    assert [(s.index, s.title, s.url, s.site_name) for s in result.search_results] == [
        (1, "Hangzhou weather", "https://weather.example.com/hz", "Weather"),
        (2, "<b>evil</b>", "", "Evil"),  # an unsafe URL is dropped; the title is text, escaped where shown
    ]
    assert result.to_dict()["search_results"][0]["icon"] == "https://weather.example.com/i.png"
    assert (
        _search.link_citations(result.answer, result.search_results)
        == "明天晴 [&#91;1&#93;](https://weather.example.com/hz)。"  # entity brackets: not TeX
    )


def test_compatible_search_is_top_level_and_said_once_to_have_no_sources(server: LoopbackServer) -> None:
    server.enqueue(openai_answer("", "晴"), openai_answer("", "晴"))
    with pytest.warns(ThinkbookWarning, match="without its sources.*protocol='dashscope'"):
        result = compatible(server, enable_search=True, search_options={"forced_search": True})
    body = server.requests[0].json()
    assert (body["enable_search"], body["search_options"]) == (True, {"forced_search": True})
    assert result.search_results == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compatible(server, enable_search=True)  # said once


def test_search_options_alone_ask_for_search(server: LoopbackServer) -> None:
    server.enqueue(native_answer("", "ok"))
    native(server, search_options={"search_strategy": "turbo"})
    assert server.requests[0].json()["parameters"]["enable_search"] is True


def test_no_search_sends_nothing(server: LoopbackServer) -> None:
    server.enqueue(native_answer("", "ok"), openai_answer("", "ok"))
    native(server)
    compatible(server)
    assert "enable_search" not in server.requests[0].json()["parameters"]
    assert "enable_search" not in server.requests[1].json()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"enable_search": True, "dialect": "vllm"}, "web search"),
        ({"enable_search": True, "search_options": {"strategy": "max"}}, "unknown search option"),
        ({"enable_search": True, "search_options": {"search_strategy": "fast"}}, "unknown search_strategy"),
        ({"enable_search": True, "search_options": {"citation_format": "(1)"}}, "citation_format"),
        ({"enable_search": "yes"}, "enable_search must be"),
    ],
)
def test_bad_search_fails_before_sending(server: LoopbackServer, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        compatible(server, **options)
    assert server.requests == []


def test_conversation_searches_every_turn(server: LoopbackServer) -> None:
    chat = thinkbook.Conversation(
        "qwen-plus",
        base_url=server.url + "/api/v1",
        protocol="dashscope",
        api_key=FAKE_KEY,
        enable_search=True,
        display=False,
    )
    server.enqueue(native_answer("", "one", sources=SOURCES[:1]), native_answer("", "two"))
    assert chat.send("a").search_results[0].url == "https://weather.example.com/hz"
    chat.send("b")
    assert all(r.json()["parameters"]["enable_search"] is True for r in server.requests)


def test_bailian_responses_searches_through_its_web_search_tool() -> None:
    """Bailian's Responses API takes search as a built-in tool, not enable_search: it is placed, not refused."""
    from thinkbook._endpoints import resolve_endpoint
    from thinkbook._request import build_messages, prepare_request

    endpoint = resolve_endpoint("qwen-plus", protocol="responses", env={"DASHSCOPE_API_KEY": "sk-" + "x" * 20})
    body = prepare_request(endpoint, "qwen-plus", build_messages("今天的新闻？"), search={"enable_search": True}).body
    assert {"type": "web_search"} in body["tools"] and "enable_search" not in body
