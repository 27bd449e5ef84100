"""Incremental Server-Sent Events decoder (WHATWG rules), bytes in, events out.

Knows nothing of providers: ``[DONE]`` and similar sentinels are application conventions
and pass through as ordinary ``data``.

The decoder splits on bytes and decodes whole lines. That is exactly equivalent to decoding
the stream incrementally first: CR and LF are ASCII and can never occur inside a multi-byte
UTF-8 sequence, so a character split across chunks is simply reassembled with its line, and
invalid bytes get the same U+FFFD replacement either way.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile("\r\n|\r|\n")


class ServerSentEvent(NamedTuple):
    """One dispatched SSE event (immutable).

    A NamedTuple rather than a frozen dataclass: a frozen dataclass sets every field through
    ``object.__setattr__`` (~0.8 µs per event, more than the rest of the decoding), a tuple is
    built in one step.

    ``id`` is the last event ID seen on the stream so far (it persists across events, as the
    WHATWG "last event ID" does) and ``retry`` the last valid reconnection time seen; both are
    ``None`` until the stream sets them.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed raw bytes with :meth:`decode`; call :meth:`flush` at end of stream.

    Chunks may be split anywhere: inside a line, inside a CRLF pair, inside a UTF-8 character
    or inside the leading byte order mark.
    """

    __slots__ = ("_at_start", "_data", "_event", "_last_id", "_partial", "_retry", "_skip_lf")

    def __init__(self) -> None:
        # Bytes of an unterminated line; a list so a long line fed in many small chunks
        # costs linear, not quadratic, copying.
        self._partial: list[bytes] = []
        # The previous chunk ended in CR: an LF opening the next chunk completes that CRLF.
        self._skip_lf = False
        # Nothing but (a prefix of) the BOM has arrived yet, so a BOM may still need stripping.
        self._at_start = True
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None

    def decode(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume ``chunk`` and return the events it completes (often none)."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
                if not chunk:
                    return []
        if self._at_start:
            chunk = b"".join(self._partial) + chunk
            self._partial.clear()
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._partial.append(chunk)
                return []
            self._at_start = False
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
                if not chunk:
                    return []
        if 0x0A not in chunk and 0x0D not in chunk:  # int tests: a plain memchr
            # Still inside one line: defer all work until its line ending arrives.
            self._partial.append(chunk)
            return []
        if self._partial:
            self._partial.append(chunk)
            chunk = b"".join(self._partial)
            self._partial.clear()
        last = chunk[-1]
        if last == 0x0D:
            self._skip_lf = True
        elif last != 0x0A:
            # Keep the unterminated last line as bytes (it may end inside a UTF-8 character).
            end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            self._partial.append(chunk[end + 1 :])
            chunk = chunk[: end + 1]
        # One decode per network read rather than one per event. Decoding complete lines together
        # equals decoding them one by one: CR and LF are ASCII and never occur inside a UTF-8
        # sequence, so invalid bytes get the same U+FFFD replacements either way.
        text = chunk.decode("utf-8", "replace")
        # SSE's line endings are CR, LF and CRLF only (str.splitlines would also break on VT, FF,
        # U+2028 and friends); the common case has no CR at all.
        lines = text.split("\n") if "\r" not in text else _LINE_END.split(text)
        lines.pop()  # the text ends with a line ending: the last piece is empty
        return self._feed(lines)

    def flush(self) -> ServerSentEvent | None:
        """Signal end of stream; return the event it left unterminated, *undispatched*, if any.

        WHATWG discards an event that no blank line closed, and so does this decoder: nothing
        is dispatched here. The discarded event (an unterminated last line counts as a line) is
        returned rather than lost because only the caller can tell a whole payload from a cut
        one: some servers (DashScope native streams among them) close the connection right
        after the last event's data, without the final blank line, and a caller that sees
        complete JSON there may still use it. ``None`` when no data was pending.

        Afterwards the decoder is ready for a new stream (e.g. a reconnection); the last event
        ID and retry value are kept, as WHATWG keeps them across reconnections.
        """
        # At the start, _partial can only hold a strict prefix of the BOM: an ordinary line.
        lines = [b"".join(self._partial).decode("utf-8", "replace")] if self._partial else []
        lines.append("")  # the blank line the server did not send
        events = self._feed(lines)
        self._partial.clear()
        self._skip_lf = False
        self._at_start = True
        return events[0] if events else None

    def _feed(self, lines: list[str]) -> list[ServerSentEvent]:
        """Interpret complete lines (without their endings); return dispatched events."""
        events: list[ServerSentEvent] = []
        data = self._data
        # Ordered by frequency: a typical stream is nothing but data lines and blank lines.
        for line in lines:
            if not line:
                if data:
                    # One data line is the norm: skip the join for it.
                    events.append(
                        ServerSentEvent(
                            data[0] if len(data) == 1 else "\n".join(data),
                            self._event or "message",
                            self._last_id,
                            self._retry,
                        )
                    )
                    data.clear()
                self._event = ""
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith("data:"):
                data.append(line[5:])
            elif line[0] != ":":  # a leading ":" marks a comment (pings, ":HTTP_STATUS/200")
                self._field(line)
        return events

    def _field(self, line: str) -> None:
        """Apply one field line other than ``data:…`` (the cold path); never a comment."""
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            # ASCII digits only (str.isdigit alone also takes "²" and other scripts' digits);
            # False for "", matching WHATWG's rule.
            self._retry = int(value)
        # Any other field name is ignored, as WHATWG requires.
