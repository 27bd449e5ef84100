"""Tests for the incremental SSE decoder in :mod:`thinkbook._sse`."""

from __future__ import annotations

import json
import random
import re

import pytest

from thinkbook._sse import ServerSentEvent, SSEDecoder

E = ServerSentEvent


def feed(chunks: list[bytes], *, flush: bool = True) -> list[ServerSentEvent]:
    """The events ``chunks`` dispatch to one fresh decoder; ``flush`` ends the stream, which
    (WHATWG) dispatches nothing more: an unterminated event is discarded."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.decode(chunk))
    if flush:
        decoder.flush()
    return events


def feed_and_flush(chunks: list[bytes]) -> list[ServerSentEvent]:
    """The dispatched events plus the unterminated one that ``flush`` returns, if any."""
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.decode(chunk)]
    tail = decoder.flush()
    return [*events, tail] if tail is not None else events


def fragments(raw: bytes, size: int) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def reference(raw: bytes) -> list[ServerSentEvent]:
    """A deliberately naive, independent model of the same rules: whole stream at once.

    WHATWG parsing on decoded text; the last item may be the unterminated event that
    :meth:`SSEDecoder.flush` hands back (an unterminated last line counts as a line).
    """
    text = raw.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    events: list[ServerSentEvent] = []
    data: list[str] = []
    etype, last_id, retry = "", None, None
    for line in [*lines, ""]:
        if line == "":
            if data:
                events.append(E("\n".join(data), etype or "message", last_id, retry))
            data, etype = [], ""
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            etype = value
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


# --- streams used by several tests --------------------------------------------------------

LF_STREAM = (
    b": keep-alive\n"
    b"data: first\n"
    b"\n"
    b"event: thinking\n"
    b"id: 7\n"
    b"retry: 1500\n"
    b"data:  two spaces\n"
    b"data:no space\n"
    b"\n"
    b"data\n"
    b"\n"
    b"data: \xe6\x80\x9d\xe8\x80\x83 \xf0\x9f\xa4\x94\n"
    b"\n"
)
LF_EXPECTED = [
    E("first"),
    E(" two spaces\nno space", "thinking", "7", 1500),
    E("", "message", "7", 1500),
    E("思考 🤔", "message", "7", 1500),
]
CR_STREAM = LF_STREAM.replace(b"\n", b"\r")
CRLF_STREAM = LF_STREAM.replace(b"\n", b"\r\n")
MIXED_STREAM = (
    b"data: a\r\n"
    b"data: b\r"
    b"\n"  # completes "data: b\r" as one CRLF: must not end the event early
    b"data: c\n"
    b"\r\n"
    b"event: e\r"
    b"data: d\r"
    b"\r"
    b"data: e\n"
    b"\r"
)
MIXED_EXPECTED = [E("a\nb\nc"), E("d", "e"), E("e")]

STREAMS = [
    pytest.param(LF_STREAM, LF_EXPECTED, id="lf"),
    pytest.param(CR_STREAM, LF_EXPECTED, id="cr"),
    pytest.param(CRLF_STREAM, LF_EXPECTED, id="crlf"),
    pytest.param(MIXED_STREAM, MIXED_EXPECTED, id="mixed"),
]


# --- chunk boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), STREAMS)
def test_single_chunk_decodes_expected_events(raw: bytes, expected: list[E]) -> None:
    decoder = SSEDecoder()
    assert decoder.decode(raw) == expected
    assert decoder.flush() is None  # every event was closed by its blank line


@pytest.mark.parametrize(("raw", "expected"), STREAMS)
def test_every_two_chunk_split_matches_single_chunk(raw: bytes, expected: list[E]) -> None:
    whole = feed([raw], flush=False)
    assert whole == expected
    for cut in range(len(raw) + 1):
        got = feed([raw[:cut], raw[cut:]], flush=False)
        assert got == whole, f"split at byte {cut}: {raw[:cut]!r} | {raw[cut:]!r}"


def test_every_three_chunk_split_of_mixed_stream() -> None:
    raw = MIXED_STREAM
    for i in range(len(raw) + 1):
        for j in range(i, len(raw) + 1):
            got = feed([raw[:i], raw[i:j], raw[j:]], flush=False)
            assert got == MIXED_EXPECTED, f"split at {i}, {j}"


def _big_stream() -> tuple[bytes, list[E]]:
    endings = [b"\n", b"\r", b"\r\n"]
    parts: list[bytes] = []
    expected: list[E] = []
    for i in range(300):
        nl = endings[i % 3]
        content = f"思考 {i} 🤔 " + "x" * (i % 50)
        payload = json.dumps({"i": i, "c": content}, ensure_ascii=False)
        if i % 7 == 0:
            parts.append(b": ping" + nl)
        parts.append(b"data: " + payload.encode() + nl + nl)
        expected.append(E(payload))
    return b"".join(parts), expected


@pytest.mark.parametrize("size", [1, 97, 100000])
def test_fragment_sizes(size: int) -> None:
    raw, expected = _big_stream()
    assert feed(fragments(raw, size)) == expected


def test_events_are_returned_as_soon_as_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: x\n") == []
    assert decoder.decode(b"\n") == [E("x")]
    # a CR is a complete line ending at once: no waiting to see whether LF follows
    assert decoder.decode(b"data: y\r\r") == [E("y")]


def test_cr_at_chunk_end_then_lf_is_one_line_ending() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\r") == []
    # Were the LF taken as a second line ending, the blank line would dispatch "a" alone.
    assert decoder.decode(b"\ndata: b\r") == []
    assert decoder.decode(b"\n") == []
    assert decoder.decode(b"\r") == [E("a\nb")]  # the blank line, ended by a lone CR...
    assert decoder.decode(b"\ndata: c\n\n") == [E("c")]  # ...whose LF is swallowed


def test_cr_then_empty_chunk_then_lf_is_still_one_line_ending() -> None:
    assert feed([b"data: a\r", b"", b"\n", b"data: b\n\n"]) == [E("a\nb")]


def test_cr_at_chunk_end_then_cr_is_a_blank_line() -> None:
    assert feed([b"data: a\r", b"\rdata: b\n\n"], flush=False) == [E("a"), E("b")]


def test_only_cr_lf_and_crlf_end_lines() -> None:
    # str.splitlines would break on all of these: VT, FF, FS, GS, RS, NEL, LS, PS.
    odd = "a\x0bb\x0cc\x1cd\x1de\x1ef\x85g\u2028h\u2029i"
    assert feed([b"data: " + odd.encode() + b"\n\n"]) == [E(odd)]


# --- UTF-8 --------------------------------------------------------------------------------


def test_multibyte_characters_split_at_every_byte() -> None:
    raw = "event: 思考\nid: 🤔\ndata: 思考🤔嗯\n\n".encode()
    expected = [E("思考🤔嗯", "思考", "🤔")]
    assert feed([raw], flush=False) == expected
    for cut in range(len(raw) + 1):
        assert feed([raw[:cut], raw[cut:]], flush=False) == expected, cut
    assert feed(fragments(raw, 1), flush=False) == expected


def test_invalid_utf8_is_replaced_not_raised() -> None:
    raw = b"data: ok \xe6\x80\ndata: \xff end\n\n"  # a truncated character, then a stray byte
    assert feed([raw]) == [E("ok \ufffd\n\ufffd end")]
    assert feed(fragments(raw, 1)) == [E("ok \ufffd\n\ufffd end")]


# --- BOM ----------------------------------------------------------------------------------


def test_leading_bom_is_stripped() -> None:
    raw = b"\xef\xbb\xbfdata: x\n\n"
    assert feed([raw]) == [E("x")]
    for cut in range(len(raw) + 1):
        assert feed([raw[:cut], raw[cut:]]) == [E("x")], cut
    assert feed(fragments(raw, 1)) == [E("x")]


def test_only_one_bom_is_stripped() -> None:
    # The second BOM becomes part of the field name "\ufeffdata", an unknown field.
    assert feed([b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n"]) == [E("y")]


def test_bom_later_in_stream_is_data() -> None:
    assert feed([b"data: a\n\n", b"\xef\xbb\xbfdata: b\n\ndata: c\n\n"]) == [E("a"), E("c")]
    assert feed([b"data: \xef\xbb\xbfx\n\n"]) == [E("\ufeffx")]


def test_bom_prefix_that_is_not_a_bom_is_kept() -> None:
    assert feed([b"\xef", b"\xbb", b"data: x\n\n"]) == []  # garbled field name, ignored
    assert feed([b"\xef", b"\xbb"]) == []


# --- fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "comment",
    [b":HTTP_STATUS/200", b": keep-alive", b": OPENROUTER PROCESSING", b":", b":data: x"],
)
def test_comments_are_ignored(comment: bytes) -> None:
    assert feed([b"data: a\n" + comment + b"\ndata: b\n\n"]) == [E("a\nb")]
    assert feed([comment + b"\n\n"]) == []


@pytest.mark.parametrize(
    ("line", "value"),
    [
        (b"data:x", "x"),
        (b"data: x", "x"),
        (b"data:  x", " x"),
        (b"data: x ", "x "),
        (b"data:", ""),
        (b"data: ", ""),
        (b"data", ""),
        (b"data:a:b: c", "a:b: c"),
        (b"data:\tx", "\tx"),
    ],
)
def test_data_value_parsing(line: bytes, value: str) -> None:
    assert feed([line + b"\n\n"]) == [E(value)]


def test_multiline_data_joins_with_newline() -> None:
    assert feed([b"data: a\ndata:\ndata: c\n\n"]) == [E("a\n\nc")]
    assert feed([b"data\ndata\n\n"]) == [E("\n")]


def test_empty_data_buffer_is_not_dispatched() -> None:
    assert feed([b"\n\n\n\r\n\r"]) == []
    assert feed([b"event: x\nid: 1\nretry: 5\n: hi\nfoo: bar\n\n"]) == []


def test_event_type_resets_after_each_blank_line() -> None:
    raw = b"event: a\ndata: 1\n\ndata: 2\n\nevent: lost\n\ndata: 3\n\nevent:\ndata: 4\n\n"
    assert feed([raw]) == [E("1", "a"), E("2"), E("3"), E("4")]


def test_last_event_type_line_wins() -> None:
    assert feed([b"event: a\nevent: b\ndata: x\n\n"]) == [E("x", "b")]


def test_id_persists_and_follows_whatwg() -> None:
    raw = (
        b"id: 1\ndata: a\n\n"
        b"data: b\n\n"  # no id line: still the last id
        b"id: 2\n\n"  # set even though nothing is dispatched
        b"data: c\n\n"
        b"id: bad\x00id\ndata: d\n\n"  # contains NUL: ignored
        b"id\ndata: e\n\n"  # empty id resets to the empty string
    )
    assert [(e.data, e.id) for e in feed([raw])] == [
        ("a", "1"),
        ("b", "1"),
        ("c", "2"),
        ("d", "2"),
        ("e", ""),
    ]


def test_id_defaults_to_none() -> None:
    assert feed([b"data: a\n\n"])[0].id is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"3000", 3000),
        (b"0", 0),
        (b"007", 7),
        (b"", None),
        (b"12a", None),
        (b"-1", None),
        (b"1.5", None),
        (b" 1", None),  # "retry:  1": one space dropped, the other is not a digit
        ("１２".encode(), None),  # fullwidth digits are not ASCII digits
    ],
)
def test_retry_needs_ascii_digits(value: bytes, expected: int | None) -> None:
    assert feed([b"retry: " + value + b"\ndata: x\n\n"]) == [E("x", retry=expected)]


def test_invalid_retry_keeps_previous_value() -> None:
    raw = b"retry: 10\n\nretry: nope\ndata: x\n\n"
    assert feed([raw]) == [E("x", retry=10)]


def test_unknown_and_miscased_fields_are_ignored() -> None:
    raw = b"foo: bar\nData: no\nEVENT: no\nId: no\ndata : no\ndata: yes\nbaz\n\n"
    assert feed([raw]) == [E("yes")]


def test_done_is_not_special() -> None:
    raw = b"data: [DONE]\n\ndata: after\n\n"
    assert feed([raw]) == [E("[DONE]"), E("after")]


# --- end of stream ------------------------------------------------------------------------


def test_without_flush_an_unclosed_event_is_pending() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\n\ndata: b\n") == [E("a")]


def test_flush_returns_event_missing_final_blank_line_undispatched() -> None:
    for tail in (b"\n", b"\r", b"\r\n"):
        decoder = SSEDecoder()
        assert decoder.decode(b"event: result\ndata: last" + tail) == []
        assert decoder.flush() == E("last", "result")


def test_unterminated_final_event_is_discarded_as_whatwg_says() -> None:
    # What a cut connection leaves: the decoder never dispatches it, however it is fed.
    raw = b'data: {"a":1}\n\ndata: {"b'
    assert feed([raw]) == [E('{"a":1}')]
    assert feed(fragments(raw, 1)) == [E('{"a":1}')]


def test_flush_treats_unterminated_last_line_as_a_line() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\ndata: b") == []
    assert decoder.flush() == E("a\nb")


def test_flush_with_nothing_pending() -> None:
    assert SSEDecoder().flush() is None
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\n\n: trailing comment") == [E("a")]
    assert decoder.flush() is None
    assert decoder.flush() is None


def test_flush_ignores_pending_event_without_data() -> None:
    decoder = SSEDecoder()
    decoder.decode(b"event: x\nid: 9")
    assert decoder.flush() is None


def test_decoder_reusable_after_flush_keeps_last_id() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"id: 5\ndata: a") == []
    assert decoder.flush() == E("a", id="5")
    # A new stream (a reconnection) may start with its own BOM; the last id carries over.
    assert decoder.decode(b"\xef\xbb\xbfdata: b\n\n") == [E("b", id="5")]


def test_cr_pending_at_flush_does_not_leak_into_next_stream() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\r") == []
    assert decoder.flush() == E("a")
    assert decoder.decode(b"\ndata: b\n\n") == [E("b")]


# --- provider transcripts -----------------------------------------------------------------

DASHSCOPE = (
    "id:1\n"
    "event:result\n"
    ":HTTP_STATUS/200\n"
    'data:{"output":{"choices":[{"message":{"content":"","reasoning_content":"嗯",'
    '"role":"assistant"},"finish_reason":"null"}]},"usage":{"total_tokens":14,'
    '"input_tokens":11,"output_tokens":3},"request_id":"25d58c29-c47b-9e8d-a0f1-d6c309ec58b1"}\n'
    "\n"
    "id:2\n"
    "event:result\n"
    ":HTTP_STATUS/200\n"
    'data:{"output":{"choices":[{"message":{"content":"你好","reasoning_content":"",'
    '"role":"assistant"},"finish_reason":"stop"}]},"usage":{"total_tokens":16,'
    '"input_tokens":11,"output_tokens":5},"request_id":"25d58c29-c47b-9e8d-a0f1-d6c309ec58b1"}\n'
    "\n"
).encode()


def _check_dashscope(events: list[E]) -> None:
    assert [(e.event, e.id, e.retry) for e in events] == [
        ("result", "1", None),
        ("result", "2", None),
    ]
    first, second = (json.loads(e.data) for e in events)
    assert first["output"]["choices"][0]["message"]["reasoning_content"] == "嗯"
    assert first["usage"] == {"total_tokens": 14, "input_tokens": 11, "output_tokens": 3}
    assert second["output"]["choices"][0]["message"]["content"] == "你好"
    assert second["output"]["choices"][0]["finish_reason"] == "stop"


def test_dashscope_native_transcript() -> None:
    _check_dashscope(feed([DASHSCOPE], flush=False))
    for size in (1, 7, 4096):
        _check_dashscope(feed(fragments(DASHSCOPE, size), flush=False))


def test_dashscope_stream_closed_without_final_blank_line() -> None:
    for cut in (1, 2):  # both blank-line ends gone, or just the last one
        decoder = SSEDecoder()
        events = decoder.decode(DASHSCOPE[:-cut])
        assert len(events) == 1
        last = decoder.flush()
        assert last is not None  # returned for the caller to judge, not dispatched
        _check_dashscope([*events, last])


# --- the event objects --------------------------------------------------------------------


def test_decoded_events_are_immutable_server_sent_events() -> None:
    (ev,) = feed([b"event: e\nid: 1\nretry: 2\ndata: d\n\n"])
    assert type(ev) is ServerSentEvent
    assert ev == E("d", "e", "1", 2)
    assert hash(ev) == hash(E("d", "e", "1", 2))
    assert repr(ev) == "ServerSentEvent(data='d', event='e', id='1', retry=2)"
    with pytest.raises(AttributeError):
        ev.data = "x"  # type: ignore[misc]
    assert ev._replace(data="z") == E("z", "e", "1", 2)
    assert ev._asdict() == {"data": "d", "event": "e", "id": "1", "retry": 2}


def test_defaults() -> None:
    ev = E("x")
    assert (ev.data, ev.event, ev.id, ev.retry) == ("x", "message", None, None)


# --- against an independent model ---------------------------------------------------------

_PIECES = [
    b"data: ",
    b"data:",
    b"data",
    b"event: ",
    b"event:",
    b"id: ",
    b"id:",
    b"retry: ",
    b"retry:",
    b":",
    b": ",
    b"foo: ",
    b"x",
    b"42",
    b" ",
    b"\x00",
    "思考".encode(),
    "🤔".encode(),
    b"\xff",
    b"\xe6\x80",
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\r\r",
    b"\r\n\r\n",
]


def test_random_streams_and_chunkings_match_reference() -> None:
    rng = random.Random(20240601)
    for _ in range(400):
        raw = b"".join(rng.choices(_PIECES, k=rng.randint(0, 40)))
        if rng.random() < 0.1:
            raw = b"\xef\xbb\xbf" + raw
        expected = reference(raw)
        assert feed_and_flush([raw]) == expected, raw
        cuts = sorted(rng.sample(range(len(raw) + 1), min(len(raw) + 1, rng.randint(0, 8))))
        chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        assert feed_and_flush(chunks) == expected, (raw, cuts)
        assert feed_and_flush(fragments(raw, 1)) == expected, raw
        dispatched = feed([raw])
        assert dispatched == expected[: len(dispatched)]
        assert len(expected) - len(dispatched) <= 1  # flush holds back at most one event
