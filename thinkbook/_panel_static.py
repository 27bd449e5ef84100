"""What a finished panel leaves in the notebook file: static HTML that reads everywhere, no widget.

JupyterLab and Notebook 7 always render a widget output with the widget renderer: when the widget
model is gone (a reopened notebook, no saved widget state) they show "Error displaying widget:
model not found", never the output's ``text/html`` fallback (the rendermime picks the widget mime
type first and has no way to fall back, ipywidgets#849). nbconvert HTML picks the widget too
whenever the file holds its state (``nbconvert --execute`` saves it) and then needs an embed
script from a CDN. So a panel that is over replaces its output with the static rendering (no
widget mime type at all) and closes its widgets: :func:`retire`.

The static HTML reads with styles, classes, ids and scripts stripped (GitHub): the columns of a
comparison side by side in a ``<table>`` (``valign``/``width`` attributes, which GitHub keeps),
reasoning folded in ``<details>``, answers as the sanitized HTML the live view showed, the
summary as a table and as markdown in a ``<pre>`` to copy.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ipywidgets import Widget  # type: ignore[import-untyped]

from ._fallback import LABELS, FinalState, counters_line, replay_label, static_html, thinking_mode, thought_summary
from ._view import ThinkView
from ._widget_ids import close_and_release

# The smallest valid anywidget module: what a retired widget's saved state keeps instead of its JS.
_RETIRED_ESM = "export default { render() {} };"
_COLUMNS_PER_ROW = 3  # side by side, as the live grid does on a notebook-wide output


def untitled(state: FinalState, title: str, *, mode: bool = True) -> FinalState:
    """``state`` without what its column's title says already: the model (when the title starts with
    it) and, with ``mode``, the thinking mode (when the title holds its words): said once, not twice."""
    if state.model and title.startswith(state.model):
        state = replace(state, model=None)
    said = thinking_mode(state)
    if mode and said is not None and said in title:
        state = replace(state, thinking=None)
    return state


def column_cell(title: str, state: FinalState, width: int) -> str:
    """One column as a table cell: its title over the view's static HTML (reasoning folded, answer, counters)."""
    return (
        f'<td valign="top" align="left" width="{width}%" style="vertical-align:top;text-align:left">'
        f"<h4>{html.escape(title)}</h4>{static_html(untitled(state, title))}</td>"
    )


def columns_table(columns: Sequence[tuple[str, ThinkView]]) -> str:
    """The columns side by side, ``_COLUMNS_PER_ROW`` to a row, in a plain ``<table>``.

    When every column replays the same kind of recording, the table says so once above it
    instead of in each column.
    """
    states = [(title, view.final_state()) for title, view in columns]
    badges = {replay_label(state) for _, state in states}
    shared = badges.pop() if len(badges) == 1 else None
    note = ""
    if shared is not None and states:
        lang = states[0][1].lang
        note = f'<p class="tb-replay-all"><small><em>{html.escape(_EVERY_COLUMN.get(lang, _EVERY_COLUMN["en"]))}'
        note += f"{html.escape(shared)}</em></small></p>"
        states = [(title, replace(state, replay=None)) for title, state in states]
    per_row = min(_COLUMNS_PER_ROW, len(states)) or 1
    width = 100 // per_row
    rows = []
    for start in range(0, len(states), per_row):
        cells = "".join(column_cell(title, state, width) for title, state in states[start : start + per_row])
        rows.append(f'<tr style="background:none">{cells}</tr>')  # (no hover stripe over whole columns)
    return (
        f"{note}"
        '<table class="tb-compare-cols" width="100%" style="width:100%;table-layout:fixed;border-collapse:collapse">'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


_EVERY_COLUMN = {"en": "Every column: ", "zh": "所有列："}


def view_text(view: ThinkView) -> str:
    """A finished view as short text: the fold's line (not the reasoning: the HTML has it), answer, counters.

    ``text/plain`` is what terminals and text-only exports show; a panel's HTML carries the whole
    reasoning already, and a second full copy would double the saved bytes of every panel.
    """
    state = view.final_state()
    labels = LABELS.get(state.lang, LABELS["en"])
    parts = [f"[{thought_summary(state)}]"] if state.reasoning else []
    parts.append(state.answer_markdown)
    if state.status == "stopped":
        parts.append(labels["stopped"])
    if state.error:
        parts.append(f"{labels['error']}: {state.error}")
    parts.append(counters_line(state))
    return "\n\n".join(parts)


def column_text(title: str, view: ThinkView) -> str:
    return f"## {title}\n\n{view_text(view)}"


def summary_table(head: Sequence[str], rows: Iterable[Sequence[str]], caption: str) -> str:
    """An HTML table of text cells (all escaped)."""
    cells = "".join(f"<th>{html.escape(title)}</th>" for title in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"
    )


def chat_static(turns: Sequence[tuple[str, ThinkView]], totals: str, lang: str) -> tuple[str, str]:
    """A chat's ``(html, text)``: each user message, then the turn's static view; the totals line."""
    who = ("你", "助手") if lang == "zh" else ("You", "Assistant")
    out, text = ['<div class="tb-static tb-chat">'], []
    for question, view in turns:
        model = html.escape(str(view.header.get("model") or who[1]))
        state = view.final_state()
        out.append(
            f'<div class="tb-turn"><p><strong>{who[0]}:</strong></p>'
            f'<pre style="white-space:pre-wrap">{html.escape(question)}</pre>'
            f"<p><strong>{model}:</strong></p>{static_html(state)}</div><hr>"
        )
        text.append(f"{who[0]}: {question}\n\n{view_text(view)}")
    out.append(f"<p><small>{html.escape(totals)}</small></p></div>")
    text.append(totals)
    return "".join(out), "\n\n".join(text)


def retire(widgets: Iterable[Any]) -> None:
    """Close ``widgets`` (their output shows static HTML already), keeping little of them in the file.

    ``nbconvert --execute`` (nbclient) saves the last state of every widget it saw, closed or not:
    before closing, the front end's copy of each widget is told to forget its JavaScript, CSS and
    text (a raw ``update`` of the widget protocol; the Python side keeps its values, so
    ``panel.views[0].answer_markdown`` still reads). References to other widgets (layouts,
    children) stay: the front end would fail to resolve an empty one. Their comm ids (and those of
    their layouts and styles) go to the next widgets of the same class (:mod:`._widget_ids`).
    """
    for widget in widgets:
        if getattr(widget, "comm", None) is None:
            continue
        forget: dict[str, Any] = {}
        for name in widget.keys:
            value = getattr(widget, name, None)
            if name == "_esm":
                forget[name] = _RETIRED_ESM
            elif name == "_css":
                forget[name] = ""
            elif not name.startswith("_") and _bulky(value):
                forget[name] = "" if isinstance(value, str) else [] if isinstance(value, list) else {}
        if forget:
            widget._send({"method": "update", "state": forget, "buffer_paths": []})
        close_and_release(widget)


def _bulky(value: Any) -> bool:
    """Text, a list or a dict worth forgetting (not a reference to another widget: layouts, children)."""
    if isinstance(value, str):
        return len(value) > 16
    if isinstance(value, list | dict) and value:
        return not any(isinstance(item, Widget) for item in value) and len(repr(value)) > 64
    return False
