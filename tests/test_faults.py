"""Fault injection over real sockets: every cut, every framing, every ending; odd statuses; redirects.

A raw-socket server (tests/fault_server.py) cuts a small valid stream at every byte offset, for
both protocols, chunked and close-delimited framing, ended by FIN or RST. The expected outcome
of each cut comes from an independent model of the stream (which events were whole when it
stopped), not from the pipeline: a model that had finished returns its result (usage None if the
usage never came), anything else is StreamInterruptedError whose .partial has every character of
every whole event.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from fault_server import FaultServer, Reply, Request, event_parts

import thinkbook
from thinkbook import (
    APIConnectionError,
    InternalServerError,
    RateLimitError,
    ResponseFormatError,
    StreamInterruptedError,
    ThinkbookError,
    ThinkResult,
)
from thinkbook._engine import Engine

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
Protocol = Literal["openai", "dashscope"]


@dataclass(frozen=True)
class Event:
    """One event of a valid stream and what it contributes once whole."""

    raw: bytes
    data_end: int  # offset in the body just past the event's data (its JSON's last byte)
    reasoning: str = ""
    answer: str = ""
    finished: bool = False
    total_tokens: int | None = None


def _openai_stream() -> list[Event]:
    payloads: list[tuple[Any, dict[str, Any]]] = [
        ({"id": "c1", "model": "m", "choices": [{"delta": {"reasoning_content": "思考"}}]}, {"reasoning": "思考"}),
        ({"choices": [{"delta": {"content": "Hi"}}]}, {"answer": "Hi"}),
        ({"choices": [{"delta": {"content": " ✓"}}]}, {"answer": " ✓"}),
        ({"choices": [{"delta": {}, "finish_reason": "stop"}]}, {"finished": True}),
        (
            {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}},
            {"total_tokens": 4},
        ),
        ("[DONE]", {"finished": True}),
    ]
    return _build(b"data: ", payloads)


def _dashscope_stream() -> list[Event]:
    def event(reasoning: str, content: str, finish: str, total: int) -> dict[str, Any]:
        # The shape Bailian sends, minus fields the parser does not read (fewer offsets to cut).
        message = {"content": content, "reasoning_content": reasoning}
        return {
            "output": {"choices": [{"message": message, "finish_reason": finish}]},
            "usage": {"total_tokens": total},
        }

    payloads: list[tuple[Any, dict[str, Any]]] = [
        (event("思考", "", "null", 2), {"reasoning": "思考", "total_tokens": 2}),
        (event("", "Hi", "null", 3), {"answer": "Hi", "total_tokens": 3}),
        (event("", " ✓", "stop", 4), {"answer": " ✓", "finished": True, "total_tokens": 4}),
    ]
    return _build(b"id:{n}\nevent:result\n:HTTP_STATUS/200\ndata:", payloads)


def _build(prefix: bytes, payloads: list[tuple[Any, dict[str, Any]]]) -> list[Event]:
    events, offset = [], 0
    for n, (payload, contribution) in enumerate(payloads, 1):
        data = (payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)).encode()
        head = prefix.replace(b"{n}", str(n).encode())
        raw = head + data + b"\n\n"
        events.append(Event(raw, offset + len(head) + len(data), **contribution))
        offset += len(raw)
    return events


STREAMS: dict[Protocol, list[Event]] = {"openai": _openai_stream(), "dashscope": _dashscope_stream()}
BODIES = {protocol: b"".join(e.raw for e in events) for protocol, events in STREAMS.items()}


def expected_outcome(protocol: Protocol, cut: int) -> tuple[bool, str, str, int | None]:
    """(finished, reasoning, answer, total_tokens) after ``cut`` body bytes: whole events count."""
    whole = [e for e in STREAMS[protocol] if cut >= e.data_end]
    usage = [e.total_tokens for e in whole if e.total_tokens is not None]
    return (
        any(e.finished for e in whole),
        "".join(e.reasoning for e in whole),
        "".join(e.answer for e in whole),
        usage[-1] if usage else None,
    )


# --- one server for the whole module, routed by path ------------------------------------------

ROUTES: dict[str, list[Reply]] = {}


def _handler(request: Request) -> Reply:
    name = request.path.split("/")[1]
    replies = ROUTES[name]
    return replies.pop(0) if len(replies) > 1 else replies[0]


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    with FaultServer(_handler) as server:
        yield server


def base_url(server: FaultServer, name: str, protocol: Protocol = "openai") -> str:
    return f"{server.url}/{name}" + ("/api/v1" if protocol == "dashscope" else "/v1")


async def ask_async(server: FaultServer, name: str, protocol: Protocol = "openai", **options: Any) -> ThinkResult:
    return await thinkbook.athink(
        "q",
        model="m",
        base_url=base_url(server, name, protocol),
        protocol=protocol,
        api_key=FAKE_KEY,
        display=False,
        **options,
    )


def ask(server: FaultServer, name: str, *replies: Reply, protocol: Protocol = "openai", **options: Any) -> ThinkResult:
    ROUTES[name] = list(replies)
    return thinkbook.think(
        "q",
        model="m",
        base_url=base_url(server, name, protocol),
        protocol=protocol,
        api_key=FAKE_KEY,
        display=False,
        **options,
    )


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("thinkbook._engine.backoff_delay", lambda attempt, retry_after=None: 0.0)


# --- every byte offset ------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["openai", "dashscope"])
def test_a_cut_at_every_byte_offset_loses_nothing_and_framings_agree(
    engine: Engine, faults: FaultServer, protocol: Protocol
) -> None:
    body = BODIES[protocol]
    cases = [
        (framing, ending, cut)
        for framing in ("chunked", "close")
        for ending in ("fin", "rst")
        for cut in [*range(len(body) + 1), None]
    ]
    for framing, ending, cut in cases:
        ROUTES[f"{protocol}-{framing}-{ending}-{cut}"] = [
            Reply(parts=event_parts(body), framing=framing, ending=ending, cut=cut)
        ]

    async def run_all() -> list[ThinkResult | BaseException]:
        limit = asyncio.Semaphore(24)

        async def one(framing: str, ending: str, cut: int | None) -> ThinkResult:
            async with limit:
                return await ask_async(faults, f"{protocol}-{framing}-{ending}-{cut}", protocol, max_retries=0)

        return await asyncio.gather(*(one(*case) for case in cases), return_exceptions=True)

    outcomes = asyncio.run(run_all())
    for (framing, ending, cut), outcome in zip(cases, outcomes, strict=True):
        where = f"{protocol} {framing} {ending} cut={cut}: {outcome!r}"
        finished, reasoning, answer, total = expected_outcome(protocol, len(body) if cut is None else cut)
        if finished:
            assert isinstance(outcome, ThinkResult), where
            assert (outcome.reasoning, outcome.answer, outcome.finish_reason) == (reasoning, answer, "stop"), where
            assert (outcome.usage.total_tokens if outcome.usage else None) == total, where
            continue
        assert isinstance(outcome, StreamInterruptedError), where
        if reasoning or answer:
            assert outcome.partial is not None, where
            assert (outcome.partial.reasoning, outcome.partial.answer) == (reasoning, answer), where
        else:
            assert outcome.partial is None or not (outcome.partial.reasoning or outcome.partial.answer), where
        assert FAKE_KEY not in str(outcome)


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_a_drop_right_after_the_headers_is_retried(engine: Engine, faults: FaultServer, framing: str) -> None:
    body = BODIES["openai"]
    cut = Reply(parts=event_parts(body), framing=framing, cut=0)
    whole = Reply(parts=event_parts(body), framing=framing)
    result = ask(faults, f"drop-{framing}", cut, cut, whole, max_retries=2)
    assert (result.reasoning, result.answer) == ("思考", "Hi ✓")
    with pytest.raises(StreamInterruptedError, match="nothing arrived"):
        ask(faults, f"drop-always-{framing}", cut, max_retries=1)


def test_a_drop_after_text_is_not_resent(engine: Engine, faults: FaultServer) -> None:
    body = BODIES["openai"]
    before = len(faults.requests)
    with pytest.raises(StreamInterruptedError) as info:
        ask(faults, "after-text", Reply(parts=event_parts(body), cut=STREAMS["openai"][1].data_end + 2), max_retries=2)
    assert info.value.partial is not None and info.value.partial.answer == "Hi"
    assert len(faults.requests) == before + 1


# --- garbage after text: typed, with .partial ----------------------------------------------------------

TEXT_EVENT = b'data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n'


@pytest.mark.parametrize(
    "tail",
    [
        b"data: <html>oops</html>\n\n",
        b"data: [1, 2]\n\n",
        b"data: 42\n\n",
        b'data: {"choices":[],"usage":{"total_tokens":' + b"7" * 5000 + b"}}\n\n",
    ],
    ids=["not-json", "array", "number", "5000-digit-usage"],
)
def test_bad_data_after_text_is_a_format_error_with_partial(engine: Engine, faults: FaultServer, tail: bytes) -> None:
    with pytest.raises(ResponseFormatError) as info:
        ask(faults, "bad-data", Reply(parts=(TEXT_EVENT, tail)))
    assert info.value.partial is not None and info.value.partial.answer == "Hello"
    assert "base_url" not in str(info.value)  # the server is evidently the right one


def test_a_gzip_body_corrupted_mid_stream_is_a_format_error_with_partial(engine: Engine, faults: FaultServer) -> None:
    compressor = zlib.compressobj(wbits=31)  # gzip framing
    good = compressor.compress(TEXT_EVENT) + compressor.flush(zlib.Z_SYNC_FLUSH)
    reply = Reply(
        parts=(good, b"\x00garbage, not deflate" * 4),
        headers=(("Content-Type", "text/event-stream"), ("Content-Encoding", "gzip")),
        framing="chunked",
        gap=0.05,
    )
    with pytest.raises(ResponseFormatError, match="compressed") as info:
        ask(faults, "gzip", reply)
    assert info.value.partial is not None and info.value.partial.answer == "Hello"


def test_a_finished_answer_returns_even_if_the_gzip_tail_is_corrupt(engine: Engine, faults: FaultServer) -> None:
    events = b"".join(e.raw for e in STREAMS["openai"][:4])  # finish_reason, no usage, no [DONE]
    reply = Reply(
        parts=(gzip.compress(events), b"\x00junk"),
        headers=(("Content-Type", "text/event-stream"), ("Content-Encoding", "gzip")),
        framing="chunked",
        gap=0.05,
    )
    result = ask(faults, "gzip-finished", reply)
    assert (result.answer, result.usage) == ("Hi ✓", None)


# --- responses that are not an event stream (point 3) -----------------------------------------------


def _json(obj: Any, status: int = 200, reason: str = "OK", **options: Any) -> Reply:
    headers = (("Content-Type", "application/json"),)
    return Reply(parts=(json.dumps(obj).encode(),), status=status, reason=reason, headers=headers, **options)


def test_a_json_completion_from_a_server_that_ignored_stream_true(engine: Engine, faults: FaultServer) -> None:
    completion = {
        "id": "cmpl-1",
        "model": "served-model",
        "choices": [
            {"message": {"role": "assistant", "content": "<think>hmm</think>\n\nIt is 9.9."}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 7, "total_tokens": 10},
    }
    result = ask(faults, "json-openai", _json(completion, framing="length"))
    assert (result.reasoning, result.answer, result.finish_reason) == ("hmm", "It is 9.9.", "stop")
    assert (result.request_id, result.usage and result.usage.total_tokens) == ("cmpl-1", 10)
    with_field = {"choices": [{"message": {"reasoning_content": "r", "content": "a"}, "finish_reason": "stop"}]}
    result = ask(faults, "json-openai-field", _json(with_field, framing="close"))
    assert (result.reasoning, result.answer) == ("r", "a")


def test_a_native_json_answer_from_a_server_that_did_not_stream(engine: Engine, faults: FaultServer) -> None:
    answer = {
        "output": {"choices": [{"message": {"reasoning_content": "想", "content": "好"}, "finish_reason": "stop"}]},
        "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        "request_id": "r-9",
    }
    result = ask(faults, "json-native", _json(answer), protocol="dashscope")
    assert (result.reasoning, result.answer, result.request_id) == ("想", "好", "r-9")


def test_a_json_body_that_is_not_a_completion_says_so(engine: Engine, faults: FaultServer) -> None:
    with pytest.raises(ResponseFormatError, match="neither an event stream nor a chat completion"):
        ask(faults, "json-other", _json({"object": "list", "data": []}))


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/plain"])
def test_a_web_page_says_it_is_a_web_page(engine: Engine, faults: FaultServer, content_type: str) -> None:
    page = b"<!doctype html><html><head><title>Wi-Fi Login</title></head><body>Sign in</body></html>"
    reply = Reply(parts=(page,), headers=(("Content-Type", content_type),))
    with pytest.raises(ResponseFormatError, match="web page titled 'Wi-Fi Login', not an API"):
        ask(faults, "html", reply)


def test_an_empty_200_says_the_body_was_empty(engine: Engine, faults: FaultServer) -> None:
    before = len(faults.requests)
    with pytest.raises(StreamInterruptedError, match="HTTP 200 answered but the body was empty"):
        ask(faults, "empty", Reply(framing="length"), max_retries=1)
    assert len(faults.requests) == before + 2  # retried: nothing had arrived


def test_a_204_says_no_content(engine: Engine, faults: FaultServer) -> None:
    with pytest.raises(ResponseFormatError, match=r"HTTP 204 .*sent no answer") as info:
        ask(faults, "no-content", Reply(status=204, reason=f"No Content for {FAKE_KEY}", framing="length"))
    assert FAKE_KEY not in str(info.value)


def test_a_302_without_location_says_what_happened(engine: Engine, faults: FaultServer) -> None:
    with pytest.raises(ResponseFormatError, match="HTTP 302, a redirect, but without a Location header"):
        ask(faults, "no-location", Reply(status=302, reason="Found", framing="length"))


def test_plain_text_that_is_not_an_event_stream(engine: Engine, faults: FaultServer) -> None:
    reply = Reply(parts=(b"Service is up.",), headers=(("Content-Type", "text/plain"),), framing="length")
    with pytest.raises(ResponseFormatError, match=re.escape("not an event stream; it starts with 'Service is up.'")):
        ask(faults, "plain", reply)


@pytest.mark.parametrize(
    ("status", "cls", "body"),
    [
        (429, RateLimitError, b'data: {"error":{"message":"slow down","code":"rate_limited"}}\n\n'),
        (503, InternalServerError, b"data: upstream unavailable\n\n"),
        (500, InternalServerError, b""),
    ],
)
def test_429_and_5xx_sent_as_event_streams_are_status_errors_and_retried(
    engine: Engine, faults: FaultServer, status: int, cls: type[ThinkbookError], body: bytes
) -> None:
    failing = Reply(parts=(body,) if body else (), status=status, reason="Err")
    good = Reply(parts=event_parts(BODIES["openai"]))
    assert ask(faults, f"sse-{status}", failing, good).answer == "Hi ✓"
    with pytest.raises(cls) as info:
        ask(faults, f"sse-{status}-always", failing, max_retries=1)
    assert getattr(info.value, "status_code", None) == status


# --- redirects (point 5) ------------------------------------------------------------------------------


def _redirect(location: str, status: int = 307) -> Reply:
    return Reply(status=status, reason="Redirect", headers=(("Location", location),), framing="length")


def test_a_redirect_into_the_offline_replay_is_refused(engine: Engine, faults: FaultServer) -> None:
    before = len(faults.requests)
    target = "http://thinkbook-replay.invalid/v1/chat/completions?recording=/etc/passwd"
    with pytest.raises(APIConnectionError, match="offline replay address; refused"):
        ask(faults, "to-replay", _redirect(target))
    assert len(faults.requests) == before + 1  # not retried either


def test_a_redirect_to_the_same_server_is_followed(engine: Engine, faults: FaultServer) -> None:
    ROUTES["moved-target"] = [Reply(parts=event_parts(BODIES["openai"]))]
    result = ask(faults, "moved", _redirect(f"{faults.url}/moved-target/v1/chat/completions", 308))
    assert result.answer == "Hi ✓"
    assert faults.requests[-1].method == "POST" and json.loads(faults.requests[-1].body)["stream"] is True


def test_a_redirect_loop_is_capped(engine: Engine, faults: FaultServer) -> None:
    with pytest.raises(APIConnectionError, match="redirected more than 5 times"):
        ask(faults, "loop", _redirect(f"{faults.url}/loop/v1/chat/completions"))
