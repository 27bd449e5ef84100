"""How each OpenAI-compatible server family spells the thinking options: one row per dialect.

Data of the ``openai`` protocol (:mod:`thinkbook._protocols.openai`); kept apart so that module
stays about the wire. No ``PROTOCOL`` here: the registry skips this module.

Effort (``effort="low"|"medium"|"high"``): DeepSeek, Ollama and OpenAI-dialect servers take
``reasoning_effort``, OpenRouter ``reasoning.effort``. Bailian and vLLM have no effort knob, only a
token budget, so a level becomes a budget (:data:`EFFORT_BUDGETS`): 1,024 tokens is enough to
check a short answer, 4,096 for a typical multi-step problem, 16,384 for competition-style
reasoning. Each level is 4x the last so the three stay clearly apart, and all three sit below the
smallest maximum reasoning length of Bailian's Qwen3 models (32k+), so no level is silently capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._catalog import lookup, served_only_by_bailian
from .._errors import ConfigurationError, warn_user
from .base import BodyInput, Effort

__all__ = [
    "DIALECTS",
    "EFFORT_BUDGETS",
    "HOST_DIALECTS",
    "SPELLINGS",
    "Spelling",
    "hint_gateway",
    "search_body_fields",
    "spelling_of",
    "thinking_fields",
]


# --- dialects: how each server family spells the thinking options ---------------------------

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Spelling:
    """One dialect's fields. A path is where a value goes in the body (``("reasoning", "effort")``
    is ``{"reasoning": {"effort": ...}}``); None: the dialect has no such field, the option is
    left out. ``enable_values`` replaces the bool (False, True) by what the server wants (None:
    send nothing). ``effort_as_budget``: the level becomes a budget (:data:`EFFORT_BUDGETS`)."""

    description: str
    enable: Path | None = None
    enable_values: tuple[Any, Any] = (False, True)
    budget: Path | None = None
    preserve: Path | None = None
    effort: Path | None = None
    effort_as_budget: bool = False
    # The budget is Bailian's thinking_budget: the catalog says which models take one.
    catalog_budget: bool = False
    # Said when enable/budget/preserve were given and the dialect has none of them.
    no_fields: str | None = None
    # Bailian web search (enable_search / search_options, top-level): only Bailian has it.
    search: bool = False
    # Whether an assistant turn's reasoning_content may go back in the history: strict servers
    # (OpenAI, Cerebras) answer 400 "property 'messages.N.assistant.reasoning_content' is
    # unsupported"; DeepSeek needs it on every assistant turn that called tools.
    reasoning_in_history: bool = True
    # DeepSeek thinking mode answers 400 "The reasoning_content in the thinking mode must be passed
    # back" for an assistant turn with tool_calls and no reasoning_content (even an empty one).
    reasoning_on_tool_turns: bool = False


EFFORT_BUDGETS: dict[Effort, int] = {"low": 1024, "medium": 4096, "high": 16384}

SPELLINGS: dict[str, Spelling] = {
    "bailian": Spelling(
        "top-level enable_thinking / thinking_budget (Bailian, and gateways such as LiteLLM in front of it)",
        enable=("enable_thinking",),
        budget=("thinking_budget",),
        preserve=("preserve_thinking",),
        effort_as_budget=True,
        catalog_budget=True,
        search=True,
    ),
    "vllm": Spelling(
        "chat_template_kwargs.enable_thinking / thinking_token_budget (vLLM, SGLang, llama.cpp)",
        # vLLM, llama.cpp and SGLang pass these to the model's chat template.
        enable=("chat_template_kwargs", "enable_thinking"),
        budget=("thinking_token_budget",),
        effort_as_budget=True,
    ),
    "deepseek": Spelling(
        "thinking: {type: enabled|disabled} (DeepSeek's API)",
        enable=("thinking", "type"),
        enable_values=("disabled", "enabled"),
        effort=("reasoning_effort",),
        reasoning_on_tool_turns=True,
    ),
    "openrouter": Spelling(
        "reasoning: {enabled, max_tokens} (OpenRouter)",
        enable=("reasoning", "enabled"),
        budget=("reasoning", "max_tokens"),
        effort=("reasoning", "effort"),
    ),
    "ollama": Spelling(
        "reasoning_effort: none to turn thinking off (Ollama)",
        enable=("reasoning_effort",),
        enable_values=("none", None),
        effort=("reasoning_effort",),
    ),
    "openai": Spelling(
        "no thinking fields (OpenAI, and servers that reject fields they do not know)",
        effort=("reasoning_effort",),
        reasoning_in_history=False,
        no_fields=(
            "dialect 'openai' has no field for enable_thinking, thinking_budget or preserve_thinking: they were "
            "left out of the request. Pass the server's own field instead (e.g. reasoning_effort='low'), or "
            "pick the dialect the server speaks (dialect='bailian', 'vllm', ...)"
        ),
    ),
}

# Which spelling of the thinking options each dialect sends, and so when to pick it.
DIALECTS: dict[str, str] = {name: spelling.description for name, spelling in SPELLINGS.items()}

# Hosts whose dialect is not their provider's: OpenAI's own API takes no thinking fields.
HOST_DIALECTS = {"api.openai.com": "openai"}


def _put(fields: dict[str, Any], path: Path, value: Any) -> None:
    for key in path[:-1]:
        fields = fields.setdefault(key, {})
    fields[path[-1]] = value


def spelling_of(dialect: str) -> Spelling:
    """The dialect's row (an unknown name reads as Bailian's, the common copy)."""
    return SPELLINGS.get(dialect, SPELLINGS["bailian"])


def search_body_fields(request: BodyInput) -> dict[str, Any]:
    """Bailian's web-search fields, top-level; a dialect without web search refuses them."""
    fields = dict(request.search or {})
    searches = spelling_of(request.dialect).search
    if not fields.get("enable_search"):
        # enable_search=False said explicitly: sent where search exists, nothing to turn off elsewhere.
        return fields if searches else {}
    if not searches:
        raise ConfigurationError(
            f"enable_search is Bailian's web search, and this server speaks the {request.dialect!r} dialect, which "
            f"has none ({request.base_url or 'this server'}): drop enable_search, or ask a Bailian model (the native "
            "protocol, protocol='dashscope', also returns the sources); behind a gateway in front of Bailian pass "
            "dialect='bailian'"
        )
    return fields


def thinking_fields(request: BodyInput) -> dict[str, Any]:
    """The thinking options in ``request.dialect``'s spelling (see :data:`SPELLINGS`)."""
    spelling = spelling_of(request.dialect)
    thinking = request.thinking
    enable, budget, preserve, effort = thinking.enable, thinking.budget, thinking.preserve, thinking.effort
    fields: dict[str, Any] = {}
    if spelling.no_fields and (enable is not None or budget is not None or preserve):
        warn_user(spelling.no_fields)
    if effort is not None and spelling.effort_as_budget:
        info = lookup(request.model) if spelling.catalog_budget else None
        if info is not None and not info.budget:
            raise ConfigurationError(
                f"effort={effort!r} becomes a thinking_budget on Bailian, and {info.name} has no such knob (only "
                "Qwen3-generation and Kimi models take one): drop effort, or turn thinking on and off with "
                "enable_thinking"
            )
        budget = EFFORT_BUDGETS[effort]
    if enable is not None and spelling.enable is not None:
        value = spelling.enable_values[enable]
        if value is not None:
            _put(fields, spelling.enable, value)
    if budget is not None and spelling.budget is not None:
        _put(fields, spelling.budget, budget)
    if preserve and spelling.preserve is not None:
        _put(fields, spelling.preserve, True)
    if effort is not None and spelling.effort is not None:
        _put(fields, spelling.effort, effort)
    return fields


def hint_gateway(request: BodyInput) -> None:
    """A Bailian-only model on a local address: most likely a gateway in front of Bailian."""
    if served_only_by_bailian(request.model):
        warn_user(
            f"{request.model} is served by Bailian, but {request.base_url} is a local address, so thinkbook spelled "
            "the thinking options the vLLM way (chat_template_kwargs). If this is LiteLLM or another gateway in "
            "front of Bailian, pass dialect='bailian' (or --dialect bailian) or Bailian ignores them; "
            "dialect='vllm' keeps this spelling without this note"
        )
