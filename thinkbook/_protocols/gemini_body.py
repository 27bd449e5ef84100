"""The request side of the Gemini protocol: history to ``contents`` (a tool loop's turns through
:mod:`.gemini_tools`), thinking options to ``generationConfig.thinkingConfig``. A helper of
:mod:`thinkbook._protocols.gemini` (no ``PROTOCOL`` here, so the registry skips this module).

Thinking knobs (ai.google.dev/gemini-api/docs/thinking; googleapis/python-genai ``ThinkingConfig``
and ``ThinkingLevel``):

* Gemini 3 and later take ``thinkingLevel`` (``minimal`` / ``low`` / ``medium`` / ``high``;
  Gemini 3 Pro only ``low`` / ``high``, Gemini 3.x Pro no ``minimal``). Thinking cannot be turned
  off; ``minimal`` is documented as matching "no thinking" for most queries, so
  ``enable_thinking=False`` sends it where the model has it and is refused on Pro models.
  ``thinkingBudget`` is still accepted there "for backwards compatibility".
* Gemini 2.5 takes ``thinkingBudget`` (``-1`` dynamic, ``0`` off): 2.5 Pro 128..32768 and
  cannot turn thinking off, 2.5 Flash 0..24576, 2.5 Flash-Lite 512..24576 (or 0).
* Sending both knobs is a 400, so ``effort`` together with ``thinking_budget`` is refused here.
* ``effort`` maps to ``thinkingLevel`` of the same name on Gemini 3+, and on every other model to
  the budgets Google's own OpenAI-compatible endpoint uses for ``reasoning_effort`` (low 1,024,
  medium 8,192, high 24,576 tokens; ai.google.dev/gemini-api/docs/openai).
* ``includeThoughts: true`` is sent whenever thinking is not turned off: without it Gemini
  returns no thought summaries at all.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from .._errors import ConfigurationError
from .base import BodyInput, ThinkingOptions, state_of
from .gemini_tools import model_parts_with_calls, response_part
from .tool_specs import neutral_calls, tool_result_text

__all__ = ["EFFORT_BUDGETS", "contents_and_system", "model_id", "thinking_config"]

Message = dict[str, Any]

# Google's OpenAI-compatibility mapping of reasoning_effort to thinkingBudget.
EFFORT_BUDGETS = {"low": 1024, "medium": 8192, "high": 24576}

_ALL_LEVELS = ("minimal", "low", "medium", "high")
# (prefix, lowest positive budget, highest budget, can turn thinking off): Gemini 2.5's table.
_BUDGETS: tuple[tuple[str, int, int, bool], ...] = (
    ("gemini-2.5-pro", 128, 32768, False),
    ("gemini-2.5-flash-lite", 512, 24576, True),
    ("gemini-2.5-flash", 1, 24576, True),
)
_VERSION = re.compile(r"gemini-(\d+)")
# A model id that stays one path segment: no "/", "?", "#", "%", ".." or spaces to move the path.
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def model_id(model: str) -> str:
    """``model`` as the path segment of ``/models/{id}:streamGenerateContent``.

    ``models/gemini-2.5-pro`` (the API's own resource name) is accepted; anything that would not
    stay one path segment is refused rather than encoded, so the URL can never point elsewhere.
    """
    name = model[len("models/") :] if model.startswith("models/") else model
    if not _MODEL_ID.fullmatch(name) or ".." in name:
        raise ConfigurationError(
            f"{model!r:.80} is not a Gemini model id: use a name such as 'gemini-2.5-flash' "
            "(letters, digits, '.', '-' and '_' only)"
        )
    return name


def _levels_for(name: str) -> tuple[str, ...] | None:
    """The ``thinkingLevel`` values of a Gemini 3+ model, or None for a budget-only model."""
    match = _VERSION.match(name)
    if match is None or int(match.group(1)) < 3:
        return None
    if name.startswith("gemini-3-pro"):
        return ("low", "high")
    if "-pro" in name:
        return ("low", "medium", "high")
    return _ALL_LEVELS


def _budget_range(name: str) -> tuple[int, int, bool] | None:
    for prefix, low, high, can_off in _BUDGETS:
        if name.startswith(prefix):
            return low, high, can_off
    return None


def thinking_config(model: str, thinking: ThinkingOptions) -> dict[str, Any]:
    """``generationConfig.thinkingConfig`` for ``model`` (see the module docstring)."""
    name = model_id(model)
    budget, effort = thinking.budget, thinking.effort
    if budget is not None and effort is not None:
        raise ConfigurationError(
            "Gemini takes either a thinking budget or a thinking level, not both: pass "
            "thinking_budget=... or effort=..., not both"
        )
    levels = _levels_for(name)
    limits = _budget_range(name)
    if thinking.enable is False:
        if budget is not None or effort is not None:
            raise ConfigurationError(
                "enable_thinking=False turns thinking off: drop thinking_budget / effort, or turn thinking on"
            )
        if levels is not None:
            if "minimal" not in levels:
                raise ConfigurationError(
                    f"{name} cannot turn thinking off: leave enable_thinking unset, or pass effort='low' "
                    "for the least thinking"
                )
            return {"thinkingLevel": "minimal"}
        if limits is not None and not limits[2]:
            raise ConfigurationError(
                f"{name} cannot turn thinking off (its budget range is {limits[0]}-{limits[1]} tokens): "
                f"pass thinking_budget={limits[0]} for the least thinking, or use a Flash model"
            )
        return {"thinkingBudget": 0}
    config: dict[str, Any] = {"includeThoughts": True}
    if effort is not None:
        if levels is not None:
            if effort not in levels:
                raise ConfigurationError(
                    f"{name} has no thinking level {effort!r}: use effort=" + " or ".join(map(repr, levels[-2:]))
                )
            config["thinkingLevel"] = effort
        else:
            config["thinkingBudget"] = EFFORT_BUDGETS[effort]
    elif budget is not None:
        if limits is not None and not limits[0] <= budget <= limits[1]:
            raise ConfigurationError(
                f"{name} takes a thinking budget of {limits[0]} to {limits[1]} tokens, got {budget}: "
                "pass a budget in that range"
            )
        config["thinkingBudget"] = budget
    elif thinking.enable is True and levels is None:
        # Dynamic thinking: explicit because 2.5 Flash-Lite does not think unless asked.
        config["thinkingBudget"] = -1
    return config


def _text_of(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str))
    raise ConfigurationError(f"{where}: content must be text or a list of content parts")


def _image_part(url: object, where: str) -> dict[str, Any]:
    """An OpenAI ``image_url`` (a data: URL) as Gemini ``inlineData`` (base64, its MIME type)."""
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        raise ConfigurationError(
            f"{where}: Gemini takes images inline: pass the image as a data: URL "
            "(data:image/png;base64,...), not a link"
        )
    header, _, payload = url[5:].partition(",")
    mime, _, encoding = header.partition(";")
    if not mime:
        raise ConfigurationError(f"{where}: the data: URL has no MIME type (data:image/png;base64,...)")
    data = payload if encoding == "base64" else base64.b64encode(unquote_to_bytes(payload)).decode("ascii")
    return {"inlineData": {"mimeType": mime, "data": data}}


def _parts(content: object, where: str) -> list[dict[str, Any]]:
    """Neutral content (text, or OpenAI content parts) as Gemini ``parts``."""
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise ConfigurationError(f"{where}: content must be text or a list of content parts")
    parts: list[dict[str, Any]] = []
    for item in content:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and isinstance(item.get("text"), str):
            parts.append({"text": item["text"]})
        elif kind == "image_url":
            image = item.get("image_url")
            parts.append(_image_part(image.get("url") if isinstance(image, dict) else image, where))
        else:
            raise ConfigurationError(
                f"{where}: content part {kind!r} is not supported by the gemini protocol (use text and image_url parts)"
            )
    return parts


def _kept_parts(message: Mapping[str, Any], where: str, preserve: bool | None) -> list[dict[str, Any]] | None:
    """An earlier assistant turn's parts as received (its state), when they still match its text.

    The state always goes back (the signatures are the protocol's, not reasoning text); its
    unsigned thought-summary parts only with ``preserve_thinking=True``, as thinkbook sends
    earlier reasoning text back only then. Parts that carry a signature are never touched.
    """
    state = state_of(message, "gemini")
    if state is None:
        return None
    content = message.get("content")
    parts = state.get("parts")
    if not isinstance(parts, list) or not all(isinstance(part, dict) for part in parts):
        raise ConfigurationError(
            f"{where}: its thinkbook_state is damaged (no list of parts): drop the thinkbook_state key"
        )
    answer = "".join(p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought"))
    # An answer edited since it was received no longer matches its signatures: send the text.
    if content is not None and answer != _text_of(content, where):
        return None
    if preserve is not True:
        parts = [p for p in parts if p.get("thought") is not True or "thoughtSignature" in p]
    return parts or None


def _model_parts(message: Mapping[str, Any], where: str, preserve: bool | None) -> list[dict[str, Any]] | None:
    """The parts of an earlier assistant turn without tool calls: its state, else its text."""
    kept = _kept_parts(message, where, preserve)
    if kept:
        return kept
    content = message.get("content")
    text = _text_of(content if content is not None else "", where)
    # Gemini refuses empty parts; an empty earlier answer is left out rather than sent as "".
    return [{"text": text}] if text else None


def contents_and_system(request: BodyInput) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """``contents`` and ``systemInstruction`` from the neutral history.

    System and developer messages, wherever they are, become ``systemInstruction`` parts in
    order (Gemini has one system instruction per request); ``assistant`` becomes role ``model``.
    """
    contents: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    calls: dict[str, tuple[str, str | None]] = {}  # tool_call_id -> (function name, Gemini's id)
    results: list[dict[str, Any]] | None = None  # the functionResponse parts of the open user turn
    for index, message in enumerate(request.messages):
        role = message.get("role")
        where = f"message {index} ({role})"
        if role == "tool":
            call_id, output = tool_result_text(message, where)
            if results is None:
                results = []
                contents.append({"role": "user", "parts": results})
            results.append(response_part(call_id, output, calls, where))
            continue
        results = None
        if role in ("system", "developer"):
            system.extend(_parts(message.get("content"), where))
        elif role == "user":
            contents.append({"role": "user", "parts": _parts(message.get("content"), where)})
        elif role == "assistant":
            turn_calls = neutral_calls(message, where)
            if turn_calls:
                # Within a tool loop the model turn goes back whole, as received (thought-signatures docs).
                content = message.get("content")
                text = _text_of(content if content is not None else "", where)
                sent, ids = model_parts_with_calls(_kept_parts(message, where, True), text, turn_calls)
                calls.update(ids)
                contents.append({"role": "model", "parts": sent})
                continue
            parts = _model_parts(message, where, request.thinking.preserve)
            if parts:
                contents.append({"role": "model", "parts": parts})
        else:
            raise ConfigurationError(
                f"{where}: unknown role {role!r}; the gemini protocol takes system, developer, user, assistant "
                "and tool messages"
            )
    if not any(content["role"] == "user" for content in contents):
        raise ConfigurationError("the gemini protocol needs at least one user message")
    return contents, ({"parts": system} if system else None)
