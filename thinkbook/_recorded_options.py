"""What a recorded request asked for, read in its own protocol's spelling.

A recording keeps the request body as its protocol wrote it: ``enable_thinking`` /
``thinking_budget`` (OpenAI-compatible, DashScope native under ``parameters``, Bailian's
Responses), ``thinking: {"type": "enabled" | "adaptive" | "disabled", "budget_tokens"}`` and
``output_config.effort`` (Anthropic), ``generationConfig.thinkingConfig`` (Gemini:
``thinkingBudget``, 0 = off, -1 = dynamic; ``thinkingLevel``), ``reasoning.effort`` (OpenAI
Responses, OpenRouter) or ``reasoning_effort`` (DeepSeek, Ollama). The offline lookup and
``thinkbook.recordings()`` need one answer whatever the spelling: did it think, with what budget,
at what level, and which turns it holds (``messages``, Responses ``input`` items, Gemini
``contents``), as chat messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordedThinking:
    """A recorded request's thinking options (None: it left the choice to the model)."""

    enable: bool | None = None
    budget: int | None = None
    effort: str | None = None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def recorded_thinking(request: dict[str, Any]) -> RecordedThinking:
    """The thinking options of a recorded request body, read from the fields it holds (every
    protocol's spelling: no branch on a protocol's name); a missing option is the model's default."""
    options = {**_dict(request.get("parameters")), **request}  # DashScope native nests them
    enable = options.get("enable_thinking")
    enable = enable if isinstance(enable, bool) else None
    budget = _int(options.get("thinking_budget"))
    effort = (
        options.get("reasoning_effort")
        or _dict(options.get("reasoning")).get("effort")
        or _dict(options.get("output_config")).get("effort")  # Anthropic
    )
    thinking = options.get("thinking")
    if isinstance(thinking, dict):  # Anthropic
        kind = thinking.get("type")
        enable = True if kind in ("enabled", "adaptive") else False if kind == "disabled" else enable
        budget = _int(thinking.get("budget_tokens")) or budget
    config = _dict(_dict(options.get("generationConfig")).get("thinkingConfig"))
    if config:  # Gemini
        gemini_budget = _int(config.get("thinkingBudget"))
        if gemini_budget == 0:
            enable = False
        elif gemini_budget is not None or config.get("includeThoughts") or config.get("thinkingLevel"):
            enable = True
        budget = gemini_budget if gemini_budget is not None and gemini_budget > 0 else budget
        effort = config.get("thinkingLevel") or effort
    if effort is not None and not isinstance(effort, str):
        effort = None
    return RecordedThinking(enable, budget, effort)


def recorded_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The turns of a recorded request as chat messages (``role``, ``content``), for any protocol."""
    messages = request.get("messages")
    if messages is None:
        messages = _dict(request.get("input")).get("messages")  # DashScope native
    if messages is None and isinstance(request.get("input"), list):  # Responses: role items (not reasoning ones)
        messages = [item for item in request["input"] if isinstance(item, dict) and "role" in item]
    if messages is None and isinstance(request.get("contents"), list):  # Gemini
        messages = [
            {"role": "assistant" if c.get("role") == "model" else c.get("role", "user"), "content": c.get("parts")}
            for c in request["contents"]
            if isinstance(c, dict)
        ]
    return [m for m in messages or [] if isinstance(m, dict)]
