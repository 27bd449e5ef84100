"""The progress line (bounded repaints, static at the end), the rows grid, and BatchResult's tables."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from thinkbook import ConfigurationError, StreamStoppedError, ThinkResult, Usage
from thinkbook.batch import BatchResult, BatchRow
from thinkbook.batch.grid import rows_html
from thinkbook.batch.progress import BatchStats, NotebookProgress, TerminalProgress


class FakeHandle:
    def __init__(self) -> None:
        self.updates: list[Any] = []

    def update(self, obj: Any) -> None:
        self.updates.append(obj._repr_mimebundle_())


def test_the_notebook_line_repaints_at_a_bounded_rate_and_ends_static(monkeypatch: pytest.MonkeyPatch) -> None:
    handle = FakeHandle()
    shown: list[Any] = []

    def display(obj: Any, display_id: bool = False) -> FakeHandle:
        shown.append(obj._repr_mimebundle_())
        return handle

    monkeypatch.setattr("IPython.display.display", display)
    stats = BatchStats(total=1000, label="qwen-plus batch")
    progress = NotebookProgress(stats, interval=0.5)
    for _ in range(5000):  # far faster than IOPub allows
        stats.done += 0
        progress.update(stats)
    assert len(handle.updates) <= 1
    stats.done, stats.failed, stats.tokens = 990, 10, 12345
    progress.finish(stats)
    final = handle.updates[-1]
    assert "<progress" not in final["text/html"] and "990/1000 done" in final["text/html"]
    assert "10 failed" in final["text/plain"] and "12,345 tokens" in final["text/plain"]
    assert "<progress" in shown[0]["text/html"]


def test_the_line_says_rate_eta_cost_and_concurrency() -> None:
    stats = BatchStats(total=100, done=40, failed=2, running=8, tokens=5000, cost=0.5, currency="CNY", limit=8)
    stats.started -= 10
    line = stats.line()
    for part in ("40/100 done", "8 running", "2 failed", "5,000 tokens", "0.5000 CNY", "4.2 rows/s", "ETA 14 s"):
        assert part in line, (part, line)


def test_the_terminal_bar_is_tqdm(capsys: pytest.CaptureFixture[str]) -> None:
    stats = BatchStats(total=3)
    bar = TerminalProgress(stats)
    stats.done = 3
    bar.finish(stats)
    assert "3/3" in capsys.readouterr().err


def _result() -> BatchResult:
    rows = [
        BatchRow(0, "<b>q</b>", "on", "m", result=ThinkResult(reasoning="<img src=x onerror=alert(1)>", answer="A")),
        BatchRow(0, "<b>q</b>", "off", "m", error=StreamStoppedError("stopped")),
        BatchRow(1, "q2", "on", "m", result=ThinkResult(answer="B", usage=Usage(1, 2, 3))),
        BatchRow(1, "q2", "off", "m", result=ThinkResult(answer="C", usage=Usage(1, 4, 5, 2)), cached=True),
    ]
    return BatchResult(rows, seconds=1.5)


def test_the_rows_grid_escapes_model_text() -> None:
    html = rows_html(_result())
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;q" in html
    assert html.count("<tr>") == 3 and "<th>on</th><th>off</th>" in html and "failed" in html


def test_batch_result_totals_and_iteration() -> None:
    result = _result()
    assert len(result) == 4 and [type(x).__name__ for x in result][1] == "StreamStoppedError"
    assert result.usage == Usage(2, 6, 8, 2, None)
    assert len(result.errors) == 1 and result.cached == 1 and result[2].answer == "B"  # type: ignore[union-attr]
    assert "4 rows, 1 failed, 1 from the cache" in repr(result)


def test_to_dataframe_needs_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ConfigurationError, match="pip install pandas"):
        _result().to_dataframe()
