"""The panels over every protocol, offline: one loopback server per protocol serving recorded bytes.

A ComparePanel with one column per protocol (OpenAI-compatible, DashScope native, Responses,
Anthropic, Gemini), each column its own endpoint and key; and a ChatPanel whose second turn
carries the provider's opaque reasoning state back unchanged (signatures, encrypted reasoning).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import ComparePanel
from thinkbook.testing import LoopbackServer, RecordingComm, ScriptedResponse, from_fixture, recording_comms

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# protocol, model, fixture (folder/name), the path after base_url, the request path, the key header
COLUMNS = [
    ("openai", "qwen-plus", "bailian_openai_whoami.sse", "/compatible-mode/v1", "/compatible-mode/v1/chat/completions",
     "authorization"),
    ("dashscope", "qwen-plus", "bailian_native_whoami.sse", "/api/v1",
     "/api/v1/services/aigc/text-generation/generation", "authorization"),
    ("responses", "gpt-5", "responses/openai_summary.sse", "/v1", "/v1/responses", "authorization"),
    ("anthropic", "claude-sonnet-4-6", "anthropic/claude_adaptive_thinking.sse", "", "/v1/messages", "x-api-key"),
    ("gemini", "gemini-2.5-flash", "gemini/flash25_thinking.sse", "/v1beta",
     "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "x-goog-api-key"),
]  # fmt: skip


def expected(fixture: str) -> dict[str, Any]:
    folder, _, name = fixture.rpartition("/")
    table = json.loads((FIXTURES / folder / "expected.json").read_text(encoding="utf-8"))
    found: dict[str, Any] = table[name]
    return found


def stream(fixture: str) -> ScriptedResponse:
    return ScriptedResponse(body=from_fixture(FIXTURES / fixture), headers={"Content-Type": "text/event-stream"})


def key_of(protocol: str) -> str:
    return f"sk-test-{protocol.upper()}-0123456789abcdef"


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


def test_a_compare_panel_across_all_five_protocols(engine: Any, comms: Any) -> None:
    with ExitStack() as stack:
        servers = [stack.enter_context(LoopbackServer([stream(fixture)])) for _, _, fixture, *_ in COLUMNS]
        configs = [
            {"model": model, "protocol": protocol, "base_url": server.url + base, "api_key": key_of(protocol),
             "label": protocol}
            for (protocol, model, _, base, *_), server in zip(COLUMNS, servers, strict=True)
        ]  # fmt: skip
        panel = ComparePanel("9.11 和 9.9 哪个大？", configs, lang="en")
        panel.wait(15)
    views, rows, results = panel.views, panel.summary(), panel.results
    for (protocol, _, fixture, _, path, header), server, view, row, result in zip(
        COLUMNS, servers, views, rows, results, strict=True
    ):
        want = expected(fixture)
        (request,) = server.requests
        assert request.path == path, protocol
        assert key_of(protocol) in request.headers[header], protocol
        assert view.status == "done" and row["status"] == "done", (protocol, view.error)
        assert view.reasoning == want["reasoning"], protocol
        assert view.answer_markdown == want["answer"], protocol
        assert result is not None and result.finish_reason == want["finish_reason"]
        usage = want["usage"]
        assert row["reasoning_tokens"] == usage["reasoning_tokens"], protocol
        answer_tokens = (
            None if usage["reasoning_tokens"] is None else usage["completion_tokens"] - usage["reasoning_tokens"]
        )
        assert row["answer_tokens"] == answer_tokens, protocol
        assert row["answer_chars"] == len(want["answer"])
        shown = view.counters.get("usage") or {}
        assert shown.get("total_tokens") == usage["total_tokens"], protocol  # the column's own counters
    synced = json.dumps([c.messages for c in comms], ensure_ascii=False, default=str)
    assert not any(key_of(protocol) in synced for protocol, *_ in COLUMNS)
    markdown = panel.to_markdown()
    assert all(f"| {protocol}" in markdown for protocol, *_ in COLUMNS)


# protocol, model, folder, turn 1, turn 2, base path
TURNS = [
    ("responses", "gpt-5", "responses", "openai_summary.sse", "openai_turn2.sse", "/v1"),
    ("anthropic", "claude-opus-4-7", "anthropic", "claude_turn1.sse", "claude_turn2.sse", ""),
    ("gemini", "gemini-3-flash-preview", "gemini", "gemini3_signature_turn1.sse", "gemini3_signature_turn2.sse",
     "/v1beta"),
]  # fmt: skip
OPAQUE_KEYS = {"signature", "thoughtSignature", "encrypted_content"}


def opaque_values(state: Any) -> list[str]:
    if isinstance(state, dict):
        return [v for k, v in state.items() if k in OPAQUE_KEYS and isinstance(v, str) and v] + [
            found for k, v in state.items() if k not in OPAQUE_KEYS for found in opaque_values(v)
        ]
    if isinstance(state, list):
        return [found for item in state for found in opaque_values(item)]
    return []


@pytest.mark.parametrize(("protocol", "model", "folder", "turn1", "turn2", "base"), TURNS)
def test_a_chat_panel_over_a_new_protocol_sends_its_state_back(
    engine: Any, comms: Any, protocol: str, model: str, folder: str, turn1: str, turn2: str, base: str
) -> None:
    key = key_of(protocol)
    with LoopbackServer([stream(f"{folder}/{turn1}"), stream(f"{folder}/{turn2}")]) as server:
        panel = ChatPanel(model, base_url=server.url + base, api_key=key, protocol=protocol, lang="en")
        panel.send("first question")
        first = panel.wait(10)
        panel.send("second question")
        second = panel.wait(10)
    assert first is not None and second is not None
    assert first.answer == expected(f"{folder}/{turn1}")["answer"]
    assert second.answer == expected(f"{folder}/{turn2}")["answer"]
    assert panel.conversation.turns == 2 and panel.totals["turns"] == 2
    sent = server.requests[1].body.decode("utf-8")
    opaque = opaque_values(first.reasoning_state)
    assert opaque and all(json.dumps(value)[1:-1] in sent for value in opaque)
    synced = json.dumps([c.messages for c in comms], ensure_ascii=False, default=str)
    assert key not in synced and key not in panel.to_json() and key not in panel.to_markdown()
