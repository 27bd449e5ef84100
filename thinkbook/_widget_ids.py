"""Comm ids of retired widgets, reused by the next widget of the same class.

A headless run (nbclient: ``jupyter nbconvert --execute``, papermill) saves the last state of
every widget comm it saw, closed or not, in the notebook's ``metadata.widgets``: a view or a panel
that is over would keep its (emptied) state in the file for good, one per widget ever made. A new
widget opened under the comm id of a retired one of the same class overwrites that state, so a
notebook keeps one state per widget alive at the same time (six columns of a comparison, not
fourteen over three comparisons). Same class only: the saved state is the union of every update
of a comm, and the same class means the same keys.

JupyterLab and Notebook 7 forget a model when its comm closes, so an id opened again later is a
new model there. An id is given back only after its widget is closed (``comm is None``): two live
widgets never share one.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

from ipywidgets import Widget  # type: ignore[import-untyped]

from ._headless import quiet_class

W = TypeVar("W")


def _kind(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class RetiredIds:
    """Per-class pools of comm ids whose widgets are closed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, list[str]] = {}

    def take(self, cls: type) -> str | None:
        with self._lock:
            pool = self._ids.get(_kind(cls))
            return pool.pop() if pool else None

    def give(self, widget: Any) -> None:
        """Offer ``widget``'s comm id for reuse; ignored unless it is a closed widget that had one."""
        model_id = getattr(widget, "_model_id", None)
        if not isinstance(widget, Widget) or widget.comm is not None or not isinstance(model_id, str):
            return
        with self._lock:
            pool = self._ids.setdefault(_kind(type(widget)), [])
            if model_id not in pool:
                pool.append(model_id)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(pool) for pool in self._ids.values())


RETIRED = RetiredIds()


def reused_id(cls: type) -> dict[str, str]:
    """``{"model_id": ...}`` of a retired ``cls`` widget to open a new one under, or ``{}``."""
    model_id = RETIRED.take(cls)
    return {"model_id": model_id} if model_id is not None else {}


def fresh(cls: type[W], *args: Any, quiet: bool = False, **kwargs: Any) -> W:
    """``cls(*args, **kwargs)`` opened under the comm id of a retired widget of its class, if any.

    ``quiet``: made with no comm at all (a headless run, :mod:`thinkbook._headless`).
    """
    if quiet:
        made: W = quiet_class(cls)(*args, quiet=True, **kwargs)
        return made
    return cls(*args, **reused_id(cls), **kwargs)


def release(widget: Any) -> None:
    """Give a closed ``widget``'s comm id back for the next widget of its class."""
    RETIRED.give(widget)


def close_and_release(widget: Any) -> None:
    """Close ``widget`` and the layout and style models it brought, and give their ids back."""
    if not isinstance(widget, Widget) or getattr(widget, "quiet", False):
        return  # (a quiet widget never had a comm; reading its layout would make one)
    parts = [getattr(widget, name, None) for name in ("layout", "style")]
    widget.close()
    RETIRED.give(widget)
    for part in parts:
        if isinstance(part, Widget):
            part.close()
            RETIRED.give(part)
