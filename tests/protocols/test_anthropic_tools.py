"""Tools on the Anthropic Messages protocol: request fields, the tool loop's history, the stream.

The fixtures are tests/fixtures/anthropic/claude_tool_*.sse (built from Anthropic's documented
shapes by make_fixtures.py); the history is the one thinkbook's tool loop writes
(:func:`thinkbook.tools.loop.tool_messages`), so these tests check the second request exactly
as the API needs it: signed thinking blocks unchanged, then ``tool_use``, then ``tool_result``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import tool_streams as streams
from tool_streams import assembled, finished

from thinkbook._errors import ConfigurationError
from thinkbook._protocols.anthropic import PROTOCOL, AnthropicParser
from thinkbook._protocols.base import STATE_KEY, BodyInput, ThinkingOptions
from thinkbook._sse import ServerSentEvent
from thinkbook._types import ThinkResult, ToolCall
from thinkbook._wire import WireChunk
from thinkbook.tools.loop import tool_messages

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "anthropic"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
TOOL_STREAMS = sorted(n for n, e in EXPECTED.items() if e.get("tool_calls"))

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}
CLOCK = {"type": "function", "function": {"name": "now"}}  # no description, no parameters
USER = {"role": "user", "content": "How warm is it in Paris, in Fahrenheit?"}


def body(
    messages: list[dict[str, Any]] | None = None, model: str = "claude-sonnet-4-6", **fields: Any
) -> dict[str, Any]:
    return PROTOCOL.build_body(BodyInput(model=model, messages=messages or [USER], **fields))


def feed(raw: bytes, cuts: list[int]) -> tuple[list[WireChunk], AnthropicParser]:
    chunks, parser = streams.feed(AnthropicParser, raw, cuts)
    assert isinstance(parser, AnthropicParser)
    return chunks, parser


def round_result(name: str) -> tuple[ThinkResult, list[ToolCall]]:
    return streams.round_result(AnthropicParser, (FIXTURES / name).read_bytes())


# --- request fields --------------------------------------------------------------------------


def test_tools_become_input_schema_tools() -> None:
    got = body(tools=(WEATHER, CLOCK))
    assert got["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "input_schema": WEATHER["function"]["parameters"],
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in got  # None: the server's default (auto)


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "tool", "name": "get_weather"}),
    ],
)
def test_tool_choice_without_thinking(choice: Any, sent: dict[str, Any]) -> None:
    assert body(tools=(WEATHER,), tool_choice=choice)["tool_choice"] == sent


@pytest.mark.parametrize("choice", ["auto", "none"])
def test_thinking_allows_auto_and_none(choice: str) -> None:
    got = body(tools=(WEATHER,), tool_choice=choice, thinking=ThinkingOptions(enable=True))
    assert got["tool_choice"] == {"type": choice}
    assert got["thinking"]["type"] == "adaptive"


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_weather"}}])
@pytest.mark.parametrize("model", ["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-fable-5-1"])
def test_thinking_refuses_a_forced_tool_call(choice: Any, model: str) -> None:
    thinking = ThinkingOptions() if "fable" in model else ThinkingOptions(effort="low")  # fable always thinks
    with pytest.raises(ConfigurationError, match="only takes tool_choice 'auto' or 'none'"):
        body(model=model, tools=(WEATHER,), tool_choice=choice, thinking=thinking)


def test_a_forced_call_is_fine_with_thinking_turned_off() -> None:
    # Bailian's Qwen on this protocol: thinking disabled explicitly.
    got = body(model="qwen3.6-plus", tools=(WEATHER,), tool_choice="required", thinking=ThinkingOptions(enable=False))
    assert (got["thinking"], got["tool_choice"]) == ({"type": "disabled"}, {"type": "any"})


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"tool_choice": "required"}, "no tools were given"),
        ({"tools": (WEATHER,), "tool_choice": {"type": "function", "function": {"name": "x"}}}, "not one of the tools"),
        ({"tools": (WEATHER,), "tool_choice": "any"}, "unknown tool_choice"),
        ({"tools": ({"type": "function", "function": {"description": "no name"}},)}, "no function name"),
        ({"tools": ({"type": "code_interpreter"},)}, "not an OpenAI-format function tool"),
    ],
)
def test_bad_tool_fields_are_configuration_errors(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        body(**fields)


def test_web_search_is_refused_with_the_protocol_to_use() -> None:
    with pytest.raises(ConfigurationError) as info:
        body(search={"enable_search": True, "search_options": {"search_strategy": "max"}})
    assert "Anthropic Messages API" in str(info.value) and "protocol='dashscope'" in str(info.value)


def test_search_turned_off_is_no_search() -> None:
    assert "enable_search" not in body(search={"enable_search": False})


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TOOL_STREAMS)
def test_tool_fixtures_assemble_into_the_calls_at_every_byte_boundary(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    expected = EXPECTED[name]
    want = [(c["id"], c["name"], c["arguments"]) for c in expected["tool_calls"]]
    for cut in range(len(raw) + 1):
        chunks, parser = feed(raw, [cut])
        calls = assembled(chunks)
        assert [(c.id, c.name, c.raw_arguments) for c in calls] == want, cut
        assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]
        assert parser.turn_state() == expected["state"]
    chunks, _ = feed(raw, list(range(1, len(raw))))  # one byte at a time
    assert [(c.id, c.name, c.raw_arguments) for c in assembled(chunks)] == want


def test_a_call_opens_with_id_and_name_then_argument_pieces() -> None:
    chunks, _ = feed((FIXTURES / "claude_tool_round1.sse").read_bytes(), [])
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert deltas[0] == {
        "index": 0,
        "id": "toolu_01A09q90qw90lq917835lq9",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert all(set(d) == {"index", "function"} and set(d["function"]) == {"arguments"} for d in deltas[1:])
    assert json.loads("".join(d["function"]["arguments"] for d in deltas)) == {"city": "Paris", "unit": "fahrenheit"}


def test_parallel_calls_are_numbered_in_order_not_by_block_index() -> None:
    chunks, _ = feed((FIXTURES / "claude_tool_parallel.sse").read_bytes(), [])
    firsts = [d for c in chunks for d in c.tool_calls or [] if "id" in d]
    assert [(d["index"], d["function"]["name"]) for d in firsts] == [(0, "get_weather"), (1, "get_weather")]
    assert [c.arguments for c in assembled(chunks)] == [{"city": "Tokyo"}, {"city": "Lima"}]


def parse(parser: AnthropicParser, obj: dict[str, Any]) -> WireChunk | None:
    return parser.parse(ServerSentEvent(json.dumps(obj), event=obj["type"]))


def test_a_whole_input_in_content_block_start_is_sent_at_its_stop() -> None:
    parser = AnthropicParser()
    block = {"type": "tool_use", "id": "toolu_1", "name": "now", "input": {"tz": "UTC"}}
    first = parse(parser, {"type": "content_block_start", "index": 0, "content_block": block})
    assert first is not None and first.tool_calls == [
        {"index": 0, "id": "toolu_1", "function": {"name": "now", "arguments": ""}}
    ]
    last = parse(parser, {"type": "content_block_stop", "index": 0})
    assert last is not None and last.tool_calls == [{"index": 0, "function": {"arguments": '{"tz": "UTC"}'}}]


def test_server_tool_blocks_and_nameless_tool_use_are_not_calls() -> None:
    parser = AnthropicParser()
    for index, block in enumerate(
        [
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "tool_use", "id": "toolu_2", "input": {}},
        ]
    ):
        assert parse(parser, {"type": "content_block_start", "index": index, "content_block": block}) is None
        delta = {"type": "input_json_delta", "partial_json": '{"q": 1}'}
        assert parse(parser, {"type": "content_block_delta", "index": index, "delta": delta}) is None
        assert parse(parser, {"type": "content_block_stop", "index": index}) is None


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("stop_sequence", "stop_sequence"),
        ("pause_turn", "pause_turn"),
        ("refusal", "refusal"),
    ],
)
def test_stop_reasons_are_normalized(stop: str, finish: str) -> None:
    chunk = parse(AnthropicParser(), {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {}})
    assert chunk is not None and chunk.finish_reason == finish


# --- the tool loop's history -----------------------------------------------------------------


def test_the_second_request_carries_signed_thinking_tool_use_and_tool_result() -> None:
    result, calls = round_result("claude_tool_round1.sse")
    assert result.finish_reason == "tool_calls"
    history = [USER, *tool_messages(result, finished(calls, {"temperature": 64, "unit": "F"}))]
    sent_state = copy.deepcopy(history[1][STATE_KEY])
    got = body(history, thinking=ThinkingOptions(enable=True), tools=(WEATHER,))
    assert got["messages"] == [
        {"role": "user", "content": USER["content"]},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "thinking",
                    "thinking": EXPECTED["claude_tool_round1.sse"]["reasoning"],
                    "signature": "EuQCCkYIBxgCKkCtoolsRound1SignatureThinkbookFixture0000aaaabbbbccccddddeeee==",
                },
                {"type": "text", "text": "Let me look that up."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "input": {"city": "Paris", "unit": "fahrenheit"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                    "content": '{"temperature": 64, "unit": "F"}',
                }
            ],
        },
    ]
    assert history[1][STATE_KEY] == sent_state  # the history itself is not changed
    assert STATE_KEY not in json.dumps(got)


def test_parallel_results_go_back_in_one_user_message_in_call_order() -> None:
    result, calls = round_result("claude_tool_parallel.sse")
    calls[1].error = "TimeoutError: the weather service did not answer"
    calls[1].seconds = 0.5
    calls[0].result, calls[0].seconds = "18 °C", 0.1
    history = [USER, *tool_messages(result, calls)]
    got = body(history, thinking=ThinkingOptions(enable=True))["messages"]
    assert [b["type"] for b in got[1]["content"]] == ["thinking", "tool_use", "tool_use"]
    assert got[1]["content"][0]["signature"] == result.reasoning_state["content"][0]["signature"]  # type: ignore[index]
    assert got[2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01Tokyo7q90qw90lq91783", "content": "18 °C"},
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01Lima07q90qw90lq9178",
                "content": "error: TimeoutError: the weather service did not answer",
            },
        ],
    }


def test_a_tool_turn_keeps_its_thinking_even_with_preserve_thinking_off() -> None:
    # Anthropic needs the thinking blocks of the turn that called the tools (its signatures).
    result, calls = round_result("claude_tool_round1.sse")
    history = [USER, *tool_messages(result, finished(calls, "64"))]
    got = body(history, thinking=ThinkingOptions(enable=True, preserve=False))["messages"]
    assert [b["type"] for b in got[1]["content"]] == ["thinking", "text", "tool_use"]


def test_a_full_loop_then_a_new_user_turn() -> None:
    result, calls = round_result("claude_tool_round1.sse")
    answer, _ = round_result("claude_tool_round2.sse")
    assert answer.finish_reason == "stop" and answer.reasoning_state is None
    history = [USER, *tool_messages(result, finished(calls, "64"))]
    history += [PROTOCOL.assistant_message(answer), {"role": "user", "content": "And in Celsius?"}]
    got = body(history)["messages"]
    assert [m["role"] for m in got] == ["user", "assistant", "user", "assistant", "user"]
    assert got[3] == {"role": "assistant", "content": answer.answer}


def test_a_tool_turn_without_state_sends_text_and_tool_use() -> None:
    # Another protocol's turn (or a server that does not think): no thinking block to send.
    history = [
        USER,
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "now", "arguments": ""}}],
            STATE_KEY: {"protocol": "gemini", "parts": []},
        },
        {"role": "tool", "tool_call_id": "c1", "content": "12:00"},
    ]
    got = body(history)["messages"]
    assert got[1] == {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "now", "input": {}}]}
    assert got[2] == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "12:00"}]}


@pytest.mark.parametrize(
    ("message", "match"),
    [
        ({"role": "tool", "content": "x"}, "tool_call_id"),
        ({"role": "assistant", "content": None, "function_call": {"name": "f"}}, "old 'function_call'"),
    ],
)
def test_bad_tool_history_is_a_configuration_error(message: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        body([USER, message])


@pytest.mark.parametrize("arguments", ['{"city": "Par', "[1, 2]", "null"])
def test_broken_arguments_from_the_model_do_not_stop_the_loop(arguments: str) -> None:
    # The loop answered such a call with an error result; the next request must still be sendable.
    call = {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
    history = [
        USER,
        {"role": "assistant", "content": None, "reasoning_content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c", "content": "error: the arguments of get_weather are not valid JSON"},
    ]
    got = body(history)["messages"]
    assert got[1]["content"] == [{"type": "tool_use", "id": "c", "name": "get_weather", "input": {}}]
