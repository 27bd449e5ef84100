"""What ChatPanel and ComparePanel share: model capabilities, the background stream driver, totals.

Every assistant turn (ChatPanel) and every column (ComparePanel) is a plain
:class:`~thinkbook._view.ThinkView`, driven by a :class:`~thinkbook._display.LiveDisplay` that is
never ``start()``-ed (so nothing is displayed on its own): :func:`_start_stream` has the shared
engine push batches into it and finish it exactly as for ``think()``. Reasoning fold, markdown
answer, sanitizing, counters and the delta/snapshot protocol are the ThinkView's, unchanged.
Streams run in the background (``_run._drive``): other cells run meanwhile, Stop cancels the
engine task.

No API key is ever put in a synced trait: keys stay in the Conversation / the panel's private
attribute and go only into the request headers. A chat's markdown export lives here too, next to
the totals line it ends with.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ._catalog import lookup, models
from ._display import LiveDisplay
from ._engine import Engine, StreamRun
from ._panel_static import retire
from ._pricing import estimate_cost
from ._request import PreparedRequest
from ._run import _drive
from ._tool_run import new_run
from ._types import ThinkResult, Usage
from ._view import ThinkView

BUDGET_MAX = 38912  # the largest thinking_budget the Bailian guide lists (Qwen3 commercial models)
_TOKEN_KINDS = ("prompt_tokens", "cached_tokens", "reasoning_tokens", "answer_tokens", "total_tokens")


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

    Models outside the catalog (other servers) allow everything: the server decides. ``effort``: a
    level applies where the provider has a knob for it; on Bailian (the catalog's models) it becomes
    a thinking budget, so only where the model takes one.
    """
    info = lookup(model) if model else None
    if info is None:
        return {"known": False, "mode": None, "default_thinking": None, "thinking_locked": False,
                "budget": True, "effort": True, "preserve": True}  # fmt: skip
    return {
        "known": True,
        "family": info.family,
        "mode": info.mode,
        "default_thinking": info.default_thinking,
        "thinking_locked": info.thinking_only,
        "budget": info.budget,
        "effort": info.budget,
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
    """Run ``request`` into ``live.view`` in the background (like ``_run._start``, never displaying)."""
    run = new_run(request)  # a tool loop's run when the request has tools (ChatPanel(tools=...))
    live.view.begin(can_stop=True, on_stop=on_stop)
    future = engine.submit(_drive(engine, run, max_retries, timeout, live))
    return future, run


def _failed_view(model: str, error: BaseException, lang: str, *, quiet: bool = False, **header: Any) -> ThinkView:
    view = ThinkView(model=model, lang=lang, quiet=quiet, **header)
    view.end(error=error)
    return view


class _FinalDisplay(LiveDisplay):
    """A panel's LiveDisplay that says when its view is final (after ``end()``), e.g. to refresh fallbacks."""

    def __init__(
        self, request: PreparedRequest, *, lang: str, on_final: Callable[[], object], quiet: bool = False
    ) -> None:
        super().__init__(request, lang=lang, quiet=quiet)
        self._on_final = on_final

    def finish(
        self, result: ThinkResult | None = None, *, error: BaseException | None = None, stopped: bool = False
    ) -> None:
        super().finish(result, error=error, stopped=stopped)
        self._on_final()


class StaticFallback:
    """Mixin for a panel (an ipywidgets container): its outputs carry sanitized ``text/html`` / ``text/plain``.

    Shown with ``display(panel)`` or as a cell's value, the panel is displayed with a display id;
    :meth:`_update_displays` (when the panel's content is final: a compare run over, a chat turn
    ended) rewrites those outputs in place, so a saved notebook opened without a kernel (GitHub,
    nbviewer, nbconvert) shows the content as ThinkView's fallback does: reasoning folded in
    ``<details>``, answers as the sanitized HTML the live view showed, counters, summaries. Only
    escaped text and already sanitized answer HTML go in; never an API key.
    """

    _display_handles: list[Any]
    _static = False  # the outputs show the static HTML, the widgets are closed
    _resend = False  # the last output update left from a thread that nbclient does not listen to
    _retiring: tuple[Any, ...] = ()  # widgets to retire once in the notebook's thread
    _static_lock = threading.Lock()

    def _fallback(self) -> tuple[str, str]:
        """``(html, text)`` of the panel's content now."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if getattr(self, "quiet", False):  # no front end draws it (_headless): the fallback is all there is
            html_text, text = self._fallback()
            return {"text/html": html_text, "text/plain": text}
        bundle: Any = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["text/html"], data["text/plain"] = self._fallback()
        return bundle

    def _bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        method = self._repr_mimebundle_  # ipywidgets sets it to None when the widget is closed
        bundle = method() if callable(method) else None
        if isinstance(bundle, tuple):
            return dict(bundle[0]), dict(bundle[1] or {})
        if not isinstance(bundle, dict):  # a closed widget: its content stays readable
            html_text, text = self._fallback()
            return {"text/html": html_text, "text/plain": text}, {}
        return dict(bundle), {}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        data, metadata = self._bundle()
        handle = display(data, metadata=metadata, raw=True, display_id=True)  # type: ignore[no-untyped-call]
        if handle is not None:
            self._display_handles.append(handle)

    def _update_displays(self) -> None:
        if not self._display_handles:
            return
        self._note_thread()
        data, metadata = self._bundle()
        for handle in list(self._display_handles):
            handle.update(data, metadata=metadata, raw=True)

    def _note_thread(self) -> None:
        # An update sent from a stream's thread carries no (or an old) cell as its parent: JupyterLab
        # applies it anyway (by display id), nbclient / nbconvert --execute drop it. wait() sends
        # it again from the notebook's thread, within the cell that waits.
        self._resend = threading.current_thread() is not threading.main_thread()

    def _resend_from_main_thread(self) -> None:
        """After a wait: the last output update again, if it was sent from another thread (see above)."""
        if not (self._resend and threading.current_thread() is threading.main_thread()):
            return
        self._resend = False
        self._retire_now()
        if self._static:
            html_text, text = self._fallback()
            for handle in list(self._display_handles):
                handle.update({"text/html": html_text, "text/plain": text}, raw=True)
        else:
            self._update_displays()

    def _go_static(self, widgets: Sequence[Any]) -> bool:
        """Replace the panel's outputs with its static HTML and retire ``widgets`` (once; False after)."""
        with self._static_lock:
            if self._static:
                return False
            self._static = True
        self._note_thread()
        html_text, text = self._fallback()
        for handle in list(self._display_handles):
            handle.update({"text/html": html_text, "text/plain": text}, raw=True)
        self._retiring = tuple(widgets)
        if threading.current_thread() is threading.main_thread():
            self._retire_now()
        else:  # in the notebook's thread, where nbclient hears it: at the next wait() or cell end
            _after_this_cell(self._retire_now)
        return True

    def _retire_now(self) -> None:
        widgets, self._retiring = self._retiring, ()
        retire(widgets)


def _after_this_cell(callback: Callable[[], object]) -> None:
    """Run ``callback`` once, in the notebook's thread, when the running (or next) cell ends."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def once() -> None:
        shell.events.unregister("post_execute", once)
        callback()

    shell.events.register("post_execute", once)
