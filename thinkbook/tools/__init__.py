"""Tool calling for thinking models: schemas from Python functions, calls assembled and run safely.

The loop that streams a round, runs the calls and sends their results back lives with the public
API (``think(tools=...)``); this package holds the protocol-neutral parts it is built from.
"""

from .._types import ToolCall
from .calls import DEFAULT_TOOL_TIMEOUT, ToolCallAssembler, result_text, run_tool_call
from .schema import Tool, ToolArgumentsError, as_tool, as_tools

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
