"""What the model is told about a tool: its name, description and JSON Schema.

A tool is either a Python callable (sync or async) or an OpenAI-format tool dict::

    {"type": "function", "function": {"name": ..., "description": ..., "parameters": {...}}}

For a callable the schema comes from its signature and type hints through pydantic (a model built
with ``pydantic.create_model``, so every type pydantic knows works: ``Literal``, enums, dataclasses,
``list[...]``, ``Annotated[..., Field(description=...)]``, defaults), and the parameter descriptions
from its docstring (Google, NumPy or reST style, parsed by ``docstring_parser``). The same pydantic
model validates the arguments the model sends before the function runs.

>>> def to_celsius(fahrenheit: float) -> float:
...     '''Convert a temperature.
...
...     Args:
...         fahrenheit: degrees Fahrenheit
...     '''
...     return (fahrenheit - 32) * 5 / 9
>>> tool = as_tool(to_celsius)
>>> tool.spec()["function"]["parameters"]["properties"]["fahrenheit"]
{'description': 'degrees Fahrenheit', 'type': 'number'}
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_type_hints

import docstring_parser
import pydantic

from .._errors import ConfigurationError

__all__ = ["Tool", "ToolArgumentsError", "as_tool", "as_tools"]

# OpenAI's rule for function names; Anthropic and Gemini accept the same set.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ToolArgumentsError(ValueError):
    """The model's arguments do not fit the tool's schema (the message is shown to the model)."""


@dataclass(frozen=True)
class Tool:
    """One tool as thinkbook sends and runs it.

    ``function`` is None for a tool given as a dict: the model may ask for it, but thinkbook
    cannot run it, so the loop stops and returns the requested calls (see ``think(tools=...)``).
    """

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    arguments_model: type[pydantic.BaseModel] | None = field(default=None, repr=False, compare=False)

    @property
    def runnable(self) -> bool:
        return self.function is not None

    @property
    def is_async(self) -> bool:
        return self.function is not None and inspect.iscoroutinefunction(self.function)

    def spec(self) -> dict[str, Any]:
        """The OpenAI-format tool dict (other protocols translate it)."""
        function: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments to call the function with, checked and converted by pydantic.

        Raises :class:`ToolArgumentsError` with a short message the model can act on.
        """
        if self.arguments_model is None:
            return dict(arguments)
        try:
            model = self.arguments_model.model_validate(dict(arguments))
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
                for error in exc.errors(include_url=False)
            )
            raise ToolArgumentsError(f"invalid arguments for {self.name}: {problems}") from None
        # Field by field, not model_dump(): nested pydantic models and dataclasses stay objects.
        return {name: getattr(model, name) for name in type(model).model_fields}


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"{where}: tool name {name!r:.80} is not allowed: use 1-64 letters, digits, '_' or '-'"
        )
    return name


def _from_dict(spec: Mapping[str, Any]) -> Tool:
    function = spec.get("function")
    if spec.get("type") != "function" or not isinstance(function, Mapping):
        raise ConfigurationError(
            "a tool dict must look like {'type': 'function', 'function': {'name': ..., 'description': ..., "
            f"'parameters': {{...JSON Schema...}}}}, got {dict(spec)!r:.120}"
        )
    name = _check_name(function.get("name"), "tool dict")
    parameters = function.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(parameters, Mapping) or parameters.get("type", "object") != "object":
        raise ConfigurationError(
            f"tool {name!r}: 'parameters' must be a JSON Schema object ({{'type': 'object', ...}})"
        )
    description = function.get("description") or ""
    if not isinstance(description, str):
        raise ConfigurationError(f"tool {name!r}: 'description' must be text")
    return Tool(name=name, description=description, parameters=dict(parameters))


def _from_callable(function: Callable[..., Any]) -> Tool:
    name = _check_name(getattr(function, "__name__", None), "tool function")
    if name == "<lambda>":
        raise ConfigurationError("a lambda has no name the model could call: define the tool with def")
    try:
        signature = inspect.signature(function)
        hints = get_type_hints(function, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigurationError(f"tool {name!r}: cannot read its signature or type hints ({exc})") from None
    doc = docstring_parser.parse(inspect.getdoc(function) or "")
    described = {param.arg_name: param.description for param in doc.params if param.description}
    fields: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ConfigurationError(
                f"tool {name!r}: *{parameter.name} / **{parameter.name} cannot be described to a model; "
                "give the tool named parameters"
            )
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise ConfigurationError(f"tool {name!r}: positional-only parameter {parameter.name!r}: drop the '/'")
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        # Only a docstring description is passed: None would hide one given with Annotated[..., Field()].
        description = described.get(parameter.name)
        info = pydantic.Field(default) if description is None else pydantic.Field(default, description=description)
        fields[parameter.name] = (annotation, info)
    try:
        model = pydantic.create_model(f"{name}_arguments", **fields)
        schema = model.model_json_schema()
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as exc:
        raise ConfigurationError(f"tool {name!r}: its type hints cannot be turned into a JSON Schema ({exc})") from None
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)  # "Fahrenheit": noise for the model, and tokens
    description = "\n\n".join(part for part in (doc.short_description, doc.long_description) if part)
    return Tool(name=name, description=description, parameters=schema, function=function, arguments_model=model)


def as_tool(tool: Tool | Callable[..., Any] | Mapping[str, Any]) -> Tool:
    """A :class:`Tool` from a callable, an OpenAI-format dict, or a Tool (returned as is)."""
    if isinstance(tool, Tool):
        return tool
    if isinstance(tool, Mapping):
        return _from_dict(tool)
    if callable(tool):
        return _from_callable(tool)
    raise ConfigurationError(
        f"a tool must be a Python function or an OpenAI-format tool dict, got {type(tool).__name__}"
    )


def as_tools(tools: Sequence[Tool | Callable[..., Any] | Mapping[str, Any]] | None) -> tuple[Tool, ...]:
    """Every tool checked, names unique (before any request is sent)."""
    if tools is None:
        return ()
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
        raise ConfigurationError("tools= must be a list of functions or tool dicts, e.g. tools=[get_weather]")
    converted = tuple(as_tool(tool) for tool in tools)
    seen: set[str] = set()
    for tool in converted:
        if tool.name in seen:
            raise ConfigurationError(f"two tools are named {tool.name!r}: the model could not tell them apart")
        seen.add(tool.name)
    return converted
