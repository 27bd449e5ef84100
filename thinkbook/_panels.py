"""ChatPanel and ComparePanel: multi-turn chat and side-by-side comparison in one output.

Design (composition, no second renderer):

* Every assistant turn (ChatPanel) and every column (ComparePanel) is a plain
  :class:`~thinkbook._view.ThinkView`, driven by a :class:`~thinkbook._display.LiveDisplay` that
  is never ``start()``-ed (so nothing is displayed on its own): the engine pushes batches into it
  and finishes it exactly as for ``think()``. Reasoning fold, markdown answer, sanitizing, counters
  and the delta/snapshot protocol are the ThinkView's, unchanged.
* The panels are ``ipywidgets.VBox`` subclasses: JupyterLab renders the child ThinkViews with
  their own front end. Each panel adds one small anywidget of its own (``js/chatpanel.js``:
  controls and session totals; ``js/comparepanel.js``: the summary table), which also loads
  ``js/panels.css``.
* Streams run in the background on the shared engine (``_api._drive``): ``send()`` returns at
  once, other cells run meanwhile, Stop cancels the engine task.
* ComparePanel keeps the kernel-to-browser message rate of ``n`` columns within one ThinkView's
  budget by stretching each column's batch, counters and snapshot intervals by ``n`` (six columns
  paint every 0.3 s each; one message per column per tick instead of one per 50 ms).

No API key is ever put in a synced trait: keys stay in the Conversation / the panel's private
attribute and go only into the request headers.
"""

from __future__ import annotations

import concurrent.futures
import functools
import html
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anywidget
import ipywidgets  # type: ignore[import-untyped]
import traitlets

from ._api import _drive, _prepare
from ._catalog import lookup, models
from ._conversation import Conversation
from ._display import LiveDisplay
from ._endpoints import REGION_HOSTS
from ._engine import Engine, StreamRun, default_engine
from ._errors import ConfigurationError, ThinkbookError
from ._pricing import estimate_cost
from ._request import PreparedRequest
from ._types import ThinkResult, Usage
from ._view import ThinkView, _js_dir, _one_line, default_lang

BUDGET_MAX = 38912  # the largest thinking_budget the Bailian guide lists (Qwen3 commercial models)
_SETTINGS = ("model", "enable_thinking", "thinking_budget", "preserve_thinking", "system", "region", "base_url")
_TOKEN_KINDS = ("prompt_tokens", "cached_tokens", "reasoning_tokens", "answer_tokens", "total_tokens")


# --- shared helpers ---------------------------------------------------------------------------


def model_choices() -> list[dict[str, Any]]:
    """The catalog as the model picker shows it: name, family, thinking mode and what applies."""
    return [
        {
            "name": m.name,
            "family": m.family,
            "mode": m.mode,
            "default_thinking": m.default_thinking,
            "budget": m.budget,
            "preserve": m.preserve,
        }
        for m in models()
    ]


def capabilities(model: str) -> dict[str, Any]:
    """What the controls allow for ``model``: thinking lock, budget and preserve availability.

    Models outside the catalog (other servers) allow everything: the server decides.
    """
    info = lookup(model) if model else None
    if info is None:
        return {"known": False, "mode": None, "default_thinking": None, "thinking_locked": False,
                "budget": True, "preserve": True}  # fmt: skip
    return {
        "known": True,
        "family": info.family,
        "mode": info.mode,
        "default_thinking": info.default_thinking,
        "thinking_locked": info.thinking_only,
        "budget": info.budget,
        "preserve": info.preserve,
    }


def _usage_dict(usage: Usage | None) -> dict[str, Any]:
    if usage is None:
        return {}
    data = {k: v for k, v in usage.to_dict().items() if k != "raw"}
    data["answer_tokens"] = usage.answer_tokens
    return data


def session_totals(results: Sequence[ThinkResult], model: str | None = None) -> dict[str, Any]:
    """Tokens by kind and estimated cost over ``results`` (cost per currency; unpriced turns counted)."""
    totals: dict[str, Any] = {"turns": len(results), **dict.fromkeys(_TOKEN_KINDS, 0)}
    costs: dict[str, float] = {}
    unpriced = 0
    for result in results:
        usage = _usage_dict(result.usage)
        for kind in _TOKEN_KINDS:
            totals[kind] += usage.get(kind) or 0
        cost = estimate_cost(result.model or model, result.usage)
        if cost is None:
            unpriced += 1
        else:
            costs[cost.currency] = costs.get(cost.currency, 0.0) + cost.amount
    totals["cost"] = costs
    totals["unpriced"] = unpriced
    return totals


def _start_stream(
    request: PreparedRequest,
    live: LiveDisplay,
    *,
    engine: Engine,
    max_retries: int,
    timeout: float | None,
    on_stop: Callable[[], object],
) -> tuple[concurrent.futures.Future[ThinkResult], StreamRun]:
    """Run ``request`` into ``live.view`` in the background (like ``_api._start``, never displaying)."""
    run = StreamRun(request)
    live.view.begin(can_stop=True, on_stop=on_stop)
    future = engine.submit(_drive(engine, run, max_retries, timeout, live))
    return future, run


def _failed_view(model: str, error: BaseException, lang: str, **header: Any) -> ThinkView:
    view = ThinkView(model=model, lang=lang, **header)
    view.end(error=error)
    return view


# --- ChatPanel --------------------------------------------------------------------------------


class ChatControls(anywidget.AnyWidget):
    """The ChatPanel's controls and session totals (front end: ``js/chatpanel.js``).

    Browser → kernel custom messages: ``{"t": "send", "text"}``, ``{"t": "stop"}``,
    ``{"t": "clear"}``, ``{"t": "export", "format": "md" | "json"}``; the kernel answers an
    export with ``{"t": "export", "format", "filename", "text"}``. Settings are synced traits
    that the panel validates (a value the model cannot take is corrected and ``notice`` says why).
    """

    _esm = _js_dir() / "chatpanel.js"
    _css = _js_dir() / "panels.css"

    lang = traitlets.Unicode("en").tag(sync=True)
    choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    regions: traitlets.List[Any] = traitlets.List().tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    caps = traitlets.Dict().tag(sync=True)
    enable_thinking = traitlets.Bool(None, allow_none=True).tag(sync=True)
    thinking_budget = traitlets.Int(None, allow_none=True).tag(sync=True)
    budget_max = traitlets.Int(BUDGET_MAX).tag(sync=True)
    preserve_thinking = traitlets.Bool(False).tag(sync=True)
    system = traitlets.Unicode("").tag(sync=True)
    region = traitlets.Unicode("").tag(sync=True)
    base_url = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    turns = traitlets.Int(0).tag(sync=True)
    totals = traitlets.Dict().tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)


class _Turn:
    def __init__(self, text: str, view: ThinkView, box: ipywidgets.Widget) -> None:
        self.text = text
        self.view = view
        self.box = box
        self.future: concurrent.futures.Future[ThinkResult] | None = None
        self.run: StreamRun | None = None


def _user_bubble(text: str, lang: str) -> ipywidgets.HTML:
    who = "你" if lang == "zh" else "You"
    bubble = ipywidgets.HTML(
        f'<div class="tb-user" role="note" aria-label="{who}"><span class="tb-who">{who}</span>'
        f'<div class="tb-user-text">{html.escape(text)}</div></div>'
    )
    bubble.add_class("tb-user-wrap")
    return bubble


class ChatPanel(ipywidgets.VBox):  # type: ignore[misc]
    """A multi-turn chat with a thinking model inside one output.

    The turns scroll as a conversation, each assistant turn a ThinkView (fold, answer, counters);
    below them the controls (model, thinking, budget, preserve-thinking, system prompt,
    region/endpoint, prompt box, Send/Stop, Clear, Export) and the session totals.

    ``panel.conversation`` is the :class:`~thinkbook.Conversation` behind it: continue it in code
    (``panel.conversation.send(...)``) or in ``%%think --chat``; :meth:`refresh` redraws the panel
    from it. Totals count every finished turn of the session (Clear forgets the chat, not what it
    cost). ``send()`` returns at once; :meth:`wait` waits for the turn.

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
        system: str | None = None,
        conversation: Conversation | None = None,
        lang: str | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.lang = lang or default_lang()
        self.conversation = conversation or Conversation(
            model, base_url=base_url, api_key=api_key, protocol=protocol, region=region, system=system, display=False
        )
        self.conversation.display = False
        self._api_key = api_key
        self.max_retries = max_retries
        self.timeout = timeout
        self._engine = engine
        self._lock = threading.RLock()
        self._turns: list[_Turn] = []
        self._current: _Turn | None = None
        self._session: list[ThinkResult] = []
        self.turns_box = ipywidgets.VBox(layout=ipywidgets.Layout(max_height="70vh", overflow="auto"))
        self.turns_box.add_class("tb-chat-log")
        conv = self.conversation
        self.controls = ChatControls(
            lang=self.lang,
            choices=model_choices(),
            regions=sorted(REGION_HOSTS),
            model=conv.model,
            system=conv.system or "",
            region=conv.region or "",
            base_url=conv.base_url or "",
        )
        super().__init__(children=[self.turns_box, self.controls])
        self.add_class("tb-chat")
        self.configure(
            enable_thinking=enable_thinking if conversation is None else conv.enable_thinking,
            thinking_budget=thinking_budget if conversation is None else conv.thinking_budget,
            preserve_thinking=preserve_thinking if conversation is None else conv.preserve_thinking,
        )
        self.controls.observe(self._on_control, names=list(_SETTINGS))
        self.controls.on_msg(self._on_message)
        self._update_totals()
        if conv.results:
            self.refresh()

    # --- settings ------------------------------------------------------------------------------

    def configure(self, **settings: Any) -> None:
        """Change settings from code: ``model``, ``enable_thinking``, ``thinking_budget``,
        ``preserve_thinking``, ``system``, ``region``, ``base_url``.

        Invalid combinations raise :class:`ConfigurationError` (turning thinking off for a
        thinking-only model, a budget for a model that takes none or with thinking off); the UI
        instead corrects them and says why.
        """
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise ConfigurationError(f"unknown ChatPanel setting(s): {', '.join(sorted(unknown))}")
        c = self.controls
        model = settings.get("model", c.model)
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError("model must be a non-empty string")
        caps = capabilities(model.strip())
        enable = settings.get("enable_thinking", c.enable_thinking)
        budget = settings.get("thinking_budget", c.thinking_budget)
        if caps["thinking_locked"] and enable is False and "enable_thinking" in settings:
            raise ConfigurationError(f"{model} is a thinking-only model: its thinking cannot be turned off")
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0):
            raise ConfigurationError(f"thinking_budget must be a positive integer number of tokens, got {budget!r}")
        if budget is not None and "thinking_budget" in settings:
            if not caps["budget"]:
                raise ConfigurationError(f"thinking_budget does not apply to {model}")
            if enable is False:
                raise ConfigurationError("thinking_budget was given with enable_thinking=False: pick one")
        with c.hold_trait_notifications():
            for key in ("system", "region", "base_url"):
                if key in settings:
                    setattr(c, key, settings[key] or "")
            c.model = model.strip()
            c.enable_thinking = enable
            c.thinking_budget = budget
            if "preserve_thinking" in settings:
                c.preserve_thinking = bool(settings["preserve_thinking"])
        self._normalize()

    def _normalize(self) -> str:
        """Make the controls consistent with the model; returns what had to change (for ``notice``)."""
        c = self.controls
        caps = capabilities(c.model)
        notes = []
        with c.hold_trait_notifications():
            c.caps = caps
            if caps["thinking_locked"] and c.enable_thinking is not None:
                if c.enable_thinking is False:
                    notes.append(f"{c.model} always thinks")
                c.enable_thinking = None
            if c.thinking_budget is not None and (c.thinking_budget <= 0 or not caps["budget"]):
                if c.thinking_budget > 0:
                    notes.append(f"{c.model} takes no thinking budget")
                c.thinking_budget = None
            if c.thinking_budget is not None and c.enable_thinking is False:
                c.thinking_budget = None
            if c.preserve_thinking and not caps["preserve"]:
                notes.append(f"{c.model} cannot preserve thinking")
                c.preserve_thinking = False
        return "; ".join(notes)

    def _on_control(self, change: Mapping[str, Any]) -> None:
        notice = self._normalize()
        if notice or change["name"] == "model":
            self.controls.notice = notice

    def _apply_settings(self) -> None:
        c, conv = self.controls, self.conversation
        conv.model = c.model
        conv.enable_thinking = c.enable_thinking
        conv.thinking_budget = c.thinking_budget
        conv.preserve_thinking = c.preserve_thinking
        conv.region = c.region or None
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
        with self._lock:
            if self._current is not None:
                raise ConfigurationError("a turn is still streaming: stop it or wait for it first")
            self._apply_settings()
            request = self.conversation.prepare_turn(
                text, max_retries=self.max_retries, timeout=self.timeout, api_key=self._api_key
            )
            live = LiveDisplay(request, lang=self.lang)
            turn = _Turn(text, live.view, ipywidgets.VBox([_user_bubble(text, self.lang), live.view]))
            turn.box.add_class("tb-turn")
            self._turns.append(turn)
            self.turns_box.children = (*self.turns_box.children, turn.box)
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
        if turn.future.cancelled() or turn.future.exception() is not None:
            return None
        return turn.future.result()

    def clear(self) -> None:
        """Stop any stream and forget the chat (the system prompt and the session totals stay)."""
        self.stop()
        with self._lock:
            self.conversation.reset()
            old, self._turns = self._turns, []
            self.turns_box.children = ()
            self.controls.notice = ""
            self._update_totals()
        for turn in old:
            if turn.future is None or turn.future.done():
                turn.view.close()

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
                box = ipywidgets.VBox([_user_bubble(text, self.lang), view])
                box.add_class("tb-turn")
                turns.append(_Turn(text, view, box))
            self._turns = turns
            self.turns_box.children = tuple(t.box for t in turns)
            self._update_totals()

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
            "preserve_thinking": conv.preserve_thinking,
            "system": conv.system,
            "region": conv.region,
            "base_url": conv.base_url,
        }

    def to_markdown(self) -> str:
        """The chat as markdown: each turn's question, folded reasoning, answer and usage."""
        conv = self.conversation
        lines = [f"# Chat with {conv.model}", ""]
        if conv.system:
            lines += ["**System:** " + conv.system, ""]
        users = [m for m in conv.messages if m["role"] == "user"]
        for index, (message, result) in enumerate(zip(users, conv.results, strict=False), 1):
            lines += [f"## Turn {index}", "", "**You:**", "", str(message.get("content", "")), ""]
            lines += [f"**{result.model or conv.model}:**", ""]
            if result.reasoning:
                lines += ["<details><summary>Reasoning</summary>", "", result.reasoning, "", "</details>", ""]
            lines += [result.answer, ""]
            usage = _usage_dict(result.usage)
            if usage:
                parts = [f"{k.removesuffix('_tokens')} {usage[k]}" for k in _TOKEN_KINDS if usage.get(k) is not None]
                lines += ["*Tokens: " + " · ".join(parts) + "*", ""]
        totals = self.totals
        lines += ["---", "", _totals_line(totals), ""]
        return "\n".join(lines)

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
                self.send(str(content.get("text", "")))
            elif kind == "stop":
                self.stop()
            elif kind == "clear":
                self.clear()
            elif kind == "export":
                fmt = "json" if content.get("format") == "json" else "md"
                text = self.to_json() if fmt == "json" else self.to_markdown()
                self.controls.send({"t": "export", "format": fmt, "filename": f"chat.{fmt}", "text": text})
        except (ThinkbookError, ValueError) as error:
            self.controls.notice = _one_line(error)


def _totals_line(totals: Mapping[str, Any]) -> str:
    parts = [f"{k.removesuffix('_tokens')} {totals[k]}" for k in _TOKEN_KINDS if totals.get(k)]
    text = f"Session: {totals['turns']} turn(s)" + (" · tokens " + " · ".join(parts) if parts else "")
    costs = totals.get("cost") or {}
    if costs:
        text += " · cost " + " + ".join(f"{amount:.4f} {currency}" for currency, amount in costs.items())
    return text


# --- ComparePanel -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareConfig:
    """One column of a ComparePanel: a model and its thinking settings (plus optional endpoint)."""

    model: str
    enable_thinking: bool | None = None
    thinking_budget: int | None = None
    label: str | None = None
    base_url: str | None = None
    protocol: str | None = None
    region: str | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        text = self.model
        if self.enable_thinking is False:
            text += " · thinking off"
        elif self.enable_thinking:
            text += " · thinking on"
        if self.thinking_budget is not None:
            text += f" · budget {self.thinking_budget}"
        return text

    @classmethod
    def coerce(cls, value: str | Mapping[str, Any] | CompareConfig) -> CompareConfig:
        if isinstance(value, CompareConfig):
            return value
        if isinstance(value, str):
            return cls(model=value.strip())
        if isinstance(value, Mapping):
            known = {"model", "enable_thinking", "thinking_budget", "label", "base_url", "protocol", "region"}
            options = {k: v for k, v in value.items() if k in known}
            extra = {k: v for k, v in value.items() if k not in known and k != "api_key"}
            if "model" not in options:
                raise ConfigurationError(f"a compare config needs a model: {dict(value)!r}")
            return cls(**options, extra_body=extra)
        raise ConfigurationError(f"a compare config is a model name, a dict or a CompareConfig, got {value!r}")


class CompareSummary(anywidget.AnyWidget):
    """The ComparePanel's summary row (front end: ``js/comparepanel.js``).

    ``rows``: one dict per column (see :meth:`ComparePanel.summary`); ``fastest`` / ``cheapest``:
    the indexes to highlight (-1: none); ``markdown``: the table to copy.
    """

    _esm = _js_dir() / "comparepanel.js"
    _css = _js_dir() / "panels.css"

    lang = traitlets.Unicode("en").tag(sync=True)
    prompt = traitlets.Unicode("").tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    fastest = traitlets.Int(-1).tag(sync=True)
    cheapest = traitlets.Int(-1).tag(sync=True)
    finished = traitlets.Bool(False).tag(sync=True)
    markdown = traitlets.Unicode("").tag(sync=True)


class _Column:
    def __init__(self, config: CompareConfig, view: ThinkView) -> None:
        self.config = config
        self.view = view
        self.future: concurrent.futures.Future[ThinkResult] | None = None
        self.run: StreamRun | None = None
        self.result: ThinkResult | None = None
        self.error: str = ""
        self.status = "waiting"
        self.live: LiveDisplay | None = None
        self.request: PreparedRequest | None = None


SUMMARY_COLUMNS = (
    ("label", "configuration"),
    ("status", "status"),
    ("time_to_first_token", "first token (s)"),
    ("thinking_seconds", "thinking (s)"),
    ("reasoning_tokens", "reasoning tokens"),
    ("answer_tokens", "answer tokens"),
    ("total_seconds", "total (s)"),
    ("cost", "cost"),
    ("answer_chars", "answer length (chars)"),
)


class ComparePanel(ipywidgets.VBox):  # type: ignore[misc]
    """The same prompt sent to 2-6 configurations at once, streaming side by side.

    ``configs``: model names, dicts (``{"model": ..., "enable_thinking": False, "thinking_budget":
    2000, "label": ...}``) or :class:`CompareConfig`. Columns sit in a grid that stacks on narrow
    outputs; each is a ThinkView. A column that fails shows its error; the others go on. When all
    finish, the summary row shows time to first token, thinking time, reasoning / answer tokens,
    total time, cost and answer length, marking the fastest and the cheapest; :meth:`to_markdown`
    and :meth:`to_dataframe` export it. Streams start at once (``start=False`` defers to
    :meth:`start`); :meth:`wait` waits for all, :meth:`stop` stops all.

    >>> configs = ["qwen-plus", {"model": "qwen-plus", "enable_thinking": False}]
    >>> ComparePanel("9.11 和 9.9 哪个大？", configs)  # doctest: +SKIP
    """

    def __init__(
        self,
        prompt: str,
        configs: Sequence[str | Mapping[str, Any] | CompareConfig],
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        protocol: str | None = None,
        region: str | None = None,
        system: str | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        lang: str | None = None,
        engine: Engine | None = None,
        start: bool = True,
    ) -> None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ConfigurationError("the prompt is empty")
        if isinstance(configs, str | Mapping) or not 2 <= len(configs) <= 6:
            raise ConfigurationError("ComparePanel compares 2 to 6 configurations")
        self.prompt = prompt
        self.configs = [CompareConfig.coerce(c) for c in configs]
        self.lang = lang or default_lang()
        self._defaults = {"base_url": base_url, "protocol": protocol, "region": region}
        self._api_key = api_key
        self.system = system
        self.max_retries = max_retries
        self.timeout = timeout
        self._engine = engine
        self._lock = threading.Lock()
        self._started = False
        self._columns = [self._prepare_column(config) for config in self.configs]
        self.summary_widget = CompareSummary(lang=self.lang, prompt=prompt, rows=self._rows())
        self.grid = ipywidgets.GridBox(
            [self._column_box(c) for c in self._columns],
            layout=ipywidgets.Layout(
                grid_template_columns="repeat(auto-fit, minmax(min(100%, 22rem), 1fr))", grid_gap="0.5rem"
            ),
        )
        self.grid.add_class("tb-compare-grid")
        super().__init__(children=[self.grid, self.summary_widget])
        self.add_class("tb-compare")
        if start:
            self.start()

    def _prepare_column(self, config: CompareConfig) -> _Column:
        """Prepare one column's request now; a configuration that cannot be sent shows its error."""
        try:
            request = _prepare(
                self.prompt, model=config.model, base_url=config.base_url or self._defaults["base_url"],
                api_key=self._api_key, protocol=config.protocol or self._defaults["protocol"],
                region=config.region or self._defaults["region"], enable_thinking=config.enable_thinking,
                thinking_budget=config.thinking_budget, preserve_thinking=None, system=self.system,
                max_retries=self.max_retries, timeout=self.timeout, display=False,
                extra_body=config.extra_body,
            )  # fmt: skip
        except (ThinkbookError, ValueError) as error:
            header = {"enable_thinking": config.enable_thinking, "thinking_budget": config.thinking_budget}
            column = _Column(config, _failed_view(config.model, error, self.lang, **header))
            column.error, column.status = _one_line(error), "error"
            return column
        live = LiveDisplay(request, lang=self.lang)
        _share_budget(live.view, len(self.configs))
        column = _Column(config, live.view)
        column.live, column.request = live, request
        return column

    def _column_box(self, column: _Column) -> ipywidgets.VBox:
        label = ipywidgets.HTML(f'<div class="tb-col-label" role="heading" aria-level="3">'
                                f"{html.escape(column.config.title)}</div>")  # fmt: skip
        box = ipywidgets.VBox([label, column.view])
        box.add_class("tb-compare-col")
        return box

    @property
    def views(self) -> list[ThinkView]:
        """The columns' ThinkViews, in order."""
        return [c.view for c in self._columns]

    def start(self) -> None:
        """Send the prompt to every configuration (once); returns at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
        engine = self._engine or default_engine()
        for column in self._columns:
            if column.live is None or column.request is None:
                continue

            def cancel(column: _Column = column) -> None:
                if column.future is not None:
                    column.future.cancel()

            column.future, column.run = _start_stream(
                column.request, column.live, engine=engine, max_retries=self.max_retries, timeout=self.timeout,
                on_stop=cancel,
            )  # fmt: skip
            column.future.add_done_callback(functools.partial(self._finished, column))
        self._maybe_summarize()

    def _finished(self, column: _Column, future: concurrent.futures.Future[ThinkResult]) -> None:
        if future.cancelled():
            column.status = "stopped"
            column.result = column.run.partial() if column.run else None
        elif (error := future.exception()) is not None:
            column.status, column.error = "error", _one_line(error)
            column.result = getattr(error, "partial", None)
        else:
            column.status, column.result = "done", future.result()
        self._maybe_summarize()

    def _maybe_summarize(self) -> None:
        with self._lock:
            rows = self._rows()
            finished = all(c.status != "waiting" for c in self._columns)
            fastest, cheapest = _best(rows, "total_seconds"), _best(rows, "cost")
            for i, row in enumerate(rows):
                row["fastest"], row["cheapest"] = i == fastest, i == cheapest
            widget = self.summary_widget
            if not finished and widget.rows:
                return  # the browser shows the table only once every column is over: one update then
            with widget.hold_sync():
                widget.rows = rows
                widget.fastest, widget.cheapest = (fastest, cheapest) if finished else (-1, -1)
                widget.markdown = _markdown_table(rows) if finished else ""
                widget.finished = finished

    def _rows(self) -> list[dict[str, Any]]:
        rows = []
        for column in self._columns:
            result, config = column.result, column.config
            usage = _usage_dict(result.usage if result else None)
            timings = result.timings if result else None
            cost = estimate_cost((result.model if result else None) or config.model, result.usage if result else None)
            rows.append({
                "label": config.title,
                "model": config.model,
                "status": column.status,
                "error": column.error,
                "time_to_first_token": timings.time_to_first_token if timings else None,
                "thinking_seconds": timings.thinking_seconds if timings else None,
                "reasoning_tokens": usage.get("reasoning_tokens"),
                "answer_tokens": usage.get("answer_tokens"),
                "total_seconds": timings.total_seconds if timings else None,
                "cost": round(cost.amount, 6) if cost else None,
                "currency": cost.currency if cost else None,
                "answer_chars": len(result.answer) if result else None,
            })  # fmt: skip
        return rows

    def summary(self) -> list[dict[str, Any]]:
        """One row per configuration (see ``SUMMARY_COLUMNS``), with ``fastest`` / ``cheapest`` marks."""
        self._maybe_summarize()
        return [dict(r) for r in self.summary_widget.rows]

    @property
    def results(self) -> list[ThinkResult | None]:
        """Each column's result (partial for a stopped or failed column, None when nothing arrived)."""
        return [c.result for c in self._columns]

    def wait(self, timeout: float | None = None) -> list[ThinkResult | None]:
        """Wait until every column has finished (and its view is final); the results."""
        futures = [c.future for c in self._columns if c.future is not None]
        _, pending = concurrent.futures.wait(futures, timeout=timeout)
        if pending:
            raise TimeoutError(f"{len(pending)} column(s) still streaming")
        for column in self._columns:
            if column.run is not None:
                column.run.settled.wait(timeout)
        self._maybe_summarize()
        return self.results

    def stop(self) -> None:
        """Stop every column still streaming."""
        for column in self._columns:
            if column.future is not None:
                column.future.cancel()

    def to_markdown(self) -> str:
        """The summary as a markdown table (fastest / cheapest marked)."""
        return _markdown_table(self.summary())

    def to_dataframe(self) -> Any:
        """The summary as a pandas DataFrame (needs pandas, which thinkbook does not depend on)."""
        try:
            import pandas  # type: ignore[import-untyped, unused-ignore]
        except ImportError as missing:
            raise ImportError("to_dataframe() needs pandas: pip install pandas (or use to_markdown())") from missing
        return pandas.DataFrame(self.summary()).set_index("label")


def _share_budget(view: ThinkView, columns: int) -> None:
    """Give ``columns`` views together the message budget of one (see the module docstring)."""
    view.batch_interval *= columns
    view.max_batch_interval = max(view.max_batch_interval, view.batch_interval)
    view.counters_interval *= columns
    view.snapshot_interval *= columns


def _best(rows: Sequence[Mapping[str, Any]], key: str) -> int:
    """Index of the finished row with the smallest ``key`` (-1 if none has one)."""
    candidates = [(row[key], i) for i, row in enumerate(rows) if row["status"] == "done" and row.get(key) is not None]
    return min(candidates)[1] if candidates else -1


def _cell(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return "—"
    if key == "cost":
        return f"{value:.4f} {row.get('currency') or ''}".strip()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    def escape(text: str) -> str:
        return " ".join(text.replace("|", "\\|").split())

    head = [title for _, title in SUMMARY_COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [escape(_cell(row, key)) for key, _ in SUMMARY_COLUMNS]
        marks = [m for m, on in (("fastest", row.get("fastest")), ("cheapest", row.get("cheapest"))) if on]
        if marks:
            cells[0] += " (" + ", ".join(marks) + ")"
        if row.get("error"):
            cells[1] += ": " + escape(str(row["error"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
