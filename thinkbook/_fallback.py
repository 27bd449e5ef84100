"""What a finished view leaves in the notebook: sanitized HTML and plain text, readable everywhere.

When a stream ends, the live widget's output is replaced by :func:`static_html` (see
``_display.LiveDisplay.finish``), so a saved notebook shows it in JupyterLab and Notebook 7 without
a kernel, in nbconvert HTML and on GitHub. The markup mirrors the live view's DOM (``tb-view``,
``tb-bar``, ``tb-answer``, ``tb-foot``, ``data-tb`` hooks): while the page that streamed it is
open, the widget's stylesheet stays loaded and the finished view looks as it did live. Where
classes, ``style`` and scripts are stripped (GitHub) it is still plain structure: a ``<details>``
fold with the reasoning as escaped text in a ``<pre>``, the sanitized answer HTML, the counters
in ``<small>``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from ._fallback_tools import images_html, say_html, sources_block, split_reasoning, tool_card, tool_labels, tool_line

# Replays of recordings written to illustrate (not model output) carry this prefix in the view header.
ILLUSTRATIVE_REPLAY = "replay:illustrative:"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "reasoning": "Reasoning",
        "answer": "Answer",
        "tokens": "Tokens",
        "thought_for": "Thought for",
        "input": "input",
        "cached": "cached",
        "reasoning_tokens": "reasoning",
        "answer_tokens": "answer",
        "total": "total",
        "first_token": "first token",
        "thinking_time": "thinking",
        "rate": "tok/s",
        "cost": "cost",
        "stopped": "Stopped: the answer is incomplete.",
        "error": "Error",
        "replay": "Replayed from a recording",
        "replay_illustrative": "Replayed from an illustrative recording (not model output)",
        "paced": "timings as recorded",
        "unpaced": "replayed without pauses: no timings",
        "hidden": "not shown by the provider",
        "on": "thinking on",
        "off": "thinking off",
        "budget": "budget",
        "done": "done",
        "stopped_status": "stopped",
        "error_status": "error",
    },
    "zh": {
        "reasoning": "思考过程",
        "answer": "完整回复",
        "tokens": "Token 消耗",
        "thought_for": "已思考",
        "input": "输入",
        "cached": "缓存",
        "reasoning_tokens": "思考",
        "answer_tokens": "回复",
        "total": "总计",
        "first_token": "首 token",
        "thinking_time": "思考用时",
        "rate": "tokens/s",
        "cost": "费用",
        "stopped": "已停止：回复不完整。",
        "error": "错误",
        "replay": "回放录制的回答",
        "replay_illustrative": "回放示例录制（用于演示，非模型输出）",
        "paced": "用时为录制时的用时",
        "unpaced": "无停顿回放：无用时",
        "hidden": "服务商未提供思考内容",
        "on": "思考：开",
        "off": "思考：关",
        "budget": "预算",
        "done": "已完成",
        "stopped_status": "已停止",
        "error_status": "出错",
    },
}
_CURRENCY = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€"}


@dataclass(frozen=True, slots=True)
class FinalState:
    """Everything a static rendering needs, in display terms.

    ``replay_speed`` is the pace a replay ran at (``None``: not a replay); its timings are already
    scaled back to the recording's pace, and ``0`` (no pauses) means there are none worth showing.
    """

    reasoning: str
    answer_html: str
    answer_markdown: str
    status: str
    error: str
    counters: dict[str, Any]
    lang: str = "en"
    replay: str | None = None
    model: str | None = None
    thinking: bool | None = None
    budget: int | None = None
    reasoning_hidden: bool = False
    replay_speed: float | None = None
    # Tool loops: the items cutting the reasoning into segments (see _view_timeline); web sources
    # (sanitized HTML, and as markdown for the text output); input image thumbnails.
    timeline: tuple[dict[str, Any], ...] = ()
    sources_html: str = ""
    sources_text: str = ""
    images: tuple[dict[str, Any], ...] = ()


def _labels(state: FinalState) -> dict[str, str]:
    return LABELS.get(state.lang, LABELS["en"])


def _fmt_int(value: Any) -> str | None:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _timed(state: FinalState) -> bool:
    """Whether the timings mean something: not for a replay that ran without pauses."""
    return state.replay_speed is None or state.replay_speed > 0


def thought_summary(state: FinalState) -> str:
    """The fold's header: "Thought for 4.2s · 1,840 tokens", and why a reasoning is missing."""
    labels = _labels(state)
    parts = [labels["reasoning"]]
    seconds = state.counters.get("timings", {}).get("thinking_seconds")
    if _number(seconds) and _timed(state):
        parts = [f"{labels['thought_for']} {seconds:.1f}s"]
    usage = state.counters.get("usage") or {}
    tokens = _fmt_int(usage.get("reasoning_tokens"))
    if tokens:
        parts.append(f"{tokens} tokens")
    summary = " · ".join(parts)
    if state.reasoning_hidden and not state.reasoning:
        summary += f" ({labels['hidden']})"
    return summary


def counters_line(state: FinalState) -> str:
    """ "Tokens: input 10, reasoning 172, answer 49, total 231 · first token 0.1s · 48.0 tok/s".

    The live view's footer words, order and precision (js/thinkview.js), so a finished view reads
    as it did while it streamed; replayed timings say that they are the recording's.
    """
    labels = _labels(state)
    usage = state.counters.get("usage") or {}
    token_parts = []
    for key, label in (
        ("prompt_tokens", "input"),
        ("cached_tokens", "cached"),
        ("reasoning_tokens", "reasoning_tokens"),
        ("answer_tokens", "answer_tokens"),
        ("total_tokens", "total"),
    ):
        number = _fmt_int(usage.get(key))
        if number is not None and not (key == "cached_tokens" and usage.get(key) == 0):
            token_parts.append(f"{labels[label]} {number}")
    pieces = [f"{labels['tokens']}: " + (", ".join(token_parts) if token_parts else "?")]
    timings = state.counters.get("timings", {})
    if _timed(state):
        first = timings.get("time_to_first_token")
        if _number(first):
            pieces.append(f"{labels['first_token']} {first:.1f}s")
        thinking = timings.get("thinking_seconds")
        if _number(thinking):
            pieces.append(f"{labels['thinking_time']} {thinking:.1f}s")
        rate = timings.get("tokens_per_second")
        if _number(rate) and rate > 0:
            pieces.append(f"{rate:.1f} {labels['rate']}")
    cost = state.counters.get("cost")
    if cost and _number(cost.get("amount")):
        currency = str(cost.get("currency") or "")
        pieces.append(f"{labels['cost']} {_CURRENCY.get(currency, currency + ' ')}{cost['amount']:.4f}")
    if state.replay_speed is not None:
        pieces.append(labels["paced" if _timed(state) else "unpaced"])
    return " · ".join(pieces)


def _replay_label(state: FinalState) -> str | None:
    if not state.replay:
        return None
    return _labels(state)["replay_illustrative" if state.replay.startswith(ILLUSTRATIVE_REPLAY) else "replay"]


def thinking_mode(state: FinalState) -> str | None:
    """The status line's thinking mode ("thinking on · budget 50"), or None when the view does not say."""
    if state.thinking is None:
        return None
    labels = _labels(state)
    mode = labels["on" if state.thinking else "off"]
    if state.thinking and _fmt_int(state.budget):
        mode += f" · {labels['budget']} {_fmt_int(state.budget)}"
    return mode


def replay_label(state: FinalState) -> str | None:
    """The replay badge's words ("Replayed from a recording"), or None for a live answer."""
    return _replay_label(state)


def _bar(state: FinalState) -> str:
    """The status line: model, thinking mode, status, replay badge (whitespace between: the live
    stylesheet lays them out with gaps, plain HTML reads them as a sentence)."""
    labels = _labels(state)
    items = []
    if state.model:
        items.append(f'<b class="tb-model">{html.escape(state.model)}</b>')
    mode = thinking_mode(state)
    if mode is not None:
        items.append(f'<span class="tb-think">{html.escape(mode)}</span>')
    if state.status != "done":  # a finished view is done unless it says otherwise
        status = {"stopped": "stopped_status", "error": "error_status"}.get(state.status, state.status)
        shown = html.escape(labels.get(status, state.status))
        items.append(f'<span class="tb-st tb-st-{html.escape(state.status)}" data-tb="status">{shown}</span>')
    replay = _replay_label(state)
    if replay:
        items.append(f'<em class="tb-replay">{html.escape(replay)}</em>')
    if not items:  # (a compare column whose title says it all)
        return ""
    return f'<div class="tb-bar"><small>{" ".join(items)}</small></div>'


def static_html(state: FinalState, *, copy_buttons: bool = False) -> str:
    """Self-contained, sanitized HTML of the finished view (no external resources).

    ``copy_buttons`` adds the answer's markdown (as JSON data, never executed) and a one-line
    script through which the view's module gives the code blocks and the answer their Copy
    buttons (see ``_QUEUE_JS``); where no script runs, nothing dead is left on the page.
    """
    labels = _labels(state)
    lang = ' lang="zh"' if state.lang == "zh" else ""
    out = [f'<div class="tb-view tb-static"{lang}>', _bar(state), images_html(state.images, state.lang)]
    out.extend(_timeline_html(state))
    if state.reasoning_hidden and not state.reasoning:
        out.append(f'<p class="tb-hidden"><small>{html.escape(thought_summary(state))}</small></p>')
    out.append(f'<div class="tb-answer" data-tb="answer">{state.answer_html}</div>')
    out.append(sources_block(state.sources_html, state.lang))
    if state.status == "stopped":
        out.append(f'<p class="tb-note"><em>{html.escape(labels["stopped"])}</em></p>')
    if state.error:
        label, error = html.escape(labels["error"]), html.escape(state.error)
        out.append(f'<p class="tb-errline"><strong>{label}:</strong> {error}</p>')
    out.append(f'<div class="tb-foot"><small data-tb="counters">{html.escape(counters_line(state))}</small></div>')
    if copy_buttons:
        out.append(_copy_script(state))
    out.append("</div>")
    return "".join(out)


def _timeline_html(state: FinalState) -> list[str]:
    """Reasoning segments and the items between them, in order (a plain answer: one fold).

    The first segment with text is the fold with the summary line (time, tokens: of all rounds);
    later ones are "Reasoning, continued" folds. Folded like the live view once it answered;
    the last one open when the stream stopped before any answer.
    """
    out: list[str] = []
    segments = split_reasoning(state.reasoning, state.timeline)
    unfinished = state.status in ("stopped", "error") and not state.answer_markdown.strip()
    last_text = max((n for n, text in enumerate(segments) if text), default=-1)
    main = True
    for number, text in enumerate(segments):
        if text:
            if main:  # data-tb="reasoning" like the live fold: the same hooks find it live and finished
                summary, hook = thought_summary(state), "reasoning"
            else:
                summary, hook = tool_labels(state.lang)["continued"], "reasoning-more"
            main = False
            opened = " open" if unfinished and number == last_text else ""
            out.append(
                f'<details data-tb="{hook}"{opened}><summary>{html.escape(summary)}</summary>'
                f'<pre class="tb-rtext" style="white-space:pre-wrap">{html.escape(text)}</pre></details>'
            )
        if number < len(state.timeline):
            item = state.timeline[number]
            out.append(tool_card(item, state.lang) if item.get("k") == "tool" else say_html(item))
    return out


# The Copy buttons (one per code block, one for the answer's markdown, kept in the page as JSON
# data) are added by the view's own module (js/thinkview.js) while it is loaded in the page: in
# the notebook that streamed the answer, and in a reopened one once a view streams there. Each
# finished output only queues itself (~80 bytes), instead of carrying ~1 KB of script.
_QUEUE_JS = "(self.__tbq=self.__tbq||[]).push(document.currentScript)"


def _json_in_html(value: Any) -> str:
    """JSON that cannot end its ``<script>`` element early (``<`` becomes ``\\u003c``)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _copy_script(state: FinalState) -> str:
    # The markdown is kept only when it differs from the answer's text (prose without markup is
    # copied from the page as it reads): most short answers then cost nothing more.
    source = state.answer_markdown.strip()
    markdown = _json_in_html(state.answer_markdown) if source and source != _text_of(state.answer_html) else None
    data = f'<script type="application/json" class="tb-md">{markdown}</script>' if markdown else ""
    return f"{data}<script>{_QUEUE_JS}</script>"


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text_of(fragment: str) -> str:
    """The text a browser shows for ``fragment`` (tags dropped, entities decoded), stripped."""
    parser = _TextOf()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts).strip()


def plain_text(state: FinalState, *, reasoning: bool = True) -> str:
    """The finished view as text: reasoning (``reasoning=False``: only its summary line), answer
    (markdown source), counters."""
    labels = _labels(state)
    sections = []
    replay = _replay_label(state)
    if replay:
        sections.append(f"[{replay}]")
    if state.timeline:
        sections.extend(_timeline_text(state, reasoning=reasoning))
    elif state.reasoning and reasoning:
        sections.append(f"[{thought_summary(state)}]\n{state.reasoning}")
    elif state.reasoning or state.reasoning_hidden:
        sections.append(f"[{thought_summary(state)}]")
    sections.append(f"[{labels['answer']}]\n{state.answer_markdown}")
    if state.sources_text:
        sections.append(f"[{tool_labels(state.lang)['sources']}]\n{state.sources_text}")
    if state.status == "stopped":
        sections.append(labels["stopped"])
    if state.error:
        sections.append(f"{labels['error']}: {state.error}")
    sections.append(counters_line(state))
    return "\n\n".join(sections)


def _timeline_text(state: FinalState, *, reasoning: bool) -> list[str]:
    """The timeline as text sections: reasoning segments (``reasoning=False``: the summary line
    once) and one line per tool call; answer text between rounds as its text."""
    sections, main = [], True
    segments = split_reasoning(state.reasoning, state.timeline)
    for number, text in enumerate(segments):
        if text and (reasoning or main):
            header = thought_summary(state) if main else tool_labels(state.lang)["continued"]
            sections.append(f"[{header}]\n{text}" if reasoning else f"[{header}]")
            main = False
        if number < len(state.timeline):
            item = state.timeline[number]
            if item.get("k") == "tool":
                sections.append(tool_line(item, state.lang))
            elif item.get("html"):
                sections.append(_text_of(str(item["html"])))
    return sections
