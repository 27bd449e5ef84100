"""Tool schemas from Python functions and tool dicts (thinkbook/tools/schema.py)."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Literal

import pydantic
import pytest

from thinkbook import ConfigurationError
from thinkbook.tools import Tool, ToolArgumentsError, as_tool, as_tools


def convert(value: float, unit: Literal["km", "mi"] = "km") -> float:
    """Convert a distance.

    Longer explanation of the conversion.

    Args:
        value: the distance to convert
        unit: the unit ``value`` is in
    """
    return value * (0.621 if unit == "km" else 1.609)


def test_schema_comes_from_signature_hints_and_docstring() -> None:
    spec = as_tool(convert).spec()
    function = spec["function"]
    assert spec["type"] == "function" and function["name"] == "convert"
    assert function["description"] == "Convert a distance.\n\nLonger explanation of the conversion."
    parameters = function["parameters"]
    assert parameters["type"] == "object" and parameters["required"] == ["value"]
    assert parameters["properties"]["value"] == {"description": "the distance to convert", "type": "number"}
    assert parameters["properties"]["unit"]["enum"] == ["km", "mi"]
    assert parameters["properties"]["unit"]["default"] == "km"
    assert "title" not in parameters and "title" not in parameters["properties"]["value"]


def test_numpy_style_docstrings_and_annotated_descriptions() -> None:
    def query(sql: str, limit: Annotated[int, pydantic.Field(description="rows at most", ge=1)] = 10) -> list[str]:
        """Run a query.

        Parameters
        ----------
        sql : str
            a SELECT statement
        """
        return []

    properties = as_tool(query).spec()["function"]["parameters"]["properties"]
    assert properties["sql"]["description"] == "a SELECT statement"
    assert properties["limit"]["description"] == "rows at most" and properties["limit"]["minimum"] == 1


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: float
    y: float


def test_rich_types_validate_and_convert() -> None:
    def paint(where: Point, colour: Colour, tags: list[str] | None = None) -> str:
        return f"{where} {colour} {tags}"

    tool = as_tool(paint)
    kwargs = tool.validate({"where": {"x": "1.5", "y": 2}, "colour": "red"})
    assert kwargs == {"where": Point(1.5, 2.0), "colour": Colour.RED, "tags": None}
    assert "$defs" in tool.parameters  # nested types are described to the model too


def test_bad_arguments_give_a_message_the_model_can_act_on() -> None:
    tool = as_tool(convert)
    with pytest.raises(ToolArgumentsError) as caught:
        tool.validate({"value": "far", "unit": "ly"})
    message = str(caught.value)
    assert message.startswith("invalid arguments for convert:")
    assert "value:" in message and "unit:" in message


def test_dict_tools_are_kept_as_given_and_cannot_run() -> None:
    spec = {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look up a record",
            "parameters": {"type": "object", "properties": {"id": {"type": "integer"}}},
        },
    }
    tool = as_tool(spec)
    assert tool.spec() == spec and not tool.runnable
    assert tool.validate({"id": 3}) == {"id": 3}


@pytest.mark.parametrize(
    ("tool", "fragment"),
    [
        (lambda x: x, "lambda"),
        ({"type": "function"}, "a tool dict must look like"),
        ({"type": "function", "function": {"name": "has space"}}, "is not allowed"),
        ({"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}, "JSON Schema object"),
        (42, "must be a Python function or an OpenAI-format tool dict"),
    ],
)
def test_bad_tools_are_refused_before_sending(tool: object, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        as_tool(tool)  # type: ignore[arg-type]


def test_var_args_and_unnamed_tool_lists_are_refused() -> None:
    def anything(*args: int, **kwargs: int) -> None: ...

    with pytest.raises(ConfigurationError, match=r"\*args"):
        as_tool(anything)
    with pytest.raises(ConfigurationError, match="must be a list"):
        as_tools(convert)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="two tools are named 'convert'"):
        as_tools([convert, convert])


def test_tool_instances_pass_through() -> None:
    tool = as_tool(convert)
    assert as_tool(tool) is tool
    assert isinstance(as_tools([convert])[0], Tool)
