"""think(tools=...) over the newer protocols, end to end: each protocol's recorded tool round and
answer round served by a loopback server, the Python tool run in between, and the second request
carrying what that API needs back (Anthropic signed thinking + tool_use, Gemini thoughtSignature on
the functionCall, Responses reasoning items + function_call) and the tool's result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import thinkbook
from thinkbook.testing import LoopbackServer, ScriptedResponse, from_fixture

FIXTURES = Path(__file__).parent.parent / "fixtures"
KEY = "tbk-tools-e2e-0123456789"

CASES = [
    ("anthropic", "claude-opus-4-7", "anthropic", "claude_tool_round1.sse", "claude_tool_round2.sse"),
    ("gemini", "gemini-3-pro-preview", "gemini", "gemini3_tool_round1.sse", "gemini3_tool_round2.sse"),
    ("responses", "gpt-5", "responses", "openai_tool_round1.sse", "openai_tool_round2.sse"),
]

seen: list[dict[str, Any]] = []


def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """The weather now.

    Args:
        city: the city's name
        unit: celsius or fahrenheit
    """
    seen.append({"city": city, "unit": unit})
    return {"city": city, "temp": 18 if unit == "celsius" else 64, "sky": "sunny"}


def _stream(folder: str, name: str) -> ScriptedResponse:
    return ScriptedResponse(body=from_fixture(FIXTURES / folder / name), headers={"Content-Type": "text/event-stream"})


def _expected(folder: str, name: str) -> dict[str, Any]:
    expected: dict[str, Any] = json.loads((FIXTURES / folder / "expected.json").read_text(encoding="utf-8"))[name]
    return expected


@pytest.mark.parametrize(("protocol", "model", "folder", "round1", "round2"), CASES)
def test_a_tool_loop_runs_the_call_and_sends_back_what_the_api_needs(
    engine: object, protocol: str, model: str, folder: str, round1: str, round2: str
) -> None:
    seen.clear()
    with LoopbackServer([_stream(folder, round1), _stream(folder, round2)]) as server:
        result = thinkbook.think(
            "Weather in Paris?", model=model, base_url=server.url, api_key=KEY, protocol=protocol,
            tools=[get_weather], display=False, max_retries=0,
        )  # fmt: skip
    first_round = _expected(folder, round1)
    (call,) = result.tool_calls
    assert call.name == "get_weather" and call.arguments["city"] == "Paris" and call.error is None
    assert seen == [{"city": "Paris", "unit": call.arguments.get("unit", "celsius")}]
    assert result.answer == _expected(folder, round2)["answer"]
    assert [len(r.tool_calls) for r in result.rounds] == [1, 0]
    assert result.finish_reason == "stop"

    first, second = (request.json() for request in server.requests)
    sent = json.dumps(second, ensure_ascii=False)
    assert "get_weather" in json.dumps(first)  # the tool was declared in the protocol's spelling
    assert '"sunny"' in sent or '\\"sunny\\"' in sent  # the tool's result went back
    assert "thinkbook_state" not in sent
    if protocol == "anthropic":
        assistant = second["messages"][1]
        kinds = [block["type"] for block in assistant["content"]]
        assert kinds[0] == "thinking" and "tool_use" in kinds  # signed thinking first, in the same turn
        assert assistant["content"][0]["signature"]
        assert second["messages"][2]["content"][0]["type"] == "tool_result"
    elif protocol == "gemini":
        signature = first_round["tool_calls"][0]["thought_signature"]
        model_turn = second["contents"][1]
        assert model_turn["role"] == "model"
        assert any(part.get("thoughtSignature") == signature and "functionCall" in part for part in model_turn["parts"])
        assert "functionResponse" in json.dumps(second["contents"][2])
    else:
        kinds = [item.get("type") for item in second["input"]]
        assert kinds.index("reasoning") < kinds.index("function_call") < kinds.index("function_call_output")
