"""thinkbook: thinking (reasoning) language models in Jupyter and Python.

>>> import thinkbook
>>> r = thinkbook.think("9.11 和 9.9 哪个大？", model="qwen-plus", enable_thinking=True)  # doctest: +SKIP
>>> r.reasoning, r.answer, r.usage.reasoning_tokens  # doctest: +SKIP
"""

from __future__ import annotations

from ._api import astream, athink, replay, stream, submit, think
from ._catalog import ModelInfo, models
from ._conversation import Conversation
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFormatError,
    StreamInterruptedError,
    StreamStoppedError,
    ThinkbookError,
    ThinkbookWarning,
    ThinkInterrupted,
)
from ._pricing import Price, clear_prices, set_price
from ._recordings_index import recordings
from ._run import ThinkHandle
from ._types import (
    AnswerDelta,
    AnswerWasReasoning,
    Done,
    ReasoningDelta,
    Round,
    SearchResult,
    ThinkEvent,
    ThinkResult,
    Timings,
    ToolCall,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
    UsageUpdate,
)
from .batch import BatchJob, BatchResult, batch, load_batch_output, submit_batch
from .tools.loop import ToolLoopError

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext thinkbook``: registers ``%%think`` and friends (imported only when loaded)."""
    from ._magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> object:
    # The widget stack (anywidget, ipywidgets) loads only when it is first used: scripts and the
    # CLI start faster without it.
    if name == "ThinkView":
        from ._view import ThinkView

        return ThinkView
    if name == "ChatPanel":
        from ._chat_panel import ChatPanel

        return ChatPanel
    if name in ("ComparePanel", "CompareConfig"):
        from . import _compare_panel

        return getattr(_compare_panel, name)
    raise AttributeError(f"module 'thinkbook' has no attribute {name!r}")


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AnswerDelta",
    "AnswerWasReasoning",
    "AuthenticationError",
    "BadRequestError",
    "BatchJob",
    "BatchResult",
    "ChatPanel",
    "CompareConfig",
    "ComparePanel",
    "ConfigurationError",
    "Conversation",
    "Done",
    "InternalServerError",
    "MissingAPIKeyError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "Price",
    "RateLimitError",
    "ReasoningDelta",
    "ResponseFormatError",
    "Round",
    "SearchResult",
    "StreamInterruptedError",
    "StreamStoppedError",
    "ThinkEvent",
    "ThinkHandle",
    "ThinkInterrupted",
    "ThinkResult",
    "ThinkView",
    "ThinkbookError",
    "ThinkbookWarning",
    "Timings",
    "ToolCall",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolLoopError",
    "Usage",
    "UsageUpdate",
    "__version__",
    "astream",
    "athink",
    "batch",
    "clear_prices",
    "load_batch_output",
    "models",
    "recordings",
    "replay",
    "set_price",
    "stream",
    "submit",
    "submit_batch",
    "think",
]
