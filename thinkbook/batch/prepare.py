"""Turn ``(prompts, model, variants, **options)`` into checked requests, one per row, before any is sent.

A row's request is built exactly as :func:`thinkbook.think` builds its own (the same
``_prepare``): every option ``think()`` takes is accepted, and a bad one fails here, naming the
prompt, before anything is sent. The options ``think()`` accepts are read from its signature, so
a new option of ``think()`` works here the day it lands.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import _api
from .._errors import ConfigurationError, warn_user
from .._offline import ReplayNote, collected_replay_notes
from .._request import PreparedRequest
from .cache import request_key

__all__ = ["PlannedRow", "labelled_prompts", "plan_rows", "prepare_call"]

# Options the batch itself decides: a row never draws its own view, and retries are the runner's.
_BATCH_OWNED = {"display", "max_retries", "prompt", "model"}


def _think_options() -> dict[str, Any]:
    """think()'s keyword options with their defaults (``extra_body`` is the ``**`` rest)."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(_api.think).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


def prepare_call(prompt: Any, model: str, options: Mapping[str, Any]) -> PreparedRequest:
    """The request ``think(prompt, model=model, **options)`` would send."""
    arguments = _think_options()
    extra: dict[str, Any] = {}
    for name, value in options.items():
        if name in _BATCH_OWNED:
            raise ConfigurationError(
                f"{name}= is set by the batch itself (display: display='rows' or progress=; "
                "retries: max_retries= of batch()); leave it out of the options"
            )
        if name in arguments:
            arguments[name] = value
        else:
            extra[name] = value
    arguments.update(prompt=prompt, model=model, extra_body=extra, display=False, max_retries=0)
    return _api._prepare_from(arguments)


def labelled_prompts(prompts: Any) -> tuple[list[tuple[Any, Any]], str | None]:
    """``[(label, prompt)]`` from a list or a pandas Series (its index labels are kept), and the
    index's name."""
    if isinstance(prompts, str | bytes):
        raise ConfigurationError(
            "prompts must be a list of prompts (or a pandas Series), got one string: wrap it, batch([prompt], ...)"
        )
    if isinstance(prompts, Mapping):
        raise ConfigurationError("prompts must be a list of prompts or a pandas Series, got a dict")
    kind = type(prompts).__name__
    if kind == "DataFrame":
        raise ConfigurationError(
            "prompts is a DataFrame: pass one column (df['question']), or a list built from its rows; "
            "%%think --batch VAR fills a template from every column"
        )
    if kind == "Series" and hasattr(prompts, "index") and hasattr(prompts, "items"):
        return list(prompts.items()), getattr(prompts.index, "name", None)
    if isinstance(prompts, Sequence) or hasattr(prompts, "__iter__"):
        return list(enumerate(prompts)), None
    raise ConfigurationError(f"prompts must be a list of prompts or a pandas Series, got {kind}")


def check_variants(variants: Any) -> list[tuple[str | None, dict[str, Any]]]:
    """``[(name, options)]``; ``[(None, {})]`` when no variants were given."""
    if variants is None:
        return [(None, {})]
    if not isinstance(variants, Mapping) or not variants:
        raise ConfigurationError(
            'variants= must be a dict of name -> options, e.g. {"on": {"enable_thinking": True}, '
            '"off": {"enable_thinking": False}}'
        )
    checked: list[tuple[str | None, dict[str, Any]]] = []
    for name, options in variants.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"variant names must be non-empty text, got {name!r}")
        if not isinstance(options, Mapping):
            raise ConfigurationError(f"variant {name!r} must map option names to values, got {type(options).__name__}")
        checked.append((name, dict(options)))
    return checked


@dataclass(slots=True)
class PlannedRow:
    """One row to run: where it sits in the output, its request and its cache key."""

    position: int
    label: Any
    prompt: Any
    variant: str | None
    model: str
    request: PreparedRequest | None
    key: str


def plan_rows(
    prompts: Any, *, model: str, variants: Any, options: Mapping[str, Any]
) -> tuple[list[PlannedRow], str | None, list[ReplayNote]]:
    """Every row's checked request, in output order (prompt-major), and the offline replays used."""
    labelled, index_name = labelled_prompts(prompts)
    variant_list = check_variants(variants)
    rows: list[PlannedRow] = []
    seen: dict[str, int] = {}
    with collected_replay_notes() as notes:
        for label, prompt in labelled:
            for name, variant_options in variant_list:
                merged = {**options, **variant_options}
                row_model = merged.pop("model", model)
                try:
                    request = prepare_call(prompt, row_model, merged)
                except ConfigurationError as error:
                    raise _with_row(error, label, name) from None
                base = request_key(request)
                occurrence = seen.get(base, 0)
                seen[base] = occurrence + 1
                key = base if occurrence == 0 else request_key(request, occurrence)
                rows.append(PlannedRow(len(rows), label, prompt, name, row_model, request, key))
    return rows, index_name, notes


def _with_row(error: ConfigurationError, label: Any, variant: str | None) -> ConfigurationError:
    """The same error, saying which prompt (and variant) it is about; nothing was sent."""
    where = f"prompt {label!r}" + (f" (variant {variant!r})" if variant else "")
    error.args = (f"{where}: {error.message}; nothing was sent",)
    error.message = error.args[0]
    return error


def say_replays(notes: list[ReplayNote], rows: list[PlannedRow]) -> str | None:
    """One warning for the rows about to replay instead of one per row; the note for the result.

    Rows answered from the cache replay nothing, so a fully cached rerun says nothing.
    """
    replaying = sum(1 for row in rows if row.request is not None and row.request.replay_source is not None)
    if not notes or not replaying:
        return None
    kinds = sorted({note.provenance for note in notes})
    text = (
        f"no {notes[0].variable} set: {replaying} of the {len(rows)} rows replay recorded answers "
        f"({'; '.join(kinds)}). Set {notes[0].variable} to ask the live model."
    )
    warn_user(text)
    return text


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
