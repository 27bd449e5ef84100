"""Finished turns and columns inside a live panel: their static rendering instead of a live ThinkView.

A ThinkView is worth its ~15 KB of widget state (its JS, CSS and text, saved for every view by
``nbconvert --execute`` and by JupyterLab's "Save widget state") only while it streams. Once a chat
turn or a compare column is over, :func:`settle` puts the view's static rendering
(``view.static_bundle()``: reasoning folded in ``<details>``, the sanitized answer, the counters,
the copy data) in its place as a small ``ipywidgets.HTML`` and retires the view
(``_display.retire_view``: emptied, closed, its comm id reused), as the single-view path does for
its output. What the user sees stays: the fold opens as before, and the Copy buttons are added by
the panel's front end (``js/chatpanel.js`` hands each static turn to the view module's queue).

Timing: a headless run (nbclient) hears widget messages only from the notebook's thread, within
the cell that runs; a stream ends on another thread. So :class:`Settler` settles at once on the
notebook's thread, and otherwise when ``wait()`` returns there or the running cell ends
(``_after_this_cell``); a turn sent from the browser (no cell runs) settles at once, since the
front end hears every thread.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets  # type: ignore[import-untyped]
from ipywidgets.widgets.widget_string import HTMLStyle  # type: ignore[import-untyped]

from ._display import retire_view
from ._fallback import static_html
from ._panel_static import retire, untitled
from ._view import ThinkView
from ._widget_ids import fresh


class Looks:
    """One layout and one style for all of a panel's static widgets.

    Every ``ipywidgets.HTML`` otherwise brings a Layout and an HTMLStyle model of its own, and a
    headless run saves each of them (~1 KB): shared, a panel pays for two, not two per turn.
    """

    def __init__(self) -> None:
        self.layout = fresh(ipywidgets.Layout)
        self.style = fresh(HTMLStyle)


def static_widget(view: ThinkView, looks: Looks | None = None) -> ipywidgets.HTML:
    """The finished ``view`` as an HTML widget: its static rendering (already sanitized), nothing live."""
    looks = looks or Looks()
    state = view.final_state()
    heading = ""
    label = view.header.get("label")
    if isinstance(label, str) and label:  # a compare column's title (its configuration) stays on top
        heading = f'<div class="tb-col-label" data-tb="col-label"><b>{html.escape(label)}</b></div>'
        state = untitled(state, label, mode=False)  # the model is not named twice (as live)
    page = heading + static_html(state, copy_buttons=True)  # what view.static_bundle() renders
    widget = fresh(ipywidgets.HTML, page, layout=looks.layout, style=looks.style)
    widget.add_class("tb-settled")
    return widget


def settle(
    view: ThinkView, put: Callable[[ipywidgets.HTML], object], *, keep: bool = False, looks: Looks | None = None
) -> ipywidgets.HTML:
    """Put ``view``'s static rendering where it was (``put``), then retire the view; the HTML widget.

    ``keep``: the view's Python side keeps its text (a public ``ComparePanel.views`` entry); else
    it is emptied too and its comm id reused (``retire_view``), its ``final_state()`` still answers.
    """
    widget = static_widget(view, looks)
    put(widget)
    if keep:
        retire([view])
    else:
        retire_view(view)
    return widget


class Settler:
    """Runs each queued settle once, on the notebook's thread when one is listening (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: list[Callable[[], object]] = []
        self._hooked = False

    def later(self, job: Callable[[], object], *, now: bool = False) -> None:
        """Queue ``job``; run it (and anything queued) now on the notebook's thread or when ``now``."""
        from ._panel_common import _after_this_cell

        with self._lock:
            self._queued.append(job)
            hook = not self._hooked
            self._hooked = True
        if now or threading.current_thread() is threading.main_thread():
            self.run()
        elif hook:
            _after_this_cell(self._run_from_hook)

    def _run_from_hook(self) -> None:
        with self._lock:
            self._hooked = False
        self.run()

    def run(self) -> None:
        """Run what is queued (from ``wait()`` on the notebook's thread, or at a cell's end)."""
        with self._lock:
            jobs, self._queued = self._queued, []
        for job in jobs:
            job()

    def drop(self) -> None:
        """Forget what is queued (the widgets it would touch are gone)."""
        with self._lock:
            self._queued = []


def transcript_output(html_text: str, text: str) -> dict[str, Any]:
    """The sibling output of a live chat: its transcript, hidden by ``js/panels.css`` next to the live panel."""
    return {"text/html": f'<div class="tb-chat-saved">{html_text}</div>', "text/plain": text}


class TranscriptSibling:
    """Mixin for a live chat panel (before :class:`~thinkbook._panel_common.StaticFallback`): a second output.

    JupyterLab and Notebook 7 never show a widget output's ``text/html`` (a reopened notebook
    shows "model not found" for a live panel), so the panel's transcript also goes into the next
    output of its cell, updated whenever a turn ends. ``js/panels.css`` hides it in a cell where
    the live panel is drawn (loaded with the panel itself); without a kernel, in nbconvert HTML
    and on GitHub it is what shows. The panel's own ``text/html`` is then a one-line pointer, so
    the file holds the transcript once. When the chat is finished (``freeze()``) the panel's
    output becomes the transcript and the sibling is emptied.
    """

    _sibling_handles: list[Any]
    _static: bool

    def _transcript(self) -> tuple[str, str]:
        """``(html, text)`` of the chat now."""
        raise NotImplementedError

    def _pointer(self) -> tuple[str, str]:
        """The panel's own fallback while the sibling holds the transcript."""
        raise NotImplementedError

    def _fallback(self) -> tuple[str, str]:
        if self._sibling_handles and not self._static:
            return self._pointer()
        return self._transcript()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        first = not self._sibling_handles
        if first:
            self._sibling_handles.append(None)  # (the panel's output says "below" from the start)
        super()._ipython_display_()  # type: ignore[misc]
        if self._static:
            return
        handle = display(transcript_output(*self._transcript()), raw=True, display_id=True)  # type: ignore[no-untyped-call]
        if first:
            self._sibling_handles.clear()
        if handle is not None:
            self._sibling_handles.append(handle)

    def _update_displays(self) -> None:
        super()._update_displays()  # type: ignore[misc]
        if self._static:
            return
        data = transcript_output(*self._transcript())
        for handle in [h for h in self._sibling_handles if h is not None]:
            handle.update(data, raw=True)

    def _empty_siblings(self) -> None:
        for handle in [h for h in self._sibling_handles if h is not None]:
            handle.update({"text/plain": ""}, raw=True)


_POINTER = {
    "en": (
        "Live chat: it needs its kernel (reopened without one, the widget cannot be drawn). "
        "The transcript so far is the next output; “Finish chat” makes it the chat's own."
    ),
    "zh": (
        "进行中的对话：需要它的内核（没有内核时无法显示控件）。"
        "到目前为止的记录在下一个输出中；“结束对话”会把它变成对话本身的输出。"
    ),
}


def saved_pointer(lang: str) -> tuple[str, str]:
    """A live chat's own ``(html, text)`` fallback: it points to the transcript in the next output."""
    text = _POINTER.get(lang, _POINTER["en"])
    return f'<p class="tb-chat-note"><small>{html.escape(text)}</small></p>', text
