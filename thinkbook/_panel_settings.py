"""A ChatPanel's settings: the controls widget and the rules that keep its values consistent.

The settings live in synced traits of :class:`ChatControls` (front end: ``js/chatpanel.js``). Two
ways change them: code (:func:`configure`, which refuses a combination the model cannot take with
a :class:`ConfigurationError`) and the browser (:func:`normalize`, which corrects it and returns
what it changed, for the ``notice`` line). ``effort`` ("low" / "medium" / "high", None for the
server's default) and ``thinking_budget`` are two spellings of "how hard to think": the one set
last wins, as :func:`thinkbook._request.check_effort` refuses both together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import anywidget
import traitlets

from ._errors import ConfigurationError
from ._panel_common import BUDGET_MAX, capabilities
from ._protocols.base import EFFORTS
from ._view import _js_dir

SETTINGS = (
    "model", "enable_thinking", "thinking_budget", "effort", "preserve_thinking", "system", "region", "base_url",
)  # fmt: skip


class ChatControls(anywidget.AnyWidget):
    """The ChatPanel's controls and session totals (front end: ``js/chatpanel.js``).

    Browser → kernel custom messages: ``{"t": "send", "text"}``, ``{"t": "stop"}``,
    ``{"t": "clear"}``, ``{"t": "export", "format": "md" | "json"}``; the kernel answers an
    export with ``{"t": "export", "format", "filename", "text"}``. Settings are synced traits
    that the panel validates (a value the model cannot take is corrected and ``notice`` says why).
    """

    _esm = _js_dir() / "chatpanel.js"
    _css = _js_dir() / "panels.css"

    lang = traitlets.Unicode("en").tag(sync=True)
    choices: traitlets.List[Any] = traitlets.List().tag(sync=True)
    regions: traitlets.List[Any] = traitlets.List().tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    caps = traitlets.Dict().tag(sync=True)
    enable_thinking = traitlets.Bool(None, allow_none=True).tag(sync=True)
    thinking_budget = traitlets.Int(None, allow_none=True).tag(sync=True)
    budget_max = traitlets.Int(BUDGET_MAX).tag(sync=True)
    # "low" / "medium" / "high"; None (the dropdown's "default"): the server decides.
    effort = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    efforts: traitlets.List[Any] = traitlets.List(list(EFFORTS)).tag(sync=True)
    preserve_thinking = traitlets.Bool(False).tag(sync=True)
    system = traitlets.Unicode("").tag(sync=True)
    region = traitlets.Unicode("").tag(sync=True)
    base_url = traitlets.Unicode("").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    turns = traitlets.Int(0).tag(sync=True)
    totals = traitlets.Dict().tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    # Identifies the panel to its front end across redraws (the prompt's draft survives them).
    uid = traitlets.Unicode().tag(sync=True)

    @traitlets.default("uid")
    def _default_uid(self) -> str:
        return uuid.uuid4().hex


def configure(controls: ChatControls, settings: Mapping[str, Any]) -> None:
    """Set ``settings`` from code, refusing what the model cannot take (see the module docstring)."""
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ConfigurationError(f"unknown ChatPanel setting(s): {', '.join(sorted(unknown))}")
    c = controls
    model = settings.get("model", c.model)
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError("model must be a non-empty string")
    caps = capabilities(model.strip())
    enable = settings.get("enable_thinking", c.enable_thinking)
    budget = settings.get("thinking_budget", c.thinking_budget)
    effort = settings.get("effort", c.effort) or None
    if caps["thinking_locked"] and enable is False and "enable_thinking" in settings:
        raise ConfigurationError(f"{model} is a thinking-only model: its thinking cannot be turned off")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0):
        raise ConfigurationError(f"thinking_budget must be a positive integer number of tokens, got {budget!r}")
    if budget is not None and "thinking_budget" in settings:
        if not caps["budget"]:
            raise ConfigurationError(f"thinking_budget does not apply to {model}")
        if enable is False:
            raise ConfigurationError("thinking_budget was given with enable_thinking=False: pick one")
    if effort is not None and "effort" in settings:
        _check_effort(model, caps, effort, enable, budget if "thinking_budget" in settings else None)
    with c.hold_trait_notifications():
        for key in ("system", "region", "base_url"):
            if key in settings:
                setattr(c, key, settings[key] or "")
        c.model = model.strip()
        c.enable_thinking = enable
        if "effort" in settings:  # the one given now wins over the other one set before
            c.thinking_budget = None if effort is not None else budget
            c.effort = effort
        if "thinking_budget" in settings:
            c.effort = None if budget is not None else effort
            c.thinking_budget = budget
        if "preserve_thinking" in settings:
            c.preserve_thinking = bool(settings["preserve_thinking"])
    normalize(controls)


def _check_effort(model: str, caps: Mapping[str, Any], effort: object, enable: object, budget: object) -> None:
    if effort not in EFFORTS:
        choices = ", ".join(repr(level) for level in EFFORTS)
        raise ConfigurationError(f"effort must be one of {choices} (or None for the server's default), got {effort!r}")
    if not caps["effort"]:
        raise ConfigurationError(
            f"effort does not apply to {model}: on Bailian it becomes a thinking budget, and {model} takes none"
        )
    if enable is False:
        raise ConfigurationError(f"effort={effort!r} was given with enable_thinking=False: pick one")
    if budget is not None:
        raise ConfigurationError("effort and thinking_budget were both given: pick one")


def normalize(controls: ChatControls, changed: str | None = None) -> str:
    """Make the controls consistent with the model; returns what had to change (for ``notice``).

    ``changed``: the setting the browser just changed (an effort chosen clears the budget, and
    the other way round).
    """
    c = controls
    caps = capabilities(c.model)
    notes = []
    with c.hold_trait_notifications():
        c.caps = caps
        if c.effort is not None and c.effort not in EFFORTS:  # (the dropdown's "default" may come as "")
            c.effort = None
        if caps["thinking_locked"] and c.enable_thinking is not None:
            if c.enable_thinking is False:
                notes.append(f"{c.model} always thinks")
            c.enable_thinking = None
        if c.thinking_budget is not None and (c.thinking_budget <= 0 or not caps["budget"]):
            if c.thinking_budget > 0:
                notes.append(f"{c.model} takes no thinking budget")
            c.thinking_budget = None
        if c.effort is not None and not caps["effort"]:
            notes.append(f"{c.model} takes no effort level")
            c.effort = None
        if c.enable_thinking is False:
            c.thinking_budget = c.effort = None
        if c.effort is not None and c.thinking_budget is not None:
            if changed == "thinking_budget":
                c.effort = None
            else:
                c.thinking_budget = None
        if c.preserve_thinking and not caps["preserve"]:
            notes.append(f"{c.model} cannot preserve thinking")
            c.preserve_thinking = False
    return "; ".join(notes)
