"""Showing a stream in a notebook: decide whether to draw, drive the view from the engine, finalize.

The engine thread pushes event batches into the view (it only accumulates them) and tells the
view worker (:mod:`thinkbook._view_worker`) when the view's next flush is due; the worker thread
renders and sends. So the view keeps painting while the notebook's own thread is blocked or busy,
and no stream in the process ever waits for a view's rendering.
When the stream ends the display is updated in place: its ``text/html`` / ``text/plain``
fallbacks and metadata then hold the final answer, so saved notebooks show it without a kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ._errors import ConfigurationError, redact
from ._fallback import plain_text, static_html
from ._request import PreparedRequest
from ._types import ThinkEvent, ThinkResult
from ._view_worker import ViewWorker, default_worker

if TYPE_CHECKING:  # the widget stack (anywidget, ipywidgets) loads only when something is drawn
    from ._view import Finalize, ThinkView


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain IPython terminal or a script)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


Display = bool | Literal["static"] | None


def should_display(display: Display) -> bool:
    if display is None:
        return in_notebook()
    if display and not in_notebook():
        raise ConfigurationError("display=True needs a running Jupyter kernel; use display=None or False here")
    return bool(display)


class _StaticOutput:
    """The finished view as plain HTML (``finalize="static"``): readable everywhere, no widget."""

    def __init__(self, view: ThinkView) -> None:
        self._state = view.final_state()

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return {"text/html": static_html(self._state), "text/plain": plain_text(self._state)}


class LiveDisplay:
    """One ThinkView shown in the current output, fed from the engine loop."""

    def __init__(
        self,
        request: PreparedRequest,
        *,
        finalize: Finalize = "widget",
        lang: str | None = None,
        worker: ViewWorker | None = None,
    ) -> None:
        from ._view import ThinkView

        body = request.body
        parameters = body.get("parameters", body)
        replay = request.endpoint.base_url if request.endpoint.base_url.startswith("replay:") else None
        self.request = request
        self.view = ThinkView(
            model=request.model,
            enable_thinking=parameters.get("enable_thinking"),
            thinking_budget=parameters.get("thinking_budget"),
            lang=lang,
            replay=replay,
            finalize=finalize,
        )
        self._handle: Any = None
        self._worker = worker or default_worker()

    def start(self) -> None:
        """Draw the view in the current output (the Stop button is wired by ``allow_stop``)."""
        from IPython.display import display

        self.view.begin()
        self._handle = display(self.view, display_id=True)  # type: ignore[no-untyped-call]

    def on_batch(self, batch: list[ThinkEvent]) -> None:
        """Called on the engine loop for every batch of events: accumulate, never render."""
        view = self.view
        view.push(batch)
        self._worker.schedule(self, view.due_in())

    def run_due(self) -> float:
        """On the view worker: flush when due; seconds until the next flush is due."""
        view = self.view
        if view.due_in() <= 0:
            view.flush()
        return view.due_in()

    def metadata(self, result: ThinkResult | None) -> dict[str, Any]:
        body = self.request.body
        options = {k: v for k, v in body.get("parameters", body).items() if k not in ("messages", "model", "input")}
        info: dict[str, Any] = {
            "model": self.request.model,
            "endpoint": redact(self.request.endpoint.base_url, self.request.endpoint.api_key),
            "protocol": self.request.endpoint.protocol,
            "options": options,
            "status": self.view.status,
        }
        if result is not None:
            info.update(
                usage={k: v for k, v in (result.usage.to_dict() if result.usage else {}).items() if k != "raw"},
                timings=result.timings.to_dict(),
                finish_reason=result.finish_reason,
                request_id=result.request_id,
            )
        return {"thinkbook": info}

    def finish(
        self, result: ThinkResult | None = None, *, error: BaseException | None = None, stopped: bool = False
    ) -> None:
        self.view.end(result, error=error, stopped=stopped)
        final = result or getattr(error, "partial", None)
        if self._handle is None:
            return
        if self.view.finalize == "static":
            self._handle.update(_StaticOutput(self.view), metadata=self.metadata(final))
            self.view.close()
        else:
            self._handle.update(self.view, metadata=self.metadata(final))
