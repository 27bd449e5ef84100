"""The ``%think`` line commands (chats, history, reset, models) and ``%think_config``, as text.

Each function returns the text to print or raises :class:`ConfigurationError` with one line; the
magic does the printing, so these are plain functions that are easy to test.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from IPython.utils.text import dedent
from traitlets import HasTraits, TraitError

from ._catalog import models
from ._conversation import Conversation
from ._errors import ConfigurationError

COMMANDS = "chats, history NAME, reset NAME, models, recordings, panel or --help"


@dataclass
class ChatState:
    """A named chat of the magic: the Conversation and the variable its key comes from."""

    conversation: Conversation
    api_key_env: str | None = None


def list_chats(chats: Mapping[str, ChatState], pending: Collection[str]) -> str:
    """One line per chat: name, model, turns, preserve_thinking, a turn still running."""
    if not chats:
        return "no chats yet: start one with %%think --chat NAME"
    lines = []
    for name, state in chats.items():
        chat = state.conversation
        notes = [f"{chat.turns} turn{'s' if chat.turns != 1 else ''}"]
        if chat.preserve_thinking:
            notes.append("preserve_thinking")
        if chat.system:
            notes.append("system prompt")
        if name in pending:
            notes.append("a turn is running in the background")
        lines.append(f"{name:20} {chat.model:24} {', '.join(notes)}")
    return "\n".join(lines)


def chat_named(chats: Mapping[str, ChatState], words: list[str], command: str) -> tuple[str, ChatState]:
    """The chat named by ``%think <command> NAME``; a clear error for a missing or unknown name."""
    if len(words) != 1:
        raise ConfigurationError(f"usage: %think {command} NAME (the chat's name, see %think chats)")
    name = words[0]
    if name not in chats:
        known = ", ".join(chats) or "none yet"
        raise ConfigurationError(f"no chat named {name!r} (chats: {known})")
    return name, chats[name]


def history(name: str, state: ChatState) -> str:
    """A chat's messages in order, reasoning included (marked as such)."""
    chat = state.conversation
    lines = [f"chat {name!r}: {chat.model}, {chat.turns} turns" + (", preserve_thinking" * chat.preserve_thinking)]
    for message in chat.messages:
        if message.get("reasoning_content"):
            lines.append(f"\n[reasoning]\n{message['reasoning_content']}")
        lines.append(f"\n[{message['role']}]\n{message.get('content', '')}")
    return "\n".join(lines)


def catalog() -> str:
    """The thinking-model catalog: mode, default, budget, preserve, soft switch, native endpoint."""
    lines = [f"{'model':36} {'family':8} {'thinking':27} options"]
    for info in models():
        if info.thinking_only:
            mode = "thinking-only"
        else:
            mode = "hybrid, on by default" if info.default_thinking else "hybrid, off by default"
        flags = [("--budget", info.budget), ("--preserve", info.preserve), ("/think /no_think", info.soft_switch)]
        extras = [label for label, flag in flags if flag]
        if info.native_endpoint == "multimodal-generation":
            extras.append("native: multimodal endpoint")
        lines.append(f"{info.name:36} {info.family:8} {mode:27} {', '.join(extras)}")
    return "\n".join(lines)


def show_config(configurable: HasTraits) -> str:
    """Every configurable default with its value and help, as ``%config`` would name it."""
    cls = type(configurable).__name__
    lines = []
    for name, trait in sorted(configurable.traits(config=True).items()):
        help_text = " ".join(dedent(trait.help or "").split())
        lines.append(f"{cls}.{name} = {getattr(configurable, name)!r}\n    {help_text}")
    lines.append("set one with: %think_config default_model=qwen-plus (or %config ThinkMagics.default_model = ...)")
    return "\n".join(lines)


def apply_config(configurable: HasTraits, line: str) -> str:
    """Apply ``name=value`` pairs (``%think_config``); returns the new values, one per line."""
    traits = configurable.traits(config=True)
    assignments = re.findall(r"(\S+?)\s*=\s*(\"[^\"]*\"|'[^']*'|\S*)", line)
    leftover = re.sub(r"(\S+?)\s*=\s*(\"[^\"]*\"|'[^']*'|\S*)", "", line).strip()
    if leftover or not assignments:
        raise ConfigurationError(f"%think_config takes name=value pairs, got {line.strip()!r}")
    cls = type(configurable).__name__
    changed = []
    for name, text in assignments:
        name = name.removeprefix(f"{cls}.")
        if name not in traits:
            raise ConfigurationError(f"unknown setting {name!r}: use one of {', '.join(sorted(traits))}")
        try:
            value = traits[name].from_string(text)
            setattr(configurable, name, value)
        except (TraitError, ValueError, SyntaxError) as exc:
            message = " ".join(str(exc).split())
            raise ConfigurationError(f"{name}={text}: {message}") from None
        changed.append(f"{cls}.{name} = {getattr(configurable, name)!r}")
    return "\n".join(changed)
