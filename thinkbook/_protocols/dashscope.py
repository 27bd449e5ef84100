"""DashScope native (``protocol="dashscope"``, Bailian ``/api/v1/services/aigc/...``).

The request: ``POST {base_url}/services/aigc/text-generation/generation`` (or
``/multimodal-generation/generation`` for the models the catalog says, Qwen3.5 and later), header
``X-DashScope-SSE: enable``, body ``{"model", "input": {"messages"}, "parameters"}`` with the
thinking options in ``parameters`` (``enable_thinking``, ``thinking_budget``,
``preserve_thinking``). On the multimodal endpoint a text ``content`` becomes ``[{"text": ...}]``
and image parts ``{"image": url}``; a request with images always goes there (any model: Bailian
serves vision only on that service). Tools (``tools``, ``tool_choice``) and web search
(``enable_search``, ``search_options``) go in ``parameters`` too.
``effort`` becomes a ``thinking_budget`` per level, as for Bailian compatible mode
(:data:`~thinkbook._protocols.openai_dialects.EFFORT_BUDGETS`).

DashScope native (Bailian ``/api/v1/services/aigc/...``) stream events to :class:`WireChunk`.

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
* tool calls come as ``output.choices[0].message.tool_calls`` deltas, the OpenAI shape (``index``,
  ``id``, ``function.name``, ``function.arguments`` in pieces), and end with ``finish_reason:
  "tool_calls"``;
* web search (``parameters.enable_search``) sends its sources as ``output.search_info.search_results``
  in the first packet (with ``search_options.prepend_search_result`` that packet holds nothing but
  them), and counts the searches in ``usage.plugins.search.count`` (kept in ``Usage.raw``);
* errors come as ``event:error`` (the ``:HTTP_STATUS/4xx`` comment before it is dropped by the
  SSE decoder) or as a body ``{"request_id","code","message"}`` without ``output``. The ``code``
  (``DataInspectionFailed``, ``Throttling``...) identifies the failure, so ``error_status`` is
  left ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._catalog import MULTIMODAL_GENERATION_PATH, TEXT_GENERATION_PATH, lookup, native_endpoint_for
from .._errors import ConfigurationError
from .._sse import ServerSentEvent
from .._usage import parse_usage
from .._wire import WireChunk, loads_json
from .base import STATE_KEY, BodyInput, Message, ProviderSpec, ThinkingOptions, WireProtocol
from .openai import is_bailian_host, response_format_error
from .openai_dialects import EFFORT_BUDGETS

__all__ = ["PROTOCOL", "DashScopeChunkParser", "DashScopeProtocol"]

NATIVE_PATH = "/api/v1"
COMPATIBLE_PATH = "/compatible-mode/v1"
# Providers known not to speak the native protocol, whatever host they are on.
_NOT_NATIVE = frozenset({"ollama"})

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

    def turn_state(self) -> dict[str, Any] | None:
        """Nothing beyond the text: ``reasoning_content`` goes back as it is."""
        return None

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
        tool_calls: list[Any] | None = None
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
                    calls = message.get("tool_calls")
                    if calls and type(calls) is list:
                        tool_calls = calls
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
        sources: list[Any] | None = None
        search_info = output.get("search_info")
        if search_info and type(search_info) is dict:
            found = search_info.get("search_results")
            if found and type(found) is list:
                sources = found
        if not (reasoning or content or finish_reason or usage or request_id or tool_calls or sources):
            return None
        # Positional for speed, like the OpenAI parser (order pinned by a test).
        chunk = WireChunk(reasoning, content, usage, finish_reason, None, request_id)
        if tool_calls is not None:
            chunk.tool_calls = tool_calls
        if sources is not None:
            chunk.search_results = sources
        return chunk


def _native_part(part: object) -> object:
    """An OpenAI-format content part in the multimodal endpoint's spelling."""
    if type(part) is not dict:
        return part
    kind = part.get("type")
    if kind == "text":
        return {"text": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if type(image) is dict else image
        return {"image": url}
    return part


def _has_images(messages: list[Message]) -> bool:
    return any(
        type(part) is dict and part.get("type") == "image_url"
        for message in messages
        if type(message.get("content")) is list
        for part in message["content"]
    )


def _native_messages(messages: list[Message], multimodal: bool) -> list[Message]:
    converted = []
    for message in messages:
        message = {k: v for k, v in message.items() if k != STATE_KEY}
        calls = message.get("tool_calls")
        if type(calls) is list:
            message["tool_calls"] = [
                {k: v for k, v in call.items() if k != STATE_KEY} if type(call) is dict else call for call in calls
            ]
        content = message.get("content")
        if content is None:
            content = message["content"] = ""  # a turn that only called tools
        if multimodal and isinstance(content, str):
            message["content"] = [{"text": content}]
        elif multimodal and isinstance(content, list):
            message["content"] = [_native_part(part) for part in content]
        converted.append(message)
    return converted


class DashScopeProtocol(WireProtocol):
    """Bailian's native API: the text or multimodal generation service, chosen per model."""

    name: ClassVar[str] = "dashscope"
    title: ClassVar[str] = "Bailian's native API (DashScope), base_url ending in /api/v1"
    expected: ClassVar[str] = "a DashScope JSON event"
    region_path: ClassVar[str | None] = NATIVE_PATH
    suffixes: ClassVar[tuple[str, ...]] = (MULTIMODAL_GENERATION_PATH, TEXT_GENERATION_PATH)
    # Bailian's own spelling is the only one: dialect="bailian" is accepted, and changes nothing.
    dialects: ClassVar[dict[str, str]] = {"bailian": "Bailian's own parameters"}

    def path(self, model: str, *, base_url: str) -> str:
        info = lookup(model)
        kind = info.native_endpoint if info else native_endpoint_for(model)
        return MULTIMODAL_GENERATION_PATH if kind == "multimodal-generation" else TEXT_GENERATION_PATH

    def headers(self, api_key: str | None) -> dict[str, str]:
        headers = super().headers(api_key)
        headers["X-DashScope-SSE"] = "enable"
        return headers

    def claims(self, host: str, path: str) -> bool:
        """A Bailian host whose base URL ends in ``/api/v1``."""
        return is_bailian_host(host) and path.rstrip("/").endswith(NATIVE_PATH)

    def check_base(self, base_url: str, provider: ProviderSpec, *, shown: str) -> None:
        # Any host may speak the native protocol (gateways, proxies, test servers): only the URL
        # shape is checked, and the providers known not to.
        if base_url.endswith(COMPATIBLE_PATH):
            raise ConfigurationError(
                f"protocol='dashscope' needs the native base URL ending in {NATIVE_PATH}, got "
                f"{shown}; use protocol='openai' with this URL, or the same host with {NATIVE_PATH}"
            )
        host = (urlsplit(base_url).hostname or "").lower()
        # Another provider's own host (DeepSeek, OpenRouter, OpenAI...) is not Bailian; Ollama is
        # recognised by its port, not its host.
        if (provider.owns_host(host) and not is_bailian_host(host)) or provider.name in _NOT_NATIVE:
            raise ConfigurationError(
                f"protocol='dashscope' is Bailian's native API, which {shown} does not speak; "
                "use protocol='openai' (or leave protocol unset)"
            )

    def build_body(self, request: BodyInput) -> dict[str, Any]:
        thinking = request.thinking
        parameters: dict[str, Any] = {"result_format": "message", "incremental_output": True}
        budget = thinking.budget
        if thinking.effort is not None:
            info = lookup(request.model)
            if info is not None and not info.budget:
                raise ConfigurationError(
                    f"effort={thinking.effort!r} becomes a thinking_budget on Bailian, and {info.name} has no such "
                    "knob (only Qwen3-generation and Kimi models take one): drop effort, or turn thinking on and "
                    "off with enable_thinking"
                )
            budget = EFFORT_BUDGETS[thinking.effort]
        if thinking.enable is not None:
            parameters["enable_thinking"] = thinking.enable
        if budget is not None:
            parameters["thinking_budget"] = budget
        if thinking.preserve:
            parameters["preserve_thinking"] = True
        if request.tools:
            parameters["tools"] = list(request.tools)
            if request.tool_choice is not None:
                parameters["tool_choice"] = request.tool_choice
        if request.search:
            parameters.update(request.search)
        multimodal = urlsplit(request.url).path.endswith(MULTIMODAL_GENERATION_PATH)
        if request.url and not multimodal and _has_images(request.messages):
            raise ConfigurationError(
                f"images go to Bailian's multimodal-generation service, and this request goes to {request.url}; "
                "use a base URL ending in /api/v1 (thinkbook then picks the service)"
            )
        return {
            "model": request.model,
            "input": {"messages": _native_messages(request.messages, multimodal)},
            "parameters": parameters,
        }

    def new_parser(self) -> DashScopeChunkParser:
        return DashScopeChunkParser()

    #: where a request with images goes (see ``thinkbook._endpoints.for_images``): only the
    #: multimodal-generation service takes ``{"image": ...}`` content.
    images_path: ClassVar[str] = MULTIMODAL_GENERATION_PATH
    #: web search returns its sources here (``output.search_info``); chat completions has none
    search_sources: ClassVar[bool] = True

    def recorded_history(self, body: Mapping[str, Any]) -> list[Message]:
        native = body.get("input")
        return super().recorded_history(native) if isinstance(native, Mapping) else []

    def recorded_thinking(self, body: Mapping[str, Any]) -> ThinkingOptions:
        parameters = body.get("parameters")
        return super().recorded_thinking(parameters if isinstance(parameters, Mapping) else {})


PROTOCOL = DashScopeProtocol()
