"""What a view does between events: approvals of tool calls (``confirm=True``) and thumbnails.

:class:`ViewActions` is mixed into :class:`~thinkbook._view.ThinkView`. Its public methods:

* ``view.approval(call)`` -> ``concurrent.futures.Future[bool]`` and ``await view.approve(call)``
  (the tool loop's ``approve`` hook, ``Callable[[ToolCall], Awaitable[bool]]``): the call's card
  shows Run / Skip buttons; the click (a ``{"t": "approve", "i": n, "ok": bool}`` message from
  the browser) answers. Wire ``confirm=True`` as ``approve=view.approve``;
* ``view.set_waker(wake)``: whoever drives the view (``LiveDisplay``: its view worker) flushes it
  soon when an approval changes it between events;
* ``view.show_images(images)``: input image thumbnails (:mod:`thinkbook._view_images`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._types import ToolCall
from ._view_images import thumbnails
from ._view_timeline import Timeline

__all__ = ["ViewActions"]


class ViewActions:
    """Approvals and thumbnails of a :class:`~thinkbook._view.ThinkView` (module docstring)."""

    # Provided by ThinkView.
    _lock: threading.RLock
    _ended: bool
    _timeline: Timeline
    _waker: Callable[[], object] | None
    images: Any

    if TYPE_CHECKING:

        def flush(self, send: Callable[[dict[str, Any]], object] | None = None, *, answer: bool = True) -> None: ...

        def _reasoning_units(self) -> int: ...

    def _approval_message(self, content: dict[str, Any]) -> None:
        """A Run / Skip click from the browser."""
        with self._lock:
            answered = self._timeline.answer(content.get("i"), content.get("ok"))
        if answered:
            self._wake()

    def approval(self, call: ToolCall) -> concurrent.futures.Future[bool]:
        """Show ``call`` as a card with Run / Skip buttons; the future says which was clicked.

        Thread-safe, and never blocks. The future is True for Run, False for Skip, and False when
        the view ends first (a stream that stopped runs nothing more). The click only reaches the
        kernel while it can receive widget messages: a call running in the background (``--bg``,
        ``background=True``) or an awaited ``athink`` (ipykernel >= 7.4); a cell blocked in a
        synchronous ``think()`` receives it only when it ends.
        """
        with self._lock:
            if self._ended:
                declined: concurrent.futures.Future[bool] = concurrent.futures.Future()
                declined.set_result(False)
                return declined
            future = self._timeline.ask(call, self._reasoning_units())
        self._wake()
        return future

    async def approve(self, call: ToolCall) -> bool:
        """The tool loop's ``approve`` hook (``Callable[[ToolCall], Awaitable[bool]]``) for ``confirm=True``.

        >>> result = await athink(prompt, tools=[get_weather], approve=view.approve)  # doctest: +SKIP

        Awaits the user's Run (True) or Skip (False) in this view (see :meth:`approval`). A
        cancelled wait (the stream was stopped) leaves the card to the view's end, which marks it.
        """
        return await asyncio.wrap_future(self.approval(call))

    def set_waker(self, wake: Callable[[], object] | None) -> None:
        """``wake()`` asks whoever drives this view to flush soon (``LiveDisplay`` schedules its
        worker); used when something other than pushed events changes the view (an approval)."""
        self._waker = wake

    def _wake(self) -> None:
        if self._waker is not None:
            self._waker()
        else:  # nobody drives this view: flush off the caller's thread (it may be the engine loop)
            flush = threading.Thread(target=self.flush, kwargs={"answer": False}, name="thinkbook-wake", daemon=True)
            flush.start()

    def show_images(self, images: Sequence[object]) -> None:
        """Show ``images`` (what ``think(images=...)`` takes) as thumbnails above the reasoning.

        Kept small in saved notebooks: scaled down to 192 px with Pillow when it is installed;
        without it, images up to 150 KB are embedded as they are and bigger ones are named, not
        shown (see :mod:`thinkbook._view_images`).
        """
        self.images = thumbnails(images)
