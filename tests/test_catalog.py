"""The thinking-model catalog against the Bailian "deep thinking" guide (:mod:`thinkbook._catalog`).

The expected tables below are transcribed from ``/work/shared/seeds/bailian-deep-thinking.txt``
(the "支持的模型" list, the preserve_thinking list and "thinking_budget参数支持 Qwen3(思考模式)与
Kimi模型"), not from the module.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from thinkbook._catalog import (
    MULTIMODAL_GENERATION_PATH,
    TEXT_GENERATION_PATH,
    ModelInfo,
    lookup,
    models,
    served_only_by_bailian,
)

HYBRID_ON = ("hybrid", True)  # 混合思考模式, 默认开启思考模式
HYBRID_OFF = ("hybrid", False)  # 混合思考模式, 默认不开启/关闭思考模式
ONLY = ("thinking-only", True)  # 仅思考模式 (always thinks)

# name -> (mode, thinks by default), as the guide's "支持的模型" section states it.
SEED_MODELS: dict[str, tuple[str, bool]] = {
    # Qwen3.7
    "qwen3.7-max": HYBRID_ON,
    "qwen3.7-max-2026-05-20": HYBRID_ON,
    "qwen3.7-max-2026-06-08": HYBRID_ON,
    "qwen3.7-max-preview": ONLY,
    "qwen3.7-max-2026-05-17": ONLY,
    "qwen3.7-plus": HYBRID_ON,
    "qwen3.7-plus-2026-05-26": HYBRID_ON,
    # Qwen3.6
    "qwen3.6-max-preview": HYBRID_ON,
    "qwen3.6-plus": HYBRID_ON,
    "qwen3.6-plus-2026-04-02": HYBRID_ON,
    "qwen3.6-flash": HYBRID_ON,
    "qwen3.6-flash-2026-04-16": HYBRID_ON,
    # Qwen3.5 commercial and open source
    "qwen3.5-plus": HYBRID_ON,
    "qwen3.5-plus-2026-02-15": HYBRID_ON,
    "qwen3.5-flash": HYBRID_ON,
    "qwen3.5-flash-2026-02-23": HYBRID_ON,
    "qwen3.5-397b-a17b": HYBRID_ON,
    "qwen3.5-122b-a10b": HYBRID_ON,
    "qwen3.5-27b": HYBRID_ON,
    "qwen3.5-35b-a3b": HYBRID_ON,
    # Qwen3 commercial
    "qwen3-max": HYBRID_OFF,
    "qwen3-max-2026-01-23": HYBRID_OFF,
    "qwen3-max-preview": HYBRID_OFF,
    "qwen-plus": HYBRID_OFF,
    "qwen-plus-latest": HYBRID_OFF,
    "qwen-plus-2025-04-28": HYBRID_OFF,
    "qwen-flash": HYBRID_OFF,
    "qwen-flash-2025-07-28": HYBRID_OFF,
    "qwen-turbo": HYBRID_OFF,
    # Qwen3 open source
    "qwen3-235b-a22b": HYBRID_ON,
    "qwen3-32b": HYBRID_ON,
    "qwen3-30b-a3b": HYBRID_ON,
    "qwen3-14b": HYBRID_ON,
    "qwen3-8b": HYBRID_ON,
    "qwen3-next-80b-a3b-thinking": ONLY,
    "qwen3-235b-a22b-thinking-2507": ONLY,
    "qwen3-30b-a3b-thinking-2507": ONLY,
    # QwQ
    "qwq-plus": ONLY,
    # DeepSeek
    "deepseek-v4-pro": HYBRID_ON,
    "deepseek-v4-flash": HYBRID_ON,
    "deepseek-v3.2": HYBRID_OFF,
    "deepseek-v3.2-exp": HYBRID_OFF,
    "deepseek-v3.1": HYBRID_OFF,
    "deepseek-r1": ONLY,
    "deepseek-r1-0528": ONLY,
    # GLM
    "glm-5.1": HYBRID_ON,
    "glm-5": HYBRID_ON,
    "glm-4.7": HYBRID_ON,
    "glm-4.6": HYBRID_ON,
    # Kimi
    "kimi-k2.6": HYBRID_OFF,
    "kimi-k2.5": HYBRID_OFF,
    "kimi-k2.7-code": ONLY,
    "kimi-k2-thinking": ONLY,
    # MiniMax
    "MiniMax-M2.5": ONLY,
}

# Named by the guide without a stated mode ("千问3.6 开源版:qwen3.6-35b-a3b").
SEED_MODELS_WITHOUT_MODE = ["qwen3.6-35b-a3b"]

# "preserve_thinking参数仅支持 ..." (Bailian deployments; the kimi/... Moonshot names are not
# catalog entries).
SEED_PRESERVE = {
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
}

# "thinking_budget参数支持 Qwen3(思考模式)与Kimi模型": Qwen3 generation (3, 3.5, 3.6, 3.7) and Kimi;
# QwQ (Qwen2.5-based), DeepSeek, GLM and MiniMax do not take it.
NO_BUDGET_PREFIXES = ("qwq", "deepseek", "glm", "minimax")

ALL_SEED_NAMES = [*SEED_MODELS, *SEED_MODELS_WITHOUT_MODE]


def _expects_budget(name: str) -> bool:
    return not name.lower().startswith(NO_BUDGET_PREFIXES)


def test_seed_table_is_complete() -> None:
    # Guard against the transcription above silently shrinking.
    assert len(ALL_SEED_NAMES) == 55
    assert len(SEED_PRESERVE) == 12


SEED_FILE = Path("/work/shared/seeds/bailian-deep-thinking.txt")


@pytest.mark.skipif(not SEED_FILE.exists(), reason="the guide's text is not available here")
def test_seed_table_matches_the_guide_text() -> None:
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "支持的模型")
    end = next(i for i, line in enumerate(lines) if i > start and line.strip() == "MiniMax")
    section = "\n".join(lines[start : end + 3])
    named = set(re.findall(r"(?:qwen|qwq|deepseek|glm|kimi|MiniMax)[A-Za-z0-9.\-]*", section))
    named.discard("MiniMax")  # the heading
    assert named == set(ALL_SEED_NAMES)


@pytest.mark.parametrize("name", ALL_SEED_NAMES)
def test_every_seed_model_is_in_the_catalog(name: str) -> None:
    info = lookup(name)
    assert isinstance(info, ModelInfo)
    assert info.name == name
    assert name in {m.name for m in models()}


@pytest.mark.parametrize(("name", "expected"), list(SEED_MODELS.items()))
def test_mode_and_default(name: str, expected: tuple[str, bool]) -> None:
    info = lookup(name)
    assert info is not None
    mode, default = expected
    assert info.mode == mode
    assert info.default_thinking is default
    assert info.thinking_only is (mode == "thinking-only")


@pytest.mark.parametrize("name", ALL_SEED_NAMES)
def test_budget_flag(name: str) -> None:
    info = lookup(name)
    assert info is not None
    assert info.budget is _expects_budget(name)


@pytest.mark.parametrize("name", ALL_SEED_NAMES)
def test_preserve_flag(name: str) -> None:
    info = lookup(name)
    assert info is not None
    assert info.preserve is (name in SEED_PRESERVE)


@pytest.mark.parametrize("name", ["qwen3-235b-a22b", "qwen3-8b", "qwen-plus-2025-04-28"])
def test_soft_switch_models(name: str) -> None:
    # "Qwen3 开源版混合思考模型以及 qwen-plus-2025-04-28 模型支持通过提示词动态控制思考模式"
    info = lookup(name)
    assert info is not None
    assert info.soft_switch is True


@pytest.mark.parametrize("name", ["qwen-plus", "qwen3.6-plus", "qwen3-235b-a22b-thinking-2507", "qwq-plus"])
def test_no_soft_switch_elsewhere(name: str) -> None:
    info = lookup(name)
    assert info is not None
    assert info.soft_switch is False


@pytest.mark.parametrize("name", ALL_SEED_NAMES)
def test_native_endpoint(name: str) -> None:
    info = lookup(name)
    assert info is not None
    newer = name.startswith(("qwen3.5", "qwen3.6", "qwen3.7"))
    assert info.native_endpoint == ("multimodal-generation" if newer else "text-generation")
    assert info.native_path == (MULTIMODAL_GENERATION_PATH if newer else TEXT_GENERATION_PATH)


def test_native_paths() -> None:
    assert TEXT_GENERATION_PATH == "/services/aigc/text-generation/generation"
    assert MULTIMODAL_GENERATION_PATH == "/services/aigc/multimodal-generation/generation"


def test_deepseek_own_api_reasoner_always_thinks() -> None:
    info = lookup("deepseek-reasoner")
    assert info is not None
    assert info.thinking_only


def test_model_names_are_unique() -> None:
    names = [m.name.lower() for m in models()]
    assert len(names) == len(set(names))


def test_models_returns_a_copy() -> None:
    first = models()
    first.clear()
    assert len(models()) >= len(ALL_SEED_NAMES)


# --- snapshots, unknown names, case ----------------------------------------------------------


@pytest.mark.parametrize(
    ("snapshot", "family"),
    [
        ("qwen-plus-2025-07-14", "qwen-plus"),
        ("qwen-plus-2025-09-11", "qwen-plus"),
        ("qwen-plus-2026-01-01", "qwen-plus"),
        ("qwen-flash-2025-10-01", "qwen-flash"),
        ("qwen-turbo-2025-07-15", "qwen-turbo"),
    ],
)
def test_later_dated_snapshots_resolve_to_family(snapshot: str, family: str) -> None:
    info = lookup(snapshot)
    base = lookup(family)
    assert info is not None and base is not None
    assert info.name == snapshot
    assert (info.mode, info.default_thinking, info.budget, info.preserve) == (
        base.mode,
        base.default_thinking,
        base.budget,
        base.preserve,
    )
    assert info.mode == "hybrid"
    assert info.default_thinking is False
    assert info.budget is True


def test_snapshot_lookup_is_case_insensitive() -> None:
    info = lookup("Qwen-Plus-2025-09-11")
    assert info is not None
    assert info.mode == "hybrid"


@pytest.mark.parametrize("snapshot", ["qwen-plus-2025-01-25", "qwen-plus-2024-12-20", "qwen-flash-2025-01-01"])
def test_snapshots_older_than_the_guide_are_unknown(snapshot: str) -> None:
    assert lookup(snapshot) is None


@pytest.mark.parametrize(
    "name",
    [
        "gpt-4o",
        "qwen-max",
        "qwen-plus-character",
        "qwen3.6",
        "llama3",
        "",
        "kimi/kimi-k2.6",
        "deepseek-chat",
    ],
)
def test_unknown_names_are_none(name: str) -> None:
    assert lookup(name) is None


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("QWEN-PLUS", "qwen-plus"),
        ("minimax-m2.5", "MiniMax-M2.5"),
        ("MINIMAX-M2.5", "MiniMax-M2.5"),
        ("QwQ-Plus", "qwq-plus"),
        ("Qwen3.6-Plus", "qwen3.6-plus"),
        ("DeepSeek-R1", "deepseek-r1"),
    ],
)
def test_lookup_is_case_insensitive(query: str, name: str) -> None:
    info = lookup(query)
    assert info is not None
    assert info.name == name


@pytest.mark.parametrize(
    ("model", "expected"),
    [("qwen-plus", True), ("qwen3.6-plus", True), ("qwen3-max-preview", True), ("qwq-plus", True),
     ("qwen-plus-2025-09-11", True), ("qwen3-8b", False), ("qwen3.6-35b-a3b", False), ("deepseek-v4-flash", False),
     ("deepseek-r1", False), ("Qwen/Qwen3-8B", False), ("my-plus-model", False)],
)  # fmt: skip
def test_served_only_by_bailian(model: str, expected: bool) -> None:
    assert served_only_by_bailian(model) is expected


def test_models_shows_as_one_table_not_a_wall_of_reprs() -> None:
    from IPython.lib.pretty import pretty

    import thinkbook

    table = thinkbook.models()
    text = pretty(table)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["model", "family", "thinking"]
    assert len(lines) == len(table) + 2  # header, one line per model, the count
    assert "ModelInfo(" not in text
    assert any(line.startswith("qwq-plus ") and "thinking-only" in line for line in lines)
    html = table._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == len(table) + 1
    assert isinstance(table, list) and table[0] == thinkbook.models()[0]


@pytest.mark.parametrize(
    ("name", "mode", "budget"),
    [
        ("qvq-max", "thinking-only", False),
        ("qvq-plus", "thinking-only", False),
        ("qwen3-vl-plus", "hybrid", True),
        ("qwen3-vl-flash-2025-10-15", "hybrid", True),
        ("qwen3-vl-235b-a22b-thinking", "thinking-only", True),
    ],
)
def test_vision_thinking_models_from_the_visual_reasoning_guide(name: str, mode: str, budget: bool) -> None:
    info = lookup(name)
    assert info is not None and info.vision and info.mode == mode and info.budget is budget
    assert info.native_path.endswith("/multimodal-generation/generation")


def test_text_only_models_are_not_marked_vision() -> None:
    for name in ("qwen-plus", "qwq-plus", "deepseek-r1", "qwen3.7-max", "glm-5"):
        info = lookup(name)
        assert info is not None and not info.vision, name
    assert all(lookup(n).vision for n in ("qwen3.6-plus", "qwen3.5-flash", "kimi-k2.6"))  # type: ignore[union-attr]
