"""think() in a real kernel (nbclient): the view is drawn, and the saved notebook shows the result."""

from __future__ import annotations

import json
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

SETUP = """
import thinkbook
from thinkbook.testing import LoopbackServer, ScriptedResponse
events = [{"model": "qwen-plus", "choices": [{"delta": {"reasoning_content": "先比较整数部分，再比较小数部分。"}}]}]
pieces = ["| a | b |\\n|---|---|\\n| 9.9 | 9.11 |\\n\\n", "**9.9** 更大 <img src=x onerror=alert(1)>"]
events += [{"choices": [{"delta": {"content": piece}}]} for piece in pieces]
events += [{"choices": [{"delta": {}, "finish_reason": "stop"}]},
           {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42,
                                     "completion_tokens_details": {"reasoning_tokens": 18}}}]
server = LoopbackServer().start()
server.enqueue(ScriptedResponse.from_sse(events, delay=0.05))
"""
ASK = (
    'r = thinkbook.think("9.11 和 9.9 哪个大？", model="qwen-plus", '
    'base_url=server.url + "/compatible-mode/v1", api_key="sk-test-SECRET0123456789")'
)


def run_notebook(*sources: str) -> Any:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    NotebookClient(notebook, timeout=60, kernel_name="python3", store_widget_state=True).execute()
    return notebook


@pytest.fixture(scope="module")
def executed() -> Any:
    return run_notebook(SETUP, ASK, "print(r.answer)")


def test_view_output_has_widget_fallbacks_and_metadata(executed: Any) -> None:
    outputs = executed.cells[1].outputs
    displays = [o for o in outputs if o.output_type == "display_data"]
    assert len(displays) == 1
    data, metadata = displays[0].data, displays[0].metadata
    assert "application/vnd.jupyter.widget-view+json" in data
    page = data["text/html"]
    assert "<details>" in page and "先比较整数部分" in page  # reasoning folded in the fallback
    assert "<table>" in page and "<strong>9.9</strong>" in page
    assert "<img" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "total 42" in page
    assert "9.9" in data["text/plain"]
    info = metadata["thinkbook"]
    assert info["model"] == "qwen-plus" and info["usage"]["reasoning_tokens"] == 18
    assert info["status"] == "done" and info["finish_reason"] == "stop"


def test_saved_widget_state_is_the_final_snapshot_without_the_key(executed: Any) -> None:
    state = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [s["state"] for s in state.values() if "answer_markdown" in s["state"]]
    assert len(views) == 1
    view = views[0]
    assert view["status"] == "done" and view["reasoning"].startswith("先比较")
    assert "**9.9** 更大" in view["answer_markdown"] and "<table>" in view["answer_html"]
    assert view["counters"]["exact"] is True and view["counters"]["usage"]["total_tokens"] == 42
    saved = json.dumps(executed.metadata) + json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "sk-test-SECRET0123456789" not in saved


def test_static_display_replaces_the_widget_with_html() -> None:
    notebook = run_notebook(SETUP, ASK[:-1] + ', display="static")')
    displays = [o for o in notebook.cells[1].outputs if o.output_type == "display_data"]
    assert "application/vnd.jupyter.widget-view+json" not in displays[0].data
    assert "<strong>9.9</strong>" in displays[0].data["text/html"]
