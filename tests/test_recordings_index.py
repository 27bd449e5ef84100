"""thinkbook.recordings(): the table of what replays offline."""

from __future__ import annotations

from pathlib import Path

from thinkbook._recordings_index import recordings


def test_recordings_lists_the_shipped_files_with_how_they_play(tmp_path: Path) -> None:
    table = recordings(tmp_path / "none")
    whoami = next(e for e in table if e.file == "qwen-plus-whoami.jsonl")
    assert (whoami.model, whoami.thinking, whoami.prompt, whoami.illustrative) == ("qwen-plus", "on", "你是谁", False)
    budget = next(e for e in table if e.file == "qwen-plus-budget50.native.jsonl")
    assert "budget 50" in budget.thinking
    html = table._repr_html_()
    assert "<table>" in html and "qwen-plus-whoami.jsonl" in html and "<script" not in html
    text = table._text()
    assert text.splitlines()[0].startswith("model") and "qwen-plus-whoami.jsonl" in text


def test_local_recordings_come_first_and_are_escaped(tmp_path: Path) -> None:
    from thinkbook._replay import dump_recording

    body = {"model": "m", "messages": [{"role": "user", "content": "<b>hi</b>"}], "enable_thinking": False}
    dump_recording(
        tmp_path / "a.jsonl", protocol="openai", model="m", request=body, chunks=[], source="illustrative: x"
    )
    table = recordings(tmp_path)
    assert table[0].file == "a.jsonl" and table[0].illustrative and table[0].thinking == "off"
    assert "&lt;b&gt;hi" in table._repr_html_() and "<b>hi" not in table._repr_html_()


def _recorded(tmp_path: Path, name: str, protocol: str, model: str, body: dict[str, object]) -> None:
    from thinkbook._replay import dump_recording

    dump_recording(tmp_path / name, protocol=protocol, model=model, request=body, chunks=[], source="recorded")


def test_the_new_protocols_thinking_fields_are_read(tmp_path: Path) -> None:
    """Anthropic ``thinking``, Gemini ``thinkingConfig``, Responses ``reasoning`` and ``input`` items."""
    hello = [{"role": "user", "content": "你好"}]
    _recorded(tmp_path, "a1.jsonl", "anthropic", "claude-sonnet-4-5",
              {"model": "claude-sonnet-4-5", "max_tokens": 16000, "messages": hello,
               "thinking": {"type": "enabled", "budget_tokens": 2048}})  # fmt: skip
    _recorded(tmp_path, "a2.jsonl", "anthropic", "claude-opus-4-7",
              {"model": "claude-opus-4-7", "max_tokens": 16000, "messages": [{"role": "user", "content": [
                  {"type": "text", "text": "你好"}]}],
               "thinking": {"type": "adaptive", "display": "summarized"},
               "output_config": {"effort": "low"}})  # fmt: skip
    _recorded(tmp_path, "a3.jsonl", "anthropic", "claude-opus-4-7",
              {"model": "claude-opus-4-7", "max_tokens": 16000, "messages": hello})  # fmt: skip
    _recorded(tmp_path, "g1.jsonl", "gemini", "gemini-2.5-flash",
              {"contents": [{"role": "user", "parts": [{"text": "你好"}]}],
               "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}}})  # fmt: skip
    _recorded(tmp_path, "g2.jsonl", "gemini", "gemini-2.5-flash",
              {"contents": [{"role": "user", "parts": [{"text": "你好"}]}],
               "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}})  # fmt: skip
    _recorded(tmp_path, "r1.jsonl", "responses", "gpt-5",
              {"model": "gpt-5", "input": [{"role": "user", "content": "你好"}], "store": False,
               "reasoning": {"effort": "high", "summary": "auto"}})  # fmt: skip
    table = {entry.file: entry for entry in recordings(tmp_path)}
    assert table["a1.jsonl"].thinking == "on, budget 2048"
    assert table["a2.jsonl"].thinking == "on, effort low"
    assert table["a3.jsonl"].thinking == "model default"  # it asked nothing
    assert table["g1.jsonl"].thinking == "on, budget 1024"
    assert table["g2.jsonl"].thinking == "off"
    assert table["r1.jsonl"].thinking == "model default, effort high"
    assert all(table[name].prompt == "你好" for name in table if name[0] in "agr")
