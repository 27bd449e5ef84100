"""The thinking-model catalog, built from Alibaba Cloud Bailian's "deep thinking" guide (Jun 2026).

Every model the guide names is here with its thinking mode, whether ``thinking_budget`` applies,
whether ``preserve_thinking`` applies, and which DashScope-native endpoint it uses. Names not in the
catalog still work: the catalog only adds early, friendly checks.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from html import escape
from typing import Any, Literal

ThinkingMode = Literal["hybrid", "thinking-only"]
NativeEndpoint = Literal["text-generation", "multimodal-generation"]

TEXT_GENERATION_PATH = "/services/aigc/text-generation/generation"
MULTIMODAL_GENERATION_PATH = "/services/aigc/multimodal-generation/generation"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What thinkbook knows about one model.

    ``default_thinking`` is what the server does when ``enable_thinking`` is not sent (always True
    for thinking-only models). ``soft_switch`` means ``/think`` and ``/no_think`` in the prompt
    toggle thinking per turn.
    """

    name: str
    family: str
    mode: ThinkingMode
    default_thinking: bool
    budget: bool
    preserve: bool = False
    soft_switch: bool = False
    native_endpoint: NativeEndpoint = "text-generation"
    # Takes images (images=...): the visual-reasoning models of Bailian's guide.
    vision: bool = False

    @property
    def thinking_only(self) -> bool:
        return self.mode == "thinking-only"

    @property
    def native_path(self) -> str:
        """Path after the native base URL (``.../api/v1``)."""
        if self.native_endpoint == "multimodal-generation":
            return MULTIMODAL_GENERATION_PATH
        return TEXT_GENERATION_PATH


def _group(
    names: str,
    family: str,
    mode: ThinkingMode,
    default_thinking: bool,
    *,
    budget: bool = False,
    preserve: tuple[str, ...] = (),
    soft_switch: bool = False,
    vision: bool = False,
) -> list[ModelInfo]:
    models = []
    for name in names.split():
        models.append(
            ModelInfo(
                name=name,
                family=family,
                mode=mode,
                default_thinking=default_thinking or mode == "thinking-only",
                budget=budget,
                preserve=name in preserve,
                soft_switch=soft_switch,
                native_endpoint=native_endpoint_for(name),
                vision=vision or name in _VISION,
            )
        )
    return models


def native_endpoint_for(model: str) -> NativeEndpoint:
    """Qwen3.5 and later are served only by the multimodal endpoint (the text one says "url error")."""
    lowered = model.lower()
    if lowered.startswith(("qwen3.5", "qwen3.6", "qwen3.7", "qwen3-vl", "qvq")):
        return "multimodal-generation"
    return "text-generation"


# The guide: preserve_thinking is supported only by these (Bailian deployments).
_PRESERVE = (
    "qwen3.7-max",
    "qwen3.7-max-2026-05-20",
    "qwen3.7-max-2026-06-08",
    "qwen3.7-max-preview",
    "qwen3.7-max-2026-05-17",
    "qwen3.7-plus",
    "qwen3.7-plus-2026-05-26",
    "qwen3.6-max-preview",
    "qwen3.6-plus",
    "qwen3.6-plus-2026-04-02",
    "kimi-k2.7-code",
    "kimi-k2.6",
)

# Bailian's visual-reasoning guide (alibabacloud.com/help/en/model-studio/visual-reasoning, checked
# Dec 2026) lists these hybrid models as taking images, besides the Qwen3-VL and QVQ groups below.
_VISION = frozenset(
    [
        "qwen3.7-plus",
        "qwen3.7-plus-2026-05-26",
        "qwen3.6-plus",
        "qwen3.6-plus-2026-04-02",
        "qwen3.6-flash",
        "qwen3.6-flash-2026-04-16",
        "qwen3.6-35b-a3b",
        "qwen3.5-plus",
        "qwen3.5-plus-2026-02-15",
        "qwen3.5-flash",
        "qwen3.5-flash-2026-02-23",
        "qwen3.5-397b-a17b",
        "qwen3.5-122b-a10b",
        "qwen3.5-27b",
        "qwen3.5-35b-a3b",
        "kimi-k2.6",
        "kimi-k2.5",
    ]
)

# "thinking_budget 参数支持 Qwen3（思考模式）与 Kimi 模型": every Qwen3-generation model
# (3, 3.5, 3.6, 3.7, commercial and open) and Kimi; not QwQ, DeepSeek, GLM or MiniMax.
_CATALOG: list[ModelInfo] = [
    *_group(
        "qwen3.7-max qwen3.7-max-2026-05-20 qwen3.7-max-2026-06-08",
        "Qwen3.7",
        "hybrid",
        True,
        budget=True,
        preserve=_PRESERVE,
    ),
    *_group(
        "qwen3.7-max-preview qwen3.7-max-2026-05-17", "Qwen3.7", "thinking-only", True, budget=True, preserve=_PRESERVE
    ),
    *_group("qwen3.7-plus qwen3.7-plus-2026-05-26", "Qwen3.7", "hybrid", True, budget=True, preserve=_PRESERVE),
    *_group(
        "qwen3.6-max-preview qwen3.6-plus qwen3.6-plus-2026-04-02 qwen3.6-flash "
        "qwen3.6-flash-2026-04-16 qwen3.6-35b-a3b",
        "Qwen3.6",
        "hybrid",
        True,
        budget=True,
        preserve=_PRESERVE,
    ),
    *_group(
        "qwen3.5-plus qwen3.5-plus-2026-02-15 qwen3.5-flash qwen3.5-flash-2026-02-23 "
        "qwen3.5-397b-a17b qwen3.5-122b-a10b qwen3.5-27b qwen3.5-35b-a3b",
        "Qwen3.5",
        "hybrid",
        True,
        budget=True,
    ),
    *_group("qwen3-max qwen3-max-2026-01-23 qwen3-max-preview", "Qwen3", "hybrid", False, budget=True),
    *_group(
        "qwen-plus qwen-plus-latest qwen-flash qwen-flash-2025-07-28 qwen-turbo", "Qwen3", "hybrid", False, budget=True
    ),
    # qwen-plus-2025-04-28 is the one commercial snapshot the guide names for /think, /no_think.
    *_group("qwen-plus-2025-04-28", "Qwen3", "hybrid", False, budget=True, soft_switch=True),
    *_group(
        "qwen3-235b-a22b qwen3-32b qwen3-30b-a3b qwen3-14b qwen3-8b",
        "Qwen3",
        "hybrid",
        True,
        budget=True,
        soft_switch=True,
    ),
    *_group(
        "qwen3-next-80b-a3b-thinking qwen3-235b-a22b-thinking-2507 qwen3-30b-a3b-thinking-2507",
        "Qwen3",
        "thinking-only",
        True,
        budget=True,
    ),
    *_group("qwq-plus", "QwQ", "thinking-only", True),
    # Vision thinking models (the guide's FAQ: "Qwen3-VL、QVQ 模型支持图片深度思考"); names from
    # Bailian's visual-reasoning page. Qwen3-VL is Qwen3-generation: it takes thinking_budget.
    *_group(
        "qwen3-vl-plus qwen3-vl-plus-2025-12-19 qwen3-vl-plus-2025-09-23 qwen3-vl-flash qwen3-vl-flash-2025-10-15",
        "Qwen3-VL",
        "hybrid",
        False,
        budget=True,
        vision=True,
    ),
    *_group(
        "qwen3-vl-235b-a22b-thinking qwen3-vl-32b-thinking qwen3-vl-30b-a3b-thinking qwen3-vl-8b-thinking",
        "Qwen3-VL",
        "thinking-only",
        True,
        budget=True,
        vision=True,
    ),
    *_group("qvq-max qvq-plus", "QVQ", "thinking-only", True, vision=True),
    *_group("deepseek-v4-pro deepseek-v4-flash", "DeepSeek", "hybrid", True),
    *_group("deepseek-v3.2 deepseek-v3.2-exp deepseek-v3.1", "DeepSeek", "hybrid", False),
    *_group(
        "deepseek-r1 deepseek-r1-0528 deepseek-r1-distill-qwen-1.5b deepseek-r1-distill-qwen-7b "
        "deepseek-r1-distill-qwen-14b deepseek-r1-distill-qwen-32b deepseek-r1-distill-llama-8b "
        "deepseek-r1-distill-llama-70b",
        "DeepSeek",
        "thinking-only",
        True,
    ),
    *_group("glm-5.1 glm-5 glm-4.7 glm-4.6", "GLM", "hybrid", True),
    *_group("kimi-k2.6 kimi-k2.5", "Kimi", "hybrid", False, budget=True, preserve=_PRESERVE),
    *_group("kimi-k2.7-code kimi-k2-thinking", "Kimi", "thinking-only", True, budget=True, preserve=_PRESERVE),
    *_group("MiniMax-M2.5", "MiniMax", "thinking-only", True),
    # DeepSeek's own API (api.deepseek.com): the reasoner always thinks; the chat model does not.
    *_group("deepseek-reasoner", "DeepSeek", "thinking-only", True),
]

_BY_NAME: dict[str, ModelInfo] = {m.name.lower(): m for m in _CATALOG}

# "qwen-plus-2025-04-28 及之后的快照版模型": older snapshots of these families cannot think.
_FIRST_THINKING_SNAPSHOT = {"qwen-plus": "2025-04-28", "qwen-flash": "2025-07-28", "qwen-turbo": "2025-04-28"}


def _is_date(text: str) -> bool:
    parts = text.split("-")
    return len(parts) == 3 and all(p.isdigit() for p in parts) and [len(p) for p in parts] == [4, 2, 2]


def lookup(model: str) -> ModelInfo | None:
    """The catalog entry for ``model`` (case-insensitive), or None for models thinkbook doesn't know.

    Dated snapshots of a catalog family that the guide covers with "and later snapshots"
    (``qwen-plus-2025-09-11``, ``qwen-flash-2025-10-01``, ``qwen-turbo-2025-...``) resolve to their
    family's entry.
    """
    key = model.lower()
    if key in _BY_NAME:
        return _BY_NAME[key]
    for family, first_thinking_snapshot in _FIRST_THINKING_SNAPSHOT.items():
        snapshot = key.removeprefix(family + "-")
        if snapshot != key and _is_date(snapshot) and snapshot >= first_thinking_snapshot:
            return dataclasses.replace(_BY_NAME[family], name=model)
    return None


_COMMERCIAL_TIERS = re.compile(r"-(plus|max|flash|turbo)(\b|-)")


def served_only_by_bailian(model: str) -> bool:
    """A catalog name of Bailian's own commercial tiers (``qwen-plus``, ``qwen3.6-flash``, ``qwq-plus``...).

    Open-weight names (``qwen3-8b``, ``deepseek-r1``, ``glm-5``) may also be served locally by vLLM
    or Ollama; these may not, so on a local address they mean a gateway in front of Bailian.
    """
    info = lookup(model)
    return (
        info is not None
        and info.family.startswith(("Qwen", "QwQ"))
        and _COMMERCIAL_TIERS.search(info.name.lower()) is not None
    )


_TABLE_COLUMNS = ("model", "family", "thinking", "default", "budget", "preserve", "/think")


def _table_row(info: ModelInfo) -> tuple[str, ...]:
    def mark(flag: bool) -> str:
        return "yes" if flag else ""

    return (
        info.name,
        info.family,
        info.mode,
        "on" if info.default_thinking else "off",
        mark(info.budget),
        mark(info.preserve),
        mark(info.soft_switch),
    )


class ModelTable(list[ModelInfo]):
    """The catalog as a list that shows itself as one table (not a wall of reprs) in a notebook."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        rows = [_TABLE_COLUMNS, *(_table_row(info) for info in self)]
        widths = [max(len(row[column]) for row in rows) for column in range(len(_TABLE_COLUMNS))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
        printer.text("\n".join([*lines, f"({len(self)} models; thinkbook.models() is a list of ModelInfo)"]))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(column)}</th>" for column in _TABLE_COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in _table_row(info)) + "</tr>" for info in self
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def models() -> ModelTable:
    """Every catalog model, in the guide's order (newest families first), as a list.

    In a notebook it shows as one table (model, family, thinking mode, default, budget, preserve,
    ``/think`` soft switch).

    >>> [m.name for m in models() if m.family == "QwQ"]
    ['qwq-plus']
    """
    return ModelTable(_CATALOG)
