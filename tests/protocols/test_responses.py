"""The OpenAI Responses protocol module: parser, body building, errors and turn state (no network)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from thinkbook._errors import error_for_status
from thinkbook._protocols.responses import PROTOCOL, ResponsesParser
from thinkbook._sse import ServerSentEvent, SSEDecoder
from thinkbook._wire import WireChunk

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "responses"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
STREAMS = sorted(n for n in EXPECTED if n.endswith(".sse"))
BODIES = sorted(n for n in EXPECTED if n.endswith(".json"))


def decode(body: bytes, cuts: list[int]) -> tuple[list[ServerSentEvent], bool]:
    """Events of ``body`` fed split at ``cuts``; and whether an unterminated event was left."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    start = 0
    for cut in [*cuts, len(body)]:
        events.extend(decoder.decode(body[start:cut]))
        start = cut
    return events, decoder.flush() is not None


def run(events: list[ServerSentEvent]) -> tuple[list[WireChunk], ResponsesParser]:
    parser = PROTOCOL.new_parser()
    chunks = [c for c in map(parser.parse, events) if c is not None]
    return chunks, parser


def summary(body: bytes, cuts: list[int]) -> dict[str, Any]:
    events, pending = decode(body, cuts)
    chunks, parser = run(events)
    usage = [c.usage for c in chunks if c.usage is not None]
    errors = [c for c in chunks if c.error is not None]
    finish = [c.finish_reason for c in chunks if c.finish_reason]
    return {
        "events": len(events),
        "pending": pending,
        "reasoning": "".join(c.reasoning for c in chunks),
        "answer": "".join(c.content for c in chunks),
        "usage": None if not usage else {k: v for k, v in usage[-1].to_dict().items() if k != "raw"},
        "finish_reason": finish[-1] if finish else None,
        "model": next((c.model for c in chunks if c.model), None),
        "request_id": next((c.request_id for c in chunks if c.request_id), None),
        "hidden": any(c.reasoning_hidden for c in chunks),
        "error": errors[0] if errors else None,
        "state": parser.turn_state(),
    }


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- fixtures ------------------------------------------------------------------------------


def test_fixtures_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("responses_make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python tests/fixtures/responses/make_fixtures.py"


def test_every_fixture_file_has_an_expectation() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in (".sse", ".json")} - {"expected.json"}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", STREAMS)
def test_fixture_parses_to_the_expected_result(name: str) -> None:
    expected = EXPECTED[name]
    got = summary(body_of(name), [])
    assert got["events"] == expected["events"]
    assert (got["reasoning"], got["answer"]) == (expected["reasoning"], expected["answer"])
    assert got["usage"] == expected["usage"]
    assert got["finish_reason"] == expected["finish_reason"]
    assert (got["model"], got["request_id"]) == (expected["model"], expected["request_id"])
    assert got["hidden"] == expected["reasoning_hidden"]
    # No [DONE]: a response that ended says so with a finish reason or an error.
    assert (got["finish_reason"] is None and got["error"] is None) == expected["interrupted"]
    assert got["pending"] == expected["interrupted"]
    state = got["state"]
    if expected["state_items"] is None:
        assert state is None
    else:
        assert state is not None and state["protocol"] == "responses"
        assert [item["id"] for item in state["items"]] == expected["state_items"]
        json.dumps(state)  # JSON-ready: it is saved in notebooks
    if expected["error"] is None:
        assert got["error"] is None
    else:
        err = got["error"]
        assert (err.error["code"], err.error["message"]) == (expected["error"]["code"], expected["error"]["message"])
        assert err.error_status == expected["error"]["status"]
        assert type(error_for_status(err.error_status, err.error)).__name__ == expected["error"]["class"]


def _cut_points(body: bytes) -> list[int]:
    """Every boundary of a small fixture; of a large one every 13th plus every boundary inside
    or next to a multi-byte character (where a split is most likely to go wrong)."""
    if len(body) <= 6000:
        return list(range(1, len(body)))
    points = set(range(1, len(body), 13))
    for i, byte in enumerate(body):
        if byte >= 0x80:
            points.update(range(max(1, i - 1), min(len(body), i + 2)))
    return sorted(points)


@pytest.mark.parametrize("name", STREAMS)
def test_fixture_decodes_the_same_at_every_byte_boundary(name: str) -> None:
    body = body_of(name)
    whole = summary(body, [])
    whole.pop("error")
    for cut in _cut_points(body):
        got = summary(body, [cut])
        got.pop("error")
        assert got == whole, f"split at byte {cut}"


@pytest.mark.parametrize("size", [1, 97, 100000])
@pytest.mark.parametrize("name", STREAMS)
def test_fixture_decodes_the_same_in_fragments(name: str, size: int) -> None:
    body = body_of(name)
    whole = summary(body, [])
    got = summary(body, list(range(size, len(body), size)))
    assert {k: v for k, v in got.items() if k != "error"} == {k: v for k, v in whole.items() if k != "error"}


def test_multibyte_characters_split_inside_still_decode() -> None:
    body = body_of("openai_summary.sse")
    tick = "✅".encode()
    at = body.index(tick)
    got = summary(body, [at + 1, at + 2])
    assert "✅" in got["answer"] and "\ufffd" not in got["answer"]
    cjk = body_of("bailian_thinking.sse")
    at = cjk.index("哪".encode())
    assert summary(cjk, [at + 1])["reasoning"] == EXPECTED["bailian_thinking.sse"]["reasoning"]


def test_event_lines_are_optional() -> None:
    """The data's ``type`` is enough: a server that sends no ``event:`` lines parses the same."""
    body = body_of("openai_summary.sse")
    stripped = b"".join(line for line in body.splitlines(keepends=True) if not line.startswith(b"event:"))
    assert summary(stripped, []) == summary(body, [])


@pytest.mark.parametrize("name", BODIES)
def test_error_body_fixture(name: str) -> None:
    expected = EXPECTED[name]
    body = json.loads(body_of(name))
    code, message, _ = PROTOCOL.error_fields(body)
    assert (code, message) == (expected["error"]["code"], expected["error"]["message"])
    err = error_for_status(expected["http_status"], body)
    assert type(err).__name__ == expected["error"]["class"]
