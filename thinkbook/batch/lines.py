"""The OpenAI batch file format, and how Bailian's limits split a run into files.

One input line is ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``;
the body is exactly what :func:`thinkbook.think` would send for the same prompt and options
(thinkbook's own request builder), minus ``stream`` / ``stream_options``: a batch answer is one
JSON object. Bailian takes one model and one thinking mode per file, and its limits are data
(:class:`BatchLimits`, the Dec 2026 numbers; older docs said 100 MB per file), so a run is split
into as many files as those rules need, before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigurationError
from .cache import normalized_body

__all__ = ["BAILIAN_LIMITS", "DRY_RUN_LIMITS", "BatchLimits", "InputFile", "encode_line", "request_line", "split_files"]

CHAT_URL = "/v1/chat/completions"
TEST_URL = "/v1/chat/ds-test"
TEST_MODEL = "batch-test-model"


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """What one input file may hold."""

    max_lines: int = 50_000
    max_file_bytes: int = 500 * 1024 * 1024
    max_line_bytes: int = 6 * 1024 * 1024


BAILIAN_LIMITS = BatchLimits()
# The free test model takes small files only.
DRY_RUN_LIMITS = BatchLimits(max_lines=100, max_file_bytes=1024 * 1024, max_line_bytes=1024 * 1024)


def request_line(custom_id: str, body: Mapping[str, Any], url: str = CHAT_URL) -> dict[str, Any]:
    """One input line; ``body`` is the prepared request's body (the streaming fields are dropped)."""
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": normalized_body(body)}


def encode_line(line: Mapping[str, Any]) -> bytes:
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def thinking_mode(body: Mapping[str, Any]) -> bool | None:
    """The thinking mode a body asks for (top-level ``enable_thinking``, or vLLM's spelling)."""
    value = body.get("enable_thinking")
    if value is None and isinstance(body.get("chat_template_kwargs"), Mapping):
        value = body["chat_template_kwargs"].get("enable_thinking")
    return value if isinstance(value, bool) else None


@dataclass(slots=True)
class InputFile:
    """One file to upload: its lines (encoded) and the one model and thinking mode they share."""

    model: str
    enable_thinking: bool | None
    lines: list[bytes]

    @property
    def size(self) -> int:
        return sum(len(line) for line in self.lines)

    def data(self) -> bytes:
        return b"".join(self.lines)


def split_files(lines: Iterable[Mapping[str, Any]], limits: BatchLimits = BAILIAN_LIMITS) -> list[InputFile]:
    """Group lines by (model, thinking mode), in first-seen order, then cut each group by the limits.

    A line above ``max_line_bytes`` cannot be sent at all: refused here, naming its custom_id.
    """
    groups: dict[tuple[str, bool | None], list[bytes]] = {}
    for line in lines:
        body = line["body"]
        encoded = encode_line(line)
        if len(encoded) > limits.max_line_bytes:
            raise ConfigurationError(
                f"request {line['custom_id']} is {len(encoded):,} bytes, above the {limits.max_line_bytes:,}-byte "
                "limit for one batch line: shorten that prompt (or run it with thinkbook.batch)"
            )
        groups.setdefault((str(body.get("model")), thinking_mode(body)), []).append(encoded)
    files: list[InputFile] = []
    for (model, thinking), encoded_lines in groups.items():
        current: list[bytes] = []
        size = 0
        for encoded in encoded_lines:
            if current and (len(current) >= limits.max_lines or size + len(encoded) > limits.max_file_bytes):
                files.append(InputFile(model, thinking, current))
                current, size = [], 0
            current.append(encoded)
            size += len(encoded)
        if current:
            files.append(InputFile(model, thinking, current))
    return files
