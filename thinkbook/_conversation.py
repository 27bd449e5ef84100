"""Multi-turn chats that remember each turn's reasoning."""

from __future__ import annotations

import copy
from typing import Any

from ._api import _prepare, run_async, run_blocking
from ._display import Display
from ._request import Message, PreparedRequest
from ._types import ThinkResult


class Conversation:
    """A chat with a thinking model, kept across calls.

    Assistant turns are stored with their ``reasoning_content``. It is sent back to the model only
    when ``preserve_thinking`` is on (then ``preserve_thinking: true`` is in the request too), so a
    supporting model (qwen3.7/3.6-plus, Kimi K2.6...) can build on its earlier thoughts.
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
        enable_thinking: bool | None = None,
        thinking_budget: int | None = None,
        preserve_thinking: bool = False,
        system: str | None = None,
        display: Display = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        self.protocol = protocol
        self.region = region
        self.enable_thinking = enable_thinking
        self.thinking_budget = thinking_budget
        self.preserve_thinking = preserve_thinking
        self.system = system
        self.display = display
        self.messages: list[Message] = []
        self.results: list[ThinkResult] = []
        self.reset()

    def __repr__(self) -> str:
        turns = sum(1 for m in self.messages if m["role"] == "assistant")
        return f"Conversation(model={self.model!r}, turns={turns}, preserve_thinking={self.preserve_thinking})"

    def reset(self) -> None:
        """Forget every turn (the system prompt stays)."""
        self.messages = [{"role": "system", "content": self.system}] if self.system else []
        self.results = []

    def _outgoing(self, text: str) -> list[Message]:
        history = copy.deepcopy(self.messages)
        if not self.preserve_thinking:
            for message in history:
                message.pop("reasoning_content", None)
        history.append({"role": "user", "content": text})
        return history

    def _request(self, text: str, max_retries: int, timeout: float | None, extra: dict[str, Any]) -> PreparedRequest:
        return _prepare(
            self._outgoing(text),
            model=self.model,
            base_url=self.base_url,
            api_key=self._api_key,
            protocol=self.protocol,
            region=self.region,
            enable_thinking=self.enable_thinking,
            thinking_budget=self.thinking_budget,
            preserve_thinking=True if self.preserve_thinking else None,
            system=None,
            max_retries=max_retries,
            timeout=timeout,
            display=self.display,
            extra_body=extra,
        )

    def _record(self, text: str, result: ThinkResult) -> ThinkResult:
        self.messages.append({"role": "user", "content": text})
        assistant: Message = {"role": "assistant", "content": result.answer}
        if result.reasoning:
            assistant["reasoning_content"] = result.reasoning
        self.messages.append(assistant)
        self.results.append(result)
        return result

    def send(self, text: str, *, max_retries: int = 2, timeout: float | None = None, **extra_body: Any) -> ThinkResult:
        """Send the next user turn and wait for the answer."""
        request = self._request(text, max_retries, timeout, extra_body)
        return self._record(text, run_blocking(request, max_retries=max_retries, timeout=timeout, display=self.display))

    async def asend(
        self, text: str, *, max_retries: int = 2, timeout: float | None = None, **extra_body: Any
    ) -> ThinkResult:
        """Async :meth:`send`."""
        request = self._request(text, max_retries, timeout, extra_body)
        return self._record(
            text, await run_async(request, max_retries=max_retries, timeout=timeout, display=self.display)
        )
