"""Multi-turn chats that remember each turn's reasoning."""

from __future__ import annotations

import copy
from typing import Any

from ._api import _prepare, check_lang, run_async, run_blocking
from ._display import Display
from ._endpoints import check_dialect
from ._protocols import FALLBACK, get_protocol
from ._protocols.base import Effort, WireProtocol
from ._request import Message, PreparedRequest, check_effort
from ._types import ThinkResult


class Conversation:
    """A chat with a thinking model, kept across calls.

    Assistant turns are stored as their protocol writes them (``WireProtocol.assistant_message``):
    the answer, its ``reasoning_content``, and the opaque state a protocol needs back next turn
    (signatures, encrypted reasoning) under ``thinkbook_state``. The reasoning text is sent back
    to the model only when ``preserve_thinking`` is on (then ``preserve_thinking: true`` is in the
    request too), so a supporting model (qwen3.7/3.6-plus, Kimi K2.6...) can build on its earlier
    thoughts; the opaque state always goes back, and each protocol sends only its own.
    ``effort`` (``"low"``, ``"medium"``, ``"high"``) applies to every turn, as in :func:`think`.
    A turn that fails or is interrupted is not added: ``messages`` always holds complete turns.

    >>> chat = Conversation("qwen3.7-plus", preserve_thinking=True)  # doctest: +SKIP
    >>> chat.send("我需要为一个日均千万消息的电商系统选择消息队列,请推荐")  # doctest: +SKIP
    >>> chat.send("你在对比时为什么排除了Kafka?")  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        protocol: str | None = None,
        region: str | None = None,
        dialect: str | None = None,
        enable_thinking: bool | None = None,
        thinking_budget: int | None = None,
        preserve_thinking: bool = False,
        effort: Effort | None = None,
        system: str | None = None,
        display: Display = None,
        lang: str | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        self.protocol = protocol
        self.region = region
        self.dialect = check_dialect(dialect)
        self.enable_thinking = enable_thinking
        self.thinking_budget = thinking_budget
        self.preserve_thinking = preserve_thinking
        self.effort = check_effort(effort, enable_thinking, thinking_budget)
        self.system = system
        self.display = display
        self.lang = check_lang(lang)  # the labels of each turn's view ("en", "zh"; None: the locale's)
        self.messages: list[Message] = []
        self.results: list[ThinkResult] = []
        # The protocol of the last prepared turn: it writes that turn's history entry.
        self._wire: WireProtocol | None = None
        self.reset()

    def __repr__(self) -> str:
        return f"Conversation(model={self.model!r}, turns={self.turns}, preserve_thinking={self.preserve_thinking})"

    def reset(self) -> None:
        """Forget every turn (the system prompt stays)."""
        self.messages = [{"role": "system", "content": self.system}] if self.system else []
        self.results = []

    def _outgoing(self, text: str) -> list[Message]:
        history = copy.deepcopy(self.messages)
        if not self.preserve_thinking:
            for message in history:
                message.pop("reasoning_content", None)  # STATE_KEY stays: build_body decides
        history.append({"role": "user", "content": text})
        return history

    def prepare_turn(
        self,
        text: str,
        *,
        max_retries: int = 2,
        timeout: float | None = None,
        api_key: str | None = None,
        **extra_body: Any,
    ) -> PreparedRequest:
        """The validated request for the next user turn ``text`` (nothing is sent, nothing recorded).

        Run it however you like (the ``%%think --chat`` magic runs it in the background), then
        hand the finished result to :meth:`record_turn`. ``api_key`` overrides the
        conversation's key for this turn only. Bad input raises ConfigurationError here.
        """
        request = _prepare(
            self._outgoing(text),
            model=self.model,
            base_url=self.base_url,
            api_key=api_key or self._api_key,
            protocol=self.protocol,
            region=self.region,
            dialect=self.dialect,
            enable_thinking=self.enable_thinking,
            thinking_budget=self.thinking_budget,
            preserve_thinking=True if self.preserve_thinking else None,
            effort=self.effort,
            system=None,
            max_retries=max_retries,
            timeout=timeout,
            display=self.display,
            extra_body=extra_body,
        )
        self._wire = request.endpoint.wire_protocol
        return request

    def record_turn(self, text: str, result: ThinkResult) -> ThinkResult:
        """Add a finished turn: the user's ``text`` and the assistant's answer with its reasoning."""
        self.messages.append({"role": "user", "content": text})
        self.messages.append(self._protocol_of(result).assistant_message(result))
        self.results.append(result)
        return result

    def _protocol_of(self, result: ThinkResult) -> WireProtocol:
        """The protocol that produced ``result``: the last prepared turn's, else the one its state
        names, else chat completions (a turn recorded by hand)."""
        if self._wire is not None:
            return self._wire
        state = result.reasoning_state
        name = state.get("protocol") if isinstance(state, dict) else None
        return get_protocol(name if isinstance(name, str) else FALLBACK)

    def set_system(self, system: str | None) -> None:
        """Replace (or remove) the system prompt; the turns so far are kept."""
        self.system = system
        rest = [m for m in self.messages[:1] if m["role"] != "system"] + self.messages[1:]
        self.messages = ([{"role": "system", "content": system}] if system else []) + rest

    @property
    def turns(self) -> int:
        """How many complete turns (question and answer) the chat holds."""
        return sum(1 for m in self.messages if m["role"] == "assistant")

    def send(self, text: str, *, max_retries: int = 2, timeout: float | None = None, **extra_body: Any) -> ThinkResult:
        """Send the next user turn and wait for the answer."""
        request = self.prepare_turn(text, max_retries=max_retries, timeout=timeout, **extra_body)
        result = run_blocking(request, max_retries=max_retries, timeout=timeout, display=self.display, lang=self.lang)
        return self.record_turn(text, result)

    async def asend(
        self, text: str, *, max_retries: int = 2, timeout: float | None = None, **extra_body: Any
    ) -> ThinkResult:
        """Async :meth:`send`."""
        request = self.prepare_turn(text, max_retries=max_retries, timeout=timeout, **extra_body)
        result = await run_async(
            request, max_retries=max_retries, timeout=timeout, display=self.display, lang=self.lang
        )
        return self.record_turn(text, result)
