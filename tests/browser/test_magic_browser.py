"""``%%think --bg`` in a real JupyterLab + chromium: the cell returns at once, the kernel stays free,
and the view's Stop button ends the stream while keeping what had arrived.

The model is a ``thinkbook.testing.LoopbackServer`` started in the notebook kernel, playing a slow
OpenAI-compatible (DashScope compatible-mode) SSE script: 40 reasoning chunks of distinct words,
0.2 s apart, then answer chunks, ``finish_reason``, usage and ``[DONE]``. Cells are run one at a
time (click the editor, Ctrl+Enter), so the test decides when each one starts.

Selectors agreed with the front end: root ``.tb-view``; ``[data-tb="reasoning"]`` (a ``details``),
``[data-tb="answer"]``, ``[data-tb="status"]``, ``[data-tb="stop"]``, ``[data-tb="counters"]``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from thinkbook import testing

pytestmark = pytest.mark.browser

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CODE_CELLS = f"{NOTEBOOK} .jp-Notebook .jp-Cell.jp-CodeCell"
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
ERROR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'

REASONING_CHUNKS = 40
CHUNK_DELAY = 0.2  # seconds between two chunks: the whole stream takes ~10 s
REASONING = [f"step{i:02d} " for i in range(REASONING_CHUNKS)]
ANSWER = [f"answer{i:02d} " for i in range(10)]
USAGE = {
    "prompt_tokens": 10,
    "completion_tokens": 50,
    "total_tokens": 60,
    "completion_tokens_details": {"reasoning_tokens": 40},
}
# Bounds on a cell that must not wait for the stream (the stream itself lasts ~10 s).
PROMPT_CELL_SECONDS = 5.0

# The reasoning pane's own text (the <details> without its <summary>).
_REASONING_TEXT_JS = """(e) => [...e.childNodes]
  .filter((n) => !(n.tagName && n.tagName.toUpperCase() === 'SUMMARY'))
  .map((n) => n.textContent).join('')"""

_PROMPT_DONE_JS = """([selector, index]) => {
  const cell = document.querySelectorAll(selector)[index];
  const prompt = cell && cell.querySelector('.jp-InputArea-prompt');
  return !!prompt && /^\\[\\d+\\]:$/.test(prompt.textContent.trim());
}"""

_COUNT_STEPS_JS = """([selector, n]) => {
  const r = document.querySelector(selector);
  if (!r) return false;
  const text = [...r.childNodes].filter((x) => !(x.tagName && x.tagName.toUpperCase() === 'SUMMARY'))
    .map((x) => x.textContent).join('');
  return (text.match(/step\\d\\d/g) || []).length >= n;
}"""


def openai_events(reasoning: list[str], answer: list[str], usage: dict[str, Any]) -> list[dict[str, Any]]:
    return testing.openai_events(reasoning, answer, usage, chunk_id="chatcmpl-magic-browser")


def setup_cell(events: list[dict[str, Any]], *, delay: float) -> str:
    """Start a loopback model in the kernel (kept running for later cells) and load the extension."""
    return (
        "import json, os\n"
        "from thinkbook.testing import LoopbackServer, ScriptedResponse\n"
        'os.environ["TB_TEST_KEY"] = "sk-test"\n'
        f"EVENTS = json.loads({json.dumps(events)!r})\n"
        f"server = LoopbackServer([ScriptedResponse.from_sse(EVENTS, delay={delay!r})]).start()\n"
        'BASE_URL = server.url + "/compatible-mode/v1"\n'
        "%load_ext thinkbook\n"
        'print("SETUP OK", BASE_URL)\n'
    )


# IPython expands {BASE_URL} in a cell magic's line (InteractiveShell.run_cell_magic -> var_expand).
THINK_CELL = (
    "%%think --bg -m qwen-plus --base-url {BASE_URL} --api-key-env TB_TEST_KEY\n"
    "Count slowly from one to forty, one word per step."
)
FREE_CELL = (
    "import time; t = time.time()\n"
    'print("FREE", json.dumps({"done": _think_handle.done(), '
    '"chars": len(_think_handle.partial.reasoning) if _think_handle.partial else 0}))\n'
    "1+1"
)
CHECK_CELL = (
    "_think_handle.run.settled.wait(10)\n"
    "_p = _think_handle.partial\n"
    'print("CHECK", json.dumps({\n'
    '    "done": _think_handle.done(),\n'
    '    "repr": repr(_think_handle),\n'
    '    "settled": _think_handle.run.settled.is_set(),\n'
    '    "reasoning": _p.reasoning if _p else None,\n'
    '    "answer": _p.answer if _p else None,\n'
    '    "think_reasoning": getattr(globals().get("_think"), "reasoning", None),\n'
    '    "think_error": repr(globals().get("_think_error")),\n'
    '    "requests": len(server.requests),\n'
    '    "disconnects": server.disconnects,\n'
    '    "server_errors": server.errors,\n'
    "}))\n"
    "print(_think_handle.done(), _think_handle.partial.reasoning[:20])\n"
)


def run_cell(page: Any, index: int, *, timeout: float = 60.0) -> float:
    """Run code cell ``index`` (click its editor, Ctrl+Enter) and wait for its ``[n]:`` prompt.

    Returns the seconds from the key press to the prompt showing the execution count.
    """
    cell = page.locator(CODE_CELLS).nth(index)
    cell.locator(".jp-InputArea-editor").click()
    started = time.monotonic()
    page.keyboard.press("Control+Enter")
    page.wait_for_function(_PROMPT_DONE_JS, arg=[CODE_CELLS, index], timeout=timeout * 1000, polling=50)
    return time.monotonic() - started


def reasoning_text(view: Any) -> str:
    text: str = view.locator('[data-tb="reasoning"]').evaluate(_REASONING_TEXT_JS)
    return text


def marker(output: str, name: str) -> dict[str, Any]:
    """The JSON printed after ``name`` in a cell's output text."""
    match = re.search(rf"^{name} (\{{.*\}})$", output, re.MULTILINE)
    assert match, f"no {name} line in the output: {output!r}"
    value: dict[str, Any] = json.loads(match.group(1))
    return value


def test_bg_run_stopped_by_clicking_stop_keeps_its_partial_text(lab: Any) -> None:
    full_reasoning = "".join(REASONING)
    events = openai_events(REASONING, ANSWER, USAGE)
    notebook = lab.write_notebook([setup_cell(events, delay=CHUNK_DELAY), THINK_CELL, FREE_CELL, CHECK_CELL])
    page = lab.open_notebook(notebook)
    timings: dict[str, float] = {}

    timings["setup cell"] = run_cell(page, 0)
    assert "SETUP OK http://127.0.0.1:" in lab.output_text(page, 0)

    # The --bg cell returns at once (the stream takes ~10 s), with the handle as its value.
    timings["--bg cell"] = run_cell(page, 1)
    started_stream = time.monotonic()
    assert timings["--bg cell"] < PROMPT_CELL_SECONDS, f"%%think --bg took {timings['--bg cell']:.1f}s to return"
    view = page.locator(f"{CODE_CELLS} >> nth=1").locator(".tb-view")
    view.wait_for(state="attached", timeout=30_000)
    assert "ThinkHandle" in lab.output_text(page, 1)

    # The kernel is free while the stream runs: another cell executes promptly, and sees it running.
    timings["cell while streaming"] = run_cell(page, 2)
    free_output = lab.output_text(page, 2)
    free = marker(free_output, "FREE")
    assert free["done"] is False, f"the stream was over before the next cell ran: {free_output!r}"
    assert timings["cell while streaming"] < PROMPT_CELL_SECONDS, (
        f"a cell took {timings['cell while streaming']:.1f}s while the stream ran: the kernel was busy"
    )
    assert re.search(r"^2$", free_output, re.MULTILINE), f"1+1 not shown: {free_output!r}"

    # A few reasoning chunks on screen, then Stop.
    reasoning_selector = '.tb-view [data-tb="reasoning"]'
    page.wait_for_function(_COUNT_STEPS_JS, arg=[reasoning_selector, 3], timeout=30_000, polling=50)
    status = view.locator('[data-tb="status"]')
    stop = view.locator('[data-tb="stop"]')
    assert status.inner_text().strip() == "thinking"
    assert stop.is_visible() and stop.is_enabled(), "no usable Stop button while the --bg stream runs"
    seen = reasoning_text(view)
    stop.click()
    timings["stream start to Stop click"] = time.monotonic() - started_stream
    clicked = time.monotonic()

    page.wait_for_function(
        """(sel) => { const s = document.querySelector(sel); return !!s && s.classList.contains('tb-st-stopped'); }""",
        arg='.tb-view [data-tb="status"]',
        timeout=15_000,
        polling=50,
    )
    timings["Stop click to 'stopped'"] = time.monotonic() - clicked
    assert status.inner_text().strip() == "stopped"
    # The Stop button is gone (hidden) or at least disabled once the stream has stopped.
    assert stop.is_hidden() or stop.is_disabled(), "Stop still offered after the stream stopped"

    # What was visible is still there; the stream did not run to its end.
    page.wait_for_timeout(2 * CHUNK_DELAY * 1000)  # nothing more may arrive after the stop
    kept = reasoning_text(view)
    assert kept.startswith(seen), f"reasoning lost after Stop: saw {seen!r}, now {kept!r}"
    assert full_reasoning.startswith(kept), f"reasoning is not a prefix of the script: {kept!r}"
    steps = re.findall(r"step\d\d", kept)
    assert 3 <= len(steps) < REASONING_CHUNKS, f"{len(steps)} reasoning chunks after Stop: {kept!r}"
    assert "answer00" not in view.locator('[data-tb="answer"]').inner_text()
    error_text = view.evaluate("v => (v.querySelector('.tb-err') || {}).textContent || ''")
    assert error_text.strip() == "", f"the view shows an error after Stop: {error_text!r}"

    # The user can still read it: open the fold if the end of the stream folded it, and look.
    fold = view.locator('[data-tb="reasoning"]')
    fold_open_after_stop = fold.evaluate("e => e.open")
    if not fold_open_after_stop:
        fold.locator("summary").click()
    fold_body = fold.locator(":scope > :not(summary)").first
    fold_body.wait_for(state="visible", timeout=5_000)
    assert seen.split()[-1] in fold_body.inner_text()
    view.scroll_into_view_if_needed()
    lab.screenshot(page, "stopped")

    # The handle is done and holds the partial text; the HTTP stream was closed.
    timings["check cell"] = run_cell(page, 3, timeout=30.0)
    check_output = lab.output_text(page, 3)
    check = marker(check_output, "CHECK")
    assert check["done"] is True
    assert "stopped" in check["repr"], check["repr"]  # the handle says what happened to the run
    assert check["settled"] is True, "the stopped stream never settled"
    assert check["reasoning"] == kept, f"handle.partial.reasoning {check['reasoning']!r} != view text {kept!r}"
    assert check["think_reasoning"] == kept, "_think does not hold the partial answer"
    assert not check["answer"]
    assert check["think_error"] == "None", f"an error was stored: {check['think_error']}"
    assert check["requests"] == 1
    assert check["disconnects"] == 1, "the HTTP stream was not closed by Stop"
    assert check["server_errors"] == []
    assert f"True {kept[:20]}" in check_output

    # No error output anywhere, nothing thrown in the page.
    assert page.locator(f"{CODE_CELLS} {STDERR}").count() == 0, [
        t for t in page.locator(f"{CODE_CELLS} {STDERR}").all_inner_texts()
    ]
    assert page.locator(f"{CODE_CELLS} {ERROR}").count() == 0
    assert lab.page_errors == []

    for label, seconds in timings.items():  # shown in the "thinkbook browser tests" summary
        lab._timing(label, time.monotonic() - seconds)
    print(
        "timings:",
        {k: round(v, 2) for k, v in timings.items()},
        f"reasoning chunks kept: {len(steps)}; fold open right after Stop: {fold_open_after_stop}",
    )
