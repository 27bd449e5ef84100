"""A resumable batch: every finished row is appended to a JSON-lines file as it completes.

Each line is one finished row a user can read (``key``, ``model``, ``variant``, ``prompt``,
``result``). The key is a hash of what decides the answer: the endpoint URL (credentials left
out), the model, the request body (minus ``stream`` / ``stream_options``, which only change how
it arrives) and the row's occurrence number among identical requests of the same run (three
identical prompts are three samples, not one). A changed option is a new key, so a rerun sends
only the rows whose key is not in the file.

Crash safety: a line is written with a single ``write`` on an ``O_APPEND`` descriptor, so a kill
(SIGKILL, a kernel restart) can only leave the *last* line torn; a torn last line is cut off when
the file is opened again, and any other unreadable line is skipped with one warning. The file is
``fsync``-ed at most once a second and when the run ends (a kill loses nothing the OS has; power
loss may lose the last second). Failed rows are not written: a rerun tries them again.
One run at a time may write a cache file (an advisory lock says so at once, where supported).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError, redact, warn_user
from .._request import PreparedRequest
from .._types import ThinkResult, Timings, Usage

try:  # POSIX only; elsewhere two runs on one file are the user's business
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["ResultCache", "request_key", "result_from_dict", "result_to_dict"]

# Body fields that change how an answer arrives, not what it is.
_TRANSPORT_FIELDS = ("stream", "stream_options")
_FSYNC_EVERY = 1.0


def _where(request: PreparedRequest) -> str:
    """The endpoint part of the key: a replayed request's URL holds a per-process token, so its
    stable name (the recording's file) stands in; a live URL loses any ``user:password@``."""
    if request.replay_source is not None:
        return request.endpoint.base_url
    return redact(request.endpoint.url)


def normalized_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The request body minus the fields that only change how the answer is delivered."""
    return {key: value for key, value in body.items() if key not in _TRANSPORT_FIELDS}


def request_key(request: PreparedRequest, occurrence: int = 0) -> str:
    """The cache key of one row: a hash of (endpoint, model, normalized body, occurrence)."""
    payload = json.dumps(
        [_where(request), request.model, normalized_body(request.body), occurrence],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def result_to_dict(result: ThinkResult) -> dict[str, Any]:
    """Everything needed to rebuild ``result`` (its ``to_dict`` plus the reasoning state)."""
    data = result.to_dict()
    if result.reasoning_hidden:
        data["reasoning_hidden"] = True
    if result.reasoning_state is not None:
        data["reasoning_state"] = result.reasoning_state
    return data


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def result_from_dict(data: Mapping[str, Any]) -> ThinkResult:
    """A :class:`ThinkResult` from :func:`result_to_dict`'s shape; wrong types become None.

    The file is the user's (readable, editable), so nothing in it is trusted to have a type.
    """
    if not isinstance(data.get("reasoning", ""), str) or not isinstance(data.get("answer", ""), str):
        raise ValueError("reasoning and answer must be text")
    raw_usage = data.get("usage")
    usage = None
    if isinstance(raw_usage, Mapping):
        raw = raw_usage.get("raw")
        usage = Usage(
            prompt_tokens=_int_or_none(raw_usage.get("prompt_tokens")),
            completion_tokens=_int_or_none(raw_usage.get("completion_tokens")),
            total_tokens=_int_or_none(raw_usage.get("total_tokens")),
            reasoning_tokens=_int_or_none(raw_usage.get("reasoning_tokens")),
            cached_tokens=_int_or_none(raw_usage.get("cached_tokens")),
            raw=dict(raw) if isinstance(raw, Mapping) else {},
        )
    raw_timings = data.get("timings")
    timings = Timings()
    if isinstance(raw_timings, Mapping):
        timings = Timings(**{name: _float_or_none(raw_timings.get(name)) for name in Timings.__slots__})
    state = data.get("reasoning_state")
    return ThinkResult(
        reasoning=data.get("reasoning", ""),
        answer=data.get("answer", ""),
        usage=usage,
        finish_reason=_str_or_none(data.get("finish_reason")),
        model=_str_or_none(data.get("model")),
        request_id=_str_or_none(data.get("request_id")),
        timings=timings,
        reasoning_hidden=data.get("reasoning_hidden") is True,
        reasoning_state=dict(state) if isinstance(state, Mapping) else None,
    )


class ResultCache:
    """The finished rows of earlier runs (read on open) and an append-only writer for new ones.

    >>> cache = ResultCache("runs/eval.jsonl")  # doctest: +SKIP
    >>> cache.get(key)  # a ThinkResult, or None when the row must run  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ConfigurationError(f"cache= must be a file path such as 'runs/eval.jsonl', got {type(path).__name__}")
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise ConfigurationError(f"cache={str(path)!r} is a folder: name a file, e.g. {self.path / 'run.jsonl'}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise ConfigurationError(f"cannot open the cache file {self.path}: {exc.strerror or exc}") from None
        try:
            self._lock()
            self.rows: dict[str, dict[str, Any]] = self._load()
            # Keys of every finished row; rows written by this run are not kept in memory.
            self.keys: set[str] = set(self.rows)
        except BaseException:
            os.close(self._fd)
            raise
        self.written = 0
        self._synced_at = time.monotonic()
        self._dirty = False

    def _lock(self) -> None:
        if fcntl is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigurationError(
                f"another run is writing the cache file {self.path} (in this or another process): wait for it, "
                "or pass another cache= file"
            ) from None

    def _load(self) -> dict[str, dict[str, Any]]:
        """Read every finished row; cut a torn last line (the trace of a kill mid-write)."""
        with open(self._fd, "rb", closefd=False) as file:
            data = file.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            os.ftruncate(self._fd, end)  # the torn tail: the row it was writing runs again
            data = data[:end]
        rows: dict[str, dict[str, Any]] = {}
        unreadable = 0
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                result_from_dict(row["result"])
                key = row["key"]
                if not isinstance(key, str):
                    raise TypeError("key")
            except (ValueError, KeyError, TypeError):
                unreadable += 1
                continue
            rows[key] = row
        if unreadable:
            warn_user(f"{unreadable} line(s) of the cache file {self.path} could not be read; their rows run again")
        return rows

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, key: str) -> ThinkResult | None:
        """The cached result of ``key``, or None."""
        row = self.rows.get(key)
        return None if row is None else result_from_dict(row["result"])

    def append(self, key: str, result: ThinkResult, **fields: Any) -> None:
        """Write one finished row (``fields``: model, variant, prompt...) as one line."""
        row = {"key": key, **fields, "result": result_to_dict(result), "saved_at": datetime.now(UTC).isoformat()}
        line = json.dumps(row, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        written = os.write(self._fd, data)
        while written < len(data):  # a short write (a full disk, a signal): finish the line
            written += os.write(self._fd, data[written:])
        self.keys.add(key)
        self.written += 1
        self._dirty = True
        now = time.monotonic()
        if now - self._synced_at >= _FSYNC_EVERY:
            self.sync()

    def sync(self) -> None:
        if self._dirty:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            self._dirty = False
        self._synced_at = time.monotonic()

    def close(self) -> None:
        """Flush to disk and release the file (idempotent)."""
        if self._fd < 0:
            return
        self.sync()
        os.close(self._fd)  # also releases the lock
        self._fd = -1

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
