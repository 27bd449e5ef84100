"""Recorded wire bytes played back through the same decoder, adapters and views as a live stream.

A recording is a small JSON-lines file: a header line (protocol, model, the request without its
key, status, content type, provenance) and one line per network read (seconds since the request
was sent, and the bytes: ``text`` when they are valid UTF-8, else ``b64``). Replays go through an
``httpx`` transport, so nothing above the HTTP layer knows it is not live.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx

from ._catalog import lookup
from ._errors import ConfigurationError

FORMAT_VERSION = 1
REPLAY_HOST = "thinkbook-replay.invalid"
SHIPPED_DIR = Path(__file__).parent / "recordings"


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
        """The chat messages of the recorded request, for either protocol."""
        messages = self.request.get("messages") or self.request.get("input", {}).get("messages") or []
        return [m for m in messages if isinstance(m, dict)]

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
        """Whether the recorded request asked for thinking (None: it left it to the model's default)."""
        value = self._option("enable_thinking")
        return value if isinstance(value, bool) else None

    @property
    def preserve_thinking(self) -> bool:
        """Whether the recorded request sent earlier turns' reasoning back (``preserve_thinking``)."""
        return self._option("preserve_thinking") is True

    @property
    def thinking_budget(self) -> int | None:
        budget = self._option("thinking_budget")
        return budget if isinstance(budget, int) else None


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
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigurationError(f"recording {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, str(exc)) from exc
    if not lines:
        raise _bad(path, "the file is empty")
    try:
        header = json.loads(lines[0])
        records = [json.loads(line) for line in lines[1:] if line.strip()]
    except ValueError as exc:
        raise _bad(path, f"invalid JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("thinkbook_recording") != FORMAT_VERSION:
        raise _bad(path, "the first line is not a thinkbook recording header")
    chunks: list[tuple[float, bytes]] = []
    try:
        for record in records:
            data = record["text"].encode("utf-8") if "text" in record else base64.b64decode(record["b64"])
            chunks.append((float(record["t"]), data))
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"a chunk line is malformed ({exc!r})") from exc
    return Recording(
        path=path,
        protocol=str(header.get("protocol", "openai")),
        model=str(header.get("model", "")),
        request=dict(header.get("request") or {}),
        status=int(header.get("status", 200)),
        content_type=str(header.get("content_type", "text/event-stream")),
        chunks=chunks,
        source=str(header.get("source", "")),
    )


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
) -> Path:
    """Write a recording. ``request`` must already be free of credentials (it holds only the body)."""
    path = Path(path)
    header = {
        "thinkbook_recording": FORMAT_VERSION,
        "protocol": protocol,
        "model": model,
        "status": status,
        "content_type": content_type,
        "source": source,
        "request": request,
    }
    lines = [json.dumps(header, ensure_ascii=False)]
    for offset, data in chunks:
        try:
            lines.append(json.dumps({"t": round(offset, 4), "text": data.decode("utf-8")}, ensure_ascii=False))
        except UnicodeDecodeError:
            lines.append(json.dumps({"t": round(offset, 4), "b64": base64.b64encode(data).decode()}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def replay_url(path: Path, speed: float) -> str:
    """The URL a replayed request is sent to; the transport reads the file named in it."""
    return f"http://{REPLAY_HOST}/{quote(str(path.resolve()))}?speed={speed}"


class _ReplayStream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[tuple[float, bytes]], speed: float) -> None:
        self._chunks = chunks
        self._speed = speed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for offset, data in self._chunks:
            if self._speed > 0:
                wait = start + offset / self._speed - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            yield data


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers requests for ``REPLAY_HOST`` from the recording named in the URL path."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = Path(unquote(request.url.path))
        speed = float(request.url.params.get("speed", "1"))
        recording = load_recording(path)
        return httpx.Response(
            recording.status,
            headers={"content-type": recording.content_type},
            stream=_ReplayStream(recording.chunks, speed),
            request=request,
        )


def shipped_recordings() -> Iterator[Recording]:
    """Recordings that ship inside the package (built from the Bailian guide's transcripts)."""
    if SHIPPED_DIR.is_dir():
        for path in sorted(SHIPPED_DIR.glob("*.jsonl")):
            yield load_recording(path)


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
    and ``preserve_thinking`` (sent or not) must match too.
    """
    wanted_thinking = _thinks(model, enable_thinking)
    wanted = [_normalize(_text_of(m.get("content"))) for m in messages if m.get("role") == "user"]
    candidates: list[Recording] = []
    for directory in extra_dirs:
        candidates.extend(load_recording(p) for p in sorted(Path(directory).glob("*.jsonl")))
    candidates.extend(shipped_recordings())
    for recording in candidates:
        if (
            recording.model.lower() == model.lower()
            and [_normalize(turn) for turn in recording.user_turns] == wanted
            and recording.thinking_budget == thinking_budget
            and _keeps_reasoning(recording.preserve_thinking, recording.messages)
            == _keeps_reasoning(preserve_thinking, messages)
            and _same_or_unknown(_thinks(recording.model, recording.enable_thinking), wanted_thinking)
        ):
            return recording
    return None


def _keeps_reasoning(preserve_thinking: bool | None, messages: list[dict[str, Any]]) -> bool:
    """``preserve_thinking`` only changes a request that has earlier assistant turns to send back."""
    return bool(preserve_thinking) and any(m.get("role") == "assistant" for m in messages)


def _same_or_unknown(recorded: bool | None, wanted: bool | None) -> bool:
    return recorded is None or wanted is None or recorded == wanted
