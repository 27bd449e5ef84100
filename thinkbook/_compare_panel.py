"""ComparePanel: the same prompt sent to 2-6 configurations at once, streaming side by side.

The panel is an ``ipywidgets.VBox``: a grid of columns (one ThinkView each, titled by its
configuration, see :mod:`thinkbook._panel_common`) above :class:`CompareSummary`, a small
anywidget (``js/comparepanel.js``) with the summary table.

Columns are batched together so that ``n`` of them cost about what one ThinkView costs
(:class:`_Batcher`): the engine hands each column's events to one coordinator, which on a single
50 ms tick (on the view worker thread, :mod:`thinkbook._view_worker`, never the engine loop)
pushes them into the views (consecutive deltas merged, so a view does its per-event work once per
tick, not per token), takes each view's delta and sends them all in ONE custom
message of the summary widget, ``{"t": "D", "d": {channel: delta}}``; ``js/comparepanel.js``
hands each delta to the views of that channel (``ThinkView.channel``). The views keep their own
sequence numbers and snapshot traits, so a view that missed a batch heals exactly as a single
view does. At most one column's open answer block is re-rendered per tick (the one waiting
longest), so markdown work stays that of one view however many columns answer at once.
"""

from __future__ import annotations

import concurrent.futures
import functools
import html
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anywidget
import ipywidgets  # type: ignore[import-untyped]
import traitlets

from ._api import ReplayNote, _prepare, collected_replay_notes
from ._display import LiveDisplay
from ._engine import Engine, StreamRun, default_engine
from ._errors import ConfigurationError, ThinkbookError
from ._notices import notice
from ._panel_common import (
    StaticFallback,
    _failed_view,
    _FinalDisplay,
    _start_stream,
    _usage_dict,
)
from ._panel_export import table_cell
from ._panel_static import column_text, columns_table, summary_table
from ._pricing import estimate_cost
from ._request import PreparedRequest
from ._types import AnswerDelta, ReasoningDelta, ThinkEvent, ThinkResult
from ._view import ThinkView, _js_dir, _one_line, default_lang
from ._view_worker import ViewWorker, default_worker


@dataclass(frozen=True)
class CompareConfig:
    """One column of a ComparePanel: a model and its thinking settings (plus optional endpoint)."""

    model: str
    enable_thinking: bool | None = None
    thinking_budget: int | None = None
    label: str | None = None
    base_url: str | None = None
    protocol: str | None = None
    region: str | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        text = self.model
        if self.enable_thinking is False:
            text += " · thinking off"
        elif self.enable_thinking:
            text += " · thinking on"
        if self.thinking_budget is not None:
            text += f" · budget {self.thinking_budget}"
        return text

    @classmethod
    def coerce(cls, value: str | Mapping[str, Any] | CompareConfig) -> CompareConfig:
        if isinstance(value, CompareConfig):
            return value
        if isinstance(value, str):
            return cls(model=value.strip())
        if isinstance(value, Mapping):
            known = {"model", "enable_thinking", "thinking_budget", "label", "base_url", "protocol", "region"}
            options = {k: v for k, v in value.items() if k in known}
            extra = {k: v for k, v in value.items() if k not in known and k != "api_key"}
            if "model" not in options:
                raise ConfigurationError(f"a compare config needs a model: {dict(value)!r}")
            return cls(**options, extra_body=extra)
        raise ConfigurationError(f"a compare config is a model name, a dict or a CompareConfig, got {value!r}")


class CompareSummary(anywidget.AnyWidget):
    """The ComparePanel's summary row (front end: ``js/comparepanel.js``).

    ``rows``: one dict per column (see :meth:`ComparePanel.summary`); ``fastest`` / ``cheapest``:
    the indexes to highlight (-1: none); ``markdown``: the table to copy.
    """

    _esm = _js_dir() / "comparepanel.js"
    _css = _js_dir() / "panels.css"

    lang = traitlets.Unicode("en").tag(sync=True)
    prompt = traitlets.Unicode("").tag(sync=True)
    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    fastest = traitlets.Int(-1).tag(sync=True)
    cheapest = traitlets.Int(-1).tag(sync=True)
    finished = traitlets.Bool(False).tag(sync=True)
    markdown = traitlets.Unicode("").tag(sync=True)


def _coalesce(events: Sequence[ThinkEvent]) -> list[ThinkEvent]:
    """``events`` with each run of consecutive reasoning (or answer) deltas merged into one."""
    out: list[ThinkEvent] = []
    kind: type[ReasoningDelta] | type[AnswerDelta] | None = None
    texts: list[str] = []
    for event in events:
        if type(event) is kind:
            texts.append(event.text)  # type: ignore[union-attr, unused-ignore]
            continue
        if kind is not None:
            out.append(kind("".join(texts)))
        if isinstance(event, ReasoningDelta | AnswerDelta):
            kind, texts = type(event), [event.text]
        else:
            kind, texts = None, []
            out.append(event)
    if kind is not None:
        out.append(kind("".join(texts)))
    return out


class _Batcher:
    """One tick for every column of a panel: the views' deltas leave in one message of ``hub``.

    ``on_batch`` (engine loop, per network read) only queues the events and tells the view worker
    when the next tick is due; ``_tick`` (on the view worker thread, at most every ``interval``)
    pushes each column's queue into its view, takes the deltas that are due (each view's own rules:
    ``due_in``) and sends them together. A column leaves the batch (:meth:`leave`) before its
    view's final ``end()``, which then sends the rest itself.
    """

    def __init__(
        self,
        hub: anywidget.AnyWidget,
        *,
        interval: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        worker: ViewWorker | None = None,
    ) -> None:
        self._hub = hub
        self._views: dict[int, ThinkView] = {}
        self._pending: dict[int, list[ThinkEvent]] = {}
        self._last_answer: dict[int, float] = {}
        self._lock = threading.Lock()  # the queues: held briefly, the engine loop takes it
        self._tick_lock = threading.RLock()  # a tick, or a column leaving: they render
        self._next_at = float("inf")  # when the next tick is due, in clock time
        self._last_tick = float("-inf")
        self._clock = clock
        self._worker = worker or default_worker()
        self.interval = interval
        self.messages = 0  # hub messages sent (tests, benchmark)

    def join(self, index: int, view: ThinkView) -> None:
        with self._lock:
            self._views[index] = view
            self._last_answer[index] = float("-inf")

    def on_batch(self, index: int, batch: list[ThinkEvent]) -> None:
        """Queue a column's events (on the engine loop); the next tick, at most ``interval`` away, takes them."""
        with self._lock:
            if index not in self._views:
                return
            self._pending.setdefault(index, []).extend(batch)
            if self._next_at <= self._last_tick + self.interval:
                return  # (the usual case returns here: cheap)
            now = self._clock()
            self._next_at = max(now, self._last_tick + self.interval)
        self._worker.schedule(self, self._next_at - now)

    def run_due(self) -> float:
        """On the view worker: tick when due; seconds until the next tick is due."""
        with self._lock:
            wait = self._next_at - self._clock()
        if wait > 0:
            return wait
        self._tick()
        with self._lock:
            return max(0.0, self._next_at - self._clock())

    def _tick(self) -> None:
        with self._tick_lock:
            with self._lock:
                now = self._last_tick = self._clock()
                self._next_at = float("inf")
                pending, self._pending = self._pending, {}
                views = dict(self._views)
            for index, events in pending.items():
                views[index].push(_coalesce(events))
            # One open answer block re-rendered per tick: the column that waited longest.
            waiting = [i for i, view in views.items() if view.answer_ready()]
            render = min(waiting, key=self._last_answer.__getitem__, default=None)
            deltas: dict[str, Any] = {}
            wait = float("inf")
            for index, view in views.items():
                due = view.due_in()
                if due <= 0:
                    view.flush(functools.partial(deltas.__setitem__, view.channel), answer=index == render)
                    if index == render:
                        self._last_answer[index] = now
                    due = view.due_in()
                wait = min(wait, due)
            if deltas:
                self._hub.send({"t": "D", "d": deltas})
                self.messages += 1
            if wait != float("inf"):  # something waits (a slow column's few characters, a deferred answer)
                with self._lock:
                    self._next_at = min(self._next_at, max(now + wait, now + self.interval))

    def leave(self, index: int) -> None:
        """The column's stream is over: push what is queued and stop batching it (any thread but the engine's)."""
        with self._tick_lock:
            with self._lock:
                view = self._views.pop(index, None)
                events = self._pending.pop(index, None)
            if view is not None and events:
                view.push(_coalesce(events))


class _ColumnDisplay(_FinalDisplay):
    """A column's LiveDisplay: its events go through the panel's batcher, never straight to the view."""

    def __init__(
        self,
        request: PreparedRequest,
        batcher: _Batcher,
        index: int,
        *,
        title: str,
        lang: str,
        on_final: Callable[[], object],
    ) -> None:
        super().__init__(request, lang=lang, on_final=on_final)
        view = self.view
        with view.hold_sync():
            view.header = {**view.header, "label": title}
            view.channel = view.model_id
            view.add_class("tb-compare-col")
        self._batcher, self._index = batcher, index
        batcher.join(index, view)

    def on_batch(self, batch: list[ThinkEvent]) -> None:
        self._batcher.on_batch(self._index, batch)

    def finish(
        self, result: ThinkResult | None = None, *, error: BaseException | None = None, stopped: bool = False
    ) -> None:
        self._batcher.leave(self._index)
        super().finish(result, error=error, stopped=stopped)


class _Column:
    def __init__(self, config: CompareConfig, view: ThinkView) -> None:
        self.config = config
        self.view = view
        self.future: concurrent.futures.Future[ThinkResult] | None = None
        self.run: StreamRun | None = None
        self.result: ThinkResult | None = None
        self.error: str = ""
        self.status = "waiting"
        self.final = False  # the view shows its final state
        self.handled = threading.Event()  # the panel has taken the column's outcome (status, result)
        self.live: LiveDisplay | None = None
        self.request: PreparedRequest | None = None


SUMMARY_COLUMNS = (
    ("label", "configuration"),
    ("status", "status"),
    ("time_to_first_token", "first token (s)"),
    ("thinking_seconds", "thinking (s)"),
    ("reasoning_tokens", "reasoning tokens"),
    ("answer_tokens", "answer tokens"),
    ("total_seconds", "total (s)"),
    ("cost", "cost"),
    ("answer_chars", "answer length (chars)"),
)


class ComparePanel(StaticFallback, ipywidgets.VBox):  # type: ignore[misc]
    """The same prompt sent to 2-6 configurations at once, streaming side by side.

    ``configs``: model names, dicts (``{"model": ..., "enable_thinking": False, "thinking_budget":
    2000, "label": ...}``) or :class:`CompareConfig`. Columns sit in a grid that stacks on narrow
    outputs; each is a ThinkView. A column that fails shows its error; the others go on. When all
    finish, the summary row shows time to first token, thinking time, reasoning / answer tokens,
    total time, cost and answer length, marking the fastest and the cheapest; :meth:`to_markdown`
    and :meth:`to_dataframe` export it. Once all are over (or stopped), the panel's output becomes the
    whole comparison as static, sanitized HTML (columns side by side, reasoning folded, the summary
    table and its markdown) and its widgets close (``finalize="static"``, the default): a saved
    notebook shows it in JupyterLab without a kernel, in nbconvert HTML and on GitHub.
    ``finalize="widget"`` keeps the live panel (its output's fallback still holds the static form).
    The Python side stays: ``results``, ``summary()``, ``to_markdown()``, ``views`` after the end.
    Streams start at once (``start=False`` defers to :meth:`start`); :meth:`wait` waits for all,
    :meth:`stop` stops all.

    >>> configs = ["qwen-plus", {"model": "qwen-plus", "enable_thinking": False}]
    >>> ComparePanel("9.11 和 9.9 哪个大？", configs)  # doctest: +SKIP
    """

    def __init__(
        self,
        prompt: str,
        configs: Sequence[str | Mapping[str, Any] | CompareConfig],
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        protocol: str | None = None,
        region: str | None = None,
        system: str | None = None,
        max_retries: int = 2,
        timeout: float | None = None,
        lang: str | None = None,
        engine: Engine | None = None,
        start: bool = True,
        finalize: Literal["static", "widget"] = "static",
    ) -> None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise ConfigurationError("the prompt is empty")
        if finalize not in ("static", "widget"):
            raise ConfigurationError(f"finalize must be 'static' or 'widget', got {finalize!r}")
        self.finalize = finalize
        if isinstance(configs, str | Mapping) or not 2 <= len(configs) <= 6:
            raise ConfigurationError("ComparePanel compares 2 to 6 configurations")
        self.prompt = prompt
        self.configs = [CompareConfig.coerce(c) for c in configs]
        self.lang = lang or default_lang()
        self._defaults = {"base_url": base_url, "protocol": protocol, "region": region}
        self._api_key = api_key
        self.system = system
        self.max_retries = max_retries
        self.timeout = timeout
        self._engine = engine
        self._lock = threading.Lock()
        self._started = False
        self._finalized = False
        self._display_handles: list[Any] = []
        self.summary_widget = CompareSummary(lang=self.lang, prompt=prompt)
        self._batcher = _Batcher(self.summary_widget)
        with collected_replay_notes() as replays:
            self._columns = [self._prepare_column(i, config) for i, config in enumerate(self.configs)]
        if replays:
            _say_replays(replays, len(self.configs))
        self.summary_widget.rows = self._rows()
        self.grid = ipywidgets.GridBox(
            [c.view for c in self._columns],
            layout=ipywidgets.Layout(
                grid_template_columns="repeat(auto-fit, minmax(min(100%, 22rem), 1fr))", grid_gap="0.5rem"
            ),
        )
        self.grid.add_class("tb-compare-grid")
        super().__init__(children=[self.grid, self.summary_widget])
        self.add_class("tb-compare")
        if start:
            self.start()

    def _prepare_column(self, index: int, config: CompareConfig) -> _Column:
        """Prepare one column's request now; a configuration that cannot be sent shows its error."""
        try:
            request = _prepare(
                self.prompt, model=config.model, base_url=config.base_url or self._defaults["base_url"],
                api_key=self._api_key, protocol=config.protocol or self._defaults["protocol"],
                region=config.region or self._defaults["region"], enable_thinking=config.enable_thinking,
                thinking_budget=config.thinking_budget, preserve_thinking=None, system=self.system,
                max_retries=self.max_retries, timeout=self.timeout, display=False,
                extra_body=config.extra_body,
            )  # fmt: skip
        except (ThinkbookError, ValueError) as error:
            header = {"enable_thinking": config.enable_thinking, "thinking_budget": config.thinking_budget}
            view = _failed_view(config.model, error, self.lang, label=config.title, **header)
            view.add_class("tb-compare-col")
            column = _Column(config, view)
            column.error, column.status, column.final = _one_line(error), "error", True
            return column
        live = _ColumnDisplay(request, self._batcher, index, title=config.title, lang=self.lang,
                              on_final=functools.partial(self._column_final, index))  # fmt: skip
        _share_budget(live.view, len(self.configs))
        column = _Column(config, live.view)
        column.live, column.request = live, request
        return column

    def _column_final(self, index: int) -> None:
        self._columns[index].final = True
        self._maybe_finalize()

    def _maybe_finalize(self) -> None:
        """Once every column is over and its view final: put the whole comparison in the outputs."""
        with self._lock:
            if self._finalized or not all(c.final and c.status != "waiting" for c in self._columns):
                return
            self._finalized = True
        if self.finalize == "static":
            self._go_static([*self.views, self.summary_widget, self.grid, self])
        else:
            self._update_displays()

    def _fallback(self) -> tuple[str, str]:
        labels = ("提示词", "对比结果") if self.lang == "zh" else ("Prompt", "Summary")
        rows = self.summary()
        finished = all(r["status"] != "waiting" for r in rows)
        out = ['<div class="tb-static tb-compare">',
               f"<p><strong>{labels[0]}:</strong> {html.escape(self.prompt)}</p>",
               columns_table([(c.config.title, c.view) for c in self._columns])]  # fmt: skip
        if finished:
            head = [title for _, title in SUMMARY_COLUMNS]
            out.append(summary_table(head, (_table_cells(row) for row in rows), labels[1]))
        out.append("</div>")
        text = [f"{labels[0]}: {self.prompt}"] + [column_text(c.config.title, c.view) for c in self._columns]
        if finished:
            text.append(_markdown_table(rows))
        return "".join(out), "\n\n".join(text)

    @property
    def views(self) -> list[ThinkView]:
        """The columns' ThinkViews, in order."""
        return [c.view for c in self._columns]

    def start(self) -> None:
        """Send the prompt to every configuration (once); returns at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
        engine = self._engine or default_engine()
        for column in self._columns:
            if column.live is None or column.request is None:
                continue

            def cancel(column: _Column = column) -> None:
                if column.future is not None:
                    column.future.cancel()

            column.future, column.run = _start_stream(
                column.request, column.live, engine=engine, max_retries=self.max_retries, timeout=self.timeout,
                on_stop=cancel,
            )  # fmt: skip
            column.future.add_done_callback(functools.partial(self._finished, column))
        self._maybe_summarize()
        self._maybe_finalize()  # (when no configuration could be sent, the panel is final already)

    def _finished(self, column: _Column, future: concurrent.futures.Future[ThinkResult]) -> None:
        if future.cancelled():
            column.status = "stopped"
            column.result = column.run.partial() if column.run else None
        elif (error := future.exception()) is not None:
            column.status, column.error = "error", _one_line(error)
            column.result = getattr(error, "partial", None)
        else:
            column.status, column.result = "done", future.result()
        try:
            self._maybe_summarize()
            self._maybe_finalize()
        finally:
            column.handled.set()

    def _maybe_summarize(self) -> None:
        with self._lock:
            rows = self._rows()
            finished = all(c.status != "waiting" for c in self._columns)
            fastest, cheapest = _best(rows, "total_seconds"), _best(rows, "cost")
            for i, row in enumerate(rows):
                row["fastest"], row["cheapest"] = i == fastest, i == cheapest
            widget = self.summary_widget
            if not finished and widget.rows:
                return  # the browser shows the table only once every column is over: one update then
            with widget.hold_sync():
                widget.rows = rows
                widget.fastest, widget.cheapest = (fastest, cheapest) if finished else (-1, -1)
                widget.markdown = _markdown_table(rows) if finished else ""
                widget.finished = finished

    def _rows(self) -> list[dict[str, Any]]:
        rows = []
        for column in self._columns:
            result, config = column.result, column.config
            usage = _usage_dict(result.usage if result else None)
            timings = result.timings if result else None
            cost = estimate_cost((result.model if result else None) or config.model, result.usage if result else None)
            rows.append({
                "label": config.title,
                "model": config.model,
                "status": column.status,
                "error": column.error,
                "time_to_first_token": timings.time_to_first_token if timings else None,
                "thinking_seconds": timings.thinking_seconds if timings else None,
                "reasoning_tokens": usage.get("reasoning_tokens"),
                "answer_tokens": usage.get("answer_tokens"),
                "total_seconds": timings.total_seconds if timings else None,
                "cost": round(cost.amount, 6) if cost else None,
                "currency": cost.currency if cost else None,
                "answer_chars": len(result.answer) if result else None,
            })  # fmt: skip
        return rows

    def summary(self) -> list[dict[str, Any]]:
        """One row per configuration (see ``SUMMARY_COLUMNS``), with ``fastest`` / ``cheapest`` marks."""
        self._maybe_summarize()
        return [dict(r) for r in self.summary_widget.rows]

    @property
    def results(self) -> list[ThinkResult | None]:
        """Each column's result (partial for a stopped or failed column, None when nothing arrived)."""
        return [c.result for c in self._columns]

    def wait(self, timeout: float | None = None) -> list[ThinkResult | None]:
        """Wait until every column has finished (and its view is final); the results."""
        futures = [c.future for c in self._columns if c.future is not None]
        _, pending = concurrent.futures.wait(futures, timeout=timeout)
        if pending:
            raise TimeoutError(f"{len(pending)} column(s) still streaming")
        for column in self._columns:
            if column.run is not None:
                column.run.settled.wait(timeout)
            if column.future is not None:
                column.handled.wait(timeout)  # its done-callback may still be running
        self._maybe_summarize()
        self._maybe_finalize()
        self._resend_from_main_thread()
        return self.results

    def stop(self) -> None:
        """Stop every column still streaming."""
        for column in self._columns:
            if column.future is not None:
                column.future.cancel()

    def to_markdown(self) -> str:
        """The summary as a markdown table (fastest / cheapest marked)."""
        return _markdown_table(self.summary())

    def to_dataframe(self) -> Any:
        """The summary as a pandas DataFrame (needs pandas, which thinkbook does not depend on)."""
        try:
            import pandas  # type: ignore[import-untyped, unused-ignore]
        except ImportError as missing:
            raise ImportError("to_dataframe() needs pandas: pip install pandas (or use to_markdown())") from missing
        return pandas.DataFrame(self.summary()).set_index("label")


def _share_budget(view: ThinkView, columns: int) -> None:
    """Give ``columns`` views together the message budget of one (see the module docstring).

    Deltas of all columns share one message per tick; snapshots (one trait update per view) are
    what still counts per column, so each column takes them ``columns`` times less often.
    """
    view.snapshot_interval *= columns


def _best(rows: Sequence[Mapping[str, Any]], key: str) -> int:
    """Index of the finished row with the smallest ``key`` (-1 if none has one)."""
    candidates = [(row[key], i) for i, row in enumerate(rows) if row["status"] == "done" and row.get(key) is not None]
    return min(candidates)[1] if candidates else -1


def _cell(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return "—"
    if key == "cost":
        return f"{value:.4f} {row.get('currency') or ''}".strip()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    escape = table_cell  # labels, errors: one line, no raw HTML (the table is pasted into renderers)
    head = [title for _, title in SUMMARY_COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(escape(cell) for cell in _table_cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _table_cells(row: Mapping[str, Any]) -> list[str]:
    """A summary row as text cells: fastest / cheapest marked after the label, the error after the status."""
    cells = [_cell(row, key) for key, _ in SUMMARY_COLUMNS]
    marks = [m for m, on in (("fastest", row.get("fastest")), ("cheapest", row.get("cheapest"))) if on]
    if marks:
        cells[0] += " (" + ", ".join(marks) + ")"
    if row.get("error"):
        cells[1] += ": " + str(row["error"])
    return cells


def _say_replays(replays: Sequence[ReplayNote], columns: int) -> None:
    """One line for all the columns that replay offline (not one warning per column)."""
    variable = replays[0].variable
    files: dict[str, list[str]] = {}
    for note in replays:
        files.setdefault(note.provenance, []).append(note.file)
    what = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in files.items())
    notice(
        f"no {variable} set: {len(replays)} of the {columns} columns replay recorded answers ({what}). "
        f"Set {variable} to ask the live models."
    )
