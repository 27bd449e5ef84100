"""ComparePanel's summary: one row per column as cells, a markdown table, the fastest / cheapest.

Rows are plain dicts (``ComparePanel.summary()``); the same cells feed the live summary widget's
markdown, the static HTML table of a finished panel and ``to_markdown()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._panel_export import table_cell

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
