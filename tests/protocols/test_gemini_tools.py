"""Tools on the Gemini protocol: declarations, toolConfig, the tool loop's contents, the stream.

Fixtures: tests/fixtures/gemini/gemini3_tool_*.sse and function_call_signature.sse (built by
make_fixtures.py from the thought-signature docs and python-genai's types). The history is what
thinkbook's tool loop writes (:func:`thinkbook.tools.loop.tool_messages`): the second request
must carry the functionCall parts with their thoughtSignature unchanged, then a user turn of
functionResponse parts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tool_streams as streams
from tool_streams import assembled, finished

from thinkbook._errors import ConfigurationError
from thinkbook._protocols.base import STATE_KEY, BodyInput, ThinkingOptions
from thinkbook._protocols.gemini import PROTOCOL, GeminiChunkParser
from thinkbook._sse import ServerSentEvent
from thinkbook._types import ThinkResult, ToolCall
from thinkbook._wire import WireChunk
from thinkbook.tools.loop import tool_messages

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gemini"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
TOOL_STREAMS = sorted(n for n, e in EXPECTED.items() if e.get("tool_calls"))
USER = {"role": "user", "content": "What's the weather in Paris?"}
PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
    "required": ["city"],
    "additionalProperties": False,
}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather now.", "parameters": PARAMS}}


def body(messages: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    thinking = fields.pop("thinking", ThinkingOptions())
    return PROTOCOL.build_body(
        BodyInput(model="gemini-3-flash-preview", messages=messages or [USER], thinking=thinking, **fields)
    )


def feed(raw: bytes, cuts: list[int]) -> tuple[list[WireChunk], GeminiChunkParser]:
    chunks, parser = streams.feed(GeminiChunkParser, raw, cuts)
    assert isinstance(parser, GeminiChunkParser)
    return chunks, parser


def round_result(name: str) -> tuple[ThinkResult, list[ToolCall], list[dict[str, Any]]]:
    """The round, its assembled calls, and the calls' own states (from their first deltas: the
    pipeline puts each delta's STATE_KEY on its call)."""
    raw = (FIXTURES / name).read_bytes()
    result, calls = streams.round_result(GeminiChunkParser, raw)
    chunks, _ = feed(raw, [])
    states = {d["index"]: d.get(STATE_KEY) for c in chunks for d in c.tool_calls or []}
    for index, call in enumerate(calls):
        call.state = states.get(index)
    return result, calls, [states.get(i) for i in range(len(calls))]  # type: ignore[misc]


def parse(parser: GeminiChunkParser, payload: dict[str, Any]) -> WireChunk | None:
    return parser.parse(ServerSentEvent(json.dumps(payload)))


# --- request fields --------------------------------------------------------------------------


def test_tools_become_function_declarations_with_a_json_schema() -> None:
    got = body(tools=(WEATHER, {"type": "function", "function": {"name": "now"}}))
    assert got["tools"] == [
        {
            "functionDeclarations": [
                {"name": "get_weather", "description": "Weather now.", "parametersJsonSchema": PARAMS},
                {"name": "now", "parametersJsonSchema": {"type": "object", "properties": {}}},
            ]
        }
    ]
    assert "toolConfig" not in got


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice_is_the_function_calling_mode(choice: Any, config: dict[str, Any]) -> None:
    got = body(tools=(WEATHER,), tool_choice=choice, thinking=ThinkingOptions(effort="low"))
    assert got["toolConfig"] == {"functionCallingConfig": config}
    assert got["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "low"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"tool_choice": "required"}, "no tools were given"),
        ({"tools": (WEATHER,), "tool_choice": {"type": "function", "function": {"name": "x"}}}, "not one of the tools"),
        ({"tools": (WEATHER,), "tool_choice": "ANY"}, "unknown tool_choice"),
    ],
)
def test_bad_tool_fields_are_configuration_errors(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        body(**fields)


def test_web_search_is_refused_with_the_protocol_to_use() -> None:
    with pytest.raises(ConfigurationError) as info:
        body(search={"enable_search": True})
    assert "Google Gemini API" in str(info.value) and "protocol='dashscope'" in str(info.value)


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TOOL_STREAMS)
def test_function_calls_at_every_byte_boundary(name: str) -> None:
    raw, expected = (FIXTURES / name).read_bytes(), EXPECTED[name]
    want = [(c["name"], c["args"]) for c in expected["tool_calls"]]
    signatures = [c["thought_signature"] for c in expected["tool_calls"]]
    for cut in range(len(raw) + 1):
        chunks, parser = feed(raw, [cut])
        calls = assembled(chunks)
        assert [(c.name, c.arguments) for c in calls] == want, cut
        assert [c.id for c in calls] == [c["id"] or f"call_{n}" for n, c in enumerate(expected["tool_calls"])]
        deltas = [d for c in chunks for d in c.tool_calls or []]
        assert [(d.get(STATE_KEY) or {}).get("thought_signature") for d in deltas] == signatures
        assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]
        assert parser.turn_state() == expected["state"]


def test_a_call_is_one_whole_delta_with_its_signature_as_its_state() -> None:
    chunks, _ = feed((FIXTURES / "function_call_signature.sse").read_bytes(), [])
    (delta,) = [d for c in chunks for d in c.tool_calls or []]
    assert delta == {
        "index": 0,
        "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'},
        STATE_KEY: {
            "protocol": "gemini",
            "thought_signature": EXPECTED["function_call_signature.sse"]["tool_calls"][0]["thought_signature"],
        },
    }


def test_parallel_calls_carry_their_ids_and_only_the_first_its_signature() -> None:
    chunks, _ = feed((FIXTURES / "gemini3_tool_parallel.sse").read_bytes(), [])
    deltas = [d for c in chunks for d in c.tool_calls or []]
    assert [(d["index"], d.get("id")) for d in deltas] == [(0, "fc-tokyo-7Qx2"), (1, "fc-lima-9Rb4")]
    assert set(deltas[0][STATE_KEY]) == {"protocol", "id", "thought_signature"}
    assert deltas[1][STATE_KEY] == {"protocol": "gemini", "id": "fc-lima-9Rb4"}


def test_the_answer_round_finishes_with_stop() -> None:
    chunks, _ = feed((FIXTURES / "gemini3_tool_round2.sse").read_bytes(), [])
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert not any(c.tool_calls for c in chunks)


@pytest.mark.parametrize(
    ("finish", "ours"), [("MAX_TOKENS", "length"), ("MALFORMED_FUNCTION_CALL", "malformed_function_call")]
)
def test_other_finish_reasons_after_a_call_stay_as_they_are(finish: str, ours: str) -> None:
    parser = GeminiChunkParser()
    part = {"functionCall": {"name": "f", "args": {}}}
    chunk = parse(parser, {"candidates": [{"content": {"parts": [part]}, "finishReason": finish}]})
    assert chunk is not None and chunk.finish_reason == ours and chunk.tool_calls


def test_a_nameless_function_call_is_not_a_call() -> None:
    chunk = parse(GeminiChunkParser(), {"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]})
    assert chunk is None or not chunk.tool_calls


# --- the tool loop's contents ----------------------------------------------------------------


def test_the_second_request_sends_the_signed_call_then_its_response() -> None:
    result, calls, _ = round_result("gemini3_tool_round1.sse")
    assert result.finish_reason == "tool_calls"
    history = [USER, *tool_messages(result, finished(calls, {"celsius": 18}))]
    got = body(history, tools=(WEATHER,))
    expected_state = EXPECTED["gemini3_tool_round1.sse"]["state"]["parts"]
    assert got["contents"] == [
        {"role": "user", "parts": [{"text": USER["content"]}]},
        {"role": "model", "parts": expected_state},  # as received: thoughts, then the signed call
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": '{"celsius": 18}'}}}],
        },
    ]
    assert (
        expected_state[-1]["thoughtSignature"]
        == EXPECTED["gemini3_tool_round1.sse"]["tool_calls"][0]["thought_signature"]
    )
    assert STATE_KEY not in json.dumps(got)


def test_parallel_responses_in_one_user_turn_with_the_call_ids() -> None:
    result, calls, _ = round_result("gemini3_tool_parallel.sse")
    history = [USER, *tool_messages(result, finished(calls, "21 °C", "16 °C"))]
    got = body(history)["contents"]
    assert got[1]["parts"] == EXPECTED["gemini3_tool_parallel.sse"]["state"]["parts"]
    assert got[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"id": "fc-tokyo-7Qx2", "name": "get_weather", "response": {"output": "21 °C"}}},
            {"functionResponse": {"id": "fc-lima-9Rb4", "name": "get_weather", "response": {"output": "16 °C"}}},
        ],
    }


def test_without_the_turn_state_the_calls_are_rebuilt_with_their_own_signatures() -> None:
    # A history whose turn state was dropped (or a round whose parts were not kept): each call's
    # own state still holds what Gemini needs.
    result, calls, states = round_result("gemini3_tool_parallel.sse")
    history = [USER, *tool_messages(result, finished(calls, "21 °C", "16 °C"))]
    del history[1][STATE_KEY]
    parts = body(history)["contents"][1]["parts"]
    assert parts == [
        {
            "functionCall": {"id": "fc-tokyo-7Qx2", "name": "get_weather", "args": {"city": "Tokyo"}},
            "thoughtSignature": states[0]["thought_signature"],
        },
        {"functionCall": {"id": "fc-lima-9Rb4", "name": "get_weather", "args": {"city": "Lima"}}},
    ]


def test_a_loop_without_signatures_and_its_follow_up() -> None:
    # Gemini 2.5 without thinking: no signature, no id, no state.
    history = [
        USER,
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "",
            "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "now", "arguments": ""}}],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": "12:00"},
        {"role": "assistant", "content": "It is noon."},
        {"role": "user", "content": "Thanks!"},
    ]
    got = body(history)["contents"]
    assert got[1:] == [
        {"role": "model", "parts": [{"functionCall": {"name": "now", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "now", "response": {"output": "12:00"}}}]},
        {"role": "model", "parts": [{"text": "It is noon."}]},
        {"role": "user", "parts": [{"text": "Thanks!"}]},
    ]


def test_the_tool_turn_goes_back_whole_even_with_preserve_thinking_off() -> None:
    result, calls, _ = round_result("gemini3_tool_round1.sse")
    history = [USER, *tool_messages(result, finished(calls, "18"))]
    parts = body(history, thinking=ThinkingOptions(preserve=False))["contents"][1]["parts"]
    assert parts == EXPECTED["gemini3_tool_round1.sse"]["state"]["parts"]
    assert parts[0]["thought"] is True


def test_a_result_for_an_unknown_call_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="answers no earlier tool call"):
        body([USER, {"role": "tool", "tool_call_id": "nope", "content": "x"}])


def test_broken_arguments_from_the_model_go_as_an_empty_object() -> None:
    call = {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": '}}
    history = [
        USER,
        {"role": "assistant", "content": None, "reasoning_content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_0", "content": "error: the arguments are not valid JSON"},
    ]
    assert body(history)["contents"][1] == {
        "role": "model",
        "parts": [{"functionCall": {"name": "get_weather", "args": {}}}],
    }
