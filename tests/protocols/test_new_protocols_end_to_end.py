"""The three new protocols end to end: think() and a two-turn Conversation through a loopback
server, each with its own path, key header, and opaque reasoning state carried back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import thinkbook
from thinkbook.testing import LoopbackServer, ScriptedResponse, from_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEY = "sk-test-SECRET0123456789abcdef"

# protocol, model, fixture folder, turn 1, turn 2, request path, the header carrying the key
CASES = [
    ("responses", "gpt-5", "responses", "openai_summary.sse", "openai_turn2.sse", "/responses", "authorization"),
    ("anthropic", "claude-opus-4-7", "anthropic", "claude_turn1.sse", "claude_turn2.sse", "/v1/messages", "x-api-key"),
    (
        "gemini",
        "gemini-3-flash-preview",
        "gemini",
        "gemini3_signature_turn1.sse",
        "gemini3_signature_turn2.sse",
        "/models/gemini-3-flash-preview:streamGenerateContent?alt=sse",
        "x-goog-api-key",
    ),
]
OPAQUE_KEYS = {"signature", "thoughtSignature", "encrypted_content", "data"}


def _expected(folder: str, name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / folder / "expected.json").read_text(encoding="utf-8"))[name]


def _opaque_values(state: Any) -> list[str]:
    """Every signature / encrypted blob in a turn state (what the provider needs back verbatim)."""
    found: list[str] = []
    if isinstance(state, dict):
        for key, value in state.items():
            if key in OPAQUE_KEYS and isinstance(value, str) and value:
                found.append(value)
            else:
                found.extend(_opaque_values(value))
    elif isinstance(state, list):
        for item in state:
            found.extend(_opaque_values(item))
    return found


def _stream(folder: str, name: str) -> ScriptedResponse:
    return ScriptedResponse(body=from_fixture(FIXTURES / folder / name), headers={"Content-Type": "text/event-stream"})


@pytest.mark.parametrize(("protocol", "model", "folder", "turn1", "turn2", "path", "key_header"), CASES)
def test_two_turns_send_the_opaque_state_back_unchanged(
    engine: object, protocol: str, model: str, folder: str, turn1: str, turn2: str, path: str, key_header: str
) -> None:
    with LoopbackServer([_stream(folder, turn1), _stream(folder, turn2)]) as server:
        chat = thinkbook.Conversation(model, base_url=server.url, api_key=KEY, protocol=protocol)
        first = chat.send("first question")
        second = chat.send("second question")
    want1, want2 = _expected(folder, turn1), _expected(folder, turn2)
    assert (first.reasoning, first.answer) == (want1["reasoning"], want1["answer"])
    assert second.answer == want2["answer"]
    request1, request2 = server.requests
    assert request1.path == path and request2.path == path
    assert KEY in request1.headers[key_header]
    assert all(KEY not in value for name, value in request1.headers.items() if name != key_header)
    opaque = _opaque_values(first.reasoning_state)
    assert opaque, "turn 1 carries opaque reasoning state"
    sent = request2.body.decode("utf-8")
    for value in opaque:
        assert json.dumps(value)[1:-1] in sent  # byte-identical inside the second request
    assert "thinkbook_state" not in sent and "reasoning_content" not in sent
    assert first.to_dict()["reasoning_hidden"] is False


@pytest.mark.parametrize(
    ("protocol", "model", "folder", "name", "error"),
    [
        ("anthropic", "claude-opus-4-7", "anthropic", "claude_error_529.json", thinkbook.InternalServerError),
        ("gemini", "gemini-2.5-pro", "gemini", "error_429.json", thinkbook.RateLimitError),
        ("responses", "gpt-5", "responses", "openai_error_401.json", thinkbook.AuthenticationError),
    ],
)
def test_error_bodies_before_the_stream_are_typed(
    engine: object, protocol: str, model: str, folder: str, name: str, error: type[Exception]
) -> None:
    status = int(_expected(folder, name).get("http_status") or 500)
    body = (FIXTURES / folder / name).read_bytes()
    with LoopbackServer([ScriptedResponse(status=status, body=body)] * 3) as server, pytest.raises(error) as caught:
        thinkbook.think("q", model=model, base_url=server.url, api_key=KEY, protocol=protocol, max_retries=0)
    assert KEY not in str(caught.value)


def test_hidden_reasoning_is_reported(engine: object) -> None:
    with LoopbackServer([_stream("gemini", "gemini3_hidden_thoughts.sse")]) as server:
        result = thinkbook.think("q", model="gemini-3-pro-preview", base_url=server.url, api_key=KEY, protocol="gemini")
    assert result.reasoning == "" and result.reasoning_hidden
    assert result.usage is not None and (result.usage.reasoning_tokens or 0) > 0
