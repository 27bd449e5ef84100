"""ChatPanel: a multi-turn chat with a thinking model inside one output.

The panel is an ``ipywidgets.VBox``: the turns (a user bubble and a ThinkView each, see
:mod:`thinkbook._panel_common`) above :class:`ChatControls`, a small anywidget
(``js/chatpanel.js``, styled by ``js/panels.css``) with the settings, the prompt box,
Send/Stop, Clear, Export and the session totals. ``send()`` returns at once; the turn streams
in the background on the shared engine.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets  # type: ignore[import-untyped]

from ._conversation import Conversation
from ._endpoints import REGION_HOSTS
from ._engine import Engine, StreamRun, default_engine
from ._errors import ConfigurationError, ThinkbookError, redact
from ._panel_common import StaticFallback, _FinalDisplay, _start_stream, _usage_dict, model_choices, session_totals
from ._panel_export import chat_markdown, totals_line
from ._panel_hints import unsent_line, user_bubble
from ._panel_retire import Looks, Settler, TranscriptSibling, saved_pointer, settle
from ._panel_settings import SETTINGS, ChatControls, configure, normalize
from ._panel_static import chat_static
from ._protocols.base import Effort
from ._types import ThinkResult, ToolCall
from ._view import ThinkView, _one_line, default_lang
from ._widget_ids import fresh, reused_id
from .tools.loop import DEFAULT_MAX_TOOL_ROUNDS


class _Turn:
    def __init__(self, text: str, view: ThinkView, box: ipywidgets.Widget) -> None:
        self.text = text
        self.view = view
        self.box = box
        self.future: concurrent.futures.Future[ThinkResult] | None = None
        self.run: StreamRun | None = None
        self.from_browser = False  # sent from the prompt box: no cell runs, settle at once
        self.static: ipywidgets.HTML | None = None  # the view's static rendering, once settled
        self.handled = threading.Event()  # the panel has taken the turn's outcome (chat, totals, outputs)


def _put_after(box: ipywidgets.VBox, bubble: ipywidgets.Widget, view: ipywidgets.Widget) -> None:
    box.children = (bubble, view)


def _user_bubble(text: str, lang: str, looks: Looks, unsent: str | None = None) -> ipywidgets.HTML:
    bubble = fresh(ipywidgets.HTML, user_bubble(text, lang, unsent), layout=looks.layout, style=looks.style)
    bubble.add_class("tb-user-wrap")
    return bubble


class ChatPanel(TranscriptSibling, StaticFallback, ipywidgets.VBox):  # type: ignore[misc]
    """A multi-turn chat with a thinking model inside one output.

    The turns scroll as a conversation, each assistant turn a ThinkView (fold, answer, counters);
    below them the controls (model, thinking, budget, preserve-thinking, system prompt,
    region/endpoint, prompt box, Send/Stop, Clear, Export) and the session totals.

    ``panel.conversation`` is the :class:`~thinkbook.Conversation` behind it: continue it in code
    (``panel.conversation.send(...)``) or in ``%%think --chat``; :meth:`refresh` redraws the panel
    from it. Totals count every finished turn of the session (Clear forgets the chat, not what it
    cost). ``send()`` returns at once; :meth:`wait` waits for the turn. Whenever a turn ends, the
    panel's outputs also get the chat as sanitized HTML and text, for saved notebooks opened
    without a kernel.

    >>> panel = ChatPanel(model="qwen3.6-plus", preserve_thinking=True)  # doctest: +SKIP
    >>> panel  # doctest: +SKIP
    """

    def __init__(
        self,
        model: str = "qwen-plus",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        protocol: str | None = None,
        region: str | None = None,
        enable_thinking: bool | None = None,
        thinking_budget: int | None = None,
        preserve_thinking: bool = False,
        effort: Effort | None = None,
        system: str | None = None,
        conversation: Conversation | None = None,
        lang: str | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        engine: Engine | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: str | dict[str, Any] | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        confirm: Callable[[ToolCall], Any] | bool = False,
        enable_search: bool = False,
        search_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.lang = lang or default_lang()
        if confirm is True:
            # A turn's view lives inside the panel, where Run / Skip cards are not wired yet.
            raise ConfigurationError(
                "ChatPanel(confirm=True) is not supported: pass confirm=a function (call) -> bool to decide "
                "each tool call, or use thinkbook.athink(..., confirm=True) for Run / Skip buttons"
            )
        self.conversation = conversation or Conversation(
            model, base_url=base_url, api_key=api_key, protocol=protocol, region=region, system=system, display=False,
            enable_thinking=enable_thinking, thinking_budget=thinking_budget, effort=effort, tools=tools,
            tool_choice=tool_choice, max_tool_rounds=max_tool_rounds, confirm=confirm, enable_search=enable_search,
            search_options=search_options,
        )  # fmt: skip
        self.conversation.display = False
        self._api_key = api_key
        self.max_retries = max_retries
        self.timeout = timeout
        self._engine = engine
        self._lock = threading.RLock()
        self._turns: list[_Turn] = []
        self._unsent: list[ipywidgets.HTML] = []  # messages the chat could not send (until the next send)
        self._current: _Turn | None = None
        self._session: list[ThinkResult] = []
        self._display_handles: list[Any] = []
        self._sibling_handles: list[Any] = []
        self._settler = Settler()
        self._looks = Looks()
        self._from_browser = False  # send() called for the prompt box
        self.turns_box = fresh(ipywidgets.VBox, layout=fresh(ipywidgets.Layout, max_height="70vh", overflow="auto"))
        self.turns_box.add_class("tb-chat-log")
        conv = self.conversation
        self.controls = fresh(
            ChatControls,
            layout=self._looks.layout,
            lang=self.lang,
            choices=model_choices(),
            regions=sorted(REGION_HOSTS),
            model=conv.model,
            system=conv.system or "",
            region=conv.region or "",
            base_url=redact(conv.base_url or ""),
        )
        super().__init__(children=[self.turns_box, self.controls], layout=self._looks.layout, **reused_id(type(self)))
        self.add_class("tb-chat")
        self.configure(
            enable_thinking=enable_thinking if conversation is None else conv.enable_thinking,
            thinking_budget=thinking_budget if conversation is None else conv.thinking_budget,
            preserve_thinking=preserve_thinking if conversation is None else conv.preserve_thinking,
            effort=effort if conversation is None else conv.effort,
        )
        self.controls.observe(self._on_control, names=list(SETTINGS))
        self.controls.on_msg(self._on_message)
        self._update_totals()
        if conv.results:
            self.refresh()

    # --- settings ------------------------------------------------------------------------------

    def configure(self, **settings: Any) -> None:
        """Change settings from code: ``model``, ``enable_thinking``, ``thinking_budget``, ``effort``,
        ``preserve_thinking``, ``system``, ``region``, ``base_url``.

        Invalid combinations raise :class:`ConfigurationError` (turning thinking off for a
        thinking-only model, a budget for a model that takes none or with thinking off, an effort
        together with a budget); the UI instead corrects them and says why.
        """
        configure(self.controls, settings)

    def _on_control(self, change: Mapping[str, Any]) -> None:
        notice = normalize(self.controls, change["name"])
        if notice or change["name"] == "model":
            self.controls.notice = notice

    def _apply_settings(self) -> None:
        c, conv = self.controls, self.conversation
        conv.model = c.model
        conv.enable_thinking = c.enable_thinking
        conv.thinking_budget = c.thinking_budget
        conv.effort = c.effort  # type: ignore[assignment]  # (normalize keeps it one of EFFORTS or None)
        conv.preserve_thinking = c.preserve_thinking
        conv.region = c.region or None
        # The box shows the URL without its credentials: keep the real one unless it was edited.
        if c.base_url.strip() != redact(conv.base_url or ""):
            conv.base_url = c.base_url.strip() or None
        if (c.system or None) != conv.system:
            conv.set_system(c.system or None)

    # --- turns ----------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a turn streams."""
        return self._current is not None

    def send(self, text: str) -> concurrent.futures.Future[ThinkResult]:
        """Start the next user turn in the background; the future gives the result.

        Raises ConfigurationError for an empty prompt, while another turn streams, or for a
        request that cannot be prepared (bad settings, no key and no recording...).
        """
        if not isinstance(text, str) or not text.strip():
            raise ConfigurationError("the prompt is empty")
        if self._static:
            raise ConfigurationError("this chat is finished (frozen): ChatPanel(conversation=...) continues it")
        with self._lock:
            if self._current is not None:
                raise ConfigurationError("a turn is still streaming: stop it or wait for it first")
            self._apply_settings()
            request = self.conversation.prepare_turn(
                text, max_retries=self.max_retries, timeout=self.timeout, api_key=self._api_key
            )
            live = _FinalDisplay(request, lang=self.lang, on_final=lambda: self._turn_final(turn))
            box = fresh(
                ipywidgets.VBox, [_user_bubble(text, self.lang, self._looks), live.view], layout=self._looks.layout
            )
            turn = _Turn(text, live.view, box)
            turn.box.add_class("tb-turn")
            turn.from_browser = self._from_browser
            self._turns.append(turn)
            unsent, self._unsent = self._unsent, []
            kept = tuple(box for box in self.turns_box.children if box not in unsent)
            self.turns_box.children = (*kept, turn.box)
            for box in unsent:
                box.close()
            self._current = turn
            self.controls.busy = True
            self.controls.notice = ""
            turn.future, turn.run = _start_stream(
                request, live, engine=self._engine or default_engine(), max_retries=self.max_retries,
                timeout=self.timeout, on_stop=self.stop,
            )  # fmt: skip
            turn.future.add_done_callback(lambda future: self._finished(turn, future))
            return turn.future

    def _finished(self, turn: _Turn, future: concurrent.futures.Future[ThinkResult]) -> None:
        try:
            self._take_outcome(turn, future)
        finally:
            turn.handled.set()

    def _take_outcome(self, turn: _Turn, future: concurrent.futures.Future[ThinkResult]) -> None:
        result: ThinkResult | None = None
        if not future.cancelled() and future.exception() is None:
            result = future.result()
            self.conversation.record_turn(turn.text, result)
        elif not future.cancelled():
            error = future.exception()
            if error is not None:
                self.controls.notice = _one_line(error)
                result = getattr(error, "partial", None)
        with self._lock:
            if result is not None and result.usage is not None:
                self._session.append(result)
            if self._current is turn:
                self._current = None
            self.controls.busy = False
            self._update_totals()
        if not future.cancelled():  # the view is final already (a stopped one becomes final later)
            self._update_displays()

    def _turn_final(self, turn: _Turn) -> None:
        if turn.future is not None and turn.future.cancelled():
            self._update_displays()
        self._settler.later(lambda: self._settle(turn), now=turn.from_browser)

    def _settle(self, turn: _Turn) -> None:
        """The finished turn's live view gives way to its static rendering (see :mod:`._panel_retire`)."""
        with self._lock:
            if self._static or turn.static is not None or turn not in self._turns:
                return
            turn.static = settle(
                turn.view, functools.partial(_put_after, turn.box, turn.box.children[0]), looks=self._looks
            )

    def stop(self) -> None:
        """Stop the streaming turn (its partial text stays on screen but is not added to the chat)."""
        with self._lock:
            turn = self._current
        if turn is not None and turn.future is not None:
            turn.future.cancel()

    def wait(self, timeout: float | None = None) -> ThinkResult | None:
        """Wait for the current turn (its view final too); its result, or None if it failed or stopped."""
        with self._lock:
            turn = self._current or (self._turns[-1] if self._turns else None)
        if turn is None or turn.future is None or turn.run is None:
            return None
        done, _ = concurrent.futures.wait([turn.future], timeout=timeout)
        if not done:
            raise TimeoutError("the turn is still streaming")
        turn.run.settled.wait(timeout)
        turn.handled.wait(timeout)  # its done-callback (chat, totals, outputs) may still be running
        if threading.current_thread() is threading.main_thread():
            self._settler.run()
        self._resend_from_main_thread()
        if turn.future.cancelled() or turn.future.exception() is not None:
            return None
        return turn.future.result()

    def clear(self) -> None:
        """Stop any stream and forget the chat (the system prompt and the session totals stay)."""
        self.stop()
        self._settler.drop()
        with self._lock:
            self.conversation.reset()
            old, self._turns = self._turns, []
            unsent, self._unsent = self._unsent, []
            self.turns_box.children = ()
            self.controls.notice = ""
            self._update_totals()
        self._update_displays()
        for turn in old:
            if turn.future is None or turn.future.done():
                turn.view.close()
            if turn.static is not None:
                turn.static.close()
        for box in unsent:
            box.close()

    def refresh(self) -> None:
        """Redraw the turns from ``conversation`` (after it was continued in code)."""
        with self._lock:
            if self._current is not None:
                raise ConfigurationError("a turn is still streaming")
            users = [m for m in self.conversation.messages if m["role"] == "user"]
            turns = []
            for message, result in zip(users, self.conversation.results, strict=False):
                text = str(message.get("content", ""))
                view = ThinkView.from_result(result, lang=self.lang)
                bubble = _user_bubble(text, self.lang, self._looks)
                box = fresh(ipywidgets.VBox, [bubble], layout=self._looks.layout)
                box.add_class("tb-turn")
                turn = _Turn(text, view, box)
                turn.static = settle(view, functools.partial(_put_after, box, bubble), looks=self._looks)
                turns.append(turn)
            self._turns = turns
            self.turns_box.children = tuple(t.box for t in turns)
            self._update_totals()
        self._update_displays()

    def _transcript(self) -> tuple[str, str]:
        with self._lock:
            turns = [(turn.text, turn.view) for turn in self._turns]
        return chat_static(turns, totals_line(self.totals, self.lang), self.lang)

    def _pointer(self) -> tuple[str, str]:
        return saved_pointer(self.lang)

    def freeze(self) -> None:
        """End the chat in the notebook: its output becomes the static transcript, its widgets close.

        A frozen chat reads in any saved notebook (JupyterLab without a kernel, nbconvert HTML,
        GitHub) as a finished ComparePanel does; a live one shows "model not found" there, as any
        widget does. The Finish button does the same. ``conversation`` goes on in code
        (``ChatPanel(conversation=panel.conversation)`` continues it in a new panel).
        """
        with self._lock:
            if self._current is not None:
                raise ConfigurationError("a turn is still streaming: wait for it or stop it first")
            parts = [w for turn in self._turns for w in (*turn.box.children, turn.view, turn.box)]
            widgets = [
                *parts,
                *self._unsent,
                self.turns_box,
                self.controls,
                self,
                self._looks.layout,
                self._looks.style,
            ]
        self._settler.drop()
        if self._go_static(widgets):
            self._empty_siblings()

    # --- totals and export ------------------------------------------------------------------------

    @property
    def totals(self) -> dict[str, Any]:
        """Session totals: turns, tokens by kind, ``cost`` per currency, ``unpriced`` turns."""
        known = {id(r) for r in self._session}
        extra = [r for r in self.conversation.results if id(r) not in known]  # turns added in code
        return session_totals([*self._session, *extra], self.conversation.model)

    def _update_totals(self) -> None:
        self.controls.totals = self.totals
        self.controls.turns = self.conversation.turns

    def settings(self) -> dict[str, Any]:
        """The chat's settings (never the API key)."""
        conv = self.conversation
        return {
            "model": conv.model,
            "enable_thinking": conv.enable_thinking,
            "thinking_budget": conv.thinking_budget,
            "effort": conv.effort,
            "preserve_thinking": conv.preserve_thinking,
            "system": conv.system,
            "region": conv.region,
            "base_url": redact(conv.base_url) if conv.base_url else None,
        }

    def to_markdown(self) -> str:
        """The chat as markdown: each turn's question, folded reasoning, answer and usage."""
        conv = self.conversation
        users = [str(m.get("content", "")) for m in conv.messages if m["role"] == "user"]
        turns = list(zip(users, conv.results, strict=False))
        return chat_markdown(conv.model, conv.system, turns, self.totals, _usage_dict)

    def to_json(self) -> str:
        """The chat as JSON: settings, messages (with reasoning), every turn's result and usage, totals."""
        conv = self.conversation
        data = {
            "settings": self.settings(),
            "messages": conv.messages,
            "turns": [{**r.to_dict(), "usage": _usage_dict(r.usage) or None} for r in conv.results],
            "totals": self.totals,
        }
        return json.dumps(data, ensure_ascii=False, indent=2)

    # --- browser messages -----------------------------------------------------------------------

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("t")
        try:
            if kind == "send":
                self._send_from_browser(str(content.get("text", "")))
            elif kind == "stop":
                self.stop()
            elif kind == "clear":
                self.clear()
            elif kind == "finish":
                self.freeze()
            elif kind == "export":
                fmt = "json" if content.get("format") == "json" else "md"
                text = self.to_json() if fmt == "json" else self.to_markdown()
                self.controls.send({"t": "export", "format": fmt, "filename": f"chat.{fmt}", "text": text})
        except (ThinkbookError, ValueError) as error:
            self.controls.notice = _one_line(error)

    def _send_from_browser(self, text: str) -> None:
        """Send the prompt box's message; one that cannot go stays in the chat, saying why and what to do."""
        try:
            self._from_browser = True
            try:
                self.send(text)
            finally:
                self._from_browser = False
        except (ThinkbookError, ValueError) as error:
            line = unsent_line(error, self.settings(), self.conversation._outgoing(text), self.lang)
            box = _user_bubble(text, self.lang, self._looks, unsent=line)
            box.add_class("tb-unsent-wrap")
            with self._lock:
                self._unsent.append(box)
                self.turns_box.children = (*self.turns_box.children, box)
            self.controls.notice = ""
            # The browser emptied the prompt box on Enter: it puts the text back (unless a new one is typed).
            self.controls.send({"t": "unsent", "text": text})
