"""The request side of :mod:`thinkbook._protocols.responses`: thinking options and ``input`` items.

A helper module with no ``PROTOCOL``, so the registry skips it. Thinking options: see the table
in the protocol module's docstring. Neutral history (OpenAI chat-format dicts) -> ``input``:

* ``system`` / ``developer`` / ``user`` messages keep their role and place; string content stays
  a string, a list of parts becomes Responses parts: ``{"type": "text"}`` -> ``input_text``,
  ``{"type": "image_url", "image_url": {"url", "detail"}}`` (data: URLs included) ->
  ``{"type": "input_image", "image_url": url, "detail"}``; parts already in Responses spelling
  (``input_text``, ``input_image``, ``input_file``) pass through.
* an ``assistant`` turn that carries this protocol's state, when ``replay`` is on and the state
  still matches the turn's answer, is replaced by the state's output items, unchanged; otherwise
  it is a plain ``{"role": "assistant", "content": text}`` message. Its ``reasoning_content`` text
  cannot go back on its own: Responses only takes reasoning as the server's own items.
* assistant ``tool_calls`` become ``function_call`` items and ``tool`` messages
  ``function_call_output`` items (``call_id`` from ``tool_call_id``). A turn that called tools
  sends its state's items whatever ``replay`` says (a reasoning model needs the reasoning items
  before its function calls within a tool loop); they already hold the ``function_call`` items,
  which are rebuilt from ``tool_calls`` only if the two no longer agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._errors import ConfigurationError
from .base import ThinkingOptions, state_of
from .tool_specs import NeutralCall, neutral_calls, tool_result_text

__all__ = ["bailian_thinking", "input_items", "openai_thinking", "state_answer"]

# OpenAI model families that reason (and so take ``reasoning``); others reject the field.
_REASONING_PREFIXES = ("gpt-5", "o1", "o3", "o4", "codex")
_O_SERIES = ("o1", "o3", "o4")

_PASS_THROUGH = ("input_text", "input_image", "input_file")
_TEXT_PARTS = ("text", "output_text")
_ROLES = ("system", "developer", "user")


def _part(part: object, where: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise ConfigurationError(f"{where}: a content part must be a dict, not {type(part).__name__}")
    kind = part.get("type", "text")
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str):
            raise ConfigurationError(f"{where}: a text part needs a string 'text'")
        return {"type": "input_text", "text": text}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if not isinstance(url, str) or not url:
            raise ConfigurationError(f"{where}: an image_url part needs image_url.url (an https: or data: URL)")
        detail = image.get("detail") if isinstance(image, dict) else None
        return {"type": "input_image", "image_url": url, "detail": detail if isinstance(detail, str) else "auto"}
    if kind in _PASS_THROUGH:
        return dict(part)
    raise ConfigurationError(
        f"{where}: content part type {kind!r} has no Responses API spelling; use 'text' or 'image_url' parts"
    )


def _text(content: object) -> str:
    """An assistant turn's text: a string, or the joined texts of its text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p["text"]
            for p in content
            if isinstance(p, dict)
            and p.get("type", "text") in ("text", "output_text")
            and isinstance(p.get("text"), str)
        )
    return ""


def state_answer(items: Sequence[object]) -> str:
    """The answer text the state's message items hold (how the stream delivered it)."""
    texts: list[str] = []
    for item in items:
        if isinstance(item, dict) and item.get("type") == "message":
            texts.append(_text(item.get("content")))
    return "".join(texts)


def _replayed(message: dict[str, Any], protocol: str) -> list[dict[str, Any]] | None:
    state = state_of(message, protocol)
    if state is None:
        return None
    items = state.get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return None
    # An answer edited since (or cut by the <think> splitter's whitespace rules) no longer
    # matches the items: sending them would contradict the history, so the text goes instead.
    if state_answer(items).strip() != _text(message.get("content")).strip():
        return None
    return items


def _function_calls(calls: Sequence[NeutralCall]) -> list[dict[str, Any]]:
    return [
        {"type": "function_call", "call_id": call.id, "name": call.name, "arguments": call.arguments or "{}"}
        for call in calls
    ]


def _with_calls(items: list[dict[str, Any]], calls: Sequence[NeutralCall]) -> list[dict[str, Any]]:
    """The state's items when their function calls are the turn's, else the other items followed
    by function calls built from ``tool_calls``."""
    sent = [item.get("call_id") for item in items if item.get("type") == "function_call"]
    if sent == [call.id for call in calls]:
        return items
    return [item for item in items if item.get("type") != "function_call"] + _function_calls(calls)


def input_items(messages: Sequence[object], protocol: str, replay: bool) -> list[dict[str, Any]]:
    """The ``input`` array for ``messages`` (see the module docstring)."""
    items: list[dict[str, Any]] = []
    for n, message in enumerate(messages):
        where = f"message {n}"
        if not isinstance(message, dict):
            raise ConfigurationError(f"{where} must be a dict with 'role' and 'content'")
        role, content = message.get("role"), message.get("content")
        if role in _ROLES:
            if isinstance(content, list):
                content = [_part(part, where) for part in content]
            elif not isinstance(content, str):
                raise ConfigurationError(f"{where} ({role}): content must be a string or a list of parts")
            items.append({"role": role, "content": content})
        elif role == "assistant":
            calls = neutral_calls(message, where)
            replayed = _replayed(message, protocol) if replay or calls else None
            if replayed is not None:
                items.extend(_with_calls(replayed, calls) if calls else replayed)
                continue
            text = _text(content)
            if text or not calls:
                items.append({"role": "assistant", "content": text})
            items.extend(_function_calls(calls))
        elif role == "tool":
            call_id, output = tool_result_text(message, where)
            items.append({"type": "function_call_output", "call_id": call_id, "output": output})
        else:
            raise ConfigurationError(f"{where}: unknown role {role!r}; use system, developer, user, assistant or tool")
    return items


def _off_effort(model: str) -> str | None:
    """The effort that comes closest to "no reasoning" for an OpenAI model, None if none does."""
    name = model.lower().rpartition("/")[2]  # "openai/gpt-5" on a gateway
    if name.startswith("gpt-5."):
        return "none"  # gpt-5.1 and later
    if name.startswith("gpt-5"):
        return "minimal"
    if name.startswith(_O_SERIES):
        raise ConfigurationError(
            f"{model} cannot turn its reasoning off (OpenAI's o-series has no 'none' or 'minimal' "
            "effort): drop enable_thinking=False and pass effort='low' for the least reasoning"
        )
    return None


def openai_thinking(model: str, thinking: ThinkingOptions) -> dict[str, Any]:
    """OpenAI's ``reasoning`` / ``include`` fields (mapping: see the protocol module's docstring)."""
    if thinking.budget is not None:
        raise ConfigurationError(
            "the OpenAI Responses API has no thinking budget: drop thinking_budget and pass "
            "effort='low', 'medium' or 'high' instead"
        )
    if thinking.enable is False:
        if thinking.effort is not None:
            raise ConfigurationError(
                f"enable_thinking=False and effort={thinking.effort!r} contradict each other: pass one of them"
            )
        effort = _off_effort(model)
        return {"reasoning": {"effort": effort}} if effort else {}
    name = model.lower().rpartition("/")[2]
    if thinking.enable is None and thinking.effort is None and not name.startswith(_REASONING_PREFIXES):
        return {}
    reasoning: dict[str, Any] = {}
    if thinking.effort is not None:
        reasoning["effort"] = thinking.effort
    # Without "summary" OpenAI sends no reasoning text at all; "auto" picks the richest one.
    reasoning["summary"] = "auto"
    return {"reasoning": reasoning, "include": ["reasoning.encrypted_content"]}


def bailian_thinking(thinking: ThinkingOptions) -> dict[str, Any]:
    """Bailian's ``enable_thinking`` and ``reasoning.effort``."""
    if thinking.budget is not None:
        raise ConfigurationError(
            "Bailian's Responses API takes no thinking_budget (only its Chat Completions and "
            "DashScope APIs do): pass effort='low', 'medium' or 'high', or use protocol='openai' "
            "(or 'dashscope') to keep the budget"
        )
    fields: dict[str, Any] = {}
    if thinking.enable is not None:
        if thinking.enable is False and thinking.effort is not None:
            raise ConfigurationError(
                f"enable_thinking=False and effort={thinking.effort!r} contradict each other: pass one of them"
            )
        fields["enable_thinking"] = thinking.enable
    if thinking.effort is not None:
        fields["reasoning"] = {"effort": thinking.effort}
    return fields
