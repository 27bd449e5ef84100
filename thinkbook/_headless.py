"""Runs that no one watches (``nbconvert --execute``, papermill): results without widgets.

A headless client (nbclient) draws no widget, yet saves the last state of every widget comm it
saw, closed or not, into the notebook (``metadata.widgets``): a view that streams as a widget
leaves kilobytes of dead state in a file whose outputs already show its static rendering. Such
a client asks for code to run with ``allow_stdin: false`` (it cannot answer ``input()``), while
JupyterLab, Notebook 7, classic Notebook and VS Code send ``true``. So in a cell run with stdin
refused, a single view and a comparison go straight to their static rendering: a line while
they stream, the whole result when they end, and no comm at all. A live ChatPanel stays a widget
(it is for typing into). When the guess is wrong, what is lost is the live streaming, never the
result; ``THINKBOOK_WIDGETS=1`` (or ``0``) decides instead of the guess.

:class:`Quiet` is the mixin that lets a widget class be made without a comm: its Python side
works as before (traits, ``final_state()``), nothing is sent, and it shows as its fallback.
"""

from __future__ import annotations

import os
from typing import Any

WIDGETS_VARIABLE = "THINKBOOK_WIDGETS"


def client_draws_widgets() -> bool:
    """False when the cell that runs now was sent by a client that cannot draw widgets (see above)."""
    forced = os.environ.get(WIDGETS_VARIABLE, "").strip().lower()
    if forced in ("1", "true", "yes", "on"):
        return True
    if forced in ("0", "false", "no", "off"):
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return True
    kernel = getattr(get_ipython(), "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    if get_parent is None:  # not ipykernel (or an old one): assume a front end that draws
        return True
    try:
        parent = get_parent("shell")
    except Exception:  # (ipykernel's own bookkeeping; never a reason to fail a display)
        return True
    header = parent.get("header", {}) if isinstance(parent, dict) else {}
    content = parent.get("content", {}) if isinstance(parent, dict) else {}
    if header.get("msg_type") != "execute_request":
        return True  # a comm message from the browser (a button), not a cell
    return content.get("allow_stdin", True) is not False


class Quiet:
    """Mixin (before the widget class): ``quiet=True`` makes a widget with no comm to a front end."""

    _quiet = False

    def __init__(self, *args: Any, quiet: bool = False, **kwargs: Any) -> None:
        self._quiet = quiet  # (read by open(), which the widget's constructor calls)
        super().__init__(*args, **kwargs)

    @property
    def quiet(self) -> bool:
        return self._quiet

    def open(self) -> None:
        if not self._quiet:
            super().open()  # type: ignore[misc]


_QUIET_CLASSES: dict[type, type] = {}


def quiet_class(cls: type) -> type:
    """``cls`` itself when it mixes :class:`Quiet` in already, else a subclass that does (cached)."""
    if issubclass(cls, Quiet):
        return cls
    if cls not in _QUIET_CLASSES:
        _QUIET_CLASSES[cls] = type(f"Quiet{cls.__name__}", (Quiet, cls), {"__module__": __name__})
    return _QUIET_CLASSES[cls]
