"""Tools on the OpenAI Responses protocol: request fields and the stream's function calls.

A helper of :mod:`thinkbook._protocols.responses` (no ``PROTOCOL`` here). Sources:
openai/openai-python ``src/openai/types/responses`` (``function_tool_param.py``: ``{"type":
"function", "name", "description", "parameters", "strict"}``, strict "Default true";
``tool_choice_function_param.py``: ``{"type": "function", "name"}``; ``tool_choice_options``:
``none`` / ``auto`` / ``required``; ``response_output_item_added_event.py``,
``response_function_call_arguments_delta_event.py`` / ``..._done_event.py``,
``response_function_tool_call.py``: a ``function_call`` item with ``id`` (``fc_...``),
``call_id``, ``name``, ``arguments``). Bailian's Responses reference documents the same function
tools, and its built-in web search as the ``{"type": "web_search"}`` tool, whose call shows as a
``web_search_call`` item with ``action.sources`` (protocols.md; alibabacloud.com
qwen-api-via-openai-responses).

``strict``: Chat Completions (the neutral spelling) defaults to non-strict schemas, Responses to
strict ones, which refuse any schema without ``additionalProperties: false`` and every property
required. So OpenAI gets ``"strict": false`` unless the spec says otherwise; Bailian, whose
reference does not list the field, gets it only when the spec sets it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import ConfigurationError
from .._wire import WireChunk
from .tool_specs import choice_of, function_specs, refuse_search, search_asked

__all__ = ["FunctionCalls", "search_sources", "tool_fields"]


def _strict(tool: Mapping[str, Any]) -> bool | None:
    function = tool.get("function")
    strict = function.get("strict") if isinstance(function, Mapping) else None
    return strict if isinstance(strict, bool) else None


def tool_fields(
    tools: Sequence[Mapping[str, Any]],
    tool_choice: str | Mapping[str, Any] | None,
    search: Mapping[str, Any] | None,
    *,
    bailian: bool,
    title: str,
) -> dict[str, Any]:
    """``tools`` and ``tool_choice`` for the body (``{}`` when there are none)."""
    specs = function_specs(tools)
    choice = choice_of(tool_choice, specs)
    sent: list[dict[str, Any]] = []
    for spec, tool in zip(specs, tools, strict=True):
        entry: dict[str, Any] = {"type": "function", "name": spec.name}
        if spec.description:
            entry["description"] = spec.description
        entry["parameters"] = spec.parameters
        strict = _strict(tool)
        if strict is not None or not bailian:
            entry["strict"] = bool(strict)
        sent.append(entry)
    if search_asked(search):
        if not bailian:
            refuse_search(search, title)
        if search and search.get("search_options"):
            raise ConfigurationError(
                "Bailian's Responses API searches the web with its built-in web_search tool, which takes no "
                "search_options (strategy, citations, sources first): drop them, or use protocol='dashscope' "
                "for the full search options with sources and citations"
            )
        sent.append({"type": "web_search"})
    fields: dict[str, Any] = {}
    if sent:
        fields["tools"] = sent
        if choice is not None:
            fields["tool_choice"] = {"type": "function", "name": choice[1]} if isinstance(choice, tuple) else choice
    return fields


def search_sources(item: Mapping[str, Any]) -> list[Any] | None:
    """The sources of a finished ``web_search_call`` item (its ``action.sources``), raw."""
    action = item.get("action")
    sources = action.get("sources") if isinstance(action, Mapping) else None
    return sources if isinstance(sources, list) and sources else None


def _str(value: object) -> str | None:
    return value if type(value) is str and value else None


class FunctionCalls:
    """The ``function_call`` items of one response, as the contract's ``tool_calls`` deltas.

    Calls are numbered 0, 1, ... as their items are added. The first delta carries ``call_id``
    (the id results answer to) and ``name``; argument text then comes from
    ``function_call_arguments.delta`` events. A server that skips the deltas still gives the
    arguments, from ``.done`` or the item's ``output_item.done``; one that sends the item only
    when done gives the whole call then.
    """

    __slots__ = ("_by_item", "_by_output", "_count", "_texted")

    def __init__(self) -> None:
        self._count = 0
        self._by_item: dict[str, int] = {}  # item id (fc_...) -> call number
        self._by_output: dict[int, int] = {}  # output_index -> call number
        self._texted: set[int] = set()  # calls whose argument text was sent

    def __bool__(self) -> bool:
        return self._count > 0

    def _number(self, obj: Mapping[str, Any]) -> int | None:
        item_id, index = obj.get("item_id"), obj.get("output_index")
        if type(item_id) is str and item_id in self._by_item:
            return self._by_item[item_id]
        return self._by_output.get(index) if type(index) is int else None

    def added(self, obj: Mapping[str, Any], item: Mapping[str, Any]) -> WireChunk | None:
        name = _str(item.get("name"))
        if name is None:
            return None
        number = self._count
        self._count += 1
        index = obj.get("output_index")
        if type(index) is int:
            self._by_output[index] = number
        item_id = _str(item.get("id"))
        if item_id is not None:
            self._by_item[item_id] = number
        arguments = item.get("arguments")
        arguments = arguments if type(arguments) is str else ""
        if arguments:
            self._texted.add(number)
        delta: dict[str, Any] = {"index": number, "function": {"name": name, "arguments": arguments}}
        call_id = _str(item.get("call_id")) or item_id
        if call_id is not None:
            delta["id"] = call_id
        return WireChunk(tool_calls=[delta])

    def delta(self, obj: Mapping[str, Any]) -> WireChunk | None:
        number, text = self._number(obj), obj.get("delta")
        if number is None or type(text) is not str or not text:
            return None
        self._texted.add(number)
        return WireChunk(tool_calls=[{"index": number, "function": {"arguments": text}}])

    def done(self, obj: Mapping[str, Any], arguments: object) -> WireChunk | None:
        """Arguments a server gave only whole (``.done`` or the item's ``output_item.done``)."""
        number = self._number(obj)
        if number is None or number in self._texted or type(arguments) is not str or not arguments:
            return None
        self._texted.add(number)
        return WireChunk(tool_calls=[{"index": number, "function": {"arguments": arguments}}])

    def item_done(self, obj: Mapping[str, Any], item: Mapping[str, Any]) -> WireChunk | None:
        known = self._number({"item_id": item.get("id"), "output_index": obj.get("output_index")})
        if known is None:
            return self.added(obj, item)  # sent whole: the call and its arguments in one delta
        return self.done({"item_id": item.get("id"), "output_index": obj.get("output_index")}, item.get("arguments"))
