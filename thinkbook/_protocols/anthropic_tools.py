"""Tools on the Anthropic Messages protocol: the request fields, the history blocks, the stream.

A helper of :mod:`thinkbook._protocols.anthropic` (no ``PROTOCOL`` here). Sources:
platform.claude.com "Tool use" (``tools[]`` with ``name`` / ``description`` / ``input_schema``;
``tool_choice`` ``{"type": "auto" | "any" | "tool" | "none"}``; ``tool_use`` blocks in the
assistant turn, ``tool_result`` blocks in the next user turn), "Extended thinking" / "Thinking
with tool use" (with thinking on, ``tool_choice`` may only be ``auto`` or ``none``; the thinking
blocks, signatures included, go back unmodified in the same assistant turn as the ``tool_use``
blocks) and "Streaming messages" (a ``tool_use`` block opens with ``id``, ``name`` and an empty
``input``, its JSON arrives as ``input_json_delta`` ``partial_json`` pieces, ``stop_reason``
``tool_use``).

Neutral tool choice -> Anthropic: ``"auto"`` -> auto, ``"none"`` -> none, ``"required"`` -> any,
a named function -> ``{"type": "tool", "name"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import ConfigurationError
from .._wire import WireChunk
from .tool_specs import Choice, NeutralCall, call_arguments, choice_of, function_specs

__all__ = ["STOP_REASONS", "ToolUseBlocks", "finish_reason", "tool_fields", "tool_use_blocks"]

#: Anthropic stop reasons in thinkbook's (OpenAI's) words; others (stop_sequence, pause_turn,
#: refusal...) are kept as the server says them
STOP_REASONS = {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def finish_reason(stop_reason: str) -> str:
    return STOP_REASONS.get(stop_reason, stop_reason)


def _choice_field(choice: Choice) -> dict[str, Any]:
    if isinstance(choice, tuple):
        return {"type": "tool", "name": choice[1]}
    return {"type": {"auto": "auto", "none": "none", "required": "any"}[choice]}


def tool_fields(
    tools: Sequence[Mapping[str, Any]], tool_choice: str | Mapping[str, Any] | None, *, thinking: bool
) -> dict[str, Any]:
    """``tools`` and ``tool_choice`` in Anthropic's spelling (``{}`` without tools).

    ``thinking``: the request turns thinking on; Anthropic then refuses a forced tool call.
    """
    specs = function_specs(tools)
    choice = choice_of(tool_choice, specs)
    if thinking and choice is not None and choice not in ("auto", "none"):
        raise ConfigurationError(
            f"with thinking on, the Anthropic Messages API only takes tool_choice 'auto' or 'none' (got "
            f"{tool_choice!r:.80}): drop tool_choice, or pass enable_thinking=False to force a tool call"
        )
    if not specs:
        return {}
    fields: dict[str, Any] = {
        "tools": [
            {
                "name": spec.name,
                **({"description": spec.description} if spec.description else {}),
                "input_schema": spec.parameters,
            }
            for spec in specs
        ]
    }
    if choice is not None:
        fields["tool_choice"] = _choice_field(choice)
    return fields


def tool_use_blocks(calls: Sequence[NeutralCall]) -> list[dict[str, Any]]:
    """The assistant turn's calls as ``tool_use`` blocks (``input`` is a JSON object)."""
    return [{"type": "tool_use", "id": call.id, "name": call.name, "input": call_arguments(call)} for call in calls]


class ToolUseBlocks:
    """The ``tool_use`` blocks of one response, turned into the contract's ``tool_calls`` deltas.

    Calls are numbered 0, 1, ... in the order their blocks open (the block index counts thinking
    and text blocks too). A server that sends the whole ``input`` in ``content_block_start`` and
    no ``input_json_delta`` still gives the arguments, at ``content_block_stop``.
    """

    __slots__ = ("_calls", "_streamed", "_whole")

    def __init__(self) -> None:
        self._calls: dict[int, int] = {}  # block index -> call index
        self._whole: dict[int, Any] = {}  # block index -> input sent in content_block_start
        self._streamed: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self._calls)

    def start(self, index: int, block: Mapping[str, Any]) -> WireChunk | None:
        call_id, name = block.get("id"), block.get("name")
        if type(name) is not str or not name:
            return None  # not a call anyone could run
        number = self._calls[index] = len(self._calls)
        delta: dict[str, Any] = {"index": number, "function": {"name": name, "arguments": ""}}
        if type(call_id) is str and call_id:
            delta["id"] = call_id
        given = block.get("input")
        if isinstance(given, Mapping) and given:
            self._whole[index] = given
        return WireChunk(tool_calls=[delta])

    def delta(self, index: object, partial_json: object) -> WireChunk | None:
        number = self._calls.get(index) if type(index) is int else None
        if number is None or type(partial_json) is not str or not partial_json:
            return None
        self._streamed.add(number)
        return WireChunk(tool_calls=[{"index": number, "function": {"arguments": partial_json}}])

    def stop(self, index: int) -> WireChunk | None:
        number = self._calls.get(index)
        if number is None or number in self._streamed or index not in self._whole:
            return None
        arguments = json.dumps(self._whole[index], ensure_ascii=False)
        return WireChunk(tool_calls=[{"index": number, "function": {"arguments": arguments}}])
