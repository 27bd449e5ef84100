"""The neutral tool fields every non-OpenAI protocol translates, read and checked in one place.

A helper of the protocol modules (no ``PROTOCOL`` here, so the registry skips it). The neutral
spelling is the contract's (:mod:`thinkbook._protocols.base`): OpenAI-format tool specs, an
OpenAI-style ``tool_choice``, assistant turns with ``tool_calls`` and ``tool`` messages. Each
protocol module turns what these functions return into its own spelling; anything malformed is a
:class:`~thinkbook.ConfigurationError` before a request is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .._errors import ConfigurationError
from .base import STATE_KEY

__all__ = [
    "Choice",
    "FunctionSpec",
    "NeutralCall",
    "call_arguments",
    "choice_of",
    "function_specs",
    "neutral_calls",
    "refuse_search",
    "search_asked",
    "tool_result_text",
]

#: a checked tool choice: a mode, or ("function", name) for one named function
Choice = Literal["auto", "none", "required"] | tuple[Literal["function"], str]
_MODES = ("auto", "none", "required")
_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function tool: its name, description and JSON Schema (an object schema)."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NeutralCall:
    """One entry of an assistant turn's ``tool_calls``: ``arguments`` is the JSON text as the
    model sent it, ``state`` the call's own opaque state (``STATE_KEY``), if any."""

    id: str
    name: str
    arguments: str
    state: Mapping[str, Any] | None


def function_specs(tools: Sequence[Mapping[str, Any]]) -> list[FunctionSpec]:
    """The OpenAI-format tool specs as :class:`FunctionSpec` s (a spec without ``parameters``
    takes no arguments: an empty object schema)."""
    specs = []
    for position, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if (
            not isinstance(tool, Mapping)
            or tool.get("type", "function") != "function"
            or not isinstance(function, Mapping)
        ):
            raise ConfigurationError(
                f"tool {position} is not an OpenAI-format function tool: pass "
                '{"type": "function", "function": {"name": ..., "description": ..., "parameters": {...}}} or a callable'
            )
        name = function.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"tool {position} has no function name")
        description = function.get("description")
        parameters = function.get("parameters")
        if parameters is None:
            parameters = dict(_EMPTY_SCHEMA)
        if not isinstance(parameters, Mapping):
            raise ConfigurationError(f"tool {name!r}: its parameters must be a JSON Schema object (a dict)")
        specs.append(FunctionSpec(name, description if isinstance(description, str) else "", dict(parameters)))
    return specs


def choice_of(tool_choice: str | Mapping[str, Any] | None, specs: Sequence[FunctionSpec]) -> Choice | None:
    """The checked tool choice (None: leave it to the server). Forcing a call (``"required"``, a
    named function) needs tools, and a named function must be one of them."""
    if tool_choice is None:
        return None
    choice: Choice
    if isinstance(tool_choice, str):
        if tool_choice not in _MODES:
            raise ConfigurationError(
                f"unknown tool_choice {tool_choice!r}: use 'auto', 'none', 'required' or "
                '{"type": "function", "function": {"name": ...}}'
            )
        choice = tool_choice  # type: ignore[assignment]  # checked against _MODES just above
    else:
        function = tool_choice.get("function") if isinstance(tool_choice, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(tool_choice, Mapping) or tool_choice.get("type") != "function" or not isinstance(name, str):
            raise ConfigurationError(
                f"tool_choice {tool_choice!r:.80} is not understood: use 'auto', 'none', 'required' or "
                '{"type": "function", "function": {"name": ...}}'
            )
        choice = ("function", name)
    if choice in ("required",) or isinstance(choice, tuple):
        if not specs:
            raise ConfigurationError(f"tool_choice={tool_choice!r:.80} forces a tool call, but no tools were given")
        if isinstance(choice, tuple) and choice[1] not in {spec.name for spec in specs}:
            known = ", ".join(spec.name for spec in specs)
            raise ConfigurationError(f"tool_choice names {choice[1]!r}, which is not one of the tools ({known})")
    return choice


def search_asked(search: Mapping[str, Any] | None) -> bool:
    """Whether ``BodyInput.search`` asks for web search (``{"enable_search": False}`` does not)."""
    return bool(search) and bool(search.get("enable_search", True))  # type: ignore[union-attr]


def refuse_search(search: Mapping[str, Any] | None, title: str) -> None:
    """Raise when web search is asked on a protocol that has no Bailian web search."""
    if search_asked(search):
        raise ConfigurationError(
            f"web search (enable_search / search_options) is Bailian's, and the {title} has no such option: "
            "use a Bailian model with protocol='dashscope' (sources and citations) or protocol='openai', "
            "or drop enable_search"
        )


def neutral_calls(message: Mapping[str, Any], where: str) -> list[NeutralCall]:
    """An assistant turn's ``tool_calls`` (empty list when it has none), checked."""
    calls = message.get("tool_calls")
    if message.get("function_call") and not calls:
        raise ConfigurationError(
            f"{where} uses the old 'function_call' field: write it as 'tool_calls' "
            '([{"id", "type": "function", "function": {"name", "arguments"}}])'
        )
    if not calls:
        return []
    if not isinstance(calls, list):
        raise ConfigurationError(f"{where}: tool_calls must be a list")
    out = []
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(call, Mapping) or not isinstance(function, Mapping):
            raise ConfigurationError(f"{where}: each tool call needs an 'id' and a 'function' with name and arguments")
        call_id, name, arguments = call.get("id"), function.get("name"), function.get("arguments")
        if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
            raise ConfigurationError(f"{where}: each tool call needs an 'id' and a 'function' with name and arguments")
        if isinstance(arguments, Mapping):
            arguments = json.dumps(arguments, ensure_ascii=False)
        state = call.get(STATE_KEY)
        out.append(
            NeutralCall(
                call_id,
                name,
                arguments if isinstance(arguments, str) else "",
                state if isinstance(state, Mapping) else None,
            )
        )
    return out


def call_arguments(call: NeutralCall) -> dict[str, Any]:
    """A call's arguments as the JSON object the protocols that want an object need.

    Empty text is no arguments. Text that is not a JSON object (the model's own broken output:
    the tool loop already answered that call with an error the model sees) goes as ``{}``: the
    next request must stay sendable, and the raw text is in that error result.
    """
    if not call.arguments.strip():
        return {}
    try:
        value = json.loads(call.arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def tool_result_text(message: Mapping[str, Any], where: str) -> tuple[str, str]:
    """(tool_call_id, content text) of a ``tool`` message."""
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise ConfigurationError(f"{where} (tool): needs the 'tool_call_id' of the call it answers")
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(
            part["text"] for part in content if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    elif content is None:
        content = ""
    elif not isinstance(content, str):
        raise ConfigurationError(f"{where} (tool): content must be the result as text")
    return call_id, content
