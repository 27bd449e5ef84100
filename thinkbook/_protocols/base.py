"""The contract every wire protocol implements, and the data it declares about providers.

A protocol (OpenAI-compatible chat completions, DashScope native, OpenAI Responses, Anthropic
Messages, Gemini) is one module in this package holding one :class:`WireProtocol` subclass and
the :class:`ProviderSpec` entries of the providers that speak it. It owns everything that is the
protocol's own business:

* building the streaming request: the path after ``base_url``, the headers (how the key is sent),
  the body, and the thinking options (:class:`ThinkingOptions`) in the protocol's spelling;
* turning thinkbook's neutral message history (OpenAI chat-format dicts, see below) into the
  protocol's own (``messages`` / ``input`` / ``contents``, a top-level ``system`` ...);
* parsing its stream events into :class:`~thinkbook._wire.WireChunk` (one stateful
  :class:`ChunkParser` per response) and its error bodies (before and inside the stream);
* what a later turn must carry back: the parser's :meth:`ChunkParser.turn_state` (signatures,
  encrypted reasoning, thought signatures), which :meth:`WireProtocol.assistant_message` stores in
  the history under :data:`STATE_KEY`, and :meth:`WireProtocol.build_body` sends back unchanged.

The engine, the pipeline, replay and recording hold a :class:`WireProtocol` object and never
branch on its name. :mod:`thinkbook._protocols` (the registry) maps names to instances.

Neutral history: a list of ``{"role": "system"|"user"|"assistant"|"tool"|"developer",
"content": str | list}`` dicts; an assistant turn may carry ``"reasoning_content"`` (its reasoning
text) and :data:`STATE_KEY` (a JSON-ready dict ``{"protocol": name, ...}`` written by that
protocol's :meth:`~WireProtocol.assistant_message`). A protocol uses a state only when its
``"protocol"`` is its own name, and never sends :data:`STATE_KEY` itself to a server.

Tools, web search and images (issue 13), in the same neutral spelling every protocol translates:

* ``BodyInput.tools``: OpenAI-format tool specs ``{"type": "function", "function": {"name",
  "description", "parameters": <JSON Schema>}}``; ``BodyInput.tool_choice``: None (leave it to the
  server), ``"auto"``, ``"none"``, ``"required"`` or ``{"type": "function", "function": {"name"}}``.
  A protocol puts them in its own form (Anthropic ``tools[].input_schema``, Gemini
  ``tools[].functionDeclarations``, Responses ``{"type": "function", "name", ...}``) or raises
  ConfigurationError for a choice it cannot express.
* History of a tool loop: an assistant turn ``{"role": "assistant", "content": str | None,
  "tool_calls": [{"id", "type": "function", "function": {"name", "arguments": <JSON text>},
  STATE_KEY?: <the call's own opaque state, e.g. a Gemini thoughtSignature>}],
  "reasoning_content": str, STATE_KEY?: ...}``, then one ``{"role": "tool", "tool_call_id",
  "content": str}`` per call, in call order. Translate them (Anthropic ``tool_use`` blocks after the
  signed thinking blocks, results as ``tool_result`` blocks in one user message; Gemini
  ``functionCall`` parts with their signatures and ``functionResponse`` parts; Responses reasoning
  items, then ``function_call`` and ``function_call_output`` items).
* Parsers report requested calls in ``WireChunk.tool_calls``: a list of OpenAI-style deltas
  ``{"index": int, "id": str?, "function": {"name": str?, "arguments": str?}, STATE_KEY?: {...}}``
  (a call's first delta names it, later ones add argument text; a protocol that sends a call whole
  sends one delta with all of it, ``arguments`` as JSON text). The pipeline assembles them by
  ``index`` into ``ThinkResult.tool_calls``.
* ``BodyInput.search``: Bailian web-search fields (``{"enable_search": True, "search_options": {...}}``,
  see ``thinkbook/_search.py``), empty when not asked; a protocol places them or refuses them.
  Parsers report sources in ``WireChunk.search_results`` (the provider's raw list).
* Images arrive as OpenAI ``image_url`` content parts with ``data:`` or ``https:`` URLs (see
  ``thinkbook/_images.py``), images before the text part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from .._errors import ErrorFields, default_error_fields
from .._sse import ServerSentEvent
from .._types import ThinkResult
from .._wire import WireChunk

__all__ = [
    "EFFORTS",
    "STATE_KEY",
    "BodyInput",
    "ChunkParser",
    "Effort",
    "ErrorFields",
    "ProviderSpec",
    "ThinkingOptions",
    "WireProtocol",
    "default_error_fields",
    "state_of",
]

Message = dict[str, Any]
Effort = Literal["low", "medium", "high"]
EFFORTS: tuple[Effort, ...] = ("low", "medium", "high")

# Where an assistant turn keeps the opaque reasoning state its protocol needs back next turn.
STATE_KEY = "thinkbook_state"


@dataclass(frozen=True, slots=True)
class ThinkingOptions:
    """The user's thinking wish, already checked against the catalog (see ``_request``).

    ``None`` everywhere means "send nothing, let the server decide". ``preserve`` asks that
    earlier turns' reasoning go back to the model (Bailian ``preserve_thinking``).
    """

    enable: bool | None = None
    budget: int | None = None
    preserve: bool | None = None
    effort: Effort | None = None


@dataclass(frozen=True, slots=True)
class BodyInput:
    """What :meth:`WireProtocol.build_body` turns into a request body.

    ``dialect`` and ``provider`` are the resolved endpoint's (OpenAI-compatible servers differ in
    how they spell thinking options: that is data of the ``openai`` protocol module); ``url`` is
    the full request URL (DashScope picks its multimodal message shape from it).
    """

    model: str
    messages: list[Message]
    thinking: ThinkingOptions = ThinkingOptions()
    dialect: str = "bailian"
    provider: str = "openai"
    url: str = ""
    # The dialect followed from the host (no ``dialect=``), and the base URL as shown in
    # messages (credentials hidden): for the OpenAI-compatible module's gateway hint.
    dialect_guessed: bool = False
    base_url: str = ""
    # Tools and web search, in the neutral spelling of the module docstring.
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str | dict[str, Any] | None = None
    search: Mapping[str, Any] | None = None


# ErrorFields and default_error_fields live in thinkbook._errors (which builds the errors from
# them and must not import this package); they are part of this contract all the same.


class ChunkParser(Protocol):
    """Parses the SSE events of one response, in order. One instance per response (it may keep
    state: open content blocks, signatures, the id of the reasoning item...).

    :meth:`parse` returns a :class:`WireChunk` (reasoning/answer text, usage, finish reason,
    model, request id, an in-stream error), ``None`` for an event that carries nothing, and
    raises :class:`~thinkbook.ResponseFormatError` for data that is not the protocol's. A chunk
    with ``finish_reason`` set (or ``done=True``) tells the pipeline the model finished: a
    protocol without ``[DONE]`` sets it on its final event (``response.completed``,
    ``message_delta``/``message_stop``, Gemini's ``finishReason``).
    """

    def parse(self, event: ServerSentEvent) -> WireChunk | None: ...

    def turn_state(self) -> dict[str, Any] | None:
        """The opaque state a later turn must send back (JSON-ready, ``{"protocol": name, ...}``),
        or None when the protocol needs none. Called once, after the last event."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """A provider a protocol module declares: how its hosts are recognised, which key it uses.

    ``owns_host(host)`` is True for the provider's own API hosts (a key variable is only ever
    sent there). ``model_prefixes`` pick this provider for a model when no ``base_url`` is given
    and one of ``key_variables`` is set (``"claude-"`` -> Anthropic). ``default_base_url`` is the
    part before the protocol's own path.
    """

    name: str
    protocol: str
    default_base_url: str
    key_variables: tuple[str, ...]
    owns_host: Callable[[str], bool]
    model_prefixes: tuple[str, ...] = ()
    requires_key: bool = True
    dialect: str = "bailian"
    #: models only this provider serves: picked for them (no ``base_url``) even without its key,
    #: so the missing-key error names the right variable (``deepseek-reasoner`` -> DeepSeek)
    models: tuple[str, ...] = ()
    #: an environment variable naming this provider's base URL (``OPENAI_BASE_URL``): when set
    #: it is the destination when nothing else decides, and its host gets the key
    base_url_variable: str | None = None
    #: base URLs that belong to the provider beyond its own hosts, from (host, path, port): a
    #: gateway copying Bailian's ``/compatible-mode/`` path, Ollama's port, a loopback server.
    #: Asked after every provider's ``owns_host``; such hosts never get a key variable.
    recognises: Callable[[str, str, int | None], bool] | None = None


class WireProtocol(ABC):
    """One wire protocol. Subclasses are stateless; per-response state lives in the parser."""

    #: the ``protocol=`` value
    name: ClassVar[str]
    #: one line for error messages listing the protocols ("OpenAI Responses API")
    title: ClassVar[str]
    #: what a stream event should be, for messages ("an Anthropic Messages event")
    expected: ClassVar[str]
    #: providers this module declares (hosts, key variables, model prefixes)
    providers: ClassVar[tuple[ProviderSpec, ...]] = ()
    #: ``dialect=`` values this protocol accepts, with what each means (the OpenAI-compatible
    #: module's spellings); an empty mapping refuses any ``dialect=``
    dialects: ClassVar[Mapping[str, str]] = {}
    #: the path after a Bailian region host for ``region=`` (``/compatible-mode/v1``); None when
    #: Bailian does not serve this protocol per region
    region_path: ClassVar[str | None] = None
    #: full-endpoint tails a user may paste by mistake; stripped from ``base_url``
    suffixes: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def path(self, model: str, *, base_url: str) -> str:
        """The request path appended to ``base_url`` (``/chat/completions``, ``/v1/messages``,
        ``/models/{model}:streamGenerateContent?alt=sse``)."""

    def headers(self, api_key: str | None) -> dict[str, str]:
        """The HTTP headers, the key included in the protocol's own way (default: Bearer)."""
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return headers

    @abstractmethod
    def build_body(self, request: BodyInput) -> dict[str, Any]:
        """The streaming request body (the thinking options in this protocol's spelling)."""

    @abstractmethod
    def new_parser(self) -> ChunkParser:
        """A fresh parser for one response."""

    def check_base(self, base_url: str, provider: ProviderSpec, *, shown: str) -> None:
        """Raise :class:`~thinkbook.ConfigurationError` when ``base_url`` (at ``provider``)
        cannot speak this protocol; ``shown`` is the URL for messages. Default: any URL."""
        return None

    def default_dialect(self, provider: ProviderSpec, host: str) -> str:
        """The dialect when ``dialect=`` is not given (default: the provider's)."""
        return provider.dialect

    def error_fields(self, body: Any) -> ErrorFields:
        """(code, message, request_id) from an error body, before or inside the stream."""
        return default_error_fields(body)

    def assistant_message(self, result: ThinkResult) -> Message:
        """The history entry for a finished assistant turn: its answer, its reasoning text, and
        the opaque state (``result.reasoning_state``) under :data:`STATE_KEY` when there is one."""
        message: Message = {"role": "assistant", "content": result.answer}
        if result.reasoning:
            message["reasoning_content"] = result.reasoning
        if result.reasoning_state is not None:
            message[STATE_KEY] = result.reasoning_state
        return message

    def recorded_history(self, body: Mapping[str, Any]) -> list[Message]:
        """The neutral history (module docstring) of a request body this protocol built.

        Replay matches a recording to a request by it (the user turns, the tool results sent
        back), whatever protocol the recording speaks. Default: the body's ``messages``.
        """
        messages = body.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    def recorded_thinking(self, body: Mapping[str, Any]) -> ThinkingOptions:
        """The thinking a request body this protocol built asked for (None: left to the model).

        Default: Bailian's top-level ``enable_thinking`` / ``thinking_budget`` /
        ``preserve_thinking`` (the OpenAI-compatible spelling).
        """
        names = ("enable_thinking", "thinking_budget", "preserve_thinking")
        enable, budget, preserve = (body.get(name) for name in names)
        return ThinkingOptions(
            enable=enable if isinstance(enable, bool) else None,
            budget=budget if isinstance(budget, int) and not isinstance(budget, bool) else None,
            preserve=preserve if isinstance(preserve, bool) else None,
        )

    def claims(self, host: str, path: str) -> bool:
        """Whether a base URL (lower-cased host, path) speaks this protocol when ``protocol=``
        is not given. The registry asks every protocol but ``openai``, the fallback."""
        return False

    def __repr__(self) -> str:
        return f"<protocol {self.name}>"


def state_of(message: Mapping[str, Any], protocol: str) -> dict[str, Any] | None:
    """The opaque state a history message carries for ``protocol`` (None if absent or foreign)."""
    state = message.get(STATE_KEY)
    if isinstance(state, dict) and state.get("protocol") == protocol:
        return state
    return None
