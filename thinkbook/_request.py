"""Turn a prompt and thinking options into the exact request body each server expects.

The checks every protocol shares happen here; the body itself is the protocol's
(``WireProtocol.build_body``, see ``thinkbook/_protocols/``).

Checks happen here, before anything is sent: empty prompts, malformed messages, a budget that is
not a positive integer, ``enable_thinking=False`` on a thinking-only model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._catalog import lookup
from ._checks import check_encodable, check_fields, check_json_field, is_blank
from ._endpoints import Endpoint, for_images
from ._errors import ConfigurationError, warn_user
from ._protocols.base import EFFORTS, BodyInput, Effort, ThinkingOptions

if TYPE_CHECKING:
    from .tools.loop import ToolOptions

Message = dict[str, Any]

_ROLES = {"system", "user", "assistant", "tool", "developer"}


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """Everything needed to send one streaming request (the key lives only in ``endpoint``)."""

    endpoint: Endpoint
    model: str
    body: dict[str, Any]
    # A replayed request: its recording's ``source`` (where the answer comes from); None when live.
    replay_source: str | None = None
    thinking_enabled: bool | None = None
    # What the body was built from, so a tool loop's next round can rebuild it for a longer
    # history (see with_messages); None for a request given as a finished body (a replay).
    body_input: BodyInput | None = field(default=None, repr=False)
    extra_body: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # The tools and how their loop runs; None: one request, no loop.
    tools: ToolOptions | None = field(default=None, repr=False)
    # Builds the next round's request instead (offline replay: each round is its own recording).
    rebuild: Callable[[list[Message]], PreparedRequest] | None = field(default=None, repr=False, compare=False)

    def headers(self) -> dict[str, str]:
        return self.endpoint.headers()

    @property
    def messages(self) -> list[Message]:
        """The history this request sends (neutral form), when it was built from one."""
        return list(self.body_input.messages) if self.body_input is not None else []

    def with_messages(self, messages: list[Message]) -> PreparedRequest:
        """The same request with another history: the next round of a tool loop.

        The body is rebuilt by the protocol (so each protocol translates the tool turns its own
        way) and the extra body fields merged again; everything else stays.
        """
        if self.rebuild is not None:
            return self.rebuild(messages)
        if self.body_input is None:
            raise ConfigurationError("this request was given as a finished body: it cannot continue a tool loop")
        body_input = replace(self.body_input, messages=list(messages))
        body = self.endpoint.wire_protocol.build_body(body_input)
        if self.extra_body:
            body = _merge(body, self.extra_body)
        return replace(self, body=body, body_input=body_input)


def build_messages(prompt: str | Sequence[Mapping[str, Any]], system: str | None = None) -> list[Message]:
    """A chat message list from a string prompt or an existing list; validated, copied."""
    if isinstance(prompt, str):
        if is_blank(prompt):
            raise ConfigurationError("the prompt is empty: pass the question to ask")
        check_encodable(prompt, "the prompt")
        messages: list[Message] = [{"role": "user", "content": prompt}]
    elif isinstance(prompt, Sequence) and not isinstance(prompt, bytes | bytearray):
        messages = []
        for index, message in enumerate(prompt):
            if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
                raise ConfigurationError(
                    f"message {index} must be a dict with 'role' and 'content', got {message!r:.80}"
                )
            if message["role"] not in _ROLES:
                raise ConfigurationError(
                    f"message {index} has unknown role {message['role']!r}: use one of " + ", ".join(sorted(_ROLES))
                )
            _check_content(index, message)
            messages.append(dict(message))
        if not messages:
            raise ConfigurationError("the message list is empty: add at least one user message")
    else:
        raise ConfigurationError(f"prompt must be a string or a list of chat messages, got {type(prompt).__name__}")
    if system is not None:
        if not isinstance(system, str) or is_blank(system):
            raise ConfigurationError(f"system= is empty or not text ({system!r:.40}): pass the system prompt, or None")
        check_encodable(system, "the system prompt")
        if messages[0]["role"] == "system":
            raise ConfigurationError("system= was given but the messages already start with a system message")
        messages.insert(0, {"role": "system", "content": system})
    return messages


# Roles whose text is the user's own input: empty text there is a mistake, not a turn.
_ROLES_WITH_TEXT = {"system", "user", "developer"}


def _check_content(index: int, message: Mapping[str, Any]) -> None:
    """Refuse content a server would reject or that could not be sent (before anything is sent)."""
    role, content = message["role"], message["content"]
    where = f"message {index} ({role})"
    if content is None:
        if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            return  # an assistant turn that only calls tools has no text
        raise ConfigurationError(f"{where} has content None: give it text (or a list of content parts)")
    if isinstance(content, str):
        if role in _ROLES_WITH_TEXT and is_blank(content):
            raise ConfigurationError(f"{where} is empty: give it text, or leave the message out")
        check_encodable(content, where)
    elif isinstance(content, list):
        if role in _ROLES_WITH_TEXT and not content:
            raise ConfigurationError(f"{where} is empty: give it text, or leave the message out")
        check_json_field("content", content, where)
    else:
        raise ConfigurationError(
            f"{where} content must be text or a list of content parts, got {type(content).__name__}"
        )
    for key, value in message.items():
        if key != "content":
            check_json_field(key, value, where)


def check_thinking_options(
    model: str,
    enable_thinking: bool | None,
    thinking_budget: int | None,
    preserve_thinking: bool | None,
) -> tuple[bool | None, int | None, bool | None]:
    """Validate against the catalog; returns the options to actually send.

    A ``thinking_budget`` on a catalog model that ignores it warns and is left out. A budget on a
    hybrid model that does not think by default turns thinking on (asking for a budget means
    asking for thinking). ``preserve_thinking`` on a model that does not support it is left out.
    """
    if enable_thinking is not None and not isinstance(enable_thinking, bool):
        raise ConfigurationError(f"enable_thinking must be True, False or None, got {enable_thinking!r}")
    if thinking_budget is not None and (
        isinstance(thinking_budget, bool) or not isinstance(thinking_budget, int) or thinking_budget <= 0
    ):
        raise ConfigurationError(
            f"thinking_budget must be a positive integer number of tokens, got {thinking_budget!r}"
        )
    info = lookup(model)
    if info is not None and info.thinking_only and enable_thinking is False:
        raise ConfigurationError(
            f"{info.name} is a thinking-only model: its thinking cannot be turned off. Drop "
            "enable_thinking=False, or pick a hybrid model such as qwen-plus or qwen3.6-plus"
        )
    if info is not None and thinking_budget is not None:
        if not info.budget:
            warn_user(
                f"thinking_budget does not apply to {info.name} (only Qwen3-generation and Kimi "
                "models take it); it was left out of the request"
            )
            thinking_budget = None
        elif enable_thinking is False:
            raise ConfigurationError("thinking_budget was given with enable_thinking=False: pick one")
        elif enable_thinking is None and not info.default_thinking:
            enable_thinking = True
    if info is not None and preserve_thinking and not info.preserve:
        warn_user(f"preserve_thinking is not supported by {info.name}; it was left out of the request")
        preserve_thinking = None
    return enable_thinking, thinking_budget, preserve_thinking


def _merge(body: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """extra_body wins; nested dicts (``parameters``, ``stream_options``...) merge one level."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def check_effort(effort: object, enable_thinking: bool | None, thinking_budget: int | None) -> Effort | None:
    """``effort=`` checked: None, or one of ``"low"``, ``"medium"``, ``"high"``, and not together
    with a budget or with thinking turned off (each protocol maps the level to its own knob)."""
    if effort is None:
        return None
    if effort not in EFFORTS:
        choices = ", ".join(repr(level) for level in EFFORTS)
        raise ConfigurationError(f"effort must be one of {choices} (or None for the server's default), got {effort!r}")
    if thinking_budget is not None:
        raise ConfigurationError(
            "effort and thinking_budget were both given: pick one (effort is a level each provider maps to its own "
            "knob, thinking_budget an exact number of tokens)"
        )
    if enable_thinking is False:
        raise ConfigurationError(f"effort={effort!r} was given with enable_thinking=False: pick one")
    return effort


def thinking_options(
    model: str,
    enable_thinking: bool | None,
    thinking_budget: int | None,
    preserve_thinking: bool | None,
    effort: object = None,
) -> ThinkingOptions:
    """Every thinking option checked (:func:`check_thinking_options`, :func:`check_effort`).

    Like a budget, an effort asks for thinking: a hybrid catalog model that does not think by
    default gets ``enable_thinking=True`` with it.
    """
    level = check_effort(effort, enable_thinking, thinking_budget)
    enable, budget, preserve = check_thinking_options(model, enable_thinking, thinking_budget, preserve_thinking)
    if level is not None and enable is None:
        info = lookup(model)
        if info is not None and not info.default_thinking:
            enable = True
    return ThinkingOptions(enable=enable, budget=budget, preserve=preserve, effort=level)


def prepare_request(
    endpoint: Endpoint,
    model: str,
    messages: list[Message],
    *,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    effort: Effort | None = None,
    extra_body: Mapping[str, Any] | None = None,
    tools: ToolOptions | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    search: Mapping[str, Any] | None = None,
) -> PreparedRequest:
    """Build the streaming request body for ``endpoint``'s protocol (its ``build_body``), after
    the checks every protocol shares. Always streams.

    ``tools`` (checked, see :mod:`thinkbook.tools`), ``tool_choice`` (checked here against them)
    and ``search`` (``_search.search_fields``) go to the protocol in the neutral spelling of
    ``_protocols/base.py``; a protocol that leaves them out of the body has no such feature, and
    that is said here, before anything is sent. A history holding images goes to the protocol's
    images endpoint (``_endpoints.for_images``).
    """
    thinking = thinking_options(model, enable_thinking, thinking_budget, preserve_thinking, effort)
    extra_body = extra_body or {}
    for key in ("stream", "model"):
        if key in extra_body:
            raise ConfigurationError(f"{key!r} cannot be set through extra body fields; thinkbook sets it")
    for key in ("messages", "input"):
        if key in extra_body:
            raise ConfigurationError(
                f"{key!r} cannot be passed as an extra body field: it would replace the prompt; pass the "
                "messages as the prompt instead (think([...messages...], model=...))"
            )
    check_fields(extra_body)
    specs = tuple(tool.spec() for tool in tools.tools) if tools is not None else ()
    choice = check_tool_choice(tool_choice, specs)
    if has_images(messages):
        endpoint = for_images(endpoint)
    body_input = BodyInput(
        model=model,
        messages=messages,
        thinking=thinking,
        dialect=endpoint.dialect,
        provider=endpoint.provider,
        url=endpoint.url,
        dialect_guessed=endpoint.dialect_guessed,
        base_url=endpoint.base_url,
        tools=specs,
        tool_choice=choice,
        search=dict(search) if search else None,
    )
    wire = endpoint.wire_protocol
    body = wire.build_body(body_input)
    _check_placed(body, wire.title, wants_tools=bool(specs), wants_search=bool(search and search.get("enable_search")))
    if extra_body:
        body = _merge(body, extra_body)
    return PreparedRequest(
        endpoint=endpoint,
        model=model,
        body=body,
        thinking_enabled=thinking.enable,
        body_input=body_input,
        extra_body=dict(extra_body),
        tools=tools if specs else None,
    )


_CHOICES = ("auto", "none", "required")


def check_tool_choice(choice: object, specs: Sequence[Mapping[str, Any]]) -> str | dict[str, Any] | None:
    """``tool_choice=`` checked: None, ``"auto"``, ``"none"``, ``"required"``, a tool's name, or
    ``{"type": "function", "function": {"name": ...}}`` naming one of the tools (a name becomes
    that dict)."""
    if choice is None:
        return None
    names = [spec["function"]["name"] for spec in specs]
    if not specs:
        raise ConfigurationError("tool_choice was given without tools: pass tools=[...] too, or drop tool_choice")
    if isinstance(choice, str):
        if choice in _CHOICES:
            return choice
        if choice in names:
            return {"type": "function", "function": {"name": choice}}
    elif isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        if choice.get("type") == "function" and name in names:
            return {"type": "function", "function": {"name": name}}
    known = ", ".join(repr(name) for name in names)
    raise ConfigurationError(
        f"tool_choice must be None, 'auto', 'none', 'required', or the name of one of the tools ({known}); "
        f"got {choice!r:.80}"
    )


def has_images(messages: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any message carries an image part (the neutral ``image_url`` form)."""
    return any(
        isinstance(part, Mapping) and part.get("type") == "image_url"
        for message in messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
    )


def _check_placed(body: Mapping[str, Any], title: str, *, wants_tools: bool, wants_search: bool) -> None:
    """A protocol that cannot express tools or search must refuse them; one that silently left
    them out would send a request that quietly ignores what was asked."""
    parameters = body.get("parameters")
    inner: Mapping[str, Any] = parameters if isinstance(parameters, Mapping) else {}
    if wants_tools and "tools" not in body and "tools" not in inner:
        raise ConfigurationError(f"tools are not supported on {title} yet: pick another protocol, or drop tools")
    # Bailian's Responses API searches through its built-in web_search tool instead of a field.
    search_tool = any(isinstance(t, Mapping) and t.get("type") == "web_search" for t in body.get("tools") or ())
    if wants_search and "enable_search" not in body and "enable_search" not in inner and not search_tool:
        raise ConfigurationError(
            f"enable_search is Bailian's web search, which {title} does not have: ask a Bailian model "
            "(protocol='dashscope' returns the sources too), or drop enable_search"
        )
