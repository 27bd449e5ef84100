"""The static rendering's tool-loop parts: tool call cards, answer text between rounds, input
image thumbnails and web sources (used by :mod:`thinkbook._fallback`).

Plain structure first, so it reads where classes, styles and scripts are stripped (GitHub): a
tool card is a ``<details>`` whose summary names the tool and its outcome, with the arguments
and the result as escaped text in ``<pre><code>``; images are ``<img>`` with ``alt``, ``width``
and ``height`` attributes; sources are the sanitized markdown list of ``_search.sources_markdown``.
The item dicts are those of :mod:`thinkbook._view_timeline`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["TOOL_LABELS", "images_html", "say_html", "sources_block", "split_reasoning", "tool_card", "tool_line"]

TOOL_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "tool": "Tool",
        "arguments": "Arguments",
        "result": "Result",
        "error_label": "Error",
        "more": "{n} more characters",
        "run": "running…",
        "ask": "waiting for approval",
        "ok": "✓",
        "err": "✗ error",
        "skip": "skipped",
        "req": "requested: not run here",
        "stop": "interrupted",
        "run_button": "Run",
        "skip_button": "Skip",
        "ask_question": "Run this tool call?",
        "continued": "Reasoning, continued",
        "sources": "Sources",
        "images": "Input images",
    },
    "zh": {
        "tool": "工具",
        "arguments": "参数",
        "result": "结果",
        "error_label": "错误",
        "more": "{n} 个字符未显示",
        "run": "运行中…",
        "ask": "等待确认",
        "ok": "✓",
        "err": "✗ 出错",
        "skip": "已跳过",
        "req": "已请求：未在此运行",
        "stop": "已中断",
        "run_button": "运行",
        "skip_button": "跳过",
        "ask_question": "运行这次工具调用？",
        "continued": "继续思考",
        "sources": "来源",
        "images": "输入图片",
    },
}

_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$")
_HTTPS = re.compile(r"^https://[^\s\"'<>\\]+$")
PREVIEW_CHARS = 60
_SIZES = (("width", "w"), ("height", "h"))


def tool_labels(lang: str) -> dict[str, str]:
    return TOOL_LABELS.get(lang, TOOL_LABELS["en"])


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def preview(arguments: str) -> str:
    """The arguments on one line, cut: what a folded card shows next to the tool's name."""
    line = " ".join(arguments.split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


def outcome(item: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """ "✓ 0.31s", "✗ error · 0.02s", "skipped"...: the card's status words."""
    state = str(item.get("st") or "")
    words = labels.get(state, state)
    seconds = item.get("sec")
    if state in ("ok", "err") and _number(seconds):
        words = f"{words} {seconds:.2f}s" if state == "ok" else f"{words} · {seconds:.2f}s"
    return words


def _text_block(label: str, text: str, more: Any, labels: Mapping[str, str]) -> str:
    out = f"<p><strong>{html.escape(label)}</strong></p><pre><code>{html.escape(text)}</code></pre>"
    if _count(more):
        out += f"<p><small>{html.escape(labels['more'].format(n=f'{_count(more):,}'))}</small></p>"
    return out


def tool_card(item: Mapping[str, Any], lang: str) -> str:
    """One call as a folded ``<details>`` (every text escaped: the model and the tool wrote it)."""
    labels = tool_labels(lang)
    name = str(item.get("name") or "?")
    arguments = str(item.get("args") or "")
    state = html.escape(str(item.get("st") or ""))
    summary = (
        f"{html.escape(labels['tool'])} <code>{html.escape(name)}</code> "
        f"<small>{html.escape(preview(arguments))}</small> · {html.escape(outcome(item, labels))}"
    )
    body = _text_block(labels["arguments"], arguments or "{}", item.get("args_more"), labels)
    if item.get("err") is not None:
        body += _text_block(labels["error_label"], str(item["err"]), item.get("err_more"), labels)
    elif item.get("res") is not None:
        body += _text_block(labels["result"], str(item["res"]), item.get("res_more"), labels)
    return f'<details class="tb-tool tb-tool-{state}" data-tb="tool"><summary>{summary}</summary>{body}</details>'


def say_html(item: Mapping[str, Any]) -> str:
    """Answer text a round wrote before its tool calls (sanitized HTML, rendered by the view)."""
    return f'<div class="tb-say">{item.get("html") or ""}</div>'


def tool_line(item: Mapping[str, Any], lang: str) -> str:
    """The call as one line of plain text (the ``text/plain`` output)."""
    labels = tool_labels(lang)
    arguments = preview(str(item.get("args") or ""))
    line = f"[{labels['tool']} {item.get('name') or '?'} {arguments} · {outcome(item, labels)}]"
    detail = item.get("err") if item.get("err") is not None else item.get("res")
    if detail is not None:
        text = " ".join(str(detail).split())
        line += " " + (text if len(text) <= 200 else text[:199] + "…")
    return line


def images_html(images: Sequence[Mapping[str, Any]], lang: str) -> str:
    """Thumbnails (only data:image/... and https URLs become ``<img>``; the rest is described)."""
    if not images:
        return ""
    parts = []
    for image in images:
        src, alt = str(image.get("src") or ""), html.escape(str(image.get("alt") or "image"))
        if _DATA_IMAGE.match(src) or _HTTPS.match(src):
            sizes = [(attribute, _count(image.get(key))) for attribute, key in _SIZES]
            size = "".join(f' {attribute}="{value}"' for attribute, value in sizes if value)
            size = size or ' height="96"'
            parts.append(f'<img src="{html.escape(src)}" alt="{alt}"{size} referrerpolicy="no-referrer">')
        else:
            parts.append(f"<small>[{alt}]</small>")
    label = html.escape(tool_labels(lang)["images"])
    return f'<p class="tb-imgs" data-tb="images" aria-label="{label}">{" ".join(parts)}</p>'


def sources_block(sources_html: str, lang: str) -> str:
    if not sources_html:
        return ""
    label = html.escape(tool_labels(lang)["sources"])
    return f'<div class="tb-sources" data-tb="sources"><p><strong>{label}</strong></p>{sources_html}</div>'


def split_reasoning(reasoning: str, items: Sequence[dict[str, Any]]) -> list[str]:
    """The reasoning cut at the items' offsets: ``len(items) + 1`` segments (some empty).

    Offsets count UTF-16 code units (the browser's measure); out-of-order or out-of-range
    offsets are clamped, so a damaged state still shows all of the text once.
    """
    if not items:
        return [reasoning]
    units = reasoning.encode("utf-16-le")
    segments, last = [], 0
    for item in items:
        at = item.get("at")
        cut = max(last, min(len(units), 2 * at if isinstance(at, int) else last))
        segments.append(units[last:cut].decode("utf-16-le", errors="replace"))
        last = cut
    segments.append(units[last:].decode("utf-16-le", errors="replace"))
    return segments
