"""ComparePanel: the same prompt sent to 2-6 configurations at once, streaming side by side.

The panel is an ``ipywidgets.VBox``: a grid of columns (one ThinkView each, titled by its
configuration, see :mod:`thinkbook._panel_common`) above :class:`CompareSummary`, a small
anywidget (``js/comparepanel.js``) with the summary table. Each column is a whole request of its
own (model, thinking options, effort, endpoint, protocol, key), so one panel can set five
providers' protocols side by side. Columns are batched together so that ``n`` of them cost about
what one ThinkView costs (:mod:`thinkbook._panel_batcher`); the summary's rows and tables are
:mod:`thinkbook._panel_summary`'s.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import html
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import anywidget
import ipywidgets  # type: ignore[import-untyped]
import traitlets

from ._api import _prepare
from ._display import LiveDisplay
from ._engine import Engine, StreamRun, default_engine
from ._errors import ConfigurationError, ThinkbookError
from ._headless import Quiet, client_draws_widgets
from ._notices import notice
from ._offline import ReplayNote, collected_replay_notes, replays_summary
from ._panel_batcher import _Batcher, _coalesce, _ColumnDisplay, _share_budget
from ._panel_common import StaticFallback, _failed_view, _start_stream, _usage_dict
from ._panel_retire import Looks, Settler, settle
from ._panel_static import column_text, columns_table, summary_table
from ._panel_summary import SUMMARY_COLUMNS, _best, _markdown_table, _table_cells
from ._pricing import estimate_cost
from ._protocols.base import Effort
from ._replay import at_recorded_pace
from ._request import PreparedRequest
from ._types import ThinkResult
from ._view import ThinkView, _js_dir, _one_line, default_lang
from ._widget_ids import fresh, reused_id

__all__ = ["CompareConfig", "ComparePanel", "CompareSummary", "_Batcher", "_ColumnDisplay", "_coalesce"]

_CONFIG_KEYS = (
    "model", "enable_thinking", "thinking_budget", "effort", "label", "base_url", "protocol", "region", "api_key",
)  # fmt: skip


@dataclass(frozen=True)
class CompareConfig:
    """One column of a ComparePanel: a model, its thinking settings, and optionally its own endpoint.

    ``protocol`` / ``base_url`` / ``api_key`` let each column talk to another provider (the panel's
    own ``base_url=`` / ``protocol=`` / ``api_key=`` are the defaults); the key is never shown
    (not in the title, the repr, the summary or any synced state). Options thinkbook does not
    know go into the request body as they are (``extra_body``).
    """

    model: str
    enable_thinking: bool | None = None
    thinking_budget: int | None = None
    label: str | None = None
    base_url: str | None = None
    protocol: str | None = None
    region: str | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    effort: Effort | None = None
    api_key: str | None = field(default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        text = self.model
        if self.protocol:
            text += f" · {self.protocol}"
        if self.enable_thinking is False:
            text += " · thinking off"
        elif self.enable_thinking:
            text += " · thinking on"
        if self.thinking_budget is not None:
            text += f" · budget {self.thinking_budget}"
        if self.effort is not None:
            text += f" · effort {self.effort}"
        return text

    @classmethod
    def coerce(cls, value: str | Mapping[str, Any] | CompareConfig) -> CompareConfig:
        if isinstance(value, CompareConfig):
            return value
        if isinstance(value, str):
            return cls(model=value.strip())
        if isinstance(value, Mapping):
            options = {k: v for k, v in value.items() if k in _CONFIG_KEYS}
            extra = {k: v for k, v in value.items() if k not in _CONFIG_KEYS}
            if "model" not in options:
                shown = {k: v for k, v in value.items() if k != "api_key"}
                raise ConfigurationError(f"a compare config needs a model: {shown!r}")
            return cls(**options, extra_body=extra)
        raise ConfigurationError(f"a compare config is a model name, a dict or a CompareConfig, got {value!r}")

    def with_effort(self, effort: Effort | None) -> CompareConfig:
        """This column with the panel's ``effort`` where it sets no level, budget or thinking-off of its own."""
        own = self.effort is not None or self.thinking_budget is not None or self.enable_thinking is False
        if effort is None or own:
            return self
        return dataclasses.replace(self, effort=effort)


class CompareSummary(Quiet, anywidget.AnyWidget):
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


class ComparePanel(StaticFallback, Quiet, ipywidgets.VBox):  # type: ignore[misc]
    """The same prompt sent to 2-6 configurations at once, streaming side by side.

    ``configs``: model names, dicts (``{"model": ..., "enable_thinking": False, "thinking_budget":
    2000, "effort": "high", "label": ..., "protocol": "anthropic", "base_url": ..., "api_key": ...}``)
    or :class:`CompareConfig`; ``base_url`` / ``api_key`` / ``protocol`` / ``region`` given to the
    panel are the columns' defaults, and ``effort`` applies to every column that sets no level,
    budget or ``enable_thinking=False`` of its own. Columns sit in a grid that stacks on narrow
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
        effort: Effort | None = None,
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
        self.configs = [CompareConfig.coerce(c).with_effort(effort) for c in configs]
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
        # Every widget opens under a retired one's comm id (_widget_ids): a headless run saves one
        # comparison's worth of widget state, however many comparisons the notebook holds.
        # A run no one watches (nbconvert --execute, _headless) makes no widget at all: the panel's
        # output is its static form throughout, and the file keeps no widget state of it.
        quiet = self._quiet_run = finalize == "static" and not client_draws_widgets()
        self.summary_widget = fresh(
            CompareSummary, lang=self.lang, prompt=prompt, layout=fresh(ipywidgets.Layout, quiet=quiet), quiet=quiet
        )
        self._batcher = _Batcher(self.summary_widget)
        with collected_replay_notes() as replays:
            self._columns = [self._prepare_column(i, config) for i, config in enumerate(self.configs)]
        if replays:
            _say_replays(replays, len(self.configs))
        self._settler = Settler()
        self.summary_widget.rows = self._rows()
        self.grid = fresh(
            ipywidgets.GridBox,
            [c.view for c in self._columns],
            layout=fresh(
                ipywidgets.Layout,
                grid_template_columns="repeat(auto-fit, minmax(min(100%, 22rem), 1fr))",
                grid_gap="0.5rem",
                quiet=quiet,
            ),
            quiet=quiet,
        )
        self.grid.add_class("tb-compare-grid")
        super().__init__(
            children=[self.grid, self.summary_widget],
            layout=fresh(ipywidgets.Layout, quiet=quiet),
            quiet=quiet,
            **({} if quiet else reused_id(type(self))),
        )
        self.add_class("tb-compare")
        if start:
            self.start()

    def _prepare_column(self, index: int, config: CompareConfig) -> _Column:
        """Prepare one column's request now; a configuration that cannot be sent shows its error."""
        try:
            request = _prepare(
                self.prompt, model=config.model, base_url=config.base_url or self._defaults["base_url"],
                api_key=config.api_key or self._api_key, protocol=config.protocol or self._defaults["protocol"],
                region=config.region or self._defaults["region"], enable_thinking=config.enable_thinking,
                thinking_budget=config.thinking_budget, effort=config.effort, preserve_thinking=None,
                system=self.system, max_retries=self.max_retries, timeout=self.timeout, display=False,
                extra_body=config.extra_body,
            )  # fmt: skip
        except (ThinkbookError, ValueError) as error:
            header = {"enable_thinking": config.enable_thinking, "thinking_budget": config.thinking_budget}
            view = _failed_view(config.model, error, self.lang, label=config.title, quiet=self._quiet_run, **header)
            view.add_class("tb-compare-col")
            column = _Column(config, view)
            column.error, column.status, column.final = _one_line(error), "error", True
            return column
        live = _ColumnDisplay(request, self._batcher, index, title=config.title, lang=self.lang, quiet=self._quiet_run,
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
            self._settler.later(self._settle_columns)
            self._update_displays()

    def _settle_columns(self) -> None:
        """``finalize="widget"``: the finished columns' live views give way to their static renderings."""
        looks = Looks()
        statics = [settle(view, _no_put, keep=True, looks=looks) for view in self.views]
        for widget in statics:
            widget.add_class("tb-compare-col")
        if statics:
            self.grid.children = tuple(statics)

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
            speed = column.view.replay_speed
            if timings is not None and speed is not None:  # a replay: told at the recording's pace, as its column is
                timings = at_recorded_pace(timings, speed)
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
        if threading.current_thread() is threading.main_thread():
            self._settler.run()
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


def _no_put(_widget: object) -> None:
    """(The grid takes every column's static widget at once.)"""


def _say_replays(replays: Sequence[ReplayNote], columns: int) -> None:
    """One line for all the columns that replay offline (not one warning per column)."""
    notice(replays_summary(replays, shown=None, what=f"{len(replays)} of the {columns} columns", live="models"))
