"""Tools on the OpenAI Responses protocol: request fields, the tool loop's input items, the stream.

Fixtures: tests/fixtures/responses/openai_tool_*.sse (built by make_fixtures.py from
openai-python's event types). The history is what thinkbook's tool loop writes
(:func:`thinkbook.tools.loop.tool_messages`): the second request must carry the reasoning item
(encrypted content unchanged) before its function_call, then the function_call_output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tool_streams as streams
from tool_streams import assembled, call_triples, expected_triples, finished

from thinkbook._errors import ConfigurationError
from thinkbook._protocols.base import STATE_KEY, BodyInput, ThinkingOptions
from thinkbook._protocols.responses import PROTOCOL, ResponsesParser
from thinkbook._sse import ServerSentEvent
from thinkbook._types import ThinkResult, ToolCall
from thinkbook._wire import WireChunk
from thinkbook.tools.loop import tool_messages

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "responses"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
TOOL_STREAMS = sorted(n for n, e in EXPECTED.items() if e.get("tool_calls"))
USER = {"role": "user", "content": "What's the weather in Paris?"}
PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather now.", "parameters": PARAMS}}


def body(messages: list[dict[str, Any]] | None = None, provider: str = "openai", **fields: Any) -> dict[str, Any]:
    thinking = fields.pop("thinking", ThinkingOptions())
    return PROTOCOL.build_body(
        BodyInput(model="gpt-5.1", messages=messages or [USER], provider=provider, thinking=thinking, **fields)
    )


def feed(raw: bytes, cuts: list[int]) -> tuple[list[WireChunk], ResponsesParser]:
    chunks, parser = streams.feed(ResponsesParser, raw, cuts)
    assert isinstance(parser, ResponsesParser)
    return chunks, parser


def round_result(name: str) -> tuple[ThinkResult, list[ToolCall]]:
    return streams.round_result(ResponsesParser, (FIXTURES / name).read_bytes())


def parse(parser: ResponsesParser, obj: dict[str, Any]) -> WireChunk | None:
    return parser.parse(ServerSentEvent(json.dumps(obj), event=obj["type"]))


# --- request fields --------------------------------------------------------------------------


def test_function_tools_in_responses_spelling_not_strict() -> None:
    got = body(tools=(WEATHER, {"type": "function", "function": {"name": "now"}}))
    assert got["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather now.",
            "parameters": PARAMS,
            "strict": False,
        },
        {"type": "function", "name": "now", "parameters": {"type": "object", "properties": {}}, "strict": False},
    ]
    assert "tool_choice" not in got


def test_a_spec_asking_for_strict_keeps_it_and_bailian_gets_no_strict_by_default() -> None:
    strict = {"type": "function", "function": {**WEATHER["function"], "strict": True}}
    assert body(tools=(strict,))["tools"][0]["strict"] is True
    assert "strict" not in body(tools=(WEATHER,), provider="bailian")["tools"][0]
    assert body(tools=(strict,), provider="bailian")["tools"][0]["strict"] is True


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "function", "name": "get_weather"}),
    ],
)
def test_tool_choice(choice: Any, sent: Any) -> None:
    assert body(tools=(WEATHER,), tool_choice=choice, thinking=ThinkingOptions(effort="low"))["tool_choice"] == sent


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"tool_choice": "required"}, "no tools were given"),
        ({"tools": (WEATHER,), "tool_choice": {"type": "function", "function": {"name": "x"}}}, "not one of the tools"),
        ({"tools": (WEATHER,), "tool_choice": "any"}, "unknown tool_choice"),
        ({"tools": ({"function": {"name": "f", "parameters": "x"}},)}, "JSON Schema object"),
    ],
)
def test_bad_tool_fields_are_configuration_errors(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        body(**fields)


def test_web_search_is_refused_on_openai() -> None:
    with pytest.raises(ConfigurationError) as info:
        body(search={"enable_search": True})
    assert "OpenAI Responses API" in str(info.value) and "protocol='dashscope'" in str(info.value)


def test_bailian_searches_with_its_built_in_web_search_tool() -> None:
    got = body(provider="bailian", tools=(WEATHER,), search={"enable_search": True})
    assert got["tools"][-1] == {"type": "web_search"}
    assert "enable_search" not in got
    assert body(provider="bailian", search={"enable_search": True})["tools"] == [{"type": "web_search"}]


def test_bailian_search_options_have_no_place_there() -> None:
    with pytest.raises(ConfigurationError, match="protocol='dashscope'"):
        body(provider="bailian", search={"enable_search": True, "search_options": {"search_strategy": "max"}})


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TOOL_STREAMS)
def test_tool_fixtures_assemble_into_the_calls_at_every_byte_boundary(name: str) -> None:
    raw, expected = (FIXTURES / name).read_bytes(), EXPECTED[name]
    for cut in range(len(raw) + 1):
        chunks, parser = feed(raw, [cut])
        assert call_triples(assembled(chunks)) == expected_triples(expected), cut
        assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]
        state = parser.turn_state()
        assert state is not None and [item["id"] for item in state["items"]] == expected["state_items"]
    chunks, _ = feed(raw, list(range(1, len(raw))))
    assert call_triples(assembled(chunks)) == expected_triples(expected)


def test_the_first_delta_names_the_call_by_call_id() -> None:
    chunks, _ = feed((FIXTURES / "openai_tool_round1.sse").read_bytes(), [])
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert deltas[0] == {"index": 0, "id": "call_Pw3xT9kQm2", "function": {"name": "get_weather", "arguments": ""}}
    assert len(deltas) == 1 + 7  # the 32 characters in pieces of 5, 8, 3 ...; .done adds nothing


def test_an_answer_round_finishes_with_stop() -> None:
    chunks, _ = feed((FIXTURES / "openai_tool_round2.sse").read_bytes(), [])
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert not any(c.tool_calls for c in chunks)


def test_arguments_only_in_done_events_still_arrive() -> None:
    parser = ResponsesParser()
    item = {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "now", "arguments": ""}
    parse(parser, {"type": "response.output_item.added", "output_index": 0, "item": item})
    done = parse(parser, {"type": "response.function_call_arguments.done", "item_id": "fc_1", "arguments": "{}"})
    assert done is not None and done.tool_calls == [{"index": 0, "function": {"arguments": "{}"}}]
    finished_item = {**item, "arguments": "{}", "status": "completed"}
    assert parse(parser, {"type": "response.output_item.done", "output_index": 0, "item": finished_item}) is None


def test_a_call_sent_only_whole_is_one_delta() -> None:
    parser = ResponsesParser()
    item = {"id": "fc_9", "type": "function_call", "call_id": "call_9", "name": "now", "arguments": '{"tz":"UTC"}'}
    chunk = parse(parser, {"type": "response.output_item.done", "output_index": 3, "item": item})
    assert chunk is not None and chunk.tool_calls == [
        {"index": 0, "id": "call_9", "function": {"name": "now", "arguments": '{"tz":"UTC"}'}}
    ]


def test_a_web_search_call_reports_its_sources() -> None:
    sources = [{"type": "url", "url": "https://example.com/paris", "title": "Paris weather"}]
    item = {
        "id": "ws_1",
        "type": "web_search_call",
        "status": "completed",
        "action": {"type": "search", "sources": sources},
    }
    chunk = parse(ResponsesParser(), {"type": "response.output_item.done", "output_index": 0, "item": item})
    assert chunk is not None and chunk.search_results == sources


# --- the tool loop's input items -------------------------------------------------------------


def test_the_second_request_sends_reasoning_then_function_call_then_its_output() -> None:
    result, calls = round_result("openai_tool_round1.sse")
    assert result.finish_reason == "tool_calls" and result.answer == ""
    state_items = result.reasoning_state["items"]  # type: ignore[index]
    history = [USER, *tool_messages(result, finished(calls, {"celsius": 18, "sky": "sunny"}))]
    got = body(history, tools=(WEATHER,))
    assert got["input"] == [
        USER,
        state_items[0],
        state_items[1],
        {"type": "function_call_output", "call_id": "call_Pw3xT9kQm2", "output": '{"celsius": 18, "sky": "sunny"}'},
    ]
    assert state_items[0]["type"] == "reasoning" and state_items[0]["encrypted_content"].startswith("gAAAAABtools")
    assert state_items[1] == {
        "id": "fc_6925a1b8e0f18190bb02tools0round1call0000000002",
        "type": "function_call",
        "status": "completed",
        "arguments": '{"city":"Paris","unit":"celsius"}',
        "call_id": "call_Pw3xT9kQm2",
        "name": "get_weather",
    }
    assert got["store"] is False and STATE_KEY not in json.dumps(got)


def test_parallel_calls_keep_their_order_and_outputs_follow() -> None:
    result, calls = round_result("openai_tool_parallel.sse")
    history = [USER, *tool_messages(result, finished(calls, "21 °C", "16 °C"))]
    items = body(history)["input"]
    assert [(i.get("type"), i.get("call_id")) for i in items[1:]] == [
        ("reasoning", None),
        ("function_call", "call_Tk7Yo1"),
        ("function_call", "call_Li9Ma2"),
        ("function_call_output", "call_Tk7Yo1"),
        ("function_call_output", "call_Li9Ma2"),
    ]
    assert [i["output"] for i in items[-2:]] == ["21 °C", "16 °C"]


def test_tool_turns_go_back_even_with_preserve_thinking_off_and_on_bailian() -> None:
    result, calls = round_result("openai_tool_round1.sse")
    history = [USER, *tool_messages(result, finished(calls, "18"))]
    for provider, thinking in (("openai", ThinkingOptions(preserve=False)), ("bailian", ThinkingOptions())):
        items = body(history, provider=provider, thinking=thinking)["input"]
        assert [i.get("type") for i in items[1:]] == ["reasoning", "function_call", "function_call_output"]


def test_calls_that_no_longer_match_the_state_are_rebuilt_after_the_reasoning() -> None:
    result, calls = round_result("openai_tool_round1.sse")
    history = [USER, *tool_messages(result, finished(calls, "18"))]
    history[1]["tool_calls"][0]["id"] = "call_renamed"
    history[2]["tool_call_id"] = "call_renamed"
    items = body(history)["input"]
    assert items[1]["type"] == "reasoning"
    assert items[2] == {
        "type": "function_call",
        "call_id": "call_renamed",
        "name": "get_weather",
        "arguments": '{"city":"Paris","unit":"celsius"}',
    }


def test_the_whole_loop_then_the_next_user_turn() -> None:
    result, calls = round_result("openai_tool_round1.sse")
    answer, _ = round_result("openai_tool_round2.sse")
    history = [USER, *tool_messages(result, finished(calls, "18"))]
    history += [PROTOCOL.assistant_message(answer), {"role": "user", "content": "And tomorrow?"}]
    items = body(history)["input"]
    assert [i.get("type", i.get("role")) for i in items] == [
        "user",
        "reasoning",
        "function_call",
        "function_call_output",
        "reasoning",
        "message",
        "user",
    ]
