"""Request bodies for the Anthropic Messages protocol (no ``PROTOCOL`` here: not a protocol).

Two jobs, both checked before anything is sent:

* :func:`thinking_fields`: the user's :class:`ThinkingOptions` in the spelling the model takes
  (the table is in :mod:`thinkbook._protocols.anthropic`'s docstring);
* :func:`convert_messages`: thinkbook's neutral history (OpenAI chat-format dicts) to a top-level
  ``system`` and Anthropic ``messages``, with earlier assistant turns' content blocks (thinking
  with its signature, redacted thinking, text) sent back exactly as received; a tool-loop turn's
  ``tool_calls`` become ``tool_use`` blocks after those blocks, and its ``tool`` messages one user
  message of ``tool_result`` blocks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from .._errors import ConfigurationError
from .anthropic_tools import tool_use_blocks
from .base import STATE_KEY, ThinkingOptions, state_of
from .tool_specs import neutral_calls, tool_result_text

__all__ = ["BUDGET_FOR_EFFORT", "claude_kind", "convert_messages", "max_tokens_for", "thinking_fields"]

Message = dict[str, Any]
ClaudeKind = Literal["none", "budget", "adaptive", "adaptive-only", "always", "other"]

# Effort as a thinking budget, for models that take only ``budget_tokens``: the budgets thinkbook
# uses for Bailian's thinking_budget on its other protocols (the same Qwen models are served
# here), whose low is also Anthropic's documented minimum of 1024.
BUDGET_FOR_EFFORT = {"low": 1024, "medium": 4096, "high": 16384}
MIN_CLAUDE_BUDGET = 1024
# max_tokens is required. Claude 3.7 and later allow at least 32000 output tokens and the docs'
# examples use 16000; the Claude 3 / 3.5 models stop at 4096 or 8192. Other servers on this
# protocol (Bailian's Qwen models) are given 8192, the smallest output limit among the models
# Bailian lists there. A budget always leaves room for an answer. extra body max_tokens wins.
CLAUDE_MAX_TOKENS = 16000
OLD_CLAUDE_MAX_TOKENS = 4096
OTHER_MAX_TOKENS = 8192
ANSWER_ROOM = 4096

# claude-3-7-sonnet-20250219, claude-sonnet-4-20250514, claude-opus-4-1, claude-sonnet-4-6,
# claude-mythos-preview, claude-fable-5-1, claude-sonnet-4-5@20250929 (Vertex). One- or
# two-digit numbers only: an 8-digit date is not a version.
_CLAUDE = re.compile(
    r"claude-(?:(\d{1,2})(?:-(\d{1,2}))?-)?([a-z]+)(?:-(\d{1,2})(?=$|[-@.:])(?:-(\d{1,2})(?=$|[-@.:]))?)?"
)
_ALWAYS = ("mythos", "fable")  # adaptive thinking only, and it cannot be turned off


def claude_kind(model: str) -> ClaudeKind:
    """How a model takes thinking options; ``"other"`` for a non-Claude model (Bailian's Qwen).

    >>> [claude_kind(m) for m in ("claude-3-5-sonnet", "claude-sonnet-4-5", "claude-opus-4-6", "claude-opus-4-7")]
    ['none', 'budget', 'adaptive', 'adaptive-only']
    """
    match = _CLAUDE.search(model.lower())
    if match is None:
        return "other"
    old_major, old_minor, family, major, minor = match.groups()
    if family in _ALWAYS:
        return "always"
    if old_major is not None:  # claude-3-opus, claude-3-5-sonnet, claude-3-7-sonnet
        version = (int(old_major), int(old_minor or 0))
    elif major is not None:
        version = (int(major), int(minor or 0))
    else:
        return "adaptive"  # a family without a version (an alias): the current rules
    if version < (3, 7):
        return "none"
    if version < (4, 6):
        return "budget"
    if version < (4, 7):
        return "adaptive"
    return "adaptive-only"


def thinking_fields(model: str, options: ThinkingOptions) -> dict[str, Any]:
    """``thinking`` (and ``output_config``) for ``model``; ``{}`` when nothing is to be sent.

    Raises :class:`ConfigurationError` for a wish the model cannot take (see the table in
    :mod:`thinkbook._protocols.anthropic`).
    """
    kind = claude_kind(model)
    enable, budget, effort = options.enable, options.budget, options.effort
    if kind == "other":
        return _other_fields(enable, budget, effort)
    wants = enable is True or budget is not None or effort is not None
    if kind == "none":
        if wants:
            raise ConfigurationError(
                f"{model} has no extended thinking: use claude-3-7-sonnet or a Claude 4 model "
                "(e.g. claude-sonnet-4-6), or drop the thinking options"
            )
        return {}
    if budget is not None and budget < MIN_CLAUDE_BUDGET:
        raise ConfigurationError(
            f"thinking_budget={budget} is below Anthropic's minimum of {MIN_CLAUDE_BUDGET} tokens: pass "
            f"{MIN_CLAUDE_BUDGET} or more, or effort='low'"
        )
    if enable is False:
        if budget is not None or (effort is not None and kind == "budget"):
            raise ConfigurationError("enable_thinking=False was given with a thinking budget or effort: pick one")
        if kind == "always":
            raise ConfigurationError(
                f"{model} always thinks: its thinking cannot be turned off. Drop enable_thinking=False "
                "(effort='low' makes it think less)"
            )
        # Claude does not think unless asked, and leaving the field out is what every Claude
        # model accepts ({"type": "disabled"} is refused by the adaptive-only ones).
        return {"output_config": {"effort": effort}} if effort is not None else {}
    if kind == "budget":
        if budget is not None and effort is not None:
            raise ConfigurationError(
                f"{model} takes its thinking as a budget, and effort= is sent as one: pass either "
                "thinking_budget or effort, not both"
            )
        if not wants:
            return {}
        chosen = budget if budget is not None else BUDGET_FOR_EFFORT[effort or "high"]
        return {"thinking": {"type": "enabled", "budget_tokens": chosen}}
    if budget is not None and kind in ("adaptive-only", "always"):
        raise ConfigurationError(
            f"{model} takes no thinking budget (Claude 4.7 and later think adaptively): pass "
            "effort='low', 'medium' or 'high' instead of thinking_budget"
        )
    if not wants and kind != "always":
        return {}
    # Newer models default to display "omitted" (empty thinking text): ask for the summary.
    thinking: dict[str, Any]
    if budget is not None:  # Claude 4.6 still takes a budget (deprecated there)
        thinking = {"type": "enabled", "budget_tokens": budget, "display": "summarized"}
    else:
        thinking = {"type": "adaptive", "display": "summarized"}
    fields: dict[str, Any] = {"thinking": thinking}
    if effort is not None:
        fields["output_config"] = {"effort": effort}
    return fields


def _other_fields(enable: bool | None, budget: int | None, effort: str | None) -> dict[str, Any]:
    """Anthropic-compatible servers (Bailian) document ``enabled`` + ``budget_tokens`` and
    ``disabled``; no adaptive mode and no effort, so effort is sent as a budget."""
    if enable is False:
        if budget is not None or effort is not None:
            raise ConfigurationError("enable_thinking=False was given with a thinking budget or effort: pick one")
        return {"thinking": {"type": "disabled"}}
    if budget is not None and effort is not None:
        raise ConfigurationError(
            "this server takes thinking as a budget and effort= is sent as one: pass either thinking_budget "
            "or effort, not both"
        )
    if enable is None and budget is None and effort is None:
        return {}
    chosen = budget if budget is not None else BUDGET_FOR_EFFORT[effort or "high"]
    return {"thinking": {"type": "enabled", "budget_tokens": chosen}}


def max_tokens_for(model: str, thinking: Mapping[str, Any] | None) -> int:
    """The ``max_tokens`` to send: larger than any thinking budget sent (the API requires it)."""
    kind = claude_kind(model)
    base = OLD_CLAUDE_MAX_TOKENS if kind == "none" else OTHER_MAX_TOKENS if kind == "other" else CLAUDE_MAX_TOKENS
    budget = thinking.get("budget_tokens") if thinking else None
    if type(budget) is int:
        return max(base, budget + ANSWER_ROOM)
    return base


# --- history ------------------------------------------------------------------------------

_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,(.*)", re.DOTALL)
_NATIVE_PARTS = ("image", "document")


def convert_messages(messages: list[Message], *, preserve: bool | None, name: str) -> tuple[str | None, list[Message]]:
    """(system prompt, Anthropic messages) from the neutral history.

    System and developer messages become the top-level ``system`` (joined, in order). An
    assistant turn carrying this protocol's state (``state_of(message, name)``) sends its content
    blocks back unchanged, unless ``preserve`` is False (then only its text goes back). An
    assistant turn with no text and no state is left out: the API refuses empty content, and it
    merges the two user turns around it.

    A turn that called tools always sends its state's blocks (thinking and signatures must go
    back within a tool loop, whatever ``preserve`` says), then one ``tool_use`` block per call;
    the ``tool`` messages after it become one user message of ``tool_result`` blocks, in order.
    """
    system: list[str] = []
    out: list[Message] = []
    results: list[Any] | None = None  # the tool_result blocks of the open user message
    for index, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content")
        where = f"message {index} ({role})"
        if role == "tool":
            call_id, text = tool_result_text(message, where)
            if results is None:
                results = []
                out.append({"role": "user", "content": results})
            results.append({"type": "tool_result", "tool_use_id": call_id, "content": text})
            continue
        results = None
        if role in ("system", "developer"):
            system.append(content if isinstance(content, str) else _joined_text(content, where))
        elif role == "user":
            out.append({"role": "user", "content": content if isinstance(content, str) else _parts(content, where)})
        elif role == "assistant":
            calls = neutral_calls(message, where)
            if content is None and calls:
                content = ""
            blocks = _assistant_blocks(message, content, preserve=True if calls else preserve, name=name, where=where)
            if calls:
                head = [{"type": "text", "text": blocks}] if isinstance(blocks, str) and blocks else []
                blocks = [*(head if isinstance(blocks, str) else blocks), *tool_use_blocks(calls)]
            if blocks:
                out.append({"role": "assistant", "content": blocks})
        else:
            raise ConfigurationError(
                f"{where}: unknown role {role!r}; the anthropic protocol takes system, developer, user, "
                "assistant and tool messages"
            )
    return ("\n\n".join(system) if system else None), out


def _assistant_blocks(
    message: Mapping[str, Any], content: Any, *, preserve: bool | None, name: str, where: str
) -> str | list[Any]:
    text = content if isinstance(content, str) else _joined_text(content, where)
    state = state_of(message, name)
    if state is None:
        return text
    blocks = state.get("content")
    if type(blocks) is not list or not all(type(b) is dict and type(b.get("type")) is str for b in blocks):
        raise ConfigurationError(
            f"{where} has a damaged {STATE_KEY} (its 'content' must be a list of content blocks): remove "
            f"the {STATE_KEY} entry from that message, or use the history exactly as thinkbook wrote it"
        )
    if preserve is False:
        return text
    sent_text = "".join(b.get("text", "") for b in blocks if b["type"] == "text")
    if sent_text == text:
        return list(blocks)  # the same block objects: sent back byte for byte
    # The answer was edited after it was received: keep the signed thinking blocks, send the
    # edited text in place of the received text blocks.
    edited: list[Any] = []
    for block in blocks:
        if block["type"] != "text":
            edited.append(block)
        elif text:
            edited.append({"type": "text", "text": text})
            text = ""
    if text:
        edited.append({"type": "text", "text": text})
    return edited


def _joined_text(content: Any, where: str) -> str:
    if not isinstance(content, list):
        raise ConfigurationError(f"{where} must be text or a list of text parts")
    texts = []
    for part in content:
        if not isinstance(part, Mapping) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise ConfigurationError(f"{where}: only text parts can go there, got {part!r:.60}")
        texts.append(part["text"])
    return "".join(texts)


def _parts(content: Any, where: str) -> list[Any]:
    """OpenAI content parts as Anthropic content blocks (text and images)."""
    if not isinstance(content, list):
        raise ConfigurationError(f"{where} content must be text or a list of content parts")
    blocks: list[Any] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            blocks.append(_image(part.get("image_url"), where))
        elif kind in _NATIVE_PARTS and isinstance(part.get("source"), Mapping):
            blocks.append(dict(part))  # already in Anthropic's spelling
        else:
            raise ConfigurationError(f"{where}: the anthropic protocol takes text and image parts, got {part!r:.60}")
    return blocks


def _image(image_url: Any, where: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"{where}: an image_url part needs a URL (https://... or data:image/...;base64,...)")
    if url.startswith("data:"):
        match = _DATA_URL.fullmatch(url)
        if match is None:
            raise ConfigurationError(f"{where}: an image data: URL must be base64 (data:image/png;base64,...)")
        media_type, data = match.groups()
        if media_type not in _MEDIA_TYPES:
            raise ConfigurationError(f"{where}: Anthropic takes {', '.join(_MEDIA_TYPES)} images, not {media_type}")
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise ConfigurationError(f"{where}: an image URL must start with https:// or data:image/, got {url[:40]!r}")
