"""Tool calling for thinking models: schemas from Python functions, calls assembled and run safely.

The loop that streams a round, runs the calls and sends their results back lives with the public
API (``think(tools=...)``); this package holds the protocol-neutral parts it is built from.
"""

from typing import TYPE_CHECKING

from .._types import ToolCall
from .calls import DEFAULT_TOOL_TIMEOUT, ToolCallAssembler, result_text, run_tool_call

if TYPE_CHECKING:
    from .schema import Tool, ToolArgumentsError, as_tool, as_tools

# The schema half needs pydantic: it loads when a tool is first described, so ``import thinkbook``
# (and every stream, whose accumulator assembles calls) stays light.
_SCHEMA_NAMES = ("Tool", "ToolArgumentsError", "as_tool", "as_tools")


def __getattr__(name: str) -> object:
    if name in _SCHEMA_NAMES:
        from . import schema

        return getattr(schema, name)
    raise AttributeError(f"module 'thinkbook.tools' has no attribute {name!r}")


__all__ = [
    "DEFAULT_TOOL_TIMEOUT",
    "Tool",
    "ToolArgumentsError",
    "ToolCall",
    "ToolCallAssembler",
    "as_tool",
    "as_tools",
    "result_text",
    "run_tool_call",
]
