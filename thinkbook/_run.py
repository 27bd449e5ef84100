"""Running a prepared request on the shared engine, and what a caller holds meanwhile.

Four ways to wait, one engine: :func:`run_blocking` from synchronous code (interruptible by
Ctrl-C), :func:`run_async` awaited from any event loop, :func:`start_background` returning a
:class:`ThinkHandle` at once, and :func:`iter_events` / :func:`aiter_events` yielding the events.
The stream always runs on the engine's loop; whatever happens (done, failed, stopped), its view is
left in its final state before anyone waiting on it hears the outcome.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from ._display import Display, LiveDisplay, should_display
from ._engine import Engine, StreamRun, default_engine
from ._errors import StreamStoppedError, ThinkInterrupted
from ._request import PreparedRequest
from ._tool_run import new_run, partial_of, run_batches, with_view_approval
from ._types import Done, ThinkEvent, ThinkResult

# How often a blocked caller wakes up to notice Ctrl-C / the kernel's interrupt button.
_WAKE_SECONDS = 0.1


async def _collect(
    engine: Engine, run: StreamRun, max_retries: int, timeout: float | None, live: LiveDisplay | None = None
) -> ThinkResult:
    async for batch in run_batches(engine, run, max_retries=max_retries, timeout=timeout):
        if live is not None:
            live.on_batch(batch)
        last = batch[-1]
        if isinstance(last, Done):
            return last.result
    raise AssertionError("the stream ended without Done")  # stream_batches always ends with Done


def _live_for(
    request: PreparedRequest, display: Display, lang: str | None = None, *, background: bool = False
) -> LiveDisplay | None:
    """The view of a call, if it displays. ``background``: it outlives its cell, so it stays a widget
    even in a headless run (a static output can be updated only within its cell there)."""
    if not should_display(display):
        return None
    return LiveDisplay(
        request, finalize="static" if display == "static" else "widget", lang=lang, quiet=False if background else None
    )


# Runs on the engine thread when a stream has ended, before its future reports: (result, error,
# run); both None means it was stopped.
EndHook = Callable[[ThinkResult | None, BaseException | None, StreamRun], None]


async def _drive(
    engine: Engine,
    run: StreamRun,
    max_retries: int,
    timeout: float | None,
    live: LiveDisplay | None,
    on_end: EndHook | None = None,
) -> ThinkResult:
    """Collect the stream and, whatever happens, leave the view in its final state.

    The final render can take a moment for long answers: it runs off the engine loop, so other
    streams keep flowing. ``on_end`` sees the outcome before anyone waiting on the run does.
    """
    try:
        try:
            result = await _collect(engine, run, max_retries, timeout, live)
        except asyncio.CancelledError:
            if live is not None:
                await asyncio.to_thread(live.finish, partial_of(run), stopped=True)
            if on_end is not None:
                on_end(None, None, run)
            raise
        except BaseException as error:
            if live is not None:
                await asyncio.to_thread(live.finish, error=error)
            if on_end is not None:
                on_end(None, error, run)
            raise
        if live is not None:
            await asyncio.to_thread(live.finish, result)
        if on_end is not None:
            on_end(result, None, run)
        return result
    finally:
        run.settled.set()


def _start(
    request: PreparedRequest,
    *,
    max_retries: int,
    timeout: float | None,
    live: LiveDisplay | None,
    engine: Engine | None,
    can_stop: bool,
    record: bool = False,
    on_end: EndHook | None = None,
) -> tuple[concurrent.futures.Future[ThinkResult], StreamRun]:
    """Show ``live`` (if any), start the stream on the engine, and wire the Stop button to it.

    ``confirm=True`` is wired to ``live`` here; without a view that can ask it fails before
    anything is shown or sent."""
    engine = engine or default_engine()
    request = with_view_approval(request, live, can_receive=can_stop)
    run = new_run(request)
    if record:
        run.recording = []
    if live is not None:
        live.start()
    future = engine.submit(_drive(engine, run, max_retries, timeout, live, on_end))
    if live is not None and can_stop:
        live.view.allow_stop(future.cancel)
    return future, run


def run_blocking(
    request: PreparedRequest,
    *,
    max_retries: int,
    timeout: float | None,
    engine: Engine | None = None,
    display: Display = False,
    lang: str | None = None,
    live: LiveDisplay | None = None,
) -> ThinkResult:
    """Run one request to completion from synchronous code, interruptible by Ctrl-C.

    With a display, the view updates live; the kernel cannot deliver a Stop click while this
    blocks, so the interrupt button is the way to stop (the view then says "stopped"). ``live``
    is a view shown some other way (marimo's output area) instead of ``display``'s.
    """
    live = live if live is not None else _live_for(request, display, lang)
    future, run = _start(request, max_retries=max_retries, timeout=timeout, live=live, engine=engine, can_stop=False)
    while True:
        try:
            return future.result(timeout=_WAKE_SECONDS)
        except TimeoutError:
            continue
        except KeyboardInterrupt:
            future.cancel()
            _wait_quietly(run)
            raise ThinkInterrupted(partial_of(run)) from None


def _wait_quietly(run: StreamRun) -> None:
    """Let a cancelled stream close its connection and finish its view before we return."""
    with contextlib.suppress(KeyboardInterrupt):  # a second press while it settles
        run.settled.wait(5)


async def run_async(
    request: PreparedRequest,
    *,
    max_retries: int,
    timeout: float | None,
    engine: Engine | None = None,
    display: Display = False,
    lang: str | None = None,
) -> ThinkResult:
    """Run one request on the engine and await it from any event loop; cancelling cancels it.

    With a display, the view's Stop button cancels the stream (delivered while the cell awaits on
    ipykernel >= 7.4); the await then raises :class:`StreamStoppedError` with the partial answer.
    """
    live = _live_for(request, display, lang)
    future, run = _start(request, max_retries=max_retries, timeout=timeout, live=live, engine=engine, can_stop=True)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the caller cancelled us: that is theirs to handle
        # The stream was stopped from outside (the view's Stop button): not a cancellation of
        # the caller's task.
        await asyncio.to_thread(_wait_quietly, run)
        raise StreamStoppedError("stopped with the Stop button", partial=partial_of(run)) from None


class ThinkHandle:
    """A stream running in the background; the notebook stays free meanwhile.

    ``result()`` waits for it (raising its error), ``cancel()`` stops it (so does the view's Stop
    button), ``done()`` says whether it has finished, ``partial`` is what streamed so far.
    ``await handle`` works too.
    """

    def __init__(self, future: concurrent.futures.Future[ThinkResult], run: StreamRun) -> None:
        self._future = future
        self._run = run

    def result(self, timeout: float | None = None) -> ThinkResult:
        return self._future.result(timeout)

    def cancel(self) -> bool:
        return self._future.cancel()

    def done(self) -> bool:
        return self._future.done()

    @property
    def partial(self) -> ThinkResult | None:
        return partial_of(self._run)

    @property
    def run(self) -> StreamRun:
        """The underlying run (raw bytes when recording, response status)."""
        return self._run

    def __await__(self) -> Any:
        return asyncio.wrap_future(self._future).__await__()

    @property
    def state(self) -> str:
        """``"running"``, ``"done"``, ``"stopped"`` (Stop button or ``cancel()``) or ``"error"``."""
        future = self._future
        if not future.done():
            return "running"
        if future.cancelled():
            return "stopped"
        return "error" if future.exception() is not None else "done"

    def __repr__(self) -> str:
        state = self.state
        if state == "error":
            state = f"error: {type(self._future.exception()).__name__}"
        return f"<ThinkHandle {self._run.request.model} {state}>"

    def _ipython_display_(self) -> None:
        """As a cell's value: a line that follows the run, so a stopped cell never says "running".

        IPython shows a returned value once, as it is when the cell ends; this line is updated in
        place when the run ends (done, stopped or failed).
        """
        from IPython.display import display

        line = display(_HandleLine(self), display_id=True)  # type: ignore[no-untyped-call]
        if line is not None:
            self._future.add_done_callback(lambda _: line.update(_HandleLine(self)))


class _HandleLine:
    """What a :class:`ThinkHandle` looks like in an output: its repr, now."""

    def __init__(self, handle: ThinkHandle) -> None:
        self.text = repr(handle)

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return {"text/plain": self.text}


def start_background(
    request: PreparedRequest,
    *,
    max_retries: int = 2,
    timeout: float | None = None,
    display: Display = None,
    engine: Engine | None = None,
    record: bool = False,
    lang: str | None = None,
) -> ThinkHandle:
    """Start ``request`` and return at once; the view's Stop button can cancel it."""
    live = _live_for(request, display, lang, background=True)
    future, run = _start(
        request, max_retries=max_retries, timeout=timeout, live=live, engine=engine, can_stop=True, record=record
    )
    return ThinkHandle(future, run)


async def _pump(
    engine: Engine,
    run: StreamRun,
    max_retries: int,
    timeout: float | None,
    put: Callable[[list[ThinkEvent] | BaseException | None], object],
) -> None:
    """On the engine loop: hand each batch to ``put``, then the error or ``None`` for the end."""
    try:
        async for batch in run_batches(engine, run, max_retries=max_retries, timeout=timeout):
            put(batch)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        put(exc)
    else:
        put(None)
    finally:
        run.settled.set()


def iter_events(
    request: PreparedRequest, *, max_retries: int, timeout: float | None, engine: Engine | None = None
) -> Iterator[ThinkEvent]:
    """Yield events from synchronous code; closing the iterator early cancels the stream."""
    engine = engine or default_engine()
    run = new_run(with_view_approval(request, None))
    inbox: queue.SimpleQueue[list[ThinkEvent] | BaseException | None] = queue.SimpleQueue()
    future = engine.submit(_pump(engine, run, max_retries, timeout, inbox.put))
    try:
        while True:
            try:
                item = inbox.get(timeout=_WAKE_SECONDS)
            except queue.Empty:
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    except KeyboardInterrupt:
        future.cancel()
        _wait_quietly(run)
        raise ThinkInterrupted(partial_of(run)) from None
    finally:
        if not run.settled.is_set():
            future.cancel()
            _wait_quietly(run)


async def aiter_events(
    request: PreparedRequest, *, max_retries: int, timeout: float | None, engine: Engine | None = None
) -> AsyncIterator[ThinkEvent]:
    """Yield events in the caller's event loop while the engine loop does the I/O."""
    engine = engine or default_engine()
    run = new_run(with_view_approval(request, None))
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[list[ThinkEvent] | BaseException | None] = asyncio.Queue()
    future = engine.submit(
        _pump(engine, run, max_retries, timeout, lambda item: loop.call_soon_threadsafe(inbox.put_nowait, item))
    )
    try:
        while True:
            item = await inbox.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            for event in item:
                yield event
    finally:
        if not future.done():
            future.cancel()
            # Give the engine a moment to close the HTTP stream before the caller moves on.
            await asyncio.wait([asyncio.wrap_future(future)], timeout=5)
