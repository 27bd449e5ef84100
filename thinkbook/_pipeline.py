"""Bytes of one response in, typed events and the growing result out.

This is the whole decoding chain (SSE decoder -> protocol adapter -> ``<think>`` splitter ->
accumulator) with no I/O, so live streams, recorded replays and tests all run the same code. The
protocol is a :class:`~thinkbook._protocols.base.WireProtocol`: its parser, its name for what an
event should be, how its error bodies read, and the state a later turn needs.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ._accumulator import Accumulator, Clock
from ._errors import (
    APIStatusError,
    ResponseFormatError,
    StreamInterruptedError,
    ThinkbookError,
    error_for_status,
    redact,
)
from ._protocols import get_protocol
from ._protocols.base import WireProtocol
from ._redact import StreamRedactor, remove_secrets
from ._sse import ServerSentEvent, SSEDecoder
from ._think_tags import ThinkTagSplitter
from ._types import (
    AnswerDelta,
    AnswerWasReasoning,
    Done,
    ReasoningDelta,
    ThinkEvent,
    ThinkResult,
    Usage,
    UsageUpdate,
)
from ._wire import WireChunk, loads_json

__all__ = ["StreamPipeline"]

# What the first significant byte of a body says it is (an SSE stream never starts with "{" or
# "<": its lines start with a field name or ":").
_SNIFFING, _EVENT_STREAM, _JSON_BODY = range(3)
_WHITESPACE = b" \t\r\n\xef\xbb\xbf"  # and the BOM's bytes
_HEAD_BYTES = 200  # kept from the start of the body, to show in an error
_SSE_START = re.compile(rb"(?:data|event|id|retry)(?:[:\r\n]|$)|:")
_SSE_FIELDS = (b"data", b"event", b"id", b"retry")
_TITLE = re.compile(r"<title[^>]*>([^<]{1,200})", re.IGNORECASE)
_SNIPPET = 120


def _looks_like_event_stream(head: bytes) -> bool:
    """The body's start is SSE, or a cut prefix of it (``dat``)."""
    head = head.lstrip(_WHITESPACE)
    return bool(_SSE_START.match(head)) or any(name.startswith(head) for name in _SSE_FIELDS)


# Token counts beyond this are not real (and would overflow float arithmetic downstream).
_MAX_TOKENS = 2**53


def _plausible(usage: Usage) -> bool:
    """False for counts no real response has (DashScope sends usage on every event: kept cheap)."""
    return (
        (usage.total_tokens or 0) <= _MAX_TOKENS
        and (usage.prompt_tokens or 0) <= _MAX_TOKENS
        and (usage.completion_tokens or 0) <= _MAX_TOKENS
        and (usage.reasoning_tokens or 0) <= _MAX_TOKENS
        and (usage.cached_tokens or 0) <= _MAX_TOKENS
    )


def _is_whole(data: str) -> bool:
    """Whether an event's data, left unterminated at end of stream, is a complete payload.

    A JSON object or array is complete exactly when it parses (its closing bracket comes last),
    so a connection cut inside it never passes; ``[DONE]`` is the one non-JSON payload.
    """
    if data.strip() == "[DONE]":
        return True
    try:
        return type(loads_json(data)) in (dict, list)
    except ValueError:
        return False


class StreamPipeline:
    """Decode one streamed response.

    ``feed(bytes)`` returns the events those bytes completed; ``finish()`` is called at end of
    stream and returns the last events ending with :class:`Done`, or raises
    :class:`StreamInterruptedError` (``.partial``) when the model never said it had finished.
    Provider errors inside the stream raise the matching :class:`APIStatusError`, and data that
    is not the protocol's a :class:`ResponseFormatError`, both with ``.partial`` once text
    arrived.

    End of stream follows WHATWG: an event no blank line closed is discarded, unless its data is
    a complete JSON payload (servers that close right after the last event, see
    :meth:`SSEDecoder.flush`). So the same received bytes give the same outcome however the
    connection ended (clean close, reset, broken chunked framing): a model that had finished
    (``finish_reason`` or ``[DONE]`` seen) returns its result, ``usage=None`` if it never came.

    A body that is not an event stream is recognised by its first byte: a JSON body (a server
    that ignored ``stream: true``) is parsed as one complete answer; an HTML page (a body
    starting with ``<``, or a ``text/html`` one that is not SSE) raises
    :class:`ResponseFormatError` at once.
    """

    def __init__(
        self,
        protocol: WireProtocol | str,
        *,
        model: str | None = None,
        clock: Clock = time.monotonic,
        started: float | None = None,
        http_status: int | None = None,
        secrets: tuple[str | None, ...] = (),
        content_type: str = "",
        thinking_off: bool = False,
    ) -> None:
        # A name is looked up in the registry (tests, benchmarks); the engine passes the object.
        self._protocol = get_protocol(protocol) if isinstance(protocol, str) else protocol
        self._decoder = SSEDecoder()
        self._parser = self._protocol.new_parser()
        self._expected = self._protocol.expected
        # Thinking explicitly off: nothing was pre-filled, so a bare "</think>" is answer text.
        self._splitter: ThinkTagSplitter | None = ThinkTagSplitter(bare_close=not thinking_off)
        self.acc = Accumulator(model, clock=clock, started=started)
        self._http_status = http_status
        self._secrets = secrets
        # The live text is redacted as it streams (a headless run saves what the view was sent):
        # one redactor per side, so a key split across two deltas is still caught.
        self._live_redaction: tuple[StreamRedactor, StreamRedactor] | None = None
        if StreamRedactor(*secrets):
            self._live_redaction = (StreamRedactor(*secrets), StreamRedactor(*secrets))
        self._web_page = "html" in content_type.lower()
        self._mode = _SNIFFING
        self._head = b""
        self._body: list[bytes] = []  # a JSON body, kept whole until the end
        self._saw_event = False
        self._complete_body = False
        self._ended = False
        self._ending: list[ThinkEvent] = []  # events the end of the data completed
        self.saw_done_marker = False

    @property
    def protocol(self) -> WireProtocol:
        return self._protocol

    @property
    def finished(self) -> bool:
        """The server said the answer is complete (a finish reason, ``[DONE]``, a whole JSON body)."""
        return self.saw_done_marker or self._complete_body or self.acc.finish_reason is not None

    def feed(self, data: bytes) -> list[ThinkEvent]:
        if self._mode != _EVENT_STREAM:
            if self._mode == _SNIFFING:
                self._sniff(data)
            if self._mode != _EVENT_STREAM:
                if self._mode == _JSON_BODY:
                    self._body.append(data)
                return []
        events: list[ThinkEvent] = []
        decoded = self._decoder.decode(data)
        if decoded:
            self._saw_event = True
            # _parse inlined: this loop runs once per token.
            parse = self._parser.parse
            sse = decoded[0]
            try:
                for sse in decoded:
                    chunk = parse(sse)
                    if chunk is not None:
                        self._take(chunk, events)
            except ResponseFormatError as exc:
                raise self._bad_event(sse, exc) from exc
        if self._live_redaction is not None and events:
            return self._redacted(events)
        return events

    def finished_at_end(self) -> bool:
        """End of data: take what is left (see the class docstring) and say whether the model had
        finished. Events this completes are returned by :meth:`finish`, which must follow."""
        self._end(None)
        return self.finished

    def finish(self, *, broken: str | None = None) -> list[ThinkEvent]:
        """End of stream; ``broken`` names what ended it when the connection failed (for messages)."""
        self._end(broken)
        events, self._ending = self._ending, []
        self._flush_splitter(events)
        if self._live_redaction is not None:
            events = self._redacted(events, end=True)
        self.acc.ended_at = self.acc._clock()
        if not self.finished:
            raise self._unfinished(broken)
        # What a later turn must send back (signatures, encrypted reasoning): only for a whole answer.
        self.acc.reasoning_state = self._parser.turn_state()
        done = Done(self._result())
        events.append(done)
        return events

    def _end(self, broken: str | None) -> None:
        """Take the end of the data once: a JSON body, or the event the stream left unterminated."""
        if self._ended:
            return
        self._ended = True
        if self._mode == _JSON_BODY:
            self._take_body(self._ending, broken)
        elif self._mode == _EVENT_STREAM:
            tail = self._decoder.flush()
            if tail is not None and _is_whole(tail.data):
                self._saw_event = True
                self._parse(tail, self._ending)

    def partial(self) -> ThinkResult:
        """What has been received so far."""
        return self._result()

    def _result(self) -> ThinkResult:
        # A server (or a model) may echo the request's own key back: no result carries it.
        result = self.acc.result()
        return result.redacted(*self._secrets) if any(self._secrets) else result

    # --- internals -------------------------------------------------------------------------

    def _sniff(self, data: bytes) -> None:
        """Decide from the first significant byte what the body is (see the class docstring)."""
        if len(self._head) < _HEAD_BYTES:
            self._head += data[: _HEAD_BYTES - len(self._head)]
        first = data.lstrip(_WHITESPACE)[:1]
        if first == b"<" or (self._web_page and first and not _looks_like_event_stream(self._head)):
            raise self._web_page_error()
        if not first:
            self._body.append(data)  # leading whitespace: replayed into whatever it turns out to be
            return
        held, self._body = b"".join(self._body), []
        if first in (b"{", b"["):
            self._mode = _JSON_BODY
            self._body.append(held)
            return
        self._mode = _EVENT_STREAM
        if held:
            self._decoder.decode(held)  # whitespace only: completes no event

    def _parse(self, sse: ServerSentEvent, events: list[ThinkEvent]) -> None:
        try:
            chunk = self._parser.parse(sse)
        except ResponseFormatError as exc:
            raise self._bad_event(sse, exc) from exc
        if chunk is not None:
            self._take(chunk, events)

    def _bad_event(self, sse: ServerSentEvent, exc: ResponseFormatError) -> ResponseFormatError:
        """The parser's error rebuilt: redacted with the request's own secrets, and once text has
        arrived the server is evidently the right one, and the text goes in ``.partial``."""
        what = "the stream broke off into data" if self.acc.has_text else "the server sent a stream event"
        return self._format_error(f"{what} that is not {self._expected}", sse.data)

    def _take_body(self, events: list[ThinkEvent], broken: str | None) -> None:
        """A server that ignored ``stream: true``: its whole JSON answer, as one event."""
        text = b"".join(self._body).decode("utf-8", "replace")
        if not _is_whole(text):
            if broken is not None:
                raise StreamInterruptedError(
                    f"the connection broke ({broken}) while the server was sending a JSON answer "
                    "(it ignored stream: true); try again"
                )
            raise self._format_error("the server sent a JSON body that does not parse (or was cut short)", text)
        events_before = len(events)
        self._parse(ServerSentEvent(text), events)
        if self.acc.has_text or self.acc.finish_reason is not None:
            self._complete_body = True
        elif len(events) == events_before:
            raise self._format_error(
                "the server answered with JSON that is neither an event stream nor a chat completion", text
            )

    def _unfinished(self, broken: str | None) -> ThinkbookError:
        status = f"HTTP {self._http_status}" if self._http_status is not None else "the server"
        if self._mode == _SNIFFING:
            how = f"the connection broke ({broken})" if broken else "the body was empty"
            return StreamInterruptedError(f"{status} answered but {how}: nothing arrived; try again")
        if not self._saw_event and not _looks_like_event_stream(self._head):
            return self._format_error(f"{status} answered with something that is not an event stream", self._head)
        ended = f"broke ({broken})" if broken else "closed"
        if not self.acc.has_text:
            return StreamInterruptedError(
                f"the connection {ended} before the model finished, and before any text arrived; try again",
                partial=self._result(),
            )
        return StreamInterruptedError(
            f"the connection {ended} before the model finished; the text received so far is in "
            "the error's .partial. Try again (or raise timeout= for long thoughts)",
            partial=self._result(),
        )

    def _format_error(self, what: str, data: str | bytes) -> ResponseFormatError:
        """``what``, then the start of ``data`` (redacted before it is cut) and what to do."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        shown = redact(text.strip(), *self._secrets)
        if len(shown) > _SNIPPET:
            shown = shown[:_SNIPPET] + "…"
        if self.acc.has_text:
            return ResponseFormatError(
                f"{what}; it starts with {shown!r}. The text received so far is in the error's .partial",
                partial=self._result(),
            )
        return ResponseFormatError(
            f"{what}; it starts with {shown!r}. Check that base_url points at the right API (and "
            "protocol) for this model"
        )

    def _web_page_error(self) -> ResponseFormatError:
        match = _TITLE.search(self._head.decode("utf-8", "replace"))
        title = ""
        if match:
            shown = redact(" ".join(match.group(1).split()), *self._secrets)[:_SNIPPET]
            title = f" titled {shown!r}"
        status = f"HTTP {self._http_status}" if self._http_status is not None else "the server"
        return ResponseFormatError(
            f"{status} answered with a web page{title}, not an API: check base_url (it should be the "
            "API's base URL, not a website), or sign in to the network's portal or proxy if one is in the way"
        )

    def _redacted(self, events: list[ThinkEvent], *, end: bool = False) -> list[ThinkEvent]:
        """``events`` with the request's secrets removed from their text (see ``_live_redaction``).

        The accumulator keeps the text as sent; the result is redacted whole at the end, and
        joined, the redacted deltas are that same text.
        """
        assert self._live_redaction is not None
        reasoning, answer = self._live_redaction
        if not end and not any(isinstance(event, AnswerWasReasoning) for event in events):
            said = "".join(event.text for event in events if isinstance(event, ReasoningDelta))
            shown = "".join(event.text for event in events if isinstance(event, AnswerDelta))
            if reasoning.passes(said) and answer.passes(shown):
                return events  # the common case: nothing to remove, checked once per read
        out: list[ThinkEvent] = []
        for event in events:
            if isinstance(event, ReasoningDelta):
                text = reasoning.feed(event.text)
                if text:
                    out.append(ReasoningDelta(text))
            elif isinstance(event, AnswerDelta):
                text = answer.feed(event.text)
                if text:
                    out.append(AnswerDelta(text))
            elif isinstance(event, AnswerWasReasoning):
                # The answer shown so far moves: first show what it held back, then move it all.
                held = answer.flush()
                if held:
                    out.append(AnswerDelta(held))
                out.append(AnswerWasReasoning(remove_secrets(event.text, *self._secrets)))
            else:
                out.append(event)
        if end:
            for redactor, kind in ((reasoning, ReasoningDelta), (answer, AnswerDelta)):
                held = redactor.flush()
                if held:
                    out.append(kind(held))
        return out

    def _emit(self, event: ThinkEvent, events: list[ThinkEvent]) -> None:
        self.acc.add(event)
        events.append(event)

    def _flush_splitter(self, events: list[ThinkEvent]) -> None:
        if self._splitter is not None:
            for event in self._splitter.flush():
                self._emit(event, events)
            self._splitter = None

    def _take(self, chunk: WireChunk, events: list[ThinkEvent]) -> None:
        acc = self.acc
        if chunk.model and not acc.model:
            acc.model = chunk.model
        if chunk.request_id and not acc.request_id:
            acc.request_id = chunk.request_id
        # The two common cases skip _emit's dispatch: this runs once per chunk.
        if chunk.reasoning:
            # A server with a reasoning parser: content is pure answer from now on.
            if self._splitter is not None:
                self._flush_splitter(events)
            acc.add_reasoning(chunk.reasoning)
            events.append(ReasoningDelta(chunk.reasoning))
        if chunk.content:
            if self._splitter is None:
                acc.add_answer(chunk.content)
                events.append(AnswerDelta(chunk.content))
            else:
                for event in self._splitter.feed(chunk.content):
                    self._emit(event, events)
        if chunk.usage is not None and _plausible(chunk.usage):
            self._emit(UsageUpdate(chunk.usage), events)
        if chunk.finish_reason:
            acc.finish_reason = chunk.finish_reason
        if chunk.done:
            self.saw_done_marker = True
        if chunk.reasoning_hidden:
            acc.reasoning_hidden = True
        if chunk.tool_calls:
            acc.add_tool_calls(chunk.tool_calls)
        if chunk.search_results:
            acc.add_search_results(chunk.search_results)
        if chunk.error is not None:
            raise self._error(chunk)

    def _error(self, chunk: WireChunk) -> APIStatusError:
        self._flush_splitter([])
        self.acc.ended_at = self.acc._clock()
        body: dict[str, Any] = dict(chunk.error or {})
        status = chunk.error_status
        if status is None and self._http_status is not None and self._http_status >= 400:
            status = self._http_status
        return error_for_status(
            status,
            body,
            # The error event's own id names the failure; an earlier event's is the fallback.
            request_id=chunk.request_id or self.acc.request_id,
            # error_for_status redacts the partial itself.
            partial=self.acc.result() if self.acc.has_text else None,
            secrets=self._secrets,
            fields=self._protocol.error_fields,
        )
