"""ChatPanel and ComparePanel in a real JupyterLab + chromium, through the magic's hooks.

The model is a ``thinkbook.testing.LoopbackServer`` started in the notebook kernel with a
responder: a prompt containing "slowly" gets 60 reasoning chunks 0.2 s apart (time to click
Stop); any other prompt gets a short answer that depends on the model (``model-a`` answers
"alpha" quickly, ``model-b`` answers "beta" more slowly, so ``model-a`` is the fastest).

Chat: ``%think panel -m model-a --base-url ...``; the test types in the panel's prompt box,
presses Enter, waits for reasoning, clicks Send (now Stop), checks the turn says "stopped" and
kept its partial reasoning, then sends a second prompt and waits for "done" and the answer.
Compare: ``%%think --compare model-a,model-b:off --base-url ...``; both columns stream and the
summary table marks model-a as the fastest. Screenshots: ``tests/browser/output/panels-chat.png``
and ``panels-compare.png``.

Selectors: ThinkView ``[data-tb="reasoning"|"answer"|"status"]``; chat controls
``[data-tb="prompt"|"send"|"totals"]``; turns ``.tb-turn``; compare columns ``.tb-compare-col``;
summary ``[data-tb="summary"]``, its rows ``[data-tb="row"]``, the badge ``[data-tb="fastest"]``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

OUTPUT_DIR = Path(__file__).resolve().parent / "output"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CODE_CELLS = f"{NOTEBOOK} .jp-Notebook .jp-Cell.jp-CodeCell"
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

SETUP_CELL = """\
from thinkbook.testing import LoopbackServer, ScriptedResponse

USAGE = {"prompt_tokens": 10, "completion_tokens": 30, "total_tokens": 40,
         "completion_tokens_details": {"reasoning_tokens": 20}}


def events(reasoning, answer):
    out = [{"choices": [{"index": 0, "delta": {"reasoning_content": r}}]} for r in reasoning]
    out += [{"choices": [{"index": 0, "delta": {"content": a}}]} for a in answer]
    out.append({"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}]})
    out.append({"choices": [], "usage": USAGE})
    return out


def respond(request):
    body = request.json()
    model, text = body["model"], body["messages"][-1]["content"]
    if "slowly" in text:  # long enough to click Stop
        return ScriptedResponse.from_sse(events([f"step{i:02d} " for i in range(60)], ["never "]), delay=0.2)
    word, delay = {"model-a": ("alpha", 0.02), "model-b": ("beta", 0.12)}.get(model, ("gamma", 0.05))
    reasoning = [f"{word}-thought{i} " for i in range(8)]
    answer = [f"**{word}** " if i == 0 else f"answer{i} " for i in range(6)]
    return ScriptedResponse.from_sse(events(reasoning, answer), delay=delay)


server = LoopbackServer(respond).start()
BASE_URL = server.url + "/v1"
%load_ext thinkbook
print("SETUP OK", BASE_URL)
"""
# IPython expands {BASE_URL} in a magic's line.
CHAT_CELL = "%think panel -m model-a --base-url {BASE_URL}"
COMPARE_CELL = "%%think --compare model-a,model-b:off --base-url {BASE_URL}\nWhich is larger, 9.11 or 9.9?"
CHECK_CELL = (
    "import json\n"
    "models = sorted(r.json()['model'] for r in server.requests)\n"
    "print('CHECK', json.dumps({'models': models, 'errors': server.errors}))"
)

_PROMPT_DONE_JS = """([selector, index]) => {
  const cell = document.querySelectorAll(selector)[index];
  const prompt = cell && cell.querySelector('.jp-InputArea-prompt');
  return !!prompt && /^\\[\\d+\\]:$/.test(prompt.textContent.trim());
}"""

# The reasoning pane's own text (the <details> without its <summary>), of the element itself.
_REASONING_TEXT_JS = """(e) => [...e.childNodes]
  .filter((n) => !(n.tagName && n.tagName.toUpperCase() === 'SUMMARY'))
  .map((n) => n.textContent).join('')"""

_HAS_STEPS_JS = """([turn, n]) => {
  const r = document.querySelector(turn + ' [data-tb="reasoning"]');
  if (!r) return false;
  const text = [...r.childNodes].filter((x) => !(x.tagName && x.tagName.toUpperCase() === 'SUMMARY'))
    .map((x) => x.textContent).join('');
  return (text.match(/step\\d\\d/g) || []).length >= n;
}"""

# The live panel (its transcript, hidden while the panel is drawn, is a second .tb-chat).
LIVE_CHAT = ".jupyter-widgets.tb-chat"

_TURN_STATUS_IS_JS = (
    "([index, status]) => {\n"
    f"  const turn = document.querySelectorAll('{NOTEBOOK} {LIVE_CHAT} .tb-turn')[index];\n"
    """  const s = turn && turn.querySelector('[data-tb="status"]');\n"""
    # A turn that ended well settles into its static rendering, which names no status but "done".
    """  if (status === 'done') return !!turn && !!turn.querySelector('.tb-static [data-tb="counters"]') && !s;\n"""
    "  return !!s && s.classList.contains('tb-st-' + status);\n"
    "}"
)


def run_cell(page: Any, index: int, *, timeout: float = 60.0) -> float:
    """Run code cell ``index`` (click its editor, Ctrl+Enter) and wait for its ``[n]:`` prompt."""
    cell = page.locator(CODE_CELLS).nth(index)
    cell.locator(".jp-InputArea-editor").click()
    started = time.monotonic()
    page.keyboard.press("Control+Enter")
    page.wait_for_function(_PROMPT_DONE_JS, arg=[CODE_CELLS, index], timeout=timeout * 1000, polling=50)
    return time.monotonic() - started


def no_stderr(page: Any, index: int) -> None:
    errors = page.locator(CODE_CELLS).nth(index).locator(STDERR).all_inner_texts()
    assert not errors, f"cell {index} wrote to stderr: {errors}"


def test_chat_panel_stop_and_send_then_compare(lab: Any) -> None:
    notebook = lab.write_notebook([SETUP_CELL, CHAT_CELL, COMPARE_CELL, CHECK_CELL])
    page = lab.open_notebook(notebook)
    run_cell(page, 0)
    assert "SETUP OK http://127.0.0.1:" in lab.output_text(page, 0)

    # --- ChatPanel: %think panel --------------------------------------------------------------
    run_cell(page, 1)
    no_stderr(page, 1)
    chat_cell = page.locator(CODE_CELLS).nth(1)
    chat = chat_cell.locator(LIVE_CHAT)
    chat.wait_for(state="visible", timeout=30_000)
    prompt = chat.locator('[data-tb="prompt"]')
    send = chat.locator('[data-tb="send"]')
    prompt.wait_for(state="visible")
    assert send.inner_text().strip() == "Send"

    prompt.fill("Count slowly, please.")
    prompt.press("Enter")
    page.wait_for_function(_HAS_STEPS_JS, arg=[f"{NOTEBOOK} {LIVE_CHAT} .tb-turn", 3], timeout=30_000, polling=50)
    turns = chat.locator(".tb-turn")
    turn1 = turns.nth(0)  # reasoning streams into the first turn
    assert "Count slowly, please." in turn1.locator(".tb-user").inner_text()
    assert turn1.locator('[data-tb="status"]').inner_text().strip() == "thinking"
    assert prompt.input_value() == ""  # the prompt box was emptied on send
    page.wait_for_function("(b) => b.textContent.trim() === 'Stop'", arg=send.element_handle(), timeout=10_000)
    prompt.fill("a draft typed meanwhile")  # the next question, typed while the turn streams
    chat.locator(".tb-chat-controls").evaluate("(e) => (e.__before_stop = true)")
    send.click()  # Send became Stop while the turn streams

    page.wait_for_function(_TURN_STATUS_IS_JS, arg=[0, "stopped"], timeout=15_000, polling=50)
    # The ended turn rewrites the panel's output (saved notebooks show it): JupyterLab draws the
    # panel afresh, and the draft is still in the prompt box.
    redrawn = f"{NOTEBOOK} {LIVE_CHAT} .tb-chat-controls"
    page.wait_for_function(f"() => !document.querySelector({redrawn!r}).__before_stop", timeout=15_000, polling=50)
    assert prompt.input_value() == "a draft typed meanwhile"
    assert turn1.locator('[data-tb="status"]').inner_text().strip() == "stopped"
    partial = turn1.locator('[data-tb="reasoning"]').evaluate(_REASONING_TEXT_JS)
    assert partial.startswith("step00 step01 step02"), partial
    assert "step59" not in partial, "the stream was not stopped"
    page.wait_for_function("(b) => b.textContent.trim() === 'Send'", arg=send.element_handle(), timeout=10_000)

    prompt.fill("Answer now.")
    prompt.press("Enter")
    turns.nth(1).wait_for(state="visible", timeout=15_000)
    page.wait_for_function(_TURN_STATUS_IS_JS, arg=[1, "done"], timeout=30_000, polling=50)
    turn2 = turns.nth(1)
    assert turn2.locator('[data-tb="status"]').count() == 0  # settled: its static rendering, counters shown
    answer = turn2.locator('[data-tb="answer"]')
    assert answer.is_visible()
    assert re.search(r"alpha\s+answer1", answer.inner_text()), answer.inner_text()
    assert turn2.locator('[data-tb="answer"] strong').first.inner_text() == "alpha"  # rendered markdown
    assert turn1.locator('[data-tb="status"]').inner_text().strip() == "stopped"  # the first turn stays stopped
    page.wait_for_function(
        "(t) => /1 turn\\b/.test(t.textContent)",
        arg=chat.locator('[data-tb="totals"]').element_handle(),
        timeout=10_000,
    )  # only the finished turn counts
    assert send.inner_text().strip() == "Send"
    OUTPUT_DIR.mkdir(exist_ok=True)
    chat_cell.screenshot(path=str(OUTPUT_DIR / "panels-chat.png"))

    # --- ComparePanel: %%think --compare ------------------------------------------------------
    run_cell(page, 2)  # the cell waits for every column
    no_stderr(page, 2)
    compare_cell = page.locator(CODE_CELLS).nth(2)
    # A finished comparison becomes static HTML (issue 11): the columns side by side in a table,
    # each with its label and answer, and the summary; no widget is left to save.
    compare_cell.locator("table.tb-compare-cols").wait_for(timeout=60_000)
    text = compare_cell.inner_text()
    for label, word in (("model-a", "alpha"), ("model-b · thinking off", "beta")):
        assert label in text, text
        assert re.search(rf"{word}\s+answer1", text), text
    assert compare_cell.locator(".tb-compare-col").count() == 0  # the live columns are gone
    compare_cell.screenshot(path=str(OUTPUT_DIR / "panels-compare.png"))

    # The kernel saw what the browser did: 2 chat turns and 2 columns, no server errors.
    run_cell(page, 3)
    check = lab.output_text(page, 3)
    assert '"models": ["model-a", "model-a", "model-a", "model-b"]' in check, check
    assert '"errors": []' in check, check
