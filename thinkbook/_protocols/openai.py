"""OpenAI-compatible chat completions (``protocol="openai"``): the parser, the body, the dialects.

One protocol serves every OpenAI-compatible server thinkbook talks to: Bailian compatible mode,
DeepSeek, vLLM, Ollama ``/v1``, llama.cpp, OpenRouter, OpenAI-compatible gateways. The request is
``POST {base_url}/chat/completions`` with ``stream: true`` and ``stream_options.include_usage``.

Parsing. The servers differ only in where the reasoning text sits (see ``docs/wire-formats.md``):

* ``delta.reasoning_content`` (Bailian, DeepSeek, llama.cpp, vLLM < 0.16), else
* ``delta.reasoning`` (vLLM >= 0.16, Ollama, OpenRouter), else
* ``delta.reasoning_details[]`` (OpenRouter): ``reasoning.text`` entries give ``text``,
  ``reasoning.summary`` entries give ``summary``, ``reasoning.encrypted`` carries no text.

Servers may send the *same* text in two of these at once (vLLM during its field rename, OpenRouter
always), so exactly one source is taken per chunk, by that priority: text is never doubled.
``null``, ``""`` and non-string values count as absent. ``content`` may also be a list of
``{"type": "text", "text": ...}`` parts (some gateways send it so): their texts are joined.
Only ``choices[0]`` is read: thinkbook never asks for ``n > 1``.

Tools (``tools`` / ``tool_choice``) go in the body as they are: the neutral spelling *is* this
protocol's (see :mod:`.base`). ``delta.tool_calls`` deltas pass to ``WireChunk.tool_calls`` unchanged,
and a round that asks for calls ends with ``finish_reason: "tool_calls"``. Bailian web search
(``enable_search`` / ``search_options``) goes top-level, for the Bailian dialect only; this protocol
returns no sources (the native one does).

Dialects: the same thinking wish is spelled differently by each server family. That table is
data, in :mod:`thinkbook._protocols.openai_dialects` (with what ``effort=`` becomes per dialect);
the dialect follows the provider (:data:`PROVIDERS`) unless ``dialect=`` says.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._errors import ConfigurationError, ResponseFormatError, redact
from .._sse import ServerSentEvent
from .._usage import parse_usage
from .._wire import WireChunk, loads_json
from .base import STATE_KEY, BodyInput, ProviderSpec, WireProtocol
from .openai_dialects import DIALECTS, HOST_DIALECTS, hint_gateway, search_body_fields, spelling_of, thinking_fields

__all__ = [
    "PROTOCOL",
    "PROVIDERS",
    "OpenAIChunkParser",
    "OpenAIProtocol",
    "error_status",
    "is_bailian_host",
    "response_format_error",
]

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

    def turn_state(self) -> dict[str, Any] | None:
        """Nothing beyond the text: ``reasoning_content`` goes back as it is (see ``build_body``)."""
        return None

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
        tool_calls: list[Any] | None = None
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
                    calls = delta.get("tool_calls")
                    if calls and type(calls) is list:
                        tool_calls = calls
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
        elif not (reasoning or content or finish or usage or model or request_id or tool_calls):
            return None
        # Positional: ~40% cheaper than keywords, and this runs once per token. The field order
        # is pinned by a test (tests/protocols/test_openai.py::test_wirechunk_field_order).
        chunk = WireChunk(reasoning, content, usage, finish, model, request_id, error, status)
        if tool_calls is not None:
            chunk.tool_calls = tool_calls
        return chunk


# --- providers --------------------------------------------------------------------------------


def is_bailian_host(host: str) -> bool:
    """Bailian's own hosts: the regional ``dashscope*.aliyuncs.com`` and workspace ``*.maas.aliyuncs.com``.

    Not every ``*.aliyuncs.com`` host: anyone can serve from an OSS bucket there.
    """
    return (host.startswith("dashscope") and host.endswith(".aliyuncs.com") and host.count(".") == 2) or (
        host.endswith(".maas.aliyuncs.com")
    )


def _is_loopback_or_private(host: str) -> bool:
    if host in ("localhost", "host.docker.internal") or host.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _nobody(host: str) -> bool:
    return False


BAILIAN_COMPATIBLE_PATH = "/compatible-mode/v1"

PROVIDERS: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        name="bailian",
        protocol="openai",
        default_base_url="https://dashscope-intl.aliyuncs.com" + BAILIAN_COMPATIBLE_PATH,
        key_variables=("DASHSCOPE_API_KEY",),
        owns_host=is_bailian_host,
        # "/compatible-mode/" is Bailian's own path: a gateway or proxy in front of it speaks its dialect.
        recognises=lambda host, path, port: "/compatible-mode/" in path + "/",
        dialect="bailian",
    ),
    ProviderSpec(
        name="deepseek",
        protocol="openai",
        default_base_url="https://api.deepseek.com",
        key_variables=("DEEPSEEK_API_KEY",),
        owns_host=lambda host: host == "api.deepseek.com",
        models=("deepseek-chat", "deepseek-reasoner"),
        dialect="deepseek",
    ),
    ProviderSpec(
        name="openrouter",
        protocol="openai",
        default_base_url="https://openrouter.ai/api/v1",
        key_variables=("OPENROUTER_API_KEY",),
        owns_host=lambda host: host == "openrouter.ai" or host.endswith(".openrouter.ai"),
        dialect="openrouter",
    ),
    ProviderSpec(
        name="ollama",
        protocol="openai",
        default_base_url="http://localhost:11434/v1",
        key_variables=(),
        owns_host=_nobody,
        recognises=lambda host, path, port: port == 11434 or "ollama" in host,
        requires_key=False,
        dialect="ollama",
    ),
    ProviderSpec(
        name="local",
        protocol="openai",
        default_base_url="http://localhost:8000/v1",
        key_variables=(),
        owns_host=_nobody,
        recognises=lambda host, path, port: _is_loopback_or_private(host),
        requires_key=False,
        dialect="vllm",
    ),
    # Last: any other host. Most generic OpenAI-compatible servers that think copied Bailian's
    # field names, hence its dialect.
    ProviderSpec(
        name="openai",
        protocol="openai",
        default_base_url="https://api.openai.com/v1",
        key_variables=("OPENAI_API_KEY",),
        owns_host=lambda host: host == "api.openai.com",
        base_url_variable="OPENAI_BASE_URL",
        recognises=lambda host, path, port: True,
        requires_key=False,
        dialect="bailian",
    ),
)


# --- the protocol -----------------------------------------------------------------------------


class OpenAIProtocol(WireProtocol):
    """``POST {base_url}/chat/completions``, Bearer key, ``chat.completion.chunk`` events."""

    name: ClassVar[str] = "openai"
    title: ClassVar[str] = "any OpenAI-compatible server: chat completions"
    expected: ClassVar[str] = "an OpenAI-compatible JSON chunk or [DONE]"
    providers: ClassVar[tuple[ProviderSpec, ...]] = PROVIDERS
    dialects: ClassVar[Mapping[str, str]] = DIALECTS
    region_path: ClassVar[str | None] = BAILIAN_COMPATIBLE_PATH
    suffixes: ClassVar[tuple[str, ...]] = ("/chat/completions",)

    def path(self, model: str, *, base_url: str) -> str:
        return "/chat/completions"

    def check_base(self, base_url: str, provider: ProviderSpec, *, shown: str) -> None:
        if is_bailian_host((urlsplit(base_url).hostname or "").lower()) and base_url.endswith("/api/v1"):
            raise ConfigurationError(
                f"{shown} is Bailian's native endpoint: use protocol='dashscope' (or leave protocol unset), "
                f"or the OpenAI-compatible base URL ending in {BAILIAN_COMPATIBLE_PATH}"
            )

    def default_dialect(self, provider: ProviderSpec, host: str) -> str:
        return HOST_DIALECTS.get(host, provider.dialect)

    def build_body(self, request: BodyInput) -> dict[str, Any]:
        thinking = request.thinking
        if (
            request.dialect_guessed
            and request.provider == "local"
            and (thinking.enable is not None or thinking.budget is not None or thinking.effort is not None)
        ):
            hint_gateway(request)
        body: dict[str, Any] = {
            "model": request.model,
            "messages": history_for(request),
            "stream": True,
            "stream_options": {"include_usage": True},
            **thinking_fields(request),
        }
        if request.tools:
            body["tools"] = list(request.tools)
            if request.tool_choice is not None:
                body["tool_choice"] = request.tool_choice
        body.update(search_body_fields(request))
        return body

    def new_parser(self) -> OpenAIChunkParser:
        return OpenAIChunkParser()


def _has_state(message: dict[str, Any]) -> bool:
    if STATE_KEY in message:
        return True
    calls = message.get("tool_calls")
    return type(calls) is list and any(type(call) is dict and STATE_KEY in call for call in calls)


def _stateless(message: dict[str, Any]) -> dict[str, Any]:
    message = {k: v for k, v in message.items() if k != STATE_KEY}
    calls = message.get("tool_calls")
    if type(calls) is list:
        message["tool_calls"] = [
            {k: v for k, v in call.items() if k != STATE_KEY} if type(call) is dict else call for call in calls
        ]
    return message


def without_state(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages minus :data:`STATE_KEY`, on a turn and on its tool calls (no server is sent
    thinkbook's own field); unchanged messages are the same objects, so the common case copies
    nothing."""
    if not any(_has_state(message) for message in messages):
        return messages
    return [_stateless(message) if _has_state(message) else message for message in messages]


def history_for(request: BodyInput) -> list[dict[str, Any]]:
    """The history as ``request.dialect``'s server takes it.

    Within a tool loop every assistant turn carries its ``reasoning_content`` (the loop writes it):
    DeepSeek answers 400 without it on a turn that called tools (an empty one is filled in when a
    turn lost it), Kimi K2 and Bailian reason across the calls with it. Strict servers (dialect
    ``openai``) reject the field, so it is left out there.
    """
    messages = without_state(request.messages)
    spelling = spelling_of(request.dialect)
    if not spelling.reasoning_in_history:
        if any("reasoning_content" in message for message in messages):
            messages = [{k: v for k, v in m.items() if k != "reasoning_content"} for m in messages]
    elif spelling.reasoning_on_tool_turns and any(_lost_reasoning(m) for m in messages):
        messages = [{**m, "reasoning_content": ""} if _lost_reasoning(m) else m for m in messages]
    return messages


def _lost_reasoning(message: dict[str, Any]) -> bool:
    return bool(message.get("tool_calls")) and "reasoning_content" not in message


PROTOCOL = OpenAIProtocol()
