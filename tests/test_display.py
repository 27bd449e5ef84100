"""think() in a real kernel (nbclient): the view is drawn, and the saved notebook shows the result."""

from __future__ import annotations

import json
import re
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


FAILING = """
failing = LoopbackServer().start()
partial = [{"model": "qwen-plus", "choices": [{"delta": {"reasoning_content": "想一想"}}]},
           {"choices": [{"delta": {"content": "答案的前半"}}]},
           {"error": {"message": "the model is overloaded", "code": "overloaded"}}]
failing.enqueue(ScriptedResponse.from_sse(partial, delay=0.05, done=False))
try:
    thinkbook.think("q", model="qwen-plus", base_url=failing.url + "/compatible-mode/v1", api_key="sk-test-0123456789")
except thinkbook.ThinkbookError as error:
    print("raised:", type(error).__name__)
"""
WIDGET = "application/vnd.jupyter.widget-view+json"


def thinkview_states(notebook: Any) -> list[dict[str, Any]]:
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return [s["state"] for s in state.values() if s["state"].get("_anywidget_id") == "thinkbook._view.ThinkView"]


@pytest.fixture(scope="module")
def executed() -> Any:
    # Two views one after the other, then one that fails mid-stream.
    again = "server.enqueue(ScriptedResponse.from_sse(events))\n" + ASK
    return run_notebook(SETUP, ASK, again, FAILING, "print(r.answer)")


def test_a_finished_view_is_static_html_with_metadata(executed: Any) -> None:
    outputs = executed.cells[1].outputs
    displays = [o for o in outputs if o.output_type == "display_data"]
    assert len(displays) == 1
    data, metadata = displays[0].data, displays[0].metadata
    assert WIDGET not in data  # the widget was only there while it streamed
    page = data["text/html"]
    assert '<details data-tb="reasoning"><summary>' in page and "先比较整数部分" in page  # reasoning folded
    assert "<table>" in page and "<strong>9.9</strong>" in page
    # The model's <img onerror> is text in the answer, and escaped JSON in the inert markdown data.
    markdown = re.search(r'<script type="application/json" class="tb-md">(.*?)</script>', page)
    assert markdown and "<" not in markdown.group(1) and "\\u003cimg src=x" in markdown.group(1)
    page = page.replace(markdown.group(0), "")
    assert "<img" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "total 42" in page
    assert "9.9" in data["text/plain"]
    info = metadata["thinkbook"]
    assert info["model"] == "qwen-plus" and info["usage"]["reasoning_tokens"] == 18
    assert info["status"] == "done" and info["finish_reason"] == "stop"
    assert all(isinstance(v, int | float) and round(v, 3) == v for v in info["timings"].values())


@pytest.fixture(scope="module")
def drawn() -> Any:
    """The same views where the client says it draws widgets (THINKBOOK_WIDGETS=1, as a browser would)."""
    again = "server.enqueue(ScriptedResponse.from_sse(events))\n" + ASK
    return run_notebook("%env THINKBOOK_WIDGETS=1\n" + SETUP, ASK, again, FAILING, "print(r.answer)")


def test_a_headless_run_makes_no_widget_and_saves_no_widget_state(executed: Any) -> None:
    """nbclient asks with allow_stdin false: no front end draws, so the views never open a comm (_headless)."""
    assert "widgets" not in executed.metadata
    outputs = [o for cell in executed.cells for o in cell.get("outputs", []) if o.output_type == "display_data"]
    assert len(outputs) == 3 and not [o for o in outputs if WIDGET in o.data]
    assert all('<details data-tb="reasoning">' in o.data["text/html"] for o in outputs)


def test_no_widget_state_holds_a_finished_views_text_and_ids_are_reused(drawn: Any) -> None:
    executed = drawn
    states = thinkview_states(executed)
    # Three views, one after the other: they shared one comm id, so one emptied state is left.
    assert len(states) == 1
    (state,) = states
    assert state["_esm"] == "export default {}" and state["_css"] == "" and state["layout"] is None
    assert state["reasoning"] == state["answer_markdown"] == state["answer_html"] == "" and state["counters"] == {}
    saved = json.dumps(executed.metadata) + json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "sk-test-SECRET0123456789" not in saved and "sk-test-0123456789" not in saved
    assert not [s for s in json.loads(json.dumps(executed.metadata.get("widgets", {}))) if "LayoutModel" in str(s)]


def test_an_error_mid_stream_keeps_the_partial_text_and_the_error_line(executed: Any) -> None:
    cell = executed.cells[3]
    (shown,) = [o for o in cell.outputs if o.output_type == "display_data"]
    page = shown.data["text/html"]
    assert WIDGET not in shown.data
    assert "想一想" in page and "答案的前半" in page
    assert "tb-st-error" in page and '<p class="tb-errline"><strong>Error:</strong>' in page
    assert "overloaded" in page and shown.metadata["thinkbook"]["status"] == "error"
    assert "raised:" in "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_static_display_replaces_the_widget_with_html() -> None:
    notebook = run_notebook(SETUP, ASK[:-1] + ', display="static")')
    displays = [o for o in notebook.cells[1].outputs if o.output_type == "display_data"]
    assert WIDGET not in displays[0].data
    assert "<strong>9.9</strong>" in displays[0].data["text/html"]


def test_outside_a_notebook_nothing_is_drawn_and_display_true_refuses() -> None:
    import thinkbook
    from thinkbook.testing import LoopbackServer, ScriptedResponse

    events = [{"choices": [{"delta": {"reasoning_content": "r"}}]}, {"choices": [{"delta": {"content": "a"}}]}]
    with LoopbackServer([ScriptedResponse.from_sse(events)]) as server:
        result = thinkbook.think("q", model="qwen-plus", base_url=server.url + "/v1", api_key="sk-test-0123456789")
    assert result.answer == "a" and result.reasoning == "r"
    with pytest.raises(thinkbook.ConfigurationError, match="needs a running Jupyter kernel"):
        thinkbook.think("q", model="qwen-plus", base_url="http://127.0.0.1:9/v1", api_key="sk-x", display=True)
