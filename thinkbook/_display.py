"""Showing a stream in a notebook: decide whether to draw, drive the view from the engine, finalize.

The engine thread pushes event batches into the view (it only accumulates them) and tells the
view worker (:mod:`thinkbook._view_worker`) when the view's next flush is due; the worker thread
renders and sends. So the view keeps painting while the notebook's own thread is blocked or busy,
and no stream in the process ever waits for a view's rendering.
When the stream ends (done, error or stopped) the output is replaced in place by the view's static
rendering (``_fallback.static_html``: reasoning folded in ``<details>``, the sanitized answer, the
counters, copy buttons where scripts run) and its metadata, and the widget is retired (emptied and
closed): the live widget exists only while it streams. A saved notebook then shows every finished
view in JupyterLab and Notebook 7 without a kernel, in nbconvert HTML and on GitHub, and holds no
widget state for it, so it costs about its text.

A headless run (nbclient) keeps the last state of every comm it saw, closed or not; the comm ids of
retired views are therefore reused by the next views (:mod:`thinkbook._widget_ids`), so a notebook
keeps one small emptied state per view that streamed at the same time as another, not one per view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._errors import ConfigurationError, redact
from ._headless import client_draws_widgets
from ._replay import at_recorded_pace, replay_speed
from ._request import PreparedRequest
from ._types import ThinkEvent, ThinkResult
from ._view_worker import ViewWorker, default_worker
from ._widget_ids import release

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
    """The finished view as plain HTML: readable everywhere, no widget."""

    def __init__(self, view: ThinkView) -> None:
        self._bundle = view.static_bundle(text_reasoning=not in_notebook())

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return dict(self._bundle)


def retire_view(view: ThinkView) -> None:
    """Close a finished view whose output now shows its static rendering; reuse its comm id."""
    view.retire()
    release(view)


def request_images(request: PreparedRequest) -> list[str]:
    """The image URLs of the request's last user message (OpenAI ``image_url`` parts, DashScope
    native ``{"image": ...}`` parts), read by the request's protocol: the view's thumbnails."""
    messages = request.endpoint.wire_protocol.recorded_history(request.body)
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    content = users[-1].get("content") if users else None
    if not isinstance(content, list):
        return []
    urls = []
    for part in content:
        if not isinstance(part, dict):
            continue
        url = part.get("image_url", {}).get("url") if isinstance(part.get("image_url"), dict) else part.get("image")
        if isinstance(url, str):
            urls.append(url)
    return urls


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items() if v is not None}


class LiveDisplay:
    """One ThinkView shown in the current output, fed from the engine loop."""

    def __init__(
        self,
        request: PreparedRequest,
        *,
        finalize: Finalize = "widget",
        lang: str | None = None,
        worker: ViewWorker | None = None,
        images: Sequence[object] | None = None,
        quiet: bool | None = None,
    ) -> None:
        """``quiet``: a view with no widget (shown as its static rendering throughout); by default
        when the client that runs the cell draws no widgets (:mod:`thinkbook._headless`)."""
        from ._view import ThinkView

        # What the request asked for, in its protocol's spelling (Anthropic ``thinking``...).
        thinking = request.endpoint.wire_protocol.recorded_thinking(request.body)
        replay = request.endpoint.base_url if request.endpoint.base_url.startswith("replay:") else None
        self.request = request
        self.view = ThinkView(
            model=request.model,
            enable_thinking=thinking.enable,
            thinking_budget=thinking.budget,
            lang=lang,
            replay=replay,
            replay_speed=replay_speed(request.endpoint.url) if replay else None,
            finalize=finalize,
            images=request_images(request) if images is None else images,
            quiet=not client_draws_widgets() if quiet is None else quiet,
        )
        self._handle: Any = None
        self._worker = worker or default_worker()
        # An approval (confirm=True) changes the view between events: the worker sends it.
        self.view.set_waker(lambda: self._worker.schedule(self, self.view.due_in()))

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
        skipped = ("messages", "model", "input", "stream", "stream_options", "incremental_output", "result_format")
        options = {k: v for k, v in body.get("parameters", body).items() if k not in skipped}
        info: dict[str, Any] = {
            "model": self.request.model,
            "endpoint": redact(self.request.endpoint.base_url, self.request.endpoint.api_key),
            "protocol": self.request.endpoint.protocol,
            "options": options,
            "status": self.view.status,
        }
        if result is not None:
            usage = result.usage.to_dict() if result.usage else {}
            timings = result.timings
            if self.view.replay_speed is not None:
                info["replay_speed"] = self.view.replay_speed
                timings = at_recorded_pace(timings, self.view.replay_speed)  # as the view shows them
            info.update(
                usage={k: v for k, v in usage.items() if k != "raw" and v is not None},
                timings=_rounded(timings.to_dict()),
                finish_reason=result.finish_reason,
                request_id=result.request_id,
            )
            if result.reasoning_hidden:
                info["reasoning_hidden"] = True
        return {"thinkbook": info}

    def finish(
        self, result: ThinkResult | None = None, *, error: BaseException | None = None, stopped: bool = False
    ) -> None:
        """The stream is over: the output becomes the static rendering and the widget is retired.

        A view that was never displayed here (a panel's column or turn) stays a widget: its panel shows it.
        """
        self.view.end(result, error=error, stopped=stopped)
        final = result or getattr(error, "partial", None)
        if self._handle is None:
            return
        self._handle.update(_StaticOutput(self.view), metadata=self.metadata(final))
        retire_view(self.view)
