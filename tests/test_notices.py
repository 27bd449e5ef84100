"""Notices (an offline replay) are one quiet line where the code runs; real problems stay warnings.

Each place is tested where it really happens: a Jupyter kernel run by nbclient, the CLI and a
script in a pseudo-terminal as subprocesses, and a plain (non-terminal) run in this process.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import thinkbook
from thinkbook import _notices
from thinkbook._notices import notice, notices_to
from thinkbook._offline import ReplayNote, replays_summary

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """No key, no ./recordings, replays at full speed; the environment for subprocesses too."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    env = {k: v for k, v in os.environ.items() if k != "DASHSCOPE_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_a_sink_gets_every_notice_and_nothing_is_warned() -> None:
    said: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning here would fail the test
        with notices_to(said.append):
            notice("one")
            notice("one")  # a front end with a sink decides itself what to repeat
    assert said == ["one", "one"]


def test_elsewhere_a_notice_is_still_a_thinkbook_warning_at_the_callers_line(offline: dict[str, str]) -> None:
    assert _notices.where() == "other"  # pytest captures stderr: not a terminal
    with pytest.warns(thinkbook.ThinkbookWarning, match="replaying a recorded answer") as caught:
        thinkbook.think("你是谁", model="qwen-plus", enable_thinking=True)
    assert caught[0].filename == __file__


def test_in_a_terminal_each_distinct_notice_is_one_stderr_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_notices, "where", lambda: "terminal")
    monkeypatch.setattr(_notices, "_said_in_terminal", {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        notice("a replay")
        notice("a replay")
        notice("another replay")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "thinkbook: a replay\nthinkbook: another replay\n"


def test_several_replays_read_as_one_sentence() -> None:
    notes = [ReplayNote("DASHSCOPE_API_KEY", "a live recording", f"r{i}.jsonl") for i in range(5)]
    notes.append(ReplayNote("DASHSCOPE_API_KEY", "illustrative, not model output", "x.jsonl"))
    text = replays_summary(notes)
    assert text == (
        "no DASHSCOPE_API_KEY set: 6 calls in this cell replay recorded answers (a live recording: r0.jsonl, "
        "r1.jsonl, r2.jsonl and 2 more; illustrative, not model output: x.jsonl). "
        "Set DASHSCOPE_API_KEY to ask the live model."
    )


def test_the_cli_says_a_replay_in_one_plain_stderr_line(offline: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "thinkbook", "9.11 和 9.9 哪个大？", "-m", "qwen-plus", "--think", "--json"],
        capture_output=True,
        text=True,
        env=offline,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "note: no DASHSCOPE_API_KEY set: replaying a recorded answer (illustrative, not model output: "
        "qwen-plus-decimal.jsonl). Set DASHSCOPE_API_KEY to ask the live model."
    ]
    assert "9.9 更大" in done.stdout


SCRIPT = """\
import thinkbook
for _ in range(2):
    thinkbook.think("你是谁", model="qwen-plus", enable_thinking=True)
thinkbook.think("你是谁？", model="qwen-plus", thinking_budget=50)
"""


def test_a_script_in_a_terminal_says_each_replay_once_in_plain_words(offline: dict[str, str]) -> None:
    main, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], stderr=terminal, stdout=subprocess.DEVNULL, env=offline, timeout=60
        )
        os.close(terminal)
        terminal = -1
        said = _read_all(main).decode("utf-8").splitlines()
    finally:
        os.close(main)
        if terminal >= 0:
            os.close(terminal)
    assert done.returncode == 0, said
    assert len(said) == 2, said
    assert said[0].startswith("thinkbook: no DASHSCOPE_API_KEY set: replaying a recorded answer")
    assert "qwen-plus-whoami.jsonl" in said[0] and "qwen-plus-budget50" in said[1]
    assert not any("Warning" in line or "<frozen" in line or "<string>" in line for line in said)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # Linux: EIO once the other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


# --- a real Jupyter kernel ------------------------------------------------------------------------

LOOP = """\
import thinkbook
for prompt, options in [("你是谁", {"enable_thinking": True}), ("你是谁？", {"thinking_budget": 50}),
                        ("9.11 和 9.9 哪个大？", {"enable_thinking": True}), ("你是谁", {"enable_thinking": True})]:
    thinkbook.think(prompt, model="qwen-plus", display=False, **options)
print("done")"""

ONE = 'r = thinkbook.think("你是谁", model="qwen-plus", enable_thinking=True)'

TYPO = 'r = thinkbook.think("你是谁", model="qwen-plus", enable_thinkng=True, thinking_budget=50)'


def _outputs(cell: Any, kind: str) -> list[Any]:
    return [output for output in cell.outputs if output.output_type == kind]


def _notice_lines(cell: Any) -> list[str]:
    return [o.data["text/plain"] for o in _outputs(cell, "display_data") if "thinkbook-notice" in o.data["text/html"]]


@pytest.fixture(scope="module")
def kernel_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("notices")
    saved = {name: os.environ.pop(name, None) for name in ("DASHSCOPE_API_KEY",)}
    os.environ["THINKBOOK_REPLAY_SPEED"] = "0"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (LOOP, ONE, TYPO)])
    try:
        NotebookClient(
            notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path)}}
        ).execute()
    finally:
        os.environ.pop("THINKBOOK_REPLAY_SPEED")
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    return notebook


def test_a_kernel_cell_says_all_its_replays_in_one_quiet_line(kernel_run: Any) -> None:
    loop = kernel_run.cells[0]
    assert not _outputs(loop, "error")
    assert not [o for o in _outputs(loop, "stream") if o.name == "stderr"], loop.outputs  # no pink block
    assert _notice_lines(loop) == [
        "thinkbook: no DASHSCOPE_API_KEY set: 3 calls in this cell replay recorded answers (rebuilt from the "
        "Bailian guide's transcript: qwen-plus-whoami.jsonl, qwen-plus-budget50.native.jsonl; illustrative, "
        "not model output: qwen-plus-decimal.jsonl). Set DASHSCOPE_API_KEY to ask the live model."
    ]


def test_a_single_replay_is_one_line_above_its_view(kernel_run: Any) -> None:
    one = kernel_run.cells[1]
    assert not [o for o in _outputs(one, "stream") if o.name == "stderr"], one.outputs
    lines = _notice_lines(one)
    assert len(lines) == 1 and lines[0].startswith("thinkbook: no DASHSCOPE_API_KEY set: replaying a recorded")
    shown = _outputs(one, "display_data")
    assert "thinkbook-notice" in shown[0].data["text/html"] and len(shown) == 2  # the line, then the view


def test_a_real_problem_in_a_kernel_is_still_a_warning(kernel_run: Any) -> None:
    typo = kernel_run.cells[2]
    warned = "".join(o.text for o in _outputs(typo, "stream") if o.name == "stderr")
    assert "ThinkbookWarning" in warned and "did you mean enable_thinking=" in warned


def test_a_summary_names_every_missing_key_variable() -> None:
    """A panel with a Bailian column and a Claude column replays both: both variables are named."""
    notes = [
        ReplayNote("DASHSCOPE_API_KEY", "illustrative, not model output", "a.jsonl"),
        ReplayNote("ANTHROPIC_API_KEY", "illustrative, not model output", "b.jsonl"),
    ]
    text = replays_summary(notes, shown=None, what="2 of the 2 columns", live="models")
    assert text.startswith("no DASHSCOPE_API_KEY / ANTHROPIC_API_KEY set: 2 of the 2 columns replay")
    assert text.endswith("Set DASHSCOPE_API_KEY or ANTHROPIC_API_KEY to ask the live models.")
