"""Running one ``%%think`` request on the shared engine, with the magic's own view and metadata.

The stream runs on the engine thread (one per kernel, no ``nest_asyncio``). A blocking cell waits
for it in short, interruptible steps; a background cell returns a :class:`ThinkHandle` at once.
The view is the same :class:`LiveDisplay` as ``think()``'s, with the chat name and the magic's
options added to the output metadata, and the magic's ``--lang``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._display import LiveDisplay, _StaticOutput, in_notebook, retire_view
from ._engine import StreamRun
from ._request import PreparedRequest
from ._run import ThinkHandle, _start
from ._types import AnswerDelta, ReasoningDelta, ThinkResult

# How often the waiting cell wakes up to notice the kernel's interrupt button.
WAKE_SECONDS = 0.1
# How long a stopped stream may take to close its connection and finalize its view.
SETTLE_SECONDS = 5.0


class MagicDisplay(LiveDisplay):
    """A LiveDisplay whose output metadata also names the chat and the magic options."""

    def __init__(
        self,
        request: PreparedRequest,
        *,
        static: bool,
        lang: str | None,
        extra: Mapping[str, Any],
        quiet: bool | None = None,
    ) -> None:
        super().__init__(request, finalize="static" if static else "widget", lang=lang, quiet=quiet)
        self._extra = dict(extra)

    def metadata(self, result: ThinkResult | None) -> dict[str, Any]:
        metadata = super().metadata(result)
        metadata["thinkbook"].update(self._extra)
        return metadata

    def show_final(
        self, result: ThinkResult | None, *, error: BaseException | None = None, stopped: bool = False
    ) -> None:
        """Display the finished view once (``--no-stream-view``, or outside a notebook)."""
        from IPython.display import display

        final = result if result is not None else getattr(error, "partial", None)
        if final is not None:
            self.view.push([ReasoningDelta(final.reasoning)] if final.reasoning else [])
            self.view.push([AnswerDelta(final.answer)] if final.answer else [])
        self.view.end(final, error=error, stopped=stopped)
        display(_StaticOutput(self.view), metadata=self.metadata(final))  # type: ignore[no-untyped-call]
        retire_view(self.view)  # shown as static HTML: no widget state left in the notebook


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a stream ended: a result, an error (with its partial), or stopped by the user."""

    result: ThinkResult | None = None
    error: BaseException | None = None
    stopped: bool = False
    partial: ThinkResult | None = None

    @property
    def latest(self) -> ThinkResult | None:
        """What to keep in ``_think``: the result, or what streamed before the stop or error."""
        return self.result if self.result is not None else self.partial


@dataclass
class Launch:
    """A started stream: the handle the user sees, and an event set once it has fully ended.

    ``settled`` is set after the view is finalized and the HTTP stream is closed, even when the
    stream was cancelled (the handle's future reports a cancellation at once, before that).
    """

    handle: ThinkHandle
    future: concurrent.futures.Future[ThinkResult]
    live: MagicDisplay | None
    settled: threading.Event


def launch(
    request: PreparedRequest,
    *,
    live: MagicDisplay | None,
    max_retries: int,
    timeout: float | None,
    record: bool,
    can_stop: bool,
    on_end: Callable[[Outcome, StreamRun], None] | None = None,
) -> Launch:
    """Start ``request`` on the shared engine, drawing into ``live`` (already configured).

    ``on_end`` runs on the engine thread once the stream has ended, before the handle reports
    a result or an error: whoever waits on the handle then sees everything ``on_end`` stored.
    (A cancelled handle reports at once; ``on_end`` follows when the stream has closed.)
    """

    def hook(result: ThinkResult | None, error: BaseException | None, run: StreamRun) -> None:
        assert on_end is not None
        if result is not None:
            on_end(Outcome(result=result), run)
        elif error is not None:
            on_end(Outcome(error=error, partial=getattr(error, "partial", None) or run.partial()), run)
        else:
            on_end(Outcome(stopped=True, partial=run.partial()), run)

    future, run = _start(
        request, max_retries=max_retries, timeout=timeout, live=live, engine=None, can_stop=can_stop,
        record=record, on_end=hook if on_end is not None else None,
    )  # fmt: skip
    return Launch(ThinkHandle(future, run), future, live, run.settled)


def outcome_of(started: Launch) -> Outcome:
    """The outcome of a finished (or cancelled) launch; never raises for stream errors."""
    try:
        return Outcome(result=started.future.result(timeout=0))
    except concurrent.futures.CancelledError:
        return Outcome(stopped=True, partial=started.handle.partial)
    except Exception as error:  # ThinkbookError and, should one slip through, anything else
        return Outcome(error=error, partial=getattr(error, "partial", None) or started.handle.partial)


def wait(started: Launch) -> Outcome:
    """Block until the stream ends; the kernel's interrupt button (KeyboardInterrupt) stops it."""
    while True:
        try:
            started.future.result(timeout=WAKE_SECONDS)
        except TimeoutError:
            continue
        except KeyboardInterrupt:
            started.future.cancel()
            with contextlib.suppress(KeyboardInterrupt):  # a second press while it settles
                started.settled.wait(SETTLE_SECONDS)
        except BaseException:  # the stream's own error: reported by outcome_of
            pass
        return outcome_of(started)


def view_wanted(stream_view: bool, as_json: bool) -> bool:
    """A live view needs a notebook kernel, and is off with --no-stream-view and --json."""
    return stream_view and not as_json and in_notebook()
