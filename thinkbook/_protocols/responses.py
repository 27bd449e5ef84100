"""The OpenAI Responses API (``protocol="responses"``): OpenAI itself, and Bailian's copy of it.

``POST {base_url}/responses`` with ``stream: true``. The stream is typed SSE (``event:`` names,
and the same name in the data's ``type``; the parser reads ``type`` and falls back to the event
name, so a server that leaves out either still parses). There is no ``[DONE]``: a response ends
with ``response.completed``, ``response.incomplete`` (finish reason = ``incomplete_details.reason``,
e.g. ``"max_output_tokens"``) or ``response.failed`` (an in-stream error, ``response.error``);
a top-level ``error`` event is an in-stream error too.

Text: the answer from ``response.output_text.delta`` (and ``response.refusal.delta``: a refusal
is the model's answer); the reasoning from ``response.reasoning_summary_text.delta`` (OpenAI's
summaries, Bailian's thinking) or ``response.reasoning_text.delta`` (raw reasoning, sent by some
servers, e.g. vLLM). A server could send both for the same thought, so the first kind seen in a
response is the one used and the other is ignored: text is never doubled. Summary parts and
reasoning items are separated by a blank line. A server that sends an item only whole (no
deltas) still shows: ``response.output_item.done`` then supplies the item's text.

Usage comes from the final response (``input_tokens``, ``output_tokens``, ``total_tokens``,
``output_tokens_details.reasoning_tokens``, ``input_tokens_details.cached_tokens``; read by
:func:`thinkbook._usage.parse_usage`). Reasoning that happened without text (a reasoning item
with ``encrypted_content`` and an empty summary, or reasoning tokens and no reasoning text) is
reported as ``reasoning_hidden``.

Request (OpenAI, and any server but Bailian)::

    {"model", "input": [...], "stream": true, "store": false,
     "reasoning": {"effort": ..., "summary": "auto"}, "include": ["reasoning.encrypted_content"]}

``reasoning`` (and ``include``) go to the OpenAI reasoning models (``gpt-5*``, ``o1*``, ``o3*``,
``o4*``, ``codex*``), and to any model when thinking is asked for (``enable_thinking=True`` or an
effort): other models (``gpt-4.1``) reject the field. Thinking options:

==================  ==========================================================================
effort              ``reasoning.effort`` = ``"low"`` / ``"medium"`` / ``"high"`` (same names)
enable_thinking     True: ``reasoning`` is sent. False: OpenAI reasoning cannot be switched off,
=False              only lowered: ``gpt-5.1`` and later (``gpt-5.N``) take ``effort: "none"``,
                    the ``gpt-5`` family before it ``"minimal"``; ``o1``/``o3``/``o4`` have no
                    such value (ConfigurationError: use ``effort="low"``); other models get no
                    ``reasoning`` field. enable_thinking=False with an effort: ConfigurationError.
thinking_budget     no OpenAI knob: ConfigurationError (use ``effort``)
preserve_thinking   default on: earlier turns' reasoning items go back (the API wants them with
                    ``store: false``); False sends plain assistant messages instead
==================  ==========================================================================

Bailian (``provider == "bailian"``, ``{host}/compatible-mode/v1`` or the older
``{host}/api/v2/apps/protocols/compatible-mode/v1``): ``enable_thinking`` top-level, effort as
``reasoning.effort`` (Bailian's newest reference documents it; older deployments ignore unknown
fields), no ``store`` / ``include`` / ``summary`` (not in its reference). ``thinking_budget``:
ConfigurationError, the Bailian Responses API has none (its thinking guide: "Chat Completions
and DashScope only"); use ``protocol="openai"`` for a budget. Its reasoning item ids start with
``msg_``; its items carry no ``encrypted_content``, so earlier reasoning goes back only with
``preserve_thinking=True``.

System prompt: sent as a ``system`` (or ``developer``) message inside ``input``, not as
``instructions``: Bailian's reference listed ``instructions`` as unsupported (ignored, so the
system prompt would silently vanish) while ``input`` messages are supported by both, and a
message keeps its place in the history.

Multi-turn (:meth:`ResponsesParser.turn_state`): ``{"protocol": "responses", "items": [...]}``,
the response's output items (reasoning items with ``id``, ``encrypted_content`` and ``summary``,
and the message items they precede) exactly as received, in order. They replace the assistant
message in the next request's ``input``, unchanged. A reasoning item sent without the item that
followed it is a 400, so trailing reasoning items (a response cut during reasoning) are dropped,
and the items are used only while the turn's answer still equals their text (an edited answer
goes back as a plain message).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .._sse import ServerSentEvent
from .._usage import parse_usage
from .._wire import WireChunk, loads_json
from .base import BodyInput, Message, ProviderSpec, WireProtocol
from .openai import error_status, response_format_error
from .responses_request import bailian_thinking, input_items, openai_thinking

__all__ = ["OPENAI", "PROTOCOL", "ResponsesParser", "ResponsesProtocol"]

NAME = "responses"
_loads = loads_json

# ``response.error.code`` / ``error`` event codes that say an HTTP status.
_CODE_STATUS = {
    "server_error": 500,
    "rate_limit_exceeded": 429,
    "invalid_prompt": 400,
    "invalid_request_error": 400,
    "insufficient_quota": 429,
}


def _is_openai_host(host: str) -> bool:
    return host == "api.openai.com"


OPENAI = ProviderSpec(
    name="openai",
    protocol=NAME,
    default_base_url="https://api.openai.com/v1",
    key_variables=("OPENAI_API_KEY",),
    owns_host=_is_openai_host,
    model_prefixes=("gpt-", "o1", "o3", "o4"),
    dialect="openai",
)


class ResponsesProtocol(WireProtocol):
    """OpenAI Responses API: OpenAI (``OPENAI_API_KEY``) and Bailian's Responses endpoints."""

    name: ClassVar[str] = NAME
    title: ClassVar[str] = "OpenAI Responses API (OpenAI, Bailian /responses)"
    expected: ClassVar[str] = "an OpenAI Responses event"
    # Bailian serves Responses next to chat completions, under its compatible-mode base.
    region_path: ClassVar[str | None] = "/compatible-mode/v1"
    providers: ClassVar[tuple[ProviderSpec, ...]] = (OPENAI,)

    def path(self, model: str, *, base_url: str) -> str:
        return "/responses"

    def claims(self, host: str, path: str) -> bool:
        # OpenAI's own API speaks Responses first; Bailian's older Responses-only path too.
        if _is_openai_host(host):
            return True
        return host.endswith(".aliyuncs.com") and "/api/v2/apps/protocols/" in path

    def build_body(self, request: BodyInput) -> dict[str, Any]:
        bailian = request.provider == "bailian"
        thinking = request.thinking
        # OpenAI wants its reasoning items back (store=false); Bailian's carry nothing opaque.
        replay = thinking.preserve is True if bailian else thinking.preserve is not False
        body: dict[str, Any] = {
            "model": request.model,
            "input": input_items(request.messages, NAME, replay),
            "stream": True,
        }
        if bailian:
            body.update(bailian_thinking(thinking))
        else:
            # Nothing is kept on OpenAI's side: the next turn sends its own context back.
            body["store"] = False
            body.update(openai_thinking(request.model, thinking))
        return body

    def new_parser(self) -> ResponsesParser:
        return ResponsesParser()

    def recorded_history(self, body: Mapping[str, Any]) -> list[Message]:
        """The ``input`` items that are messages (``role``); reasoning and call items are not turns."""
        items = body.get("input")
        if isinstance(items, str):
            return [{"role": "user", "content": items}]
        return [item for item in items if isinstance(item, dict) and "role" in item] if isinstance(items, list) else []


_SUMMARY, _RAW = 1, 2
_KEEPALIVES = ("keepalive", "ping")  # gateways' liveness events: not OpenAI's, harmless
_TEXT_DELTA = "response.output_text.delta"
_SUMMARY_DELTA = "response.reasoning_summary_text.delta"
_RAW_DELTA = "response.reasoning_text.delta"


def _str(value: object) -> str | None:
    return value if type(value) is str and value else None


def _joined(parts: object, kind: str, sep: str = "\n\n") -> str:
    """The texts of an item's ``summary`` / ``content`` parts of type ``kind``, joined by ``sep``
    (reasoning parts are paragraphs; answer parts are one text, as their deltas would be)."""
    if type(parts) is not list:
        return ""
    texts = [p["text"] for p in parts if type(p) is dict and p.get("type") == kind and _str(p.get("text"))]
    return sep.join(texts)


class ResponsesParser:
    """Parses one Responses stream (see the module docstring); keeps its output items for
    :meth:`turn_state`.

    >>> p = ResponsesParser()
    >>> p.parse(ServerSentEvent('{"type":"response.output_text.delta","delta":"Hi"}')).content
    'Hi'
    """

    __slots__ = ("_done_items", "_final_items", "_kind", "_part", "_saw_reasoning", "_streamed", "_text_item")

    def __init__(self) -> None:
        self._kind = 0  # which reasoning source this response uses: 0 (none yet), _SUMMARY, _RAW
        self._part: tuple[object, ...] | None = None  # (item, part index) of the last reasoning delta
        self._saw_reasoning = False
        self._streamed: set[str] = set()  # item ids whose text came as deltas
        self._text_item: object = None  # item id of the last answer delta
        self._done_items: dict[int, dict[str, Any]] = {}
        self._final_items: list[dict[str, Any]] | None = None

    def parse(self, event: ServerSentEvent) -> WireChunk | None:
        """Decode one event: a chunk, None for events that carry nothing for thinkbook."""
        data = event.data
        try:
            obj = _loads(data)
        except ValueError:
            stripped = data.strip()
            if not stripped:
                return None
            if stripped == "[DONE]":  # a gateway's habit; the response already ended
                return WireChunk(done=True)
            if event.event == "error":
                return WireChunk(error={"message": data})
            raise response_format_error(data, "an OpenAI Responses JSON event") from None
        if type(obj) is not dict:
            raise response_format_error(data, "a JSON object (an OpenAI Responses event)")
        kind = obj.get("type")
        if type(kind) is not str:
            kind = event.event
        # The hot path: one token per event, direct lookups only.
        if kind == _TEXT_DELTA:
            delta = obj.get("delta")
            if type(delta) is not str or not delta:
                return None
            item_id = obj.get("item_id")
            if item_id != self._text_item:  # one string compare per token, no set lookup
                self._text_item = item_id
                self._note(item_id)
            return WireChunk("", delta)
        if kind in (_SUMMARY_DELTA, _RAW_DELTA):
            return self._reasoning(obj, _SUMMARY if kind == _SUMMARY_DELTA else _RAW)
        return self._other(kind, obj, data)

    def _note(self, item_id: object) -> None:
        if type(item_id) is str and item_id not in self._streamed:
            self._streamed.add(item_id)

    def _reasoning(self, obj: dict[str, Any], source: int) -> WireChunk | None:
        delta = obj.get("delta")
        if type(delta) is not str or not delta:
            return None
        if self._kind != source:
            if self._kind:
                return None  # the other source of the same thoughts: never doubled
            self._kind = source
        item_id = obj.get("item_id")
        part = (item_id, obj.get("summary_index" if source == _SUMMARY else "content_index"))
        if part != self._part:
            self._note(item_id)
            if self._part is not None:
                delta = "\n\n" + delta  # a new summary part or reasoning item: a new paragraph
            self._part = part
        self._saw_reasoning = True
        return WireChunk(delta)

    def _other(self, kind: str, obj: dict[str, Any], data: str) -> WireChunk | None:
        if kind == "response.refusal.delta":
            delta = _str(obj.get("delta"))
            return WireChunk("", delta) if delta else None
        if kind == "response.output_item.done":
            return self._item_done(obj)
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            return self._end(kind, obj)
        if kind == "response.created" or kind == "response.in_progress":
            return self._meta(obj.get("response"))
        if kind == "error":
            error = obj.get("error")
            error = error if type(error) is dict else obj
            return WireChunk(error=error, error_status=_status_of(error))
        if kind.startswith("response.") or kind in _KEEPALIVES:
            return None  # the many events that repeat what deltas said, or concern tools
        raise response_format_error(data, "an OpenAI Responses event (a JSON object with a response.* type)")

    def _meta(self, response: object) -> WireChunk | None:
        if type(response) is not dict:
            return None
        model, request_id = _str(response.get("model")), _str(response.get("id"))
        if not (model or request_id):
            return None
        return WireChunk(model=model, request_id=request_id)

    def _item_done(self, obj: dict[str, Any]) -> WireChunk | None:
        item = obj.get("item")
        if type(item) is not dict:
            return None
        index = obj.get("output_index")
        self._done_items[index if type(index) is int else len(self._done_items)] = item
        item_id, kind = item.get("id"), item.get("type")
        if kind == "reasoning":
            if item_id in self._streamed:
                return None
            # Sent whole (no deltas): its text now, from the source this response uses.
            source = self._kind or (_SUMMARY if _joined(item.get("summary"), "summary_text") else _RAW)
            text = _joined(item.get("summary"), "summary_text") if source == _SUMMARY else ""
            if source == _RAW:
                text = _joined(item.get("content"), "reasoning_text")
            if text:
                self._kind = source
                self._saw_reasoning = True
                self._note(item_id)
                text = "\n\n" + text if self._part is not None else text
                self._part = (item_id, None)
                return WireChunk(text)
            hidden = bool(_str(item.get("encrypted_content")))
            return WireChunk(reasoning_hidden=True) if hidden else None
        if kind == "message" and item_id not in self._streamed:
            text = _joined(item.get("content"), "output_text", "")
            self._note(item_id)
            return WireChunk("", text) if text else None
        return None

    def _end(self, kind: str, obj: dict[str, Any]) -> WireChunk:
        response = obj.get("response")
        if type(response) is not dict:
            response = {}
        output = response.get("output")
        if type(output) is list and output and all(type(item) is dict for item in output):
            self._final_items = output
        raw_usage = response.get("usage")
        usage = parse_usage(raw_usage) if type(raw_usage) is dict else None
        chunk = WireChunk(usage=usage, model=_str(response.get("model")), request_id=_str(response.get("id")))
        if usage is not None and usage.reasoning_tokens and not self._saw_reasoning:
            chunk.reasoning_hidden = True
        if kind == "response.completed":
            chunk.finish_reason = "stop"
        elif kind == "response.incomplete":
            details = response.get("incomplete_details")
            reason = _str(details.get("reason")) if type(details) is dict else None
            chunk.finish_reason = reason or "incomplete"
        else:
            error = response.get("error")
            if type(error) is not dict:
                error = {
                    "code": "response_failed",
                    "message": "the server reports the response failed, without a reason",
                }
            chunk.error, chunk.error_status = error, _status_of(error)
        return chunk

    def turn_state(self) -> dict[str, Any] | None:
        """The output items a later turn sends back, or None when there is no reasoning item."""
        if self._final_items is not None:
            items = list(self._final_items)
        else:
            items = [self._done_items[i] for i in sorted(self._done_items)]
        # A reasoning item the API gets without the item that followed it is a 400.
        while items and items[-1].get("type") == "reasoning":
            items.pop()
        if not any(item.get("type") == "reasoning" for item in items):
            return None
        return {"protocol": NAME, "items": items}


def _status_of(error: dict[str, Any]) -> int | None:
    status = error_status(error.get("status"))
    if status is None:
        status = error_status(error.get("code"))
    if status is None:
        code = error.get("code") or error.get("type")
        status = _CODE_STATUS.get(code) if type(code) is str else None
    return status


PROTOCOL = ResponsesProtocol()
