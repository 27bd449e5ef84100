"""Multi-turn chats that remember each turn's reasoning."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ._api import _prepare
from ._checks import check_lang
from ._display import Display
from ._endpoints import check_dialect
from ._errors import ConfigurationError
from ._images import content_with_images, image_inputs
from ._protocols import FALLBACK, get_protocol
from ._protocols.base import Effort, WireProtocol
from ._request import Message, PreparedRequest, check_effort, check_tool_choice
from ._run import run_async, run_blocking
from ._search import search_fields
from ._tool_run import CONFIRM_NEEDS_A_VIEW, Confirm, tool_options
from ._types import ThinkResult
from .tools.loop import DEFAULT_MAX_TOOL_ROUNDS, tool_turns


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

    Tools, web search and images work as in :func:`think`: ``tools``, ``tool_choice``,
    ``max_tool_rounds``, ``confirm``, ``enable_search`` and ``search_options`` apply to every turn,
    ``send(text, images=[...])`` to one. A turn that called tools keeps its tool turns in
    ``messages`` (each round's assistant message with its ``tool_calls`` and one ``tool`` message
    per result) before the final answer. Those assistant turns keep their ``reasoning_content``
    even without ``preserve_thinking``: DeepSeek answers 400 for a tool-calling turn sent back
    without it. Calls left for you to run (a tool given as a dict) are not kept: the turn is
    recorded as its text.

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
        tools: Sequence[Any] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        confirm: Confirm = False,
        enable_search: bool = False,
        search_options: Mapping[str, Any] | None = None,
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
        # Checked now, so a bad tool or search option fails at construction, not at the first send.
        options = tool_options(tools, max_tool_rounds=max_tool_rounds, confirm=confirm)
        if options is not None and options.confirm_in_view and display is False:
            raise ConfigurationError(CONFIRM_NEEDS_A_VIEW)
        check_tool_choice(tool_choice, [tool.spec() for tool in options.tools] if options else [])
        search_fields(enable_search or None, search_options)
        self.tools = options.tools if options is not None else ()
        self.tool_choice = tool_choice
        self.max_tool_rounds = max_tool_rounds
        self.confirm = confirm
        self.enable_search = enable_search
        self.search_options = dict(search_options) if search_options else None
        # The user content of the last prepared turn (its images included), for record_turn.
        self._prepared: tuple[str, str | list[dict[str, Any]]] | None = None
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

    def _outgoing(self, content: str | list[dict[str, Any]]) -> list[Message]:
        history = copy.deepcopy(self.messages)
        if not self.preserve_thinking:
            for message in history:
                if not message.get("tool_calls"):  # see the class docstring
                    message.pop("reasoning_content", None)  # STATE_KEY stays: build_body decides
        history.append({"role": "user", "content": content})
        return history

    def prepare_turn(
        self,
        text: str,
        *,
        images: Sequence[Any] | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        api_key: str | None = None,
        **extra_body: Any,
    ) -> PreparedRequest:
        """The validated request for the next user turn ``text`` (nothing is sent, nothing recorded).

        Run it however you like (the ``%%think --chat`` magic runs it in the background), then
        hand the finished result to :meth:`record_turn`. ``api_key`` overrides the
        conversation's key for this turn only. ``images`` go with this turn's text (and stay in
        the history). Bad input raises ConfigurationError here.
        """
        if not isinstance(text, str):
            raise ConfigurationError(f"a turn is text, got {type(text).__name__}")
        content = content_with_images(text, image_inputs(images))
        request = _prepare(
            self._outgoing(content),
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
            tools=self.tools or None,
            tool_choice=self.tool_choice,
            max_tool_rounds=self.max_tool_rounds,
            confirm=self.confirm,
            enable_search=self.enable_search or None,
            search_options=self.search_options,
        )
        self._wire = request.endpoint.wire_protocol
        self._prepared = (text, content)
        return request

    def record_turn(self, text: str, result: ThinkResult) -> ThinkResult:
        """Add a finished turn: the user's ``text`` (with the images it was prepared with), the
        tool turns of a loop, and the assistant's answer with its reasoning."""
        prepared = self._prepared
        content = prepared[1] if prepared is not None and prepared[0] == text else text
        self._prepared = None
        self.messages.append({"role": "user", "content": content})
        self.messages.extend(tool_turns(result))
        final = result
        if len(result.rounds) > 1:
            # The earlier rounds' reasoning went back with their tool calls; the answer's is its own.
            final = replace(result, reasoning=result.rounds[-1].reasoning)
        self.messages.append(self._protocol_of(result).assistant_message(final))
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

    def send(
        self,
        text: str,
        *,
        images: Sequence[Any] | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        **extra_body: Any,
    ) -> ThinkResult:
        """Send the next user turn (with ``images``, if any) and wait for the answer."""
        request = self.prepare_turn(text, images=images, max_retries=max_retries, timeout=timeout, **extra_body)
        result = run_blocking(request, max_retries=max_retries, timeout=timeout, display=self.display, lang=self.lang)
        return self.record_turn(text, result)

    async def asend(
        self,
        text: str,
        *,
        images: Sequence[Any] | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        **extra_body: Any,
    ) -> ThinkResult:
        """Async :meth:`send`."""
        request = self.prepare_turn(text, images=images, max_retries=max_retries, timeout=timeout, **extra_body)
        result = await run_async(
            request, max_retries=max_retries, timeout=timeout, display=self.display, lang=self.lang
        )
        return self.record_turn(text, result)
