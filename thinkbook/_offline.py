"""Offline replay: with no key and no endpoint configured, a call answers from a recording.

So that a fresh machine with no API key still runs the notebooks, a request that a recording
answers (``./recordings/*.jsonl`` next to the notebook first, then the shipped ones) replays it
through the same decoder and views as a live stream; otherwise the missing-key error says what
came closest. The thinking options are checked exactly as for a live request first, so offline
users meet the same errors. Each replay says so, naming the key that would make it live and what
kind of file answered; a panel or a batch gathers its replays into one sentence.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from ._endpoints import Endpoint
from ._errors import ConfigurationError, MissingAPIKeyError
from ._fallback import ILLUSTRATIVE_REPLAY
from ._notices import notice
from ._protocols.base import BodyInput
from ._replay import Recording, describe_near_miss, find_recording, replay_url
from ._request import Message, PreparedRequest, check_thinking_options
from .tools.loop import ToolOptions


def replay_request(recording: Recording, speed: float = 1.0) -> PreparedRequest:
    """A request that the engine answers from ``recording`` instead of the network."""
    if not isinstance(speed, int | float) or isinstance(speed, bool) or speed < 0:
        raise ConfigurationError(f"speed must be a number >= 0 (0 = no pauses), got {speed!r}")
    endpoint = Endpoint(
        url=replay_url(recording.path, float(speed)),
        base_url=f"{ILLUSTRATIVE_REPLAY if recording.illustrative else 'replay:'}{recording.path.name}",
        # load_recording checked that the registry knows it.
        protocol=recording.protocol,
        provider="bailian",
    )
    return PreparedRequest(
        endpoint=endpoint, model=recording.model, body=recording.request, replay_source=recording.source
    )


def offline_replay(
    model: str,
    messages: list[Message],
    enable_thinking: bool | None,
    thinking_budget: int | None,
    preserve_thinking: bool | None,
    missing: MissingAPIKeyError,
    *,
    announce: bool = True,
) -> PreparedRequest:
    """No key and no endpoint configured: answer from a recording when one matches.

    ``announce``: say so (a tool loop's later rounds do not: its first round said it for the loop,
    and they are found on the engine's thread, where a notice would be a warning outside the cell's).

    The thinking options are checked exactly as for a live request first, so offline users meet
    the same errors (``enable_thinking=False`` on a thinking-only model, ...). Recordings next to
    the notebook (``./recordings/*.jsonl``) come first, then the shipped ones.
    """
    enable, budget, preserve = check_thinking_options(model, enable_thinking, thinking_budget, preserve_thinking)
    local = Path.cwd() / "recordings"
    extra = (local,) if local.is_dir() else ()
    recording = find_recording(
        model, messages, enable_thinking=enable, thinking_budget=budget, preserve_thinking=preserve, extra_dirs=extra
    )
    if recording is None:
        raise MissingAPIKeyError(
            f"{missing}. "
            + describe_near_miss(
                model,
                messages,
                enable_thinking=enable,
                thinking_budget=budget,
                preserve_thinking=preserve,
                extra_dirs=extra,
            ),
            variable=missing.variable,
        ) from None
    speed = _offline_replay_speed()
    note = ReplayNote(missing.variable or "API key", _provenance(recording), recording.path.name)
    collected = _replay_notes.get()
    if not announce:
        pass
    elif collected is not None:
        collected.append(note)
    else:
        notice(
            f"no {note.variable} set: replaying a recorded answer ({note.provenance}: {note.file}). "
            f"Set {note.variable} to ask the live model.",
            topic=("offline replay", note.variable),
            item=note,
            summary=replays_summary,
        )
    return replay_request(recording, speed)


# Set while a panel prepares several requests at once: their offline-replay notes are gathered here
# and said once by the panel, instead of one warning per column.
class ReplayNote(NamedTuple):
    """One offline replay a panel prepared: the key that was missing, what the file is, its name."""

    variable: str
    provenance: str
    file: str


_replay_notes: ContextVar[list[ReplayNote] | None] = ContextVar("_replay_notes", default=None)


@contextlib.contextmanager
def collected_replay_notes() -> Iterator[list[ReplayNote]]:
    """Gather the offline replays prepared inside the block."""
    notes: list[ReplayNote] = []
    token = _replay_notes.set(notes)
    try:
        yield notes
    finally:
        _replay_notes.reset(token)


def replays_summary(
    notes: Sequence[ReplayNote], *, shown: int | None = 3, what: str | None = None, live: str = "model"
) -> str:
    """One sentence for several offline replays (a cell's calls, a panel's columns): how many, from
    what kind of file, and every key variable that would make them live (Claude columns name
    ``ANTHROPIC_API_KEY``, not Bailian's). ``shown``: file names listed per kind (None: all)."""
    variables = list(dict.fromkeys(note.variable for note in notes))
    files: dict[str, list[str]] = {}
    for note in notes:
        files.setdefault(note.provenance, []).append(note.file)
    kinds = []
    for kind, names in files.items():
        listed = names if shown is None else names[:shown]
        more = f" and {len(names) - len(listed)} more" if len(names) > len(listed) else ""
        kinds.append(f"{kind}: {', '.join(listed)}{more}")
    missing = " / ".join(variables)
    counted = what or f"{len(notes)} calls in this cell"
    return (
        f"no {missing} set: {counted} replay recorded answers ({'; '.join(kinds)}). "
        f"Set {' or '.join(variables)} to ask the live {live}."
    )


def _provenance(recording: Recording) -> str:
    """What a replayed file is, in a few words a reader can trust."""
    source = recording.source
    if recording.illustrative:
        return "illustrative, not model output"
    if source.startswith("built from the Bailian"):
        return "rebuilt from the Bailian guide's transcript"
    if source.startswith("recorded with"):
        return "a live recording"
    return source or "recorded"


def _offline_replay_speed() -> float:
    """``THINKBOOK_REPLAY_SPEED``: how fast offline answers replay (1 = as recorded, 0 = no pauses).

    Classrooms and CI runs of the teaching notebooks speed the replays up without touching the cells.
    """
    raw = os.environ.get("THINKBOOK_REPLAY_SPEED", "").strip()
    if not raw:
        return 1.0
    try:
        speed = float(raw)
    except ValueError:
        speed = -1.0
    if not speed >= 0:  # also refuses NaN
        raise ConfigurationError(
            f"THINKBOOK_REPLAY_SPEED must be a number >= 0 (1 = as recorded, 0 = no pauses), got {raw!r}"
        )
    return speed


def offline_rounds(
    replayed: PreparedRequest,
    options: ToolOptions,
    messages: list[Message],
    model: str,
    enable_thinking: bool | None,
    thinking_budget: int | None,
    preserve_thinking: bool | None,
    missing: MissingAPIKeyError,
) -> PreparedRequest:
    """An offline tool loop: every round replays its own recording, found by the history so far
    (the tool results' ids tell the rounds apart, see ``_replay.find_recording``)."""

    def next_round(history: list[Message]) -> PreparedRequest:
        request = offline_replay(
            model, history, enable_thinking, thinking_budget, preserve_thinking, missing, announce=False
        )
        return offline_rounds(
            request, options, history, model, enable_thinking, thinking_budget, preserve_thinking, missing
        )

    return replace(
        replayed, tools=options, body_input=BodyInput(model=model, messages=list(messages)), rebuild=next_round
    )
