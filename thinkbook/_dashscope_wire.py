"""DashScope native (Bailian ``/api/v1/services/aigc/...``) stream events to :class:`WireChunk`.

The native protocol, as the Bailian transcripts show it::

    id:1
    event:result
    :HTTP_STATUS/200
    data:{"output":{"choices":[{"message":{"content":"","reasoning_content":"嗯","role":"assistant"},
          "finish_reason":"null"}]},"usage":{"total_tokens":14,"input_tokens":11,"output_tokens":3},
          "request_id":"25d58c29-..."}

Differences from the OpenAI-compatible stream that this module absorbs:

* text is in ``output.choices[0].message`` (``reasoning_content``, ``content``); with
  ``result_format=text`` it is ``output.text`` instead. On the multimodal endpoint (Qwen3.5 and
  later) ``content`` may be a list of ``{"text": ...}`` parts: their texts are joined.
* ``finish_reason`` is the *string* ``"null"`` until the last event.
* every event carries the cumulative ``usage``: it is returned every time and the consumer
  keeps the last one.
* there is no ``[DONE]``: the stream ends when the connection closes (a ``[DONE]`` is still
  honoured if some proxy adds one).
* errors come as ``event:error`` (the ``:HTTP_STATUS/4xx`` comment before it is dropped by the
  SSE decoder) or as a body ``{"request_id","code","message"}`` without ``output``. The ``code``
  (``DataInspectionFailed``, ``Throttling``...) identifies the failure, so ``error_status`` is
  left ``None``.
"""

from __future__ import annotations

from typing import Any

from ._openai_wire import response_format_error
from ._sse import ServerSentEvent
from ._usage import parse_usage
from ._wire import WireChunk, loads_json

__all__ = ["DashScopeChunkParser"]

_loads = loads_json


def _text(value: object) -> str:
    """A string as is; a list of ``{"text": ...}`` parts joined; anything else empty."""
    if type(value) is str:
        return value
    if type(value) is list:
        return "".join(part["text"] for part in value if type(part) is dict and type(part.get("text")) is str)
    return ""


def _error_chunk(body: object, data: str) -> WireChunk:
    error: dict[str, Any] = body if type(body) is dict else {"message": data.strip() or "error event without details"}
    request_id = error.get("request_id")
    return WireChunk(
        request_id=request_id if type(request_id) is str and request_id else None,
        error=error,
    )


class DashScopeChunkParser:
    """Parses the SSE events of one DashScope native stream, one event at a time.

    :meth:`parse` returns a ``WireChunk`` (``usage`` on every event that has one; ``model`` is
    always ``None``: the native protocol does not echo it), ``None`` for an event that carries
    nothing, or ``WireChunk(error=...)`` for an error event. Data that is not a JSON object
    raises :class:`ResponseFormatError`.

    >>> p = DashScopeChunkParser()
    >>> c = p.parse(ServerSentEvent(
    ...     '{"output":{"choices":[{"message":{"content":"","reasoning_content":"嗯"},'
    ...     '"finish_reason":"null"}]},"usage":{"input_tokens":11,"output_tokens":3},'
    ...     '"request_id":"r1"}', event="result"))
    >>> c.reasoning, c.finish_reason, c.usage.total_tokens, c.request_id
    ('嗯', None, 14, 'r1')
    """

    __slots__ = ()

    def parse(self, event: ServerSentEvent) -> WireChunk | None:
        """Decode one event (see the class docstring for what comes back)."""
        data = event.data
        try:
            obj = _loads(data)
        except ValueError:
            if event.event == "error":
                return _error_chunk(None, data)
            stripped = data.strip()
            if not stripped:
                return None
            if stripped == "[DONE]":
                return WireChunk(done=True)
            raise response_format_error(data, "a DashScope JSON object") from None
        if type(obj) is not dict:
            raise response_format_error(data, "a JSON object (a DashScope event)")
        if event.event == "error":
            return _error_chunk(obj, data)

        output = obj.get("output")
        if type(output) is not dict:
            if obj.get("code"):
                return _error_chunk(obj, data)
            output = {}

        reasoning = content = ""
        finish: object = None
        choices = output.get("choices")
        if choices and type(choices) is list:
            choice = choices[0]
            if type(choice) is dict:
                message = choice.get("message")
                if type(message) is dict:
                    text = message.get("reasoning_content")
                    if text:
                        reasoning = text if type(text) is str else _text(text)
                    text = message.get("content")
                    if text:
                        content = text if type(text) is str else _text(text)
                finish = choice.get("finish_reason")
        else:
            # result_format=text: the whole choice is flattened into output.
            content = _text(output.get("text"))
            finish = output.get("finish_reason")
        finish_reason = finish if type(finish) is str and finish and finish != "null" else None

        raw_usage = obj.get("usage")
        usage = parse_usage(raw_usage) if raw_usage and type(raw_usage) is dict else None
        request_id = obj.get("request_id")
        if type(request_id) is not str or not request_id:
            request_id = None
        if not (reasoning or content or finish_reason or usage or request_id):
            return None
        # Positional for speed, like the OpenAI parser (order pinned by a test).
        return WireChunk(reasoning, content, usage, finish_reason, None, request_id)
