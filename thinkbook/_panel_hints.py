"""What a ChatPanel says when a message cannot be sent: one line, in the panel's own words.

The first thing a new user does offline is type a question into ``ChatPanel(model="qwen-plus")``
with no API key. ``think()`` then raises :class:`~thinkbook.MissingAPIKeyError` with the nearest
recording spelled as Python / ``%%think`` options; a panel user has checkboxes instead, so
:func:`unsent_line` names the controls to change (tick "Thinking", pick a model, set the budget)
to play the recording that answers this message, or says that only recorded messages replay.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ._errors import MissingAPIKeyError, ThinkbookError
from ._replay import Recording, _all_recordings, _keeps_reasoning, _normalize, _text_of, _thinks

_WORDS = {
    "en": {
        "unsent": "Not sent",
        "key": "no API key for {model}: set the {variable} environment variable (or pass api_key=... to the panel)",
        "offline": "Offline, a recording answers this message: {changes}, then send it again",
        "none": "offline, only recorded messages replay (thinkbook.recordings() lists them)",
        "model": "pick the model {value}",
        "thinking_on": "tick Thinking",
        "thinking_off": "untick Thinking",
        "budget": "set Thinking budget to {value}",
        "no_budget": "set Thinking budget back to the model default",
        "preserve_on": "tick Preserve thinking",
        "preserve_off": "untick Preserve thinking",
        "and": " and ",
        ":": ": ",
    },
    "zh": {
        "unsent": "未发送",
        "key": "{model} 没有 API key：请设置环境变量 {variable}（或给面板传入 api_key=...）",
        "offline": "离线时有一段录制能回答这条消息：{changes}，然后重新发送",
        "none": "离线时只能回放录制过的消息（thinkbook.recordings() 列出它们）",
        "model": "选择模型 {value}",
        "thinking_on": "勾选“深度思考”",
        "thinking_off": "取消勾选“深度思考”",
        "budget": "把思考预算设为 {value}",
        "no_budget": "把思考预算改回模型默认",
        "preserve_on": "勾选“保留思考过程”",
        "preserve_off": "取消勾选“保留思考过程”",
        "and": "，",
        ":": "：",
    },
}


def _changes(recording: Recording, settings: dict[str, Any], messages: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """The panel controls to change so that the next request is the one ``recording`` answers."""
    model = settings["model"]
    changes: list[tuple[str, Any]] = []
    if recording.model.lower() != model.lower():
        changes.append(("model", recording.model))
    recorded = _thinks(recording.model, recording.enable_thinking)
    wanted = _thinks(recording.model, settings["enable_thinking"])
    if recorded is not None and wanted is not None and recorded != wanted:
        changes.append(("thinking_on" if recorded else "thinking_off", None))
    if recording.thinking_budget != settings["thinking_budget"]:
        budget = recording.thinking_budget
        changes.append(("budget", budget) if budget else ("no_budget", None))
    keeps = _keeps_reasoning(settings["preserve_thinking"], messages)
    if _keeps_reasoning(recording.preserve_thinking, recording.messages) != keeps:
        changes.append(("preserve_off" if keeps else "preserve_on", None))
    return changes


def nearest_recording(settings: dict[str, Any], messages: list[dict[str, Any]]) -> list[tuple[str, Any]] | None:
    """The fewest control changes that make a recording answer ``messages`` (None: no recording does).

    ``settings``: the panel's ``model``, ``enable_thinking``, ``thinking_budget``,
    ``preserve_thinking``. Recordings in ``./recordings`` count, as for ``think()``.
    """
    wanted = [_normalize(_text_of(m.get("content"))) for m in messages if m.get("role") == "user"]
    local = Path.cwd() / "recordings"
    best: list[tuple[str, Any]] | None = None
    for recording in _all_recordings((local,) if local.is_dir() else ()):
        if [_normalize(turn) for turn in recording.user_turns] != wanted:
            continue
        changes = _changes(recording, settings, messages)
        if best is None or len(changes) < len(best):
            best = changes
    return best


def unsent_line(
    error: BaseException, settings: dict[str, Any], messages: list[dict[str, Any]], lang: str = "en"
) -> str:
    """One line for a message the panel could not send: why, and what to do.

    ``messages``: the request's messages (history and the new user message).
    """
    words = _WORDS.get(lang, _WORDS["en"])
    if isinstance(error, MissingAPIKeyError) and error.variable:
        line = words["key"].format(model=settings["model"], variable=error.variable)
        changes = nearest_recording(settings, messages)
        if changes:
            steps = words["and"].join(words[kind].format(value=value) for kind, value in changes)
            tail = words["offline"].format(changes=steps)
        else:
            tail = words["none"]
        end = "。" if lang == "zh" else ". "
        return f"{words['unsent']}{words[':']}{line}{end}{tail}{end.strip()}"
    text = error.message if isinstance(error, ThinkbookError) else str(error)
    return f"{words['unsent']}{words[':']}{' '.join((text or type(error).__name__).split())}"


def user_bubble(text: str, lang: str, unsent: str | None = None) -> str:
    """A user message as HTML (escaped); ``unsent``: the line saying why it was not sent."""
    who = "你" if lang == "zh" else "You"
    if unsent is None:
        return (
            f'<div class="tb-user" data-tb="user" role="note" aria-label="{who}"><span class="tb-who">{who}</span>'
            f'<div class="tb-user-text">{html.escape(text)}</div></div>'
        )
    label = who + (" · 未发送" if lang == "zh" else " · not sent")
    return (
        f'<div class="tb-user tb-unsent" data-tb="unsent" role="note" aria-label="{label}">'
        f'<span class="tb-who">{label}</span><div class="tb-user-text">{html.escape(text)}</div></div>'
        f'<div class="tb-chat-error" data-tb="chat-error" role="alert">{html.escape(unsent)}</div>'
    )
