"""``%%think --protocol anthropic|responses|gemini`` end to end: loopback servers serving recorded bytes.

Each protocol's own path and key header, its thinking options spelled its way (``--effort``), a
``--chat`` whose second cell carries the opaque reasoning state back, ``%think panel`` and
``%%think --compare`` over the protocol.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from thinkbook.testing import LoopbackServer, ScriptedResponse, from_fixture

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAKE_KEY = "sk-test-SECRET0123456789abcdef"
KEY_ENV = "THINKBOOK_TEST_KEY"

# protocol, model, folder, turn 1, turn 2, base path, request path, key header
CASES = [
    ("responses", "gpt-5", "responses", "openai_summary.sse", "openai_turn2.sse", "/v1", "/v1/responses",
     "authorization"),
    ("anthropic", "claude-opus-4-7", "anthropic", "claude_turn1.sse", "claude_turn2.sse", "", "/v1/messages",
     "x-api-key"),
    ("gemini", "gemini-3-flash-preview", "gemini", "gemini3_signature_turn1.sse", "gemini3_signature_turn2.sse",
     "/v1beta", "/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse", "x-goog-api-key"),
]  # fmt: skip
IDS = [case[0] for case in CASES]


def expected(folder: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((FIXTURES / folder / "expected.json").read_text(encoding="utf-8"))[name]
    return found


def stream(folder: str, name: str) -> ScriptedResponse:
    body = from_fixture(FIXTURES / folder / name)
    return ScriptedResponse(body=body, headers={"Content-Type": "text/event-stream"})


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "thinkbook")
    yield ip
    magics = ip.magics_manager.registry["ThinkMagics"]
    magics.chats.clear()
    for name in ("_think", "_think_error", "_think_handle", "_think_panel"):
        ip.user_ns.pop(name, None)


def line(protocol: str, model: str, server: LoopbackServer, base: str) -> str:
    return f"-m {model} --protocol {protocol} --base-url {server.url}{base} --api-key-env {KEY_ENV}"


@pytest.mark.parametrize(("protocol", "model", "folder", "turn1", "turn2", "base", "path", "header"), CASES, ids=IDS)
def test_think_cell_over_the_protocol(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], protocol: str, model: str, folder: str,
    turn1: str, turn2: str, base: str, path: str, header: str,
) -> None:  # fmt: skip
    with LoopbackServer([stream(folder, turn1)]) as server:
        shell.run_cell_magic("think", line(protocol, model, server, base) + " --effort high", "which is larger?")
    result = shell.user_ns["_think"]
    want = expected(folder, turn1)
    assert (result.reasoning, result.answer) == (want["reasoning"], want["answer"])
    (request,) = server.requests
    assert request.path == path and FAKE_KEY in request.headers[header]
    body = request.json()
    assert "high" in json.dumps(body)  # the level, in the protocol's own spelling
    assert "enable_thinking" not in body and "reasoning_content" not in json.dumps(body)
    out, err = capsys.readouterr()
    assert want["answer"][:20] in out and FAKE_KEY not in out + err  # (no notebook: the answer is printed)


@pytest.mark.parametrize(("protocol", "model", "folder", "turn1", "turn2", "base", "path", "header"), CASES, ids=IDS)
def test_chat_across_cells_sends_the_opaque_state_back(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], protocol: str, model: str, folder: str,
    turn1: str, turn2: str, base: str, path: str, header: str,
) -> None:  # fmt: skip
    with LoopbackServer([stream(folder, turn1), stream(folder, turn2)]) as server:
        options = line(protocol, model, server, base) + " --chat c"
        shell.run_cell_magic("think", options, "first question")
        first = shell.user_ns["_think"]
        shell.run_cell_magic("think", options, "second question")
    assert shell.user_ns["_think"].answer == expected(folder, turn2)["answer"]
    opaque = [
        v for key in ("signature", "thoughtSignature", "encrypted_content") for v in _values(first.reasoning_state, key)
    ]
    assert opaque, "turn 1 carries opaque reasoning state"
    sent = server.requests[1].body.decode("utf-8")
    assert all(json.dumps(value)[1:-1] in sent for value in opaque), protocol  # byte-identical
    assert "first question" in sent and "thinkbook_state" not in sent
    capsys.readouterr()


def _values(state: Any, key: str) -> list[str]:
    if isinstance(state, dict):
        own = [state[key]] if isinstance(state.get(key), str) and state[key] else []
        return own + [v for value in state.values() for v in _values(value, key)]
    if isinstance(state, list):
        return [v for item in state for v in _values(item, key)]
    return []


@pytest.mark.parametrize(("protocol", "model", "folder", "turn1", "turn2", "base", "path", "header"), CASES, ids=IDS)
def test_think_panel_over_the_protocol(
    shell: InteractiveShell, protocol: str, model: str, folder: str, turn1: str, turn2: str, base: str, path: str,
    header: str,
) -> None:  # fmt: skip
    with LoopbackServer([stream(folder, turn1)]) as server:
        shell.run_line_magic("think", "panel " + line(protocol, model, server, base))
        panel = shell.user_ns["_think_panel"]
        panel.send("first question")
        result = panel.wait(10)
    assert result is not None and result.answer == expected(folder, turn1)["answer"]
    assert server.requests[0].path == path and panel.conversation.protocol == protocol
    assert FAKE_KEY not in json.dumps(panel.controls.get_state(), default=str)


def test_compare_cell_over_a_protocol(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    responses = [stream("anthropic", "claude_adaptive_thinking.sse"), stream("anthropic", "claude_turn1.sse")]
    with LoopbackServer(responses) as server:
        shell.run_cell_magic(
            "think",
            f"--compare claude-sonnet-4-6,claude-opus-4-7:effort=low --protocol anthropic --base-url {server.url} "
            f"--api-key-env {KEY_ENV}",
            "which is larger?",
        )
    panel = shell.user_ns["_think_panel"]
    assert [row["status"] for row in panel.summary()] == ["done", "done"]
    assert all(r.path == "/v1/messages" for r in server.requests)
    answers = {r.answer for r in panel.results if r}
    assert answers == {
        expected("anthropic", "claude_adaptive_thinking.sse")["answer"],
        expected("anthropic", "claude_turn1.sse")["answer"],
    }
    bodies = {r.json()["model"]: r.json() for r in server.requests}
    assert "low" in json.dumps(bodies["claude-opus-4-7"]) and "low" not in json.dumps(bodies["claude-sonnet-4-6"])
    assert "claude-opus-4-7 · effort low" in capsys.readouterr().out


def test_a_recorded_anthropic_answer_is_listed_with_its_thinking(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--record`` over Anthropic, then ``thinkbook.recordings()`` reads the recording's ``thinking`` field."""
    from thinkbook._recordings_index import recordings

    target = tmp_path / "claude.jsonl"
    with LoopbackServer([stream("anthropic", "claude_turn1.sse")]) as server:
        options = line("anthropic", "claude-opus-4-7", server, "") + f" --effort low --record {target}"
        shell.run_cell_magic("think", options, "你好")
    header = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    assert header["protocol"] == "anthropic" and header["request"]["thinking"]["type"] == "adaptive"
    assert FAKE_KEY not in target.read_text(encoding="utf-8")
    (entry,) = [e for e in recordings(tmp_path) if e.file == "claude.jsonl"]
    assert (entry.thinking, entry.prompt, entry.model) == ("on, effort low", "你好", "claude-opus-4-7")
    capsys.readouterr()
