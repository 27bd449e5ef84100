"""Recorded wire bytes played back through the same decoder, adapters and views as a live stream.

A recording is a small JSON-lines file: a header line (protocol, model, the request without its
key, status, content type, provenance) and one line per network read (seconds since the request
was sent, and the bytes: ``text`` when they are valid UTF-8, else ``b64``). Replays go through an
``httpx`` transport, so nothing above the HTTP layer knows it is not live.

Recordings are data from elsewhere (shared by a colleague, downloaded with a course), so they are
read defensively: one unreadable or malformed file in ``./recordings`` is skipped with a note
instead of breaking the others, absurd timestamps cannot stall a replay (every pause is capped at
:data:`MAX_PAUSE` seconds), and the transport plays only recordings this process registered with
:func:`replay_url`: its URLs carry an opaque token, never a file path, so no URL (a redirect, a
hand-written ``base_url``) can make it read a file.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from . import _recorded_options
from ._catalog import lookup
from ._errors import ConfigurationError, warn_user
from ._protocols import FALLBACK, get_protocol
from ._redact import MASK, redact, redact_data, secret_forms
from ._types import Timings

FORMAT_VERSION = 1
REPLAY_HOST = "thinkbook-replay.invalid"
SHIPPED_DIR = Path(__file__).parent / "recordings"
MAX_PAUSE = 5.0
"""Longest pause between two replayed reads, in seconds, whatever the recording's timestamps say."""
MAX_RECORDING_BYTES = 64 * 1024 * 1024
"""Larger files are not recordings (a recording of a long answer is a few hundred kilobytes)."""


@dataclass(frozen=True, slots=True)
class Recording:
    """A parsed recording file."""

    path: Path
    protocol: str
    model: str
    request: dict[str, Any]
    status: int
    content_type: str
    chunks: list[tuple[float, bytes]] = field(repr=False)
    source: str = ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the recorded request, for any protocol (``_recorded_options``)."""
        return _recorded_options.recorded_messages(self.request)

    @property
    def user_turns(self) -> list[str]:
        """The text of every user message, in order (what the recording answers)."""
        return [_text_of(m.get("content")) for m in self.messages if m.get("role") == "user"]

    @property
    def illustrative(self) -> bool:
        """Written by people to show the mechanics (its ``source`` says so), not a model's answer."""
        return self.source.startswith("illustrative")

    def _option(self, name: str) -> Any:
        """A thinking option of the recorded request: top-level (OpenAI-compatible) or in ``parameters`` (native)."""
        return self.request.get(name, self.request.get("parameters", {}).get(name))

    @property
    def enable_thinking(self) -> bool | None:
        """Whether the recorded request asked for thinking (None: it left it to the model's default),
        in its protocol's spelling (Anthropic ``thinking``, Gemini ``thinkingConfig``...)."""
        return _recorded_options.recorded_thinking(self.request).enable

    @property
    def effort(self) -> str | None:
        """The effort level the recorded request asked for, if any."""
        return _recorded_options.recorded_thinking(self.request).effort

    @property
    def preserve_thinking(self) -> bool:
        """Whether the recorded request sent earlier turns' reasoning back (``preserve_thinking``)."""
        return self._option("preserve_thinking") is True

    @property
    def thinking_budget(self) -> int | None:
        return _recorded_options.recorded_thinking(self.request).budget


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def _bad(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(f"{path} is not a usable thinkbook recording: {why}")


def load_recording(path: str | Path) -> Recording:
    """Read and validate a recording; a missing or corrupt file is a ConfigurationError."""
    path = Path(path)
    try:
        if path.is_dir():
            raise _bad(path, "it is a directory")
        if path.stat().st_size > MAX_RECORDING_BYTES:
            raise _bad(path, f"it is larger than {MAX_RECORDING_BYTES // (1024 * 1024)} MB")
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigurationError(f"recording {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, _one_line(exc)) from exc
    if not lines:
        raise _bad(path, "the file is empty")
    try:
        header = json.loads(lines[0])
        records = [json.loads(line) for line in lines[1:] if line.strip()]
    except (ValueError, RecursionError) as exc:
        raise _bad(path, f"invalid JSON ({_one_line(exc)})") from exc
    if not isinstance(header, dict) or header.get("thinkbook_recording") != FORMAT_VERSION:
        raise _bad(path, "the first line is not a thinkbook recording header")
    chunks: list[tuple[float, bytes]] = []
    try:
        for record in records:
            data = record["text"].encode("utf-8") if "text" in record else base64.b64decode(record["b64"])
            chunks.append((float(record["t"]), data))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _bad(path, f"a chunk line is malformed ({_one_line(exc, repr)})") from exc
    protocol = str(header.get("protocol", FALLBACK))
    try:
        get_protocol(protocol)
    except ConfigurationError as exc:
        raise _bad(path, exc.message) from None
    return Recording(
        path=path,
        protocol=protocol,
        model=str(header.get("model", "")),
        request=_field(path, header, "request", dict, {}),
        status=_status(path, header.get("status", 200)),
        content_type=_content_type(path, header.get("content_type", "text/event-stream")),
        chunks=chunks,
        source=str(header.get("source", "")),
    )


def _one_line(exc: BaseException, show: Any = str) -> str:
    return " ".join(str(show(exc)).split())[:300]


def _field(path: Path, header: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = header.get(name)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise _bad(path, f"the header's {name!r} is not a {kind.__name__}")
    return value


def _status(path: Path, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise _bad(path, f"the header's status {value!r} is not an HTTP status (100 to 599)")
    return value


def _content_type(path: Path, value: Any) -> str:
    if not isinstance(value, str) or not value.isprintable() or len(value) > 200:
        raise _bad(path, "the header's content_type is not a media type")
    return value


def dump_recording(
    path: str | Path,
    *,
    protocol: str,
    model: str,
    request: dict[str, Any],
    chunks: list[tuple[float, bytes]],
    status: int = 200,
    content_type: str = "text/event-stream",
    source: str = "",
    secrets: tuple[str | None, ...] = (),
) -> Path:
    """Write a recording. ``request`` must already be free of credentials (it holds only the body).

    ``secrets`` are the recorded request's credentials: a server may have echoed them into the
    answer, and a recording is meant to be shared, so they are removed from the recorded bytes
    (an echo split across two reads included), the request and the provenance.
    """
    path = Path(path)
    header = {
        "thinkbook_recording": FORMAT_VERSION,
        "protocol": protocol,
        "model": model,
        "status": status,
        "content_type": content_type,
        "source": redact(source, *secrets),
        "request": redact_data(request, *secrets, patterns=False),
    }
    lines = [json.dumps(header, ensure_ascii=False)]
    for offset, data in _without_secrets(chunks, secrets):
        try:
            lines.append(json.dumps({"t": round(offset, 4), "text": data.decode("utf-8")}, ensure_ascii=False))
        except UnicodeDecodeError:
            lines.append(json.dumps({"t": round(offset, 4), "b64": base64.b64encode(data).decode()}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _without_secrets(chunks: list[tuple[float, bytes]], secrets: tuple[str | None, ...]) -> list[tuple[float, bytes]]:
    """``chunks`` with every occurrence of a secret masked, keeping the reads' boundaries and times.

    An occurrence split across reads is masked where it starts; its rest is dropped from the next.
    """
    forms = [form.encode("utf-8") for form in secret_forms(*secrets)]
    joined = b"".join(data for _, data in chunks)
    spans: list[tuple[int, int]] = []
    for form in forms:  # longest first: a secret that contains another is masked whole
        start = joined.find(form)
        while start != -1:
            end = start + len(form)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = joined.find(form, end)
    if not spans:
        return chunks
    spans.sort()
    mask = MASK.encode()
    out: list[tuple[float, bytes]] = []
    position, k = 0, 0
    for offset, data in chunks:
        begin, stop = position, position + len(data)
        position = stop
        piece, cursor = bytearray(), begin
        while cursor < stop:
            while k < len(spans) and spans[k][1] <= cursor:
                k += 1
            if k < len(spans) and spans[k][0] < cursor:  # the rest of an occurrence begun earlier
                cursor = min(spans[k][1], stop)
            elif k < len(spans) and spans[k][0] < stop:  # an occurrence begins here
                piece += joined[cursor : spans[k][0]] + mask
                cursor = min(spans[k][1], stop)
            else:
                piece += joined[cursor:stop]
                cursor = stop
        out.append((offset, bytes(piece)))
    return out


class _Registry:
    """The recordings this process may replay, by opaque token (bounded: the oldest are dropped).

    A path keeps one token however often it is replayed; a loaded recording gets its own.
    """

    _LIMIT = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_token: OrderedDict[str, Recording | Path] = OrderedDict()
        self._token_of_path: dict[Path, str] = {}

    def add(self, source: Recording | Path) -> str:
        with self._lock:
            token = self._token_of_path.get(source) if isinstance(source, Path) else None
            if token is None:
                token = secrets.token_urlsafe(16)
                if isinstance(source, Path):
                    self._token_of_path[source] = token
            self._by_token[token] = source
            self._by_token.move_to_end(token)
            while len(self._by_token) > self._LIMIT:
                _, dropped = self._by_token.popitem(last=False)
                if isinstance(dropped, Path):
                    self._token_of_path.pop(dropped, None)
            return token

    def get(self, token: str) -> Recording | Path | None:
        with self._lock:
            return self._by_token.get(token)


_registry = _Registry()


def replay_url(source: Recording | Path, speed: float) -> str:
    """The URL a replayed request is sent to: an opaque token for ``source``, never its path.

    ``source`` is a loaded recording (played from memory) or the path of one (read when played).
    Only sources registered here can be played, so no URL a server or a user writes reaches a file.
    """
    if isinstance(source, Path):
        source = source.resolve()
    return f"http://{REPLAY_HOST}/{_registry.add(source)}?speed={speed}"


def _pauses(chunks: list[tuple[float, bytes]], speed: float) -> Iterator[tuple[float, bytes]]:
    """(seconds after the previous read, data): the recorded gaps scaled by ``speed``, each capped.

    Timestamps are data from a file: a negative, NaN or backwards step is no pause, an absurd
    one (``1e300``, infinity) is :data:`MAX_PAUSE`.
    """
    previous = 0.0  # the latest finite timestamp so far
    for offset, data in chunks:
        gap = offset - previous if not math.isnan(offset) else 0.0  # inf and -inf stay infinite
        if math.isfinite(offset):
            previous = max(previous, offset)
        pause = min(gap / speed, MAX_PAUSE) if speed > 0 and gap > 0 else 0.0
        yield pause, data


class _ReplayStream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[tuple[float, bytes]], speed: float) -> None:
        self._chunks = chunks
        self._speed = speed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        due = loop.time()
        for pause, data in _pauses(self._chunks, self._speed):
            # Scheduled from the previous due time, not from now: the recorded pace does not drift.
            due += pause
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            yield data


def _speed_of(request: httpx.Request) -> float:
    return _speed_param(request.url)


def _speed_param(url: httpx.URL) -> float:
    try:
        speed = float(url.params.get("speed", "1"))
    except ValueError:
        return 1.0
    if math.isnan(speed) or speed < 0:
        return 1.0
    return 0.0 if math.isinf(speed) else speed


def replay_speed(url: str) -> float | None:
    """The pace a request to ``url`` replays at (1 = as recorded, 0 = no pauses); None: not a replay."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    return _speed_param(parsed) if parsed.host == REPLAY_HOST else None


def at_recorded_pace(timings: Timings, speed: float) -> Timings:
    """Timings measured while replaying at ``speed``, told at the recording's own pace.

    A replay at 4x measures a quarter of the recorded times and four times the recorded rate:
    seconds are multiplied back by ``speed`` and the rate divided by it (pauses longer than
    :data:`MAX_PAUSE` were cut, so such gaps read shorter than recorded). At speed 0 (no pauses)
    nothing about the recording's pace was measured: every timing is None.
    """
    if speed <= 0:
        return Timings()

    def scaled(value: float | None) -> float | None:
        return None if value is None else value * speed

    rate = timings.tokens_per_second
    return Timings(
        time_to_first_reasoning=scaled(timings.time_to_first_reasoning),
        time_to_first_answer=scaled(timings.time_to_first_answer),
        thinking_seconds=scaled(timings.thinking_seconds),
        total_seconds=scaled(timings.total_seconds),
        tokens_per_second=None if rate is None else rate / speed,
    )


# Set by a caller that wants to know which of its streams were replays (the CLI labels their
# timings): the transport appends each replay's speed. Streams started in the caller's context
# see the same list, also on the engine's thread (asyncio copies the context with the list in it).
_played: ContextVar[list[float] | None] = ContextVar("thinkbook_replays_played", default=None)


def collect_replays() -> list[float]:
    """From now on in this context, the speed of every replay played is appended to the list returned."""
    played: list[float] = []
    _played.set(played)
    return played


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers requests for ``REPLAY_HOST`` from the recording registered under the URL's token."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        source = _registry.get(request.url.path.strip("/"))
        if source is None:
            # Not a request thinkbook prepared (a redirect, a hand-written URL): read nothing.
            raise ConfigurationError(
                f"{REPLAY_HOST} only answers replays that thinkbook prepared; to play a recording "
                "file, call thinkbook.replay(path) or use %%think --replay path"
            )
        recording = source if isinstance(source, Recording) else load_recording(source)
        played = _played.get()
        if played is not None:
            played.append(_speed_of(request))
        return httpx.Response(
            recording.status,
            headers={"content-type": recording.content_type},
            stream=_ReplayStream(recording.chunks, _speed_of(request)),
            request=request,
        )


def shipped_recordings() -> Iterator[Recording]:
    """Recordings that ship inside the package (built from the Bailian guide's transcripts)."""
    return _usable_recordings(SHIPPED_DIR)


# Files already reported as unusable, with their size and time: each is noted once, until it changes.
_noted: set[tuple[str, int, int]] = set()
_noted_lock = threading.Lock()


def _note_skipped(path: Path, problem: ConfigurationError) -> None:
    try:
        info = path.stat()
        key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    except OSError:
        key = (str(path), -1, -1)
    with _noted_lock:
        if key in _noted:
            return
        _noted.add(key)
    warn_user(f"{problem.message}; skipped it (fix or remove the file to silence this note)")


def _usable_recordings(directory: Path) -> Iterator[Recording]:
    """Every recording in ``directory`` that loads; the others are noted (once) and skipped."""
    try:
        paths = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    except OSError as exc:
        _note_skipped(directory, ConfigurationError(f"{directory} cannot be listed ({_one_line(exc)})"))
        return
    for path in paths:
        try:
            yield load_recording(path)
        except ConfigurationError as problem:
            _note_skipped(path, problem)


def _all_recordings(directories: Iterable[Path]) -> Iterator[Recording]:
    for directory in directories:
        yield from _usable_recordings(Path(directory))
    yield from shipped_recordings()


def _normalize(text: str) -> str:
    return " ".join(text.split()).rstrip("?？").lower()


def _thinks(model: str, enable_thinking: bool | None) -> bool | None:
    """Whether a request thinks: what it asked, else the catalog model's default, else unknown."""
    if enable_thinking is not None:
        return enable_thinking
    info = lookup(model)
    return info.default_thinking if info is not None else None


def find_recording(
    model: str,
    messages: list[dict[str, Any]],
    *,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    extra_dirs: tuple[Path, ...] = (),
) -> Recording | None:
    """A recording of the same model answering the same user turns, thinking the same way.

    Turns are compared with whitespace and a final question mark ignored, so "你是谁" matches
    "你是谁?". Thinking on and off are told apart (a model's default counts when a request leaves
    it unsaid), so a hybrid model's two answers to one question can both be recorded; the budget
    and ``preserve_thinking`` (sent or not) must match too. Files that do not load are skipped
    with a note (see :func:`_usable_recordings`).
    """
    wanted_thinking = _thinks(model, enable_thinking)
    wanted = [_normalize(_text_of(m.get("content"))) for m in messages if m.get("role") == "user"]
    wanted_results = _tool_results(messages)
    for recording in _all_recordings(extra_dirs):
        if (
            recording.model.lower() == model.lower()
            and [_normalize(turn) for turn in recording.user_turns] == wanted
            and _tool_results(recording.messages) == wanted_results
            and recording.thinking_budget == thinking_budget
            and _keeps_reasoning(recording.preserve_thinking, recording.messages)
            == _keeps_reasoning(preserve_thinking, messages)
            and _same_or_unknown(_thinks(recording.model, recording.enable_thinking), wanted_thinking)
        ):
            return recording
    return None


def _tool_results(messages: list[dict[str, Any]]) -> list[str]:
    """The ids of the tool results a request sends back: each round of a tool loop has the same
    user turns, so these tell its recordings apart (the ids come from the replayed rounds)."""
    return [str(m.get("tool_call_id")) for m in messages if m.get("role") == "tool"]


def _keeps_reasoning(preserve_thinking: bool | None, messages: list[dict[str, Any]]) -> bool:
    """``preserve_thinking`` only changes a request that has earlier assistant turns to send back."""
    return bool(preserve_thinking) and any(m.get("role") == "assistant" for m in messages)


def _same_or_unknown(recorded: bool | None, wanted: bool | None) -> bool:
    return recorded is None or wanted is None or recorded == wanted


def _thinking_option(thinks: bool) -> str:
    return "enable_thinking=True (--think)" if thinks else "enable_thinking=False (--no-think)"


def _differences(
    recording: Recording,
    model: str,
    wanted_thinking: bool | None,
    thinking_budget: int | None,
    keeps_reasoning: bool,
) -> list[str]:
    """The options (Python and %%think / CLI spelling) a request must change to play ``recording``."""
    changes: list[str] = []
    if recording.model.lower() != model.lower():
        changes.append(f"model={recording.model!r} (-m {recording.model})")
    recorded_thinking = _thinks(recording.model, recording.enable_thinking)
    if not _same_or_unknown(recorded_thinking, wanted_thinking) and recorded_thinking is not None:
        changes.append(_thinking_option(recorded_thinking))
    if recording.thinking_budget != thinking_budget:
        budget = recording.thinking_budget
        changes.append(f"thinking_budget={budget} (--budget {budget})" if budget else "no thinking_budget")
    if _keeps_reasoning(recording.preserve_thinking, recording.messages) != keeps_reasoning:
        changes.append("preserve_thinking=True (--preserve)" if not keeps_reasoning else "no preserve_thinking")
    return changes


def describe_near_miss(
    model: str,
    messages: list[dict[str, Any]],
    *,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    extra_dirs: tuple[Path, ...] = (),
) -> str:
    """One sentence for an offline request no recording answers: the nearest recording and what plays it.

    The nearest is a recording of the same user turns needing the fewest option changes (a same-model
    one first). A near match is never played in the request's place: a hybrid model answers
    differently with thinking off, and a budget or another model changes the answer too, so the user
    chooses. Always ends by naming ``thinkbook.recordings()``, which lists everything that replays.
    """
    wanted_thinking = _thinks(model, enable_thinking)
    wanted = [_normalize(_text_of(m.get("content"))) for m in messages if m.get("role") == "user"]
    keeps = _keeps_reasoning(preserve_thinking, messages)
    best: tuple[tuple[int, int], Recording, list[str]] | None = None
    for recording in _all_recordings(extra_dirs):
        if [_normalize(turn) for turn in recording.user_turns] != wanted:
            continue
        changes = _differences(recording, model, wanted_thinking, thinking_budget, keeps)
        rank = (len(changes), recording.model.lower() != model.lower())
        if changes and (best is None or rank < best[0]):
            best = (rank, recording, changes)
    listing = "thinkbook.recordings() (or %think recordings) lists what replays offline"
    if best is None:
        return f"thinkbook also has no recorded answer for this prompt to replay offline; {listing}"
    _, recording, changes = best
    return (
        f"thinkbook has no recorded answer for exactly this request, but {recording.path.name} answers "
        f"this prompt with {' and '.join(changes)}; {listing}"
    )
