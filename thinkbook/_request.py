"""Turn a prompt and thinking options into the exact request body each server expects.

The checks every protocol shares happen here; the body itself is the protocol's
(``WireProtocol.build_body``, see ``thinkbook/_protocols/``).

Checks happen here, before anything is sent: empty prompts, malformed messages, a budget that is
not a positive integer, ``enable_thinking=False`` on a thinking-only model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._catalog import lookup
from ._checks import check_encodable, check_fields, check_json_field, is_blank
from ._endpoints import Endpoint
from ._errors import ConfigurationError, warn_user
from ._protocols.base import EFFORTS, BodyInput, Effort, ThinkingOptions

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

    def headers(self) -> dict[str, str]:
        return self.endpoint.headers()


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
) -> PreparedRequest:
    """Build the streaming request body for ``endpoint``'s protocol (its ``build_body``), after
    the checks every protocol shares. Always streams."""
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
    body = endpoint.wire_protocol.build_body(
        BodyInput(
            model=model,
            messages=messages,
            thinking=thinking,
            dialect=endpoint.dialect,
            provider=endpoint.provider,
            url=endpoint.url,
            dialect_guessed=endpoint.dialect_guessed,
            base_url=endpoint.base_url,
        )
    )
    if extra_body:
        body = _merge(body, extra_body)
    return PreparedRequest(endpoint=endpoint, model=model, body=body, thinking_enabled=thinking.enable)
