"""``thinkbook.recordings()``: what replays offline, as a table that reads in a notebook and a terminal."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._replay import Recording, _all_recordings, _thinks

_PROMPT_CHARS = 40


@dataclass(frozen=True, slots=True)
class RecordingEntry:
    """One recording a keyless call can replay: the options that play it and where it comes from."""

    model: str
    thinking: str
    prompt: str
    turns: int
    file: str
    illustrative: bool
    source: str

    @classmethod
    def of(cls, recording: Recording) -> RecordingEntry:
        thinks = _thinks(recording.model, recording.enable_thinking)
        thinking = {True: "on", False: "off", None: "model default"}[thinks]
        if recording.thinking_budget is not None:
            thinking += f", budget {recording.thinking_budget}"
        if recording.effort is not None:
            thinking += f", effort {recording.effort}"
        if recording.preserve_thinking:
            thinking += ", preserve"
        turns = recording.user_turns
        last = " ".join((turns[-1] if turns else "").split())
        prompt = last if len(last) <= _PROMPT_CHARS else last[: _PROMPT_CHARS - 1] + "…"
        return cls(
            recording.model, thinking, prompt, len(turns), recording.path.name, recording.illustrative, recording.source
        )


class RecordingsTable(list[RecordingEntry]):
    """A list of :class:`RecordingEntry` that shows itself as a table."""

    _COLUMNS = ("model", "thinking", "prompt (last turn)", "file", "kind")

    def _rows(self) -> list[tuple[str, ...]]:
        return [(e.model, e.thinking, e.prompt, e.file, "illustrative" if e.illustrative else "recorded") for e in self]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{name}</th>" for name in self._COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in self._rows()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self._text())

    def _text(self) -> str:
        rows = [self._COLUMNS, *self._rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self._COLUMNS))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def recordings(directory: str | Path | None = None) -> RecordingsTable:
    """What a call with no key replays: ``./recordings`` (or ``directory``) first, then the shipped files."""
    local = Path(directory) if directory is not None else Path.cwd() / "recordings"
    extra = (local,) if local.is_dir() else ()
    return RecordingsTable(RecordingEntry.of(r) for r in _all_recordings(extra))
