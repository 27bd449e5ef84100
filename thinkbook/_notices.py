"""Notices: things thinkbook tells the user that are not problems (an answer replayed offline).

A :class:`~thinkbook.ThinkbookWarning` says a request may not do what was asked; a notice only says
what happened, so it must not look like a fault. :func:`notice` picks the quietest honest form for
where the code runs:

- a front end that says things its own way (the CLI, ``%%think``) installs a sink with
  :func:`notices_to` and gets every notice as a string;
- in a Jupyter kernel: one muted output line per topic per cell. Further notices of a topic in the
  same cell (a loop replaying ten recordings) update that line in place instead of adding lines;
- in a marimo notebook: one plain ``thinkbook: ...`` line in the cell's console output;
- in a terminal (stderr is a TTY): one plain ``thinkbook: ...`` line on stderr per distinct notice;
- anywhere else (a script whose stderr goes to a file, a test run, a web server) a
  ``ThinkbookWarning`` as before, so ``warnings`` filters and ``pytest.warns`` keep working.
"""

from __future__ import annotations

import contextlib
import html
import sys
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, Literal

from ._errors import warn_user

Sink = Callable[[str], object]
Summary = Callable[[list[Any]], str]
Place = Literal["kernel", "marimo", "terminal", "other"]

_sink: ContextVar[Sink | None] = ContextVar("thinkbook_notice_sink", default=None)

# Terminal notices said so far in this process (bounded: a long loop must not grow it forever).
_said_in_terminal: dict[str, None] = {}
_TERMINAL_MEMORY = 256


def notice(message: str, *, topic: Hashable | None = None, item: Any = None, summary: Summary | None = None) -> None:
    """Tell the user ``message`` once, quietly, where the code runs (see the module docstring).

    ``topic``, ``item`` and ``summary`` let one kernel cell say many notices of a kind in one line:
    the first notice of ``topic`` in a cell shows ``message``; each later one adds its ``item`` and
    the line becomes ``summary(items)``. Without a topic every distinct message is its own line.
    """
    sink = _sink.get()
    if sink is not None:
        sink(message)
        return
    place = where()
    if place == "kernel":
        _CellNotices.current().say(message, topic, item, summary)
    elif place == "marimo":  # the cell's console area: plain words, no warning's file:line
        print(f"thinkbook: {message}", flush=True)
    elif place == "terminal":
        if message in _said_in_terminal:
            return
        if len(_said_in_terminal) >= _TERMINAL_MEMORY:
            _said_in_terminal.pop(next(iter(_said_in_terminal)))
        _said_in_terminal[message] = None
        print(f"thinkbook: {message}", file=sys.stderr, flush=True)
    else:
        warn_user(message)


@contextlib.contextmanager
def notices_to(sink: Sink) -> Iterator[None]:
    """Send every notice raised in this block (this thread or task) to ``sink`` instead."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def where() -> Place:
    """Where notices go now: a Jupyter kernel, a terminal, or somewhere else."""
    ipython = sys.modules.get("IPython")  # never import IPython just to find out it is not there
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return "kernel"
    marimo = sys.modules.get("marimo")
    if marimo is not None and _marimo_running(marimo):
        return "marimo"
    stderr = sys.stderr
    try:
        if stderr is not None and stderr.isatty():
            return "terminal"
    except (AttributeError, ValueError):  # a replaced or closed stderr is not a terminal
        pass
    return "other"


def _marimo_running(marimo: Any) -> bool:
    try:
        return bool(marimo.running_in_notebook())
    except Exception:  # an old or partial marimo: not one of its notebooks as far as we know
        return False


class _Line:
    """One notice line's output: muted HTML where HTML renders, the same words as plain text."""

    def __init__(self, text: str) -> None:
        self.text = f"thinkbook: {text}"

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        muted = f'<div class="thinkbook-notice" style="opacity:.7;font-size:.9em">{html.escape(self.text)}</div>'
        return {"text/plain": self.text, "text/html": muted}


class _CellNotices:
    """What the running kernel cell has said so far: per topic, its display handle and items."""

    _cell: Hashable = None
    _state: _CellNotices | None = None

    def __init__(self) -> None:
        self.messages: set[str] = set()
        self.topics: dict[Hashable, tuple[Any, list[Any]]] = {}

    @classmethod
    def current(cls) -> _CellNotices:
        cell = _cell_id()
        if cls._state is None or cls._cell != cell:
            cls._cell, cls._state = cell, cls()
        return cls._state

    def say(self, message: str, topic: Hashable | None, item: Any, summary: Summary | None) -> None:
        from IPython.display import display

        if topic is None or summary is None:
            if message not in self.messages:
                self.messages.add(message)
                display(_Line(message))  # type: ignore[no-untyped-call]
            return
        if topic not in self.topics:
            self.topics[topic] = (display(_Line(message), display_id=True), [item])  # type: ignore[no-untyped-call]
            return
        handle, items = self.topics[topic]
        if item in items:
            return
        items.append(item)
        if handle is not None:
            handle.update(_Line(summary(items)))


def _cell_id() -> Hashable:
    """The running cell: its request's message id (ipykernel) and the shell's execution count."""
    from IPython import get_ipython

    shell = get_ipython()
    header = getattr(shell, "parent_header", None) or {}
    message_id = header.get("header", {}).get("msg_id") if isinstance(header, dict) else None
    return (getattr(shell, "execution_count", None), message_id)
