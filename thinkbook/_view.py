"""ThinkView: the live output widget (folding reasoning pane, markdown answer pane, token counters).

Traffic to the browser is append-only and batched:

* **deltas**: custom messages ``{"t": "d", "s": seq, "r": reasoning, "b": [finished block html],
  "a": tail html, "st": status, "c": counters}``, at most every ``batch_interval`` (50 ms), or
  ``max_batch_interval`` when little text is waiting; counters ride along once a second. A tool
  loop adds ``"tl": [changed timeline items]`` and ``"ar": 1`` (the answer so far moved into the
  timeline: clear it first); a plain answer never carries them (see :mod:`thinkbook._view_timeline`);
* **snapshots**: the synced traits (``reasoning``, ``answer_html`` = the finished blocks,
  ``answer_tail`` = the open block, ``seq``, ``status``, ``counters`` ...) updated together, at
  most every ``snapshot_interval`` and only once the content has grown by ``snapshot_growth``
  since the last one (so their bytes stay a fraction of the text), plus once at the end. A
  view that appears late, a reload or a dropped delta heals from them; headless runs (nbclient)
  save them. ``timeline``, ``sources_html`` (web sources, sanitized) and ``images`` (thumbnails)
  are synced traits too.

Events may be pushed from any thread (the engine's): :meth:`ThinkView.push` only accumulates
them, under a short lock. Rendering happens in :meth:`ThinkView.flush`, called by whoever drives
the view (``_display.LiveDisplay`` calls it from the view worker thread, never from the engine
loop), which takes everything pushed since the last flush at once. The markdown is rendered here,
in Python, and sanitized before it leaves: the browser never parses model output as raw HTML. The
open answer block is re-rendered at most every ``render_pace`` times its last render's duration,
so a long block costs its length in rendering, not its square, and the view's CPU stays a
fraction of the stream's.
"""

from __future__ import annotations

import locale
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import anywidget
import ipywidgets  # type: ignore[import-untyped]
import traitlets

from ._accumulator import append_text
from ._counters import token_weight
from ._fallback import FinalState, plain_text, static_html
from ._headless import Quiet
from ._live_markdown import LiveMarkdown, _utf16_units
from ._markdown import render_markdown
from ._search import link_citations, sources_markdown
from ._types import (
    AnswerDelta,
    AnswerWasReasoning,
    Done,
    ReasoningDelta,
    ThinkEvent,
    ThinkResult,
    ToolCallFinished,
    ToolCallStarted,
    UsageUpdate,
)
from ._view_actions import ViewActions
from ._view_counters import final_counters, live_counters, sum_usage
from ._view_images import thumbnails
from ._view_timeline import Timeline, final_timeline
from ._widget_ids import reused_id

Finalize = Literal["widget", "static"]

# Below this many pending characters a batch waits up to max_batch_interval for company.
_WORTH_SENDING = 48
Clock = Callable[[], float]
# What a retired view's model keeps of its code: a headless run (nbclient) saves the last state of
# every widget it saw, closed or not, so the 14 KB module and 6 KB stylesheet must not stay in it.
_RETIRED_ESM = "export default {}"


def _js_dir() -> Path:
    """``js/`` ships inside the wheel as ``thinkbook/js``; an editable install uses the repo's."""
    packaged = Path(__file__).parent / "js"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "js"


def default_lang() -> str:
    """ "zh" when the user's locale is Chinese, else "en"."""
    for value in (os.environ.get("LC_ALL"), os.environ.get("LANG"), locale.getlocale()[0]):
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


class ThinkView(Quiet, ViewActions, anywidget.AnyWidget):
    """Live view of one thinking model answer. See the module docstring for the wire protocol.

    >>> view = ThinkView.from_result(result)  # doctest: +SKIP

    A tool loop shows as a timeline: reasoning, tool call cards (name, arguments, result or
    error, time; a spinner while running, folded when done), more reasoning, ..., the answer,
    and the web sources under it (``result.search_results``, citations linked). ``images=``
    shows input thumbnails above the reasoning (:meth:`show_images`). For ``confirm=True``,
    pass ``approve=view.approve``: each call waits for the Run / Skip buttons on its card
    (:meth:`approval`; the click reaches a kernel that is not blocked in a synchronous cell).
    """

    _esm = _js_dir() / "thinkview.js"
    _css = _js_dir() / "thinkview.css"

    header = traitlets.Dict().tag(sync=True)
    status = traitlets.Unicode("waiting").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    reasoning = traitlets.Unicode("").tag(sync=True)
    answer_html = traitlets.Unicode("").tag(sync=True)
    answer_tail = traitlets.Unicode("").tag(sync=True)
    answer_markdown = traitlets.Unicode("").tag(sync=True)
    seq = traitlets.Int(0).tag(sync=True)
    counters = traitlets.Dict().tag(sync=True)
    can_stop = traitlets.Bool(False).tag(sync=True)
    # Tool loops (see _view_timeline), web sources under the answer, input image thumbnails.
    timeline: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    sources_html = traitlets.Unicode("").tag(sync=True)
    images: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    # Set by a panel that batches several views' deltas into one message of its own widget: the
    # front end then also takes deltas addressed to this channel (see ``flush(send=...)``).
    channel = traitlets.Unicode("").tag(sync=True)
    # No Layout model: the view is styled by its own stylesheet, and every Layout is one more comm
    # and ~1.2 KB of saved widget state per view. (The front end skips a null layout.)
    layout = traitlets.Instance(ipywidgets.Layout, allow_none=True, default_value=None).tag(
        sync=True, **ipywidgets.widget_serialization
    )

    def __init__(
        self,
        *,
        model: str | None = None,
        enable_thinking: bool | None = None,
        thinking_budget: int | None = None,
        lang: str | None = None,
        replay: str | None = None,
        replay_speed: float | None = None,
        finalize: Finalize = "widget",
        clock: Clock = time.monotonic,
        batch_interval: float = 0.05,
        max_batch_interval: float = 0.25,
        counters_interval: float = 1.0,
        snapshot_interval: float = 1.5,
        snapshot_growth: float = 3.0,
        render_pace: float = 8.0,
        render_clock: Clock = time.perf_counter,
        timestamps: bool = False,
        label: str | None = None,
        images: Sequence[object] | None = None,
        **kwargs: Any,
    ) -> None:
        shown = thumbnails(images)  # checked before any widget exists: a bad image is a ConfigurationError
        reused = {} if kwargs.get("quiet") else reused_id(type(self))  # a retired view's comm id (_widget_ids)
        super().__init__(**{**reused, **kwargs})
        if shown:
            self.images = shown
        self.header = {
            "model": model,
            "thinking": enable_thinking,
            "budget": thinking_budget,
            "lang": lang or default_lang(),
            "replay": replay,
        }
        # A replay's timings are told at the recording's pace (seconds x speed); 0: no pauses, none.
        self.replay_speed = replay_speed if replay else None
        if self.replay_speed is not None:
            self.header["pace"] = self.replay_speed
        if label:  # a heading above the view (a panel's column title)
            self.header["label"] = label
        self.finalize = finalize
        self._clock = clock
        self.batch_interval = batch_interval
        self.max_batch_interval = max_batch_interval
        self.counters_interval = counters_interval
        self.snapshot_interval = snapshot_interval
        self.snapshot_growth = snapshot_growth
        self.render_pace = render_pace
        self._render_clock = render_clock  # measures a render's cost (tests pass a fake one)
        # Benchmarks only: stamp each delta with the wall clock (ms) so the browser can measure
        # delta-to-paint latency.
        self.timestamps = timestamps
        # Two locks: _lock guards what push() touches (held briefly, so the engine never waits for
        # a render); _render_lock serializes flush() and end(), which render and send.
        self._lock = threading.RLock()
        self._render_lock = threading.RLock()
        self._reasoning_parts: list[str] = []
        self._answer_intake: list[str] = []  # answer text pushed, not yet given to the renderer
        self._answer_reset = False  # the answer so far was reasoning (AnswerWasReasoning)
        self._pending_answer_chars = 0
        self._answer_ready_at = float("-inf")  # the open block's next re-render, paced by its cost
        self._last_render_seconds = 0.0
        self._pending_reasoning: list[str] = []
        self._pending_answer = False
        # Render side (under _render_lock only):
        self._markdown = LiveMarkdown()
        self._pending_status: str | None = None
        self._counters_dirty = False
        self._usage_changed = False
        self._last_counters = float("-inf")
        self._pending_chars = 0
        self._sent_seq = 0
        self._last_flush = float("-inf")
        self._last_snapshot = float("-inf")
        self._chars_at_snapshot: tuple[int, ...] = (0, 0)
        self._reasoning_chars = 0
        self._answer_chars = 0
        self._reasoning_weight = 0.0  # running token estimates: no rescans of the text
        self._answer_weight = 0.0
        self._started = clock()
        self._first_reasoning: float | None = None
        self._first_answer: float | None = None
        self._usage: dict[str, Any] | None = None
        self._result: ThinkResult | None = None
        self._on_stop: Callable[[], object] | None = None
        self._ended = False
        self._retired: FinalState | None = None
        self._reasoning_hidden = False
        self._live_status = "waiting"
        # Tool loops: the items between reasoning segments, the answer text of the current round
        # (moved into the timeline when the round calls tools), the usage of finished rounds.
        self._timeline = Timeline()
        self._round_answer: list[str] = []
        self._phase = "waiting"
        self._usage_before: dict[str, Any] | None = None
        self._round_usage: dict[str, Any] | None = None
        self._waker: Callable[[], object] | None = None
        self._sources_text = ""
        self.counters = self._live_counters()
        self.on_msg(self._handle_message)

    # --- feeding ---------------------------------------------------------------------------

    def push(self, events: Iterable[ThinkEvent]) -> None:
        """Take stream events (any thread). Nothing is sent until :meth:`flush`."""
        with self._lock:
            for event in events:
                match event:
                    case ReasoningDelta(text):
                        if self._first_reasoning is None or self._phase == "tools":
                            if self._first_reasoning is None:
                                self._first_reasoning = self._clock()
                            self._set_status("thinking")
                        append_text(self._reasoning_parts, text)  # compacted: a long thought stays small
                        self._pending_reasoning.append(text)
                        self._pending_chars += len(text)
                        self._reasoning_chars += len(text)
                        self._reasoning_weight += token_weight(text)
                    case AnswerDelta(text):
                        if self._first_answer is None:
                            self._first_answer = self._clock()
                            self._set_status("answering")
                        self._answer_intake.append(text)
                        append_text(self._round_answer, text)  # moves to the timeline if the round calls tools
                        self._pending_answer = True
                        self._pending_chars += len(text)
                        self._pending_answer_chars += len(text)
                        self._answer_chars += len(text)
                        self._answer_weight += token_weight(text)
                    case AnswerWasReasoning(text):
                        self._move_answer_to_reasoning(text)
                    case UsageUpdate(usage):
                        self._round_usage = {**usage.to_dict(), "answer_tokens": usage.answer_tokens}
                        self._round_usage.pop("raw", None)
                        self._usage = sum_usage(self._usage_before, self._round_usage)
                        self._usage_changed = True
                    case ToolCallStarted(call):
                        self._tool_round_ends()
                        self._timeline.started(call, self._reasoning_units())
                    case ToolCallFinished(call):
                        self._timeline.finished(call, self._reasoning_units())
                    case Done(result):
                        self._result = result
                self._counters_dirty = True

    def _set_status(self, status: str) -> None:
        self._pending_status = self._phase = status

    def _reasoning_units(self) -> int:
        # Where the next item cuts the reasoning (UTF-16 units, as the browser counts): rare, so
        # it is measured here rather than counted on every delta.
        return _utf16_units("".join(self._reasoning_parts))

    def _tool_round_ends(self) -> None:
        """A round asks for tools: its answer text moves into the timeline, its usage is banked."""
        if self._phase == "tools":
            return
        self._set_status("tools")
        self._usage_before, self._round_usage = self._usage, None
        answer_text = "".join(self._round_answer)
        self._round_answer.clear()
        if answer_text.strip():
            self._timeline.said(answer_text, self._reasoning_units())
            self._answer_intake.clear()
            self._answer_reset = True  # the answer pane starts over with the next round
            self._pending_answer = True
            self._pending_chars -= self._pending_answer_chars
            self._pending_answer_chars = 0
        self._first_answer = None  # the thinking clock runs on through the loop

    def _move_answer_to_reasoning(self, text: str) -> None:
        # Rare (a pre-filled <think>): rebuild both panes and let the next snapshot carry them.
        self._reasoning_parts.append(text)
        self._reasoning_weight += self._answer_weight
        self._answer_weight = 0.0
        self._answer_intake.clear()
        self._answer_reset = True  # the renderer starts over at the next flush
        self._pending_answer = True  # (which then clears the browser's answer)
        self._pending_chars -= self._pending_answer_chars
        self._pending_answer_chars = 0
        self._pending_reasoning.clear()
        self._first_reasoning, self._first_answer = self._first_answer, None
        self._set_status("thinking")
        self._reasoning_chars += self._answer_chars
        self._answer_chars = 0
        self._round_answer.clear()
        self._last_snapshot = float("-inf")
        self._chars_at_snapshot = (0, 0)

    def due_in(self) -> float:
        """Seconds until :meth:`flush` has something worth sending (``inf`` when nothing is pending).

        Text goes out every ``batch_interval`` once a few dozen characters have gathered, and
        after at most ``max_batch_interval`` otherwise: a slow stream then costs a few messages
        a second, not twenty mostly-envelope ones. When only answer text waits, it also waits
        for the open block's paced re-render (see :meth:`answer_ready`).
        """
        with self._lock:
            if self._ended:
                return float("inf")  # the final snapshot has it all
            now = self._clock()
            if self._pending_status or self._pending_chars >= _WORTH_SENDING or self._timeline.dirty:
                wait = self.batch_interval
            elif self._pending_chars or self._pending_answer:
                wait = self.max_batch_interval
            elif self._counters_dirty and self._usage_changed:
                wait = self.counters_interval
            elif self._timeline.snapshot_due:  # a card changed: the synced state catches up soon
                return max(0.0, self._last_snapshot + self.snapshot_interval - now)
            else:
                return float("inf")
            due = self._last_flush + wait
            only_answer = not (self._pending_status or self._pending_reasoning or self._usage_changed)
            if only_answer and self._pending_answer:
                due = max(due, self._answer_ready_at)
            return max(0.0, due - now)

    def answer_ready(self) -> bool:
        """True when answer text waits and the open block's re-render is no longer held back.

        After a render that took ``d`` seconds the next one waits ``render_pace * d``: a block
        that grows long gets re-rendered less often, so its renders cost a bounded share of the time.
        """
        with self._lock:
            return self._pending_answer and self._clock() >= self._answer_ready_at

    def flush(self, send: Callable[[dict[str, Any]], object] | None = None, *, answer: bool = True) -> None:
        """Send one delta with everything pending, and a snapshot when one is due.

        ``send`` takes the delta instead of this widget's comm (a panel batching several views
        into one message); ``answer=False`` leaves the answer's re-render for a later flush, and so
        does the pacing (:meth:`answer_ready`). Never call it on the engine loop: it renders.
        """
        with self._render_lock:
            with self._lock:
                if self._ended:
                    return
                now = self._clock()
                self._last_flush = now
                message: dict[str, Any] = {"t": "d"}
                if self._pending_reasoning:
                    message["r"] = "".join(self._pending_reasoning)
                    self._pending_reasoning.clear()
                # An answer reset (text moved to the timeline) goes out at once: never shown twice.
                render = answer and self._pending_answer and (now >= self._answer_ready_at or self._answer_reset)
                if self._timeline.dirty:
                    message["tl"] = self._timeline.take_changes()
                intake: list[str] = []
                reset = False
                if render:
                    intake, self._answer_intake = self._answer_intake, []
                    reset, self._answer_reset = self._answer_reset, False
                    self._pending_answer = False
                    self._pending_answer_chars = 0
                status = self._pending_status
                if status:
                    message["st"] = status
                # Counters change with every token: the whole set goes out on status and usage
                # changes, the two live estimates once a second ("e"); the view ticks its own clock.
                if self._counters_dirty and (
                    status or self._usage_changed or now - self._last_counters >= self.counters_interval
                ):
                    if status or self._usage_changed:
                        message["c"] = self._live_counters()
                    else:
                        message["e"] = [round(self._reasoning_weight), round(self._answer_weight)]
                    self._counters_dirty = False
                    self._usage_changed = False
                    self._last_counters = now
                self._pending_chars = self._pending_answer_chars  # what still waits: an answer held back
                self._pending_status = None
                if status is not None:
                    self._live_status = status  # the delta carries it; the next snapshot records it
                # Each side counts on its own: a long reasoning must not starve the answer of snapshots.
                grown = any(
                    now_chars >= then_chars * self.snapshot_growth
                    for now_chars, then_chars in zip(self._side_chars(), self._chars_at_snapshot, strict=True)
                )
                grown = grown or self._timeline.snapshot_due  # a changed card counts as growth
                snapshot = now - self._last_snapshot >= self.snapshot_interval and grown
                if snapshot:
                    self._last_snapshot = now
                    self._chars_at_snapshot = tuple(max(n, 1) for n in self._side_chars())
                reasoning = "".join(self._reasoning_parts) if snapshot else ""
                timeline = self._timeline.snapshot() if snapshot and self._timeline else None
            # The pushes go on meanwhile: only this view's own flushes wait for the render.
            if render:
                self._render_answer(message, intake, reset=reset)
            if len(message) > 1:
                self._sent_seq += 1
                message["s"] = self._sent_seq
                if self.timestamps:
                    message["ts"] = time.time() * 1000
                (send or self.send)(message)
            if snapshot:
                done_html, tail = self._markdown.finished_html, self._markdown.tail
                self._snapshot(reasoning, answer_html=done_html, answer_tail=tail, timeline=timeline)

    def _render_answer(self, message: dict[str, Any], intake: list[str], *, reset: bool) -> None:
        """Render the answer's new text into ``message`` (finished blocks, tail change); pace the next render.

        The open block is re-rendered as it grows, but mostly only its end changes: the tail goes
        out as "keep the first ``ak`` UTF-16 units, then add ``a``", so a long code block is not
        re-sent on every batch.
        """
        if reset:
            self._markdown = LiveMarkdown()
            message["ar"] = 1  # the browser clears its answer before adding this render
        for text in intake:
            self._markdown.append(text)
        started = self._render_clock()
        blocks, tail_fields = self._markdown.update_delta()
        seconds = self._render_clock() - started
        if blocks:
            message["b"] = blocks
        message.update(tail_fields)
        with self._lock:
            self._last_render_seconds = seconds
            self._answer_ready_at = self._clock() + self.render_pace * seconds

    def _side_chars(self) -> tuple[int, int]:
        return self._reasoning_chars, self._answer_chars

    def _snapshot(
        self, reasoning: str, *, answer_html: str, answer_tail: str = "", timeline: list[dict[str, Any]] | None = None
    ) -> None:
        with self.hold_sync():
            if timeline is not None:
                self.timeline = timeline
            self.reasoning = reasoning
            self.answer_html = answer_html
            self.answer_tail = answer_tail
            self.counters = self._live_counters()
            self.seq = self._sent_seq
            if not self._ended:
                self.status = self._live_status

    # --- counters --------------------------------------------------------------------------

    def _live_counters(self) -> dict[str, Any]:
        return live_counters(
            now=self._clock(),
            started=self._started,
            first_reasoning=self._first_reasoning,
            first_answer=self._first_answer,
            replay_speed=self.replay_speed,
            usage=self._usage,
            weights=(self._reasoning_weight, self._answer_weight),
        )

    def _final_counters(self, result: ThinkResult | None) -> dict[str, Any]:
        return final_counters(
            self._live_counters(), result, replay_speed=self.replay_speed, model=self.header.get("model")
        )

    # --- ending ----------------------------------------------------------------------------

    def begin(self, *, can_stop: bool = False, on_stop: Callable[[], object] | None = None) -> None:
        """Mark the request as sent (status "waiting"); ``on_stop`` runs when Stop is clicked."""
        with self._lock, self.hold_sync():
            self._started = self._clock()
            self.status = self._live_status = "waiting"
            if can_stop and on_stop is not None:
                self.allow_stop(on_stop)

    def allow_stop(self, on_stop: Callable[[], object]) -> None:
        """Show the Stop button (the kernel can receive its click); ``on_stop`` runs on a click.

        Unlike :meth:`begin` it leaves the status and clock alone, so it is safe once events flow.
        """
        with self._lock:
            self._on_stop = on_stop
            self.can_stop = not self._ended

    def end(
        self, result: ThinkResult | None = None, *, error: BaseException | None = None, stopped: bool = False
    ) -> None:
        """The stream is over: send the last delta and the final snapshot (one full render)."""
        with self._render_lock:
            self.flush(answer=False)  # the final render replaces the open block: no last re-render
            with self._lock:
                final = result or self._result
                if final is None and error is not None:
                    final = getattr(error, "partial", None)
                timeline = final_timeline(final, self._timeline) if final is not None else None
                sources = list(final.search_results) if final is not None else []
                # A loop's result rebuilds the timeline; a result without rounds after streamed cards
                # (a stopped loop's partial) keeps the reasoning the cards point into.
                if final is not None and (timeline is not None or not self._timeline):
                    self._reasoning_parts = [final.reasoning]
                if final is not None:
                    answer_source = final.answer
                else:
                    if self._answer_reset:
                        self._markdown, self._answer_reset = LiveMarkdown(), False
                    for text in self._answer_intake:
                        self._markdown.append(text)
                    self._answer_intake = []
                    answer_source = self._markdown.source
                reasoning = "".join(self._reasoning_parts)
                self._timeline.settle()  # nothing waits for a click or runs any more
                if timeline is None and self._timeline:
                    timeline = self._timeline.snapshot()
                self._ended = True
                self._last_snapshot = self._clock()
            status = "stopped" if stopped else "error" if error is not None else "done"
            # Citations [1] / [ref_1] link to their source; the copied markdown stays as written.
            answer_html = render_markdown(link_citations(answer_source, sources) if sources else answer_source)
            self._sources_text = sources_markdown(sources) if sources else ""
            sources_html = render_markdown(self._sources_text) if sources else ""
            with self.hold_sync():
                self._snapshot(reasoning, answer_html=answer_html, timeline=timeline)
                self.sources_html = sources_html
                self.answer_markdown = answer_source
                self.counters = self._final_counters(final)
                self.error = _one_line(error) if error is not None and not stopped else ""
                self.can_stop = False
                self.status = status

    # --- browser messages ------------------------------------------------------------------

    def _handle_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("t") == "stop" and self._on_stop is not None:
            self._on_stop()
        elif content.get("t") == "approve":  # a Run / Skip click on a card waiting for approval
            self._approval_message(content)

    # --- finished output ---------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        """True once :meth:`end` ran: the view shows a final state."""
        return self._ended

    def final_state(self) -> FinalState:
        """What the view shows now, in display terms (after :meth:`retire`: what it showed last)."""
        if self._retired is not None:
            return self._retired
        header = self.header
        budget = header.get("budget")
        return FinalState(
            reasoning=self.reasoning,
            answer_html=self.answer_html,
            answer_markdown=self.answer_markdown,
            status=self.status,
            error=self.error,
            counters=dict(self.counters),
            lang=str(header.get("lang", "en")),
            replay=header.get("replay"),
            model=header.get("model"),
            thinking=header.get("thinking") if isinstance(header.get("thinking"), bool) else None,
            budget=budget if isinstance(budget, int) else None,
            reasoning_hidden=bool(self.counters.get("reasoning_hidden")),
            replay_speed=self.replay_speed,
            timeline=tuple(self.timeline),
            sources_html=self.sources_html,
            sources_text=self._sources_text,
            images=tuple(self.images),
        )

    def static_bundle(self, *, text_reasoning: bool = False) -> dict[str, str]:
        """The finished view as output data: static HTML (with copy buttons) and plain text.

        The text holds the reasoning's summary line only (the HTML folds the reasoning itself),
        unless ``text_reasoning`` (a terminal, where the text is all there is).
        """
        state = self.final_state()
        return {
            "text/html": static_html(state, copy_buttons=True),
            "text/plain": plain_text(state, reasoning=text_reasoning),
        }

    def retire(self) -> None:
        """Close the widget once its output shows :meth:`static_bundle` (the stream is over).

        Its model is emptied first (text, counters and its code): a headless run (nbclient,
        ``nbconvert --execute``) saves the last state of every widget it saw, closed or not.
        :meth:`final_state` keeps answering from what the view showed.
        """
        if self._retired is not None:
            return
        self._retired = self.final_state()
        with self.hold_sync():
            self.reasoning = self.answer_html = self.answer_tail = self.answer_markdown = self.error = ""
            self.sources_html = ""
            self.timeline = self.images = []
            self.counters = {}
            self.header = {}
            self._esm = _RETIRED_ESM  # type: ignore[assignment]
            self._css = ""  # type: ignore[assignment]
        self.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # A finished view is shown as its static rendering: readable in any saved notebook, and no
        # widget state to save. While it streams: the widget, with the fallbacks of the moment.
        if self._ended or self.quiet:  # (quiet: no front end draws it, see _headless)
            return self.static_bundle()
        bundle: Any = super()._repr_mimebundle_(**kwargs)
        data: dict[str, Any] = bundle[0] if isinstance(bundle, tuple) else bundle
        state = self.final_state()
        data["text/html"] = static_html(state)
        data["text/plain"] = plain_text(state)
        return bundle

    @classmethod
    def from_result(cls, result: ThinkResult, **options: Any) -> ThinkView:
        """A finished view of ``result`` (e.g. to show a stored result again)."""
        options.setdefault("model", result.model)
        view = cls(**options)
        view.push([ReasoningDelta(result.reasoning)] if result.reasoning else [])
        view.push([AnswerDelta(result.answer)] if result.answer else [])
        view.end(result)
        return view


def _one_line(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {' '.join(text.split())}"
