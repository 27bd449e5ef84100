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
