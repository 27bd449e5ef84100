"""``display="rows"``: a static grid of a small batch's rows (prompt, then one column per variant).

Plain escaped HTML (no widget, no script): it reads the same in a live notebook, a saved one and
on GitHub. Model text is untrusted: every cell goes through :func:`html.escape`; reasoning is
folded in ``<details>``. Only the first :data:`MAX_ROWS` prompts are drawn.
"""

from __future__ import annotations

import html
from typing import Any

from .result import BatchResult, BatchRow, prompt_text

__all__ = ["MAX_ROWS", "rows_html", "show_rows"]

MAX_ROWS = 50
_CLIP = 2000


def _clip(text: str) -> str:
    return text if len(text) <= _CLIP else text[:_CLIP] + " …"


def _cell(row: BatchRow) -> str:
    if row.error is not None:
        return f"<td><b>failed</b>: {html.escape(_clip(f'{type(row.error).__name__}: {row.error}'))}</td>"
    result = row.result
    if result is None:
        return "<td>not run</td>"
    parts = []
    if result.reasoning:
        tokens = result.usage.reasoning_tokens if result.usage else None
        summary = f"reasoning ({tokens} tokens)" if tokens is not None else "reasoning"
        parts.append(
            f"<details><summary>{summary}</summary><pre>{html.escape(_clip(result.reasoning))}</pre></details>"
        )
    parts.append(f'<div class="tb-answer">{html.escape(_clip(result.answer))}</div>')
    if result.usage and result.usage.completion_tokens is not None:
        parts.append(
            f"<small>{result.usage.completion_tokens} output tokens{' (cached)' if row.cached else ''}</small>"
        )
    return f"<td>{''.join(parts)}</td>"


def rows_html(result: BatchResult) -> str:
    """The grid: one line per prompt, one column per variant."""
    variants: list[str | None] = []
    for row in result.rows:
        if row.variant not in variants:
            variants.append(row.variant)
    lines: dict[int, list[BatchRow]] = {}
    order: list[int] = []
    for position, row in enumerate(result.rows):
        line = position // max(len(variants), 1)
        if line not in lines:
            order.append(line)
            lines[line] = []
        lines[line].append(row)
    head = "".join(f"<th>{html.escape(str(v) if v is not None else 'answer')}</th>" for v in variants)
    body = []
    for line in order[:MAX_ROWS]:
        cells = lines[line]
        first = cells[0]
        body.append(
            f"<tr><td>{html.escape(str(first.label))}</td><td>{html.escape(_clip(prompt_text(first.prompt)))}</td>"
            + "".join(_cell(cell) for cell in cells)
            + "</tr>"
        )
    more = (
        f"<p>… {len(order) - MAX_ROWS} more prompts not drawn (see .to_dataframe())</p>"
        if len(order) > MAX_ROWS
        else ""
    )
    return (
        f"<div class='tb-batch-rows'><table><thead><tr><th></th><th>prompt</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{more}<p>{html.escape(result.summary())}</p></div>"
    )


class _Grid:
    def __init__(self, result: BatchResult) -> None:
        self._result = result

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        return {"text/html": rows_html(self._result), "text/plain": repr(self._result)}


def show_rows(result: BatchResult) -> None:
    """Display the grid in the current output (nothing outside a notebook)."""
    from .._display import in_notebook

    if not in_notebook():
        return
    from IPython.display import display

    display(_Grid(result))  # type: ignore[no-untyped-call]
