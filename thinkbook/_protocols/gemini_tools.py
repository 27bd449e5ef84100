"""Tools on the Gemini protocol: function declarations, the tool loop's parts, the stream's calls.

A helper of :mod:`thinkbook._protocols.gemini` (no ``PROTOCOL`` here). Sources:
googleapis/python-genai ``types.py`` (``FunctionDeclaration`` with ``parametersJsonSchema``, a
full JSON Schema, "mutually exclusive with parameters", the OpenAPI subset that rejects keywords
pydantic writes; ``FunctionCallingConfig`` ``mode`` AUTO / ANY / NONE and
``allowedFunctionNames``; ``FunctionCall`` ``id`` / ``name`` / ``args`` (an object);
``FunctionResponse`` ``id`` / ``name`` / ``response``: "Use 'output' key to specify function
output"), ai.google.dev thought-signatures (a ``functionCall`` part carries the
``thoughtSignature``, with parallel calls only the first one; it must go back unchanged, in the
model turn as received, else 400 "Function call is missing a thought_signature"; the results go
in the next ``user`` turn as ``functionResponse`` parts).

Neutral tool choice -> ``toolConfig.functionCallingConfig``: ``"auto"`` -> AUTO, ``"none"`` ->
NONE, ``"required"`` -> ANY, a named function -> ANY with ``allowedFunctionNames: [name]``.

A call's own state (the contract's ``STATE_KEY`` on its delta and its ``tool_calls`` entry):
``{"protocol": "gemini", "thought_signature": ..., "id": ...}``, each key only when Gemini sent
it, so a model turn rebuilt from ``tool_calls`` carries the signature and the id Gemini gave.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import ConfigurationError
from .base import STATE_KEY
from .tool_specs import Choice, NeutralCall, call_arguments, choice_of, function_specs

__all__ = ["call_delta", "model_parts_with_calls", "response_part", "tool_fields"]

NAME = "gemini"
_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def _config(choice: Choice) -> dict[str, Any]:
    if isinstance(choice, tuple):
        return {"mode": "ANY", "allowedFunctionNames": [choice[1]]}
    return {"mode": _MODES[choice]}


def tool_fields(tools: Sequence[Mapping[str, Any]], tool_choice: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """``tools`` (one ``functionDeclarations`` tool) and ``toolConfig`` (``{}`` without tools)."""
    specs = function_specs(tools)
    choice = choice_of(tool_choice, specs)
    if not specs:
        return {}
    declarations = []
    for spec in specs:
        declaration: dict[str, Any] = {"name": spec.name}
        if spec.description:
            declaration["description"] = spec.description
        declaration["parametersJsonSchema"] = spec.parameters
        declarations.append(declaration)
    fields: dict[str, Any] = {"tools": [{"functionDeclarations": declarations}]}
    if choice is not None:
        fields["toolConfig"] = {"functionCallingConfig": _config(choice)}
    return fields


def call_delta(part: Mapping[str, Any], number: int) -> dict[str, Any] | None:
    """The ``tool_calls`` delta of a ``functionCall`` part (Gemini sends a call whole)."""
    call = part.get("functionCall")
    name = call.get("name") if type(call) is dict else None
    if type(name) is not str or not name:
        return None
    args = call.get("args")  # type: ignore[union-attr]  # a dict: checked above
    arguments = json.dumps(args if type(args) is dict else {}, ensure_ascii=False)
    delta: dict[str, Any] = {"index": number, "function": {"name": name, "arguments": arguments}}
    state: dict[str, Any] = {}
    call_id = call.get("id")  # type: ignore[union-attr]
    if type(call_id) is str and call_id:
        delta["id"] = state["id"] = call_id
    signature = part.get("thoughtSignature")
    if type(signature) is str and signature:
        state["thought_signature"] = signature
    if state:
        delta[STATE_KEY] = {"protocol": NAME, **state}
    return delta


def _call_state(call: NeutralCall) -> Mapping[str, Any]:
    state = call.state
    return state if state is not None and state.get("protocol") == NAME else {}


def model_parts_with_calls(
    kept: list[dict[str, Any]] | None, text: str, calls: Sequence[NeutralCall]
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str | None]]]:
    """The model turn of a round that called tools, and its calls by ``tool_call_id`` ->
    (function name, Gemini's call id or None) for the ``functionResponse`` parts after it.

    ``kept``: the turn's parts as received (its state, when it still matches the answer). When
    their ``functionCall`` parts are the turn's calls, in order, they go back unchanged; else the
    other kept parts (or the answer text) are followed by ``functionCall`` parts rebuilt from
    ``tool_calls``, each with its own signature.
    """
    names = {call.id: call.name for call in calls}
    if kept is not None:
        received = [part["functionCall"] for part in kept if isinstance(part.get("functionCall"), dict)]
        if [fc.get("name") for fc in received] == [call.name for call in calls] and all(
            fc.get("id") in (None, call.id) for fc, call in zip(received, calls, strict=True)
        ):
            gemini_ids = [fc.get("id") if isinstance(fc.get("id"), str) else None for fc in received]
            return kept, {call.id: (names[call.id], gid) for call, gid in zip(calls, gemini_ids, strict=True)}
        parts = [part for part in kept if "functionCall" not in part]
    else:
        parts = [{"text": text}] if text else []
    ids: dict[str, tuple[str, str | None]] = {}
    for call in calls:
        state = _call_state(call)
        function_call: dict[str, Any] = {"name": call.name, "args": call_arguments(call)}
        gemini_id = state.get("id") if isinstance(state.get("id"), str) else None
        if gemini_id is not None:
            function_call = {"id": gemini_id, **function_call}
        part: dict[str, Any] = {"functionCall": function_call}
        signature = state.get("thought_signature")
        if isinstance(signature, str) and signature:
            part["thoughtSignature"] = signature
        parts.append(part)
        ids[call.id] = (call.name, gemini_id)
    return parts, ids


def response_part(call_id: str, output: str, calls: Mapping[str, tuple[str, str | None]], where: str) -> dict[str, Any]:
    """A ``tool`` message as a ``functionResponse`` part (the result text under ``output``)."""
    known = calls.get(call_id)
    if known is None:
        raise ConfigurationError(
            f"{where}: tool_call_id {call_id!r} answers no earlier tool call; Gemini's function response "
            "needs the call's function name, so keep the assistant turn with its tool_calls before the results"
        )
    name, gemini_id = known
    response: dict[str, Any] = {"name": name, "response": {"output": output}}
    if gemini_id is not None:
        response = {"id": gemini_id, **response}
    return {"functionResponse": response}
