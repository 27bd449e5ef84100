"""Every teaching notebook runs top to bottom offline (replay) with no error, and its saved outputs
hold what a reader without a kernel needs: the reasoning folded in ``<details>`` and the answer.

Each notebook is executed with nbclient exactly as a newcomer with no key would run it (provider keys
scrubbed from the environment), with ``THINKBOOK_REPLAY_SPEED`` raised so the replays do not take
their recorded time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
KEYS = ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL")

# Text each notebook's outputs must contain once run offline: the replayed answers and the lessons.
EXPECTED: dict[str, tuple[str, ...]] = {
    "01-quickstart.ipynb": ("思考过程", "我是千问", "replaying a recorded answer", "thinking-only"),
    "02-thinking-on-off.ipynb": (
        "thinking-only",
        "requests the server received: 0",
        "答案：3",
        "illustrative recordings, not a measurement",
        "Replayed from an illustrative recording (not model output)",  # the saved view says what it replayed
    ),
    "03-thinking-budget.ipynb": (
        "我是千问",
        "reasoning tokens: 50",
        "(budget 200)",
        "illustrative recordings, not a measurement",
    ),
    "04-multi-turn-preserve.ipynb": (
        "我并没有排除Kafka",
        "2 turns, preserve_thinking",
        "[reasoning]",
        "input, preserve_thinking=False",
        "chat 'mq' is empty again",
    ),
    "06-classroom.ipynb": (
        "答案：2 小时",
        "答案：40 秒",
        "holds a key or an Authorization header: False",
        "no recording: MissingAPIKeyError",
        "you wrote 30, the model says 40",
        "the model's answer is right",
    ),
    "05-compare-models.ipynb": ("MiniMax-M2.5", "answer 3/10  right", "failed (its column says why)", "(fastest)"),
    "07-tools-and-search.ipynb": (
        "3 rounds, 3 tool calls",  # the loop ran every round from its recordings
        "ValueError: unknown unit 'jin'",  # the failing tool's error, as the model saw it
        "tool_calls -> get_weather",  # a dict tool hands the call back
        "cited sources: [1, 2, 3] | all returned: True",
        "Replayed from an illustrative recording (not model output)",
    ),
    "08-batch-eval.ipynb": (
        "illustrative recordings, not a measurement",
        "requests sent by the rerun: 0; rows from the cache: 100 of 100",
        "thinking on: 48/50 right, thinking off: 38/50 right",
        "100/100 done, 0 failed",  # the progress line, static once done
        "replay recorded answers",
    ),
}


def _text(output: Any) -> str:
    data = output.get("data", {})
    return str(output.get("text", "")) + str(data.get("text/plain", "")) + str(data.get("text/html", ""))


def _run(path: Path) -> Any:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return notebook


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_notebook_runs_offline_and_saves_readable_outputs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "8")
    notebook = _run(path)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [
        f"cell {index}: {o.get('ename')}: {o.get('evalue')}"
        for index, cell in enumerate(code)
        for o in cell.outputs
        if o.output_type == "error"
    ]
    assert not errors, errors
    tracebacks = [
        index for index, cell in enumerate(code) for o in cell.outputs if "Traceback (most recent" in _text(o)
    ]
    assert not tracebacks, f"code cells {tracebacks} printed a traceback"

    # Every %%think cell's saved output reads without a kernel: an answer, and folded reasoning when it thought.
    for index, cell in enumerate(code):
        if not cell.source.lstrip().startswith("%%think") or "--compare" in cell.source.splitlines()[0]:
            continue
        html = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
        assert any('class="tb-answer"' in h for h in html), f"code cell {index} ({cell.source[:40]!r}) saved no answer"
        thinks = "--no-think" not in cell.source.splitlines()[0] and "/no_think" not in cell.source
        if thinks and any("<details" in h for h in html):
            assert any(re.search(r"<details[^>]*><summary>[^<]+</summary><pre", h) for h in html)

    outputs = "\n".join(_text(o) for cell in code for o in cell.outputs)
    assert re.search(r"<details[^>]*><summary>", outputs), "no folded reasoning anywhere in the saved outputs"
    # "replaying a recorded answer" (one call) or "N of the M columns replay recorded answers" (a panel)
    assert re.search(r"replay(ing a)? recorded answer", outputs), "the notebook does not say it replays"
    for expected in EXPECTED.get(path.name, ()):
        assert expected in outputs, f"{path.name}: {expected!r} is not in the outputs"


def test_every_notebook_is_listed() -> None:
    names = [p.name for p in ALL]
    assert names[0] == "01-quickstart.ipynb"
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+\.ipynb", name) for name in names), names


def test_notebook_recordings_match_their_takes() -> None:
    """The shipped recordings are exactly what their written-out takes build (no hand edits, none stale)."""
    script = NOTEBOOKS / "recordings" / "make_recordings.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_notebook_recordings_say_where_they_come_from() -> None:
    from thinkbook._replay import load_recording

    for path in sorted((NOTEBOOKS / "recordings").glob("*.jsonl")):
        recording = load_recording(path)
        assert recording.source.startswith(("illustrative:", "built from the Bailian", "recorded with"))
        text = path.read_text(encoding="utf-8")
        assert "sk-" not in text and "Authorization" not in text


def test_hidden_solutions_hide_their_outputs_too() -> None:
    """A solution folded under "Solution (click to open)" must not show its result below the fold."""
    notebook = nbformat.read(NOTEBOOKS / "06-classroom.ipynb", as_version=4)
    solutions = [cell for cell in notebook.cells if "solution" in cell.metadata.get("tags", [])]
    assert solutions
    for cell in solutions:
        assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
