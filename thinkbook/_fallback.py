"""What a saved notebook shows without a kernel: the finished view as sanitized HTML and plain text.

GitHub, nbconvert and a JupyterLab without widget state render these instead of the live widget.
The reasoning goes into a folded ``<details>`` as escaped text; the answer is the same sanitized
HTML the live view showed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

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
        "stopped": "Stopped: the answer is incomplete.",
        "error": "Error",
        "replay": "Replayed from a recording",
        "replay_illustrative": "Replayed from an illustrative recording (not model output)",
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
        "stopped": "已停止：回复不完整。",
        "error": "错误",
        "replay": "回放录制的回答",
        "replay_illustrative": "回放示例录制（用于演示，非模型输出）",
    },
}


@dataclass(frozen=True, slots=True)
class FinalState:
    """Everything a static rendering needs, in display terms."""

    reasoning: str
    answer_html: str
    answer_markdown: str
    status: str
    error: str
    counters: dict[str, Any]
    lang: str = "en"
    replay: str | None = None


def _fmt_int(value: Any) -> str | None:
    return f"{value:,}" if isinstance(value, int) else None


def thought_summary(state: FinalState) -> str:
    labels = LABELS.get(state.lang, LABELS["en"])
    parts = [labels["reasoning"]]
    seconds = state.counters.get("timings", {}).get("thinking_seconds")
    if isinstance(seconds, int | float):
        parts = [f"{labels['thought_for']} {seconds:.1f}s"]
    usage = state.counters.get("usage") or {}
    tokens = _fmt_int(usage.get("reasoning_tokens"))
    if tokens:
        parts.append(f"{tokens} tokens")
    return " · ".join(parts)


def counters_line(state: FinalState) -> str:
    """ "Tokens: input 10, reasoning 172, answer 49, total 231 · first token 0.61s · 48 tok/s"."""
    labels = LABELS.get(state.lang, LABELS["en"])
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
    first = timings.get("time_to_first_token")
    if isinstance(first, int | float):
        pieces.append(f"{labels['first_token']} {first:.2f}s")
    rate = timings.get("tokens_per_second")
    if isinstance(rate, int | float) and rate > 0:
        pieces.append(f"{rate:,.0f} tok/s")
    cost = state.counters.get("cost")
    if cost:
        pieces.append(f"{cost['amount']:.4f} {cost['currency']}")
    return " · ".join(pieces)


def static_html(state: FinalState) -> str:
    """Self-contained, sanitized HTML of the finished view (no scripts, no external resources)."""
    labels = LABELS.get(state.lang, LABELS["en"])
    out = ['<div class="tb-static">']
    if state.replay:
        label = labels["replay_illustrative" if state.replay.startswith(ILLUSTRATIVE_REPLAY) else "replay"]
        out.append(f"<p><em>{html.escape(label)}</em></p>")
    if state.reasoning:
        out.append(
            f"<details><summary>{html.escape(thought_summary(state))}</summary>"
            f'<pre style="white-space:pre-wrap">{html.escape(state.reasoning)}</pre></details>'
        )
    out.append(f'<div class="tb-answer">{state.answer_html}</div>')
    if state.status == "stopped":
        out.append(f"<p><em>{html.escape(labels['stopped'])}</em></p>")
    if state.error:
        out.append(f"<p><strong>{html.escape(labels['error'])}:</strong> {html.escape(state.error)}</p>")
    out.append(f"<p><small>{html.escape(counters_line(state))}</small></p>")
    out.append("</div>")
    return "".join(out)


def plain_text(state: FinalState) -> str:
    """The finished view as text: reasoning, answer (markdown source), counters."""
    labels = LABELS.get(state.lang, LABELS["en"])
    sections = []
    if state.reasoning:
        sections.append(f"[{thought_summary(state)}]\n{state.reasoning}")
    sections.append(f"[{labels['answer']}]\n{state.answer_markdown}")
    if state.status == "stopped":
        sections.append(labels["stopped"])
    if state.error:
        sections.append(f"{labels['error']}: {state.error}")
    sections.append(counters_line(state))
    return "\n\n".join(sections)
