"""OpenAI-compatible ``chat.completion.chunk`` events to :class:`WireChunk`.

One parser serves every OpenAI-compatible server thinkbook talks to: Bailian compatible mode,
DeepSeek, vLLM, Ollama ``/v1``, llama.cpp, OpenRouter. They differ only in where the reasoning
text sits (see ``docs/wire-formats.md``):

* ``delta.reasoning_content`` (Bailian, DeepSeek, llama.cpp, vLLM < 0.16), else
* ``delta.reasoning`` (vLLM >= 0.16, Ollama, OpenRouter), else
* ``delta.reasoning_details[]`` (OpenRouter): ``reasoning.text`` entries give ``text``,
  ``reasoning.summary`` entries give ``summary``, ``reasoning.encrypted`` carries no text.

Servers may send the *same* text in two of these at once (vLLM during its field rename, OpenRouter
always), so exactly one source is taken per chunk, by that priority: text is never doubled.
``null``, ``""`` and non-string values count as absent. ``content`` may also be a list of
``{"type": "text", "text": ...}`` parts (some gateways send it so): their texts are joined.

Only ``choices[0]`` is read: thinkbook never asks for ``n > 1``.
"""

from __future__ import annotations

import json
from typing import Any

from ._errors import ResponseFormatError, redact
from ._sse import ServerSentEvent
from ._usage import parse_usage
from ._wire import WireChunk, loads_json

__all__ = ["OpenAIChunkParser", "error_status", "response_format_error"]

_loads = loads_json
_SNIPPET = 120


def response_format_error(data: str, expected: str) -> ResponseFormatError:
    """The error for a ``data:`` payload that is not what the protocol promises.

    Shows the start of the payload so the user can see what came instead (an HTML error page,
    a proxy's message...). It is redacted *before* being cut: cutting first could leave a
    fragment of a key too short for :func:`redact` to recognise.
    """
    shown = redact(data)
    if len(shown) > _SNIPPET:
        shown = shown[:_SNIPPET] + "…"
    return ResponseFormatError(
        f"the server sent a stream event that is not {expected}; its data starts with {shown!r}. "
        "Check that base_url points at the right API (and protocol) for this model"
    )


def error_status(code: object) -> int | None:
    """``code`` as an HTTP status when it looks like one (an int, or digits, in 400..599)."""
    if type(code) is str and code.isascii() and code.isdigit():
        code = int(code)
    if type(code) is int and 400 <= code <= 599:
        return code
    return None


def _details_text(details: object) -> str:
    """Text of OpenRouter's ``reasoning_details`` list; encrypted entries carry none."""
    if type(details) is not list:
        return ""
    parts: list[str] = []
    for item in details:
        if type(item) is not dict:
            continue
        kind = item.get("type")
        text = item.get("summary") if kind == "reasoning.summary" else item.get("text")
        if kind != "reasoning.encrypted" and text and type(text) is str:
            parts.append(text)
    return "".join(parts)


def _parts_text(parts: object) -> str:
    """Text of ``content`` sent as a list of parts: the ``{"type": "text", "text": ...}`` ones."""
    if type(parts) is not list:
        return ""
    return "".join(
        part["text"]
        for part in parts
        if type(part) is dict and part.get("type", "text") in _TEXT_PARTS and type(part.get("text")) is str
    )


_TEXT_PARTS = ("text", "output_text")


def _error_dict(error: object) -> dict[str, Any]:
    if type(error) is dict:
        return error
    return {"message": error if type(error) is str else json.dumps(error)}


class OpenAIChunkParser:
    """Parses the SSE events of one OpenAI-compatible stream, one event at a time.

    :meth:`parse` returns:

    * ``WireChunk(done=True)`` for ``data: [DONE]``;
    * ``None`` for an event that carries nothing at all (blank data, ``{}``, a bare role
      delta without ``model`` or ``id``): the caller just skips it;
    * otherwise a ``WireChunk``. The first, role-only chunk is *not* dropped: its ``model`` and
      ``id`` (``request_id``) are worth having before any text arrives, e.g. for an error.

    A chunk with a top-level ``"error"`` (vLLM, OpenRouter mid-stream failures), or an
    ``event: error`` event, gives ``WireChunk.error`` (the error object) and ``error_status``
    (its ``code`` when that is an HTTP status), together with any text of the same chunk.
    Data that is not a JSON object raises :class:`ResponseFormatError`.

    >>> p = OpenAIChunkParser()
    >>> p.parse(ServerSentEvent('{"choices":[{"delta":{"reasoning_content":"hm"}}]}')).reasoning
    'hm'
    >>> p.parse(ServerSentEvent("[DONE]")).done
    True
    """

    __slots__ = ()

    def parse(self, event: ServerSentEvent) -> WireChunk | None:
        """Decode one event (see the class docstring for what comes back)."""
        data = event.data
        if data == "[DONE]":
            return WireChunk(done=True)
        try:
            obj = _loads(data)
        except ValueError:
            stripped = data.strip()
            if not stripped:
                return None
            if stripped == "[DONE]":
                return WireChunk(done=True)
            if event.event == "error":
                return WireChunk(error={"message": data})
            raise response_format_error(data, "an OpenAI-compatible JSON chunk or [DONE]") from None
        if type(obj) is not dict:
            raise response_format_error(data, "a JSON object (an OpenAI-compatible chunk)")

        # The hot path: direct lookups only, no per-chunk helper calls for the common shapes.
        reasoning = content = ""
        finish: str | None = None
        choices = obj.get("choices")
        if choices and type(choices) is list:
            choice = choices[0]
            if type(choice) is dict:
                delta = choice.get("delta") or choice.get("message")
                if type(delta) is dict:
                    text = delta.get("reasoning_content")
                    if not text or type(text) is not str:
                        text = delta.get("reasoning")
                        if not text or type(text) is not str:
                            details = delta.get("reasoning_details")
                            text = _details_text(details) if details else ""
                    reasoning = text
                    text = delta.get("content")
                    if text:
                        content = text if type(text) is str else _parts_text(text)
                text = choice.get("finish_reason")
                if text and type(text) is str:
                    finish = text

        raw_usage = obj.get("usage")
        usage = parse_usage(raw_usage) if raw_usage and type(raw_usage) is dict else None
        model = obj.get("model")
        if type(model) is not str or not model:
            model = None
        request_id = obj.get("id")
        if type(request_id) is not str or not request_id:
            request_id = None

        error: dict[str, Any] | None = None
        status: int | None = None
        raw_error = obj.get("error")
        if raw_error is not None or event.event == "error":
            error = _error_dict(raw_error) if raw_error is not None else obj
            status = error_status(error.get("code"))
        elif not (reasoning or content or finish or usage or model or request_id):
            return None
        # Positional: ~40% cheaper than keywords, and this runs once per token. The field order
        # is pinned by a test (tests/test_openai_wire.py::test_wirechunk_field_order).
        return WireChunk(reasoning, content, usage, finish, model, request_id, error, status)
