"""%%think in a real kernel, run headless by nbclient (as Run All / nbconvert do).

The loopback server runs inside the kernel (started by the notebook's first cell), so nothing
leaves the machine. Blocking cells must leave the final view in the saved notebook: its static
text/html and text/plain, its metadata, and no widget state holding its text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

WIDGET = "application/vnd.jupyter.widget-view+json"

SETUP = """\
from thinkbook.testing import LoopbackServer, ScriptedResponse

def turn(reasoning, answer):
    events = [{"choices": [{"delta": {"reasoning_content": r}}]} for r in reasoning]
    events += [{"choices": [{"delta": {"content": a}}]} for a in answer]
    events.append({"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}]})
    events.append({"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 12, "total_tokens": 20,
                                            "completion_tokens_details": {"reasoning_tokens": 7}}})
    return ScriptedResponse.from_sse(events, delay=0.05)

server = LoopbackServer([
    turn(["假设素数有限，", "设为 p1..pn。"], ["令 N = p1·…·pn + 1，", "**矛盾**。"]),
    turn(["第二轮思考"], ["后台的回答"]),
]).start()
url = server.url + "/v1"
%load_ext thinkbook
"""

BLOCKING = """\
%%think -m local --base-url $url --chat proof --out proof
证明：存在无穷多个素数。"""

BACKGROUND = """\
%%think --chat proof --bg
换一种证明方法？"""

WAIT = """\
answer = _think_handle.result(timeout=30)
print("bg:", answer.answer)
print("turns:", len(proof.answer) > 0, _think is answer)
server.stop()"""


def run(tmp_path: Path, *sources: str) -> Any:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return notebook


def outputs(cell: Any, output_type: str) -> list[Any]:
    return [output for output in cell.outputs if output.output_type == output_type]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return run(tmp_path_factory.mktemp("magic-kernel"), SETUP, BLOCKING, BACKGROUND, WAIT)


def test_no_errors_and_nothing_on_stderr(executed: Any) -> None:
    for cell in executed.cells:
        assert not outputs(cell, "error"), cell.outputs
        assert not [o for o in outputs(cell, "stream") if o.name == "stderr"], cell.outputs


def test_blocking_cell_saves_the_final_view_with_fallbacks_and_metadata(executed: Any) -> None:
    (shown,) = outputs(executed.cells[1], "display_data")
    assert WIDGET not in shown.data  # finished: the static rendering replaced the live widget
    assert (
        "矛盾" in shown.data["text/html"] and '<details data-tb="reasoning">' in shown.data["text/html"]
    )  # reasoning folded
    assert "假设素数有限" in shown.data["text/html"] and "**矛盾**" in shown.data["text/plain"]
    info = shown.metadata["thinkbook"]
    assert info["status"] == "done" and info["chat"] == "proof" and info["model"] == "local"
    assert info["magic"]["out"] == "proof" and info["usage"]["reasoning_tokens"] == 7


def test_widget_state_holds_no_finished_view(executed: Any) -> None:
    # The blocking view's model was emptied before closing: no text, no code in the saved state.
    # (The --bg view ends during a later cell; nbclient ignores messages addressed to an earlier
    # cell, so it never sees that view end. JupyterLab does: tests/browser/test_saved_notebooks_browser.py.)
    saved = json.dumps(executed.metadata.get("widgets", {}), ensure_ascii=False)
    assert "假设素数有限" not in saved and "矛盾" not in saved


def test_background_cell_returns_a_handle_and_a_later_cell_waits_for_it(executed: Any) -> None:
    background = executed.cells[2]
    view, handle = outputs(background, "display_data")
    assert WIDGET in view.data
    # The handle is shown as a line that follows the run (not a frozen "running" Out).
    assert not outputs(background, "execute_result")
    assert handle.data["text/plain"].startswith("<ThinkHandle local ")
    printed = "".join(o.text for o in outputs(executed.cells[3], "stream"))
    assert "bg: 后台的回答" in printed and "turns: True True" in printed


STALLED = """\
from thinkbook.testing import LoopbackServer, ScriptedResponse

server = LoopbackServer([ScriptedResponse.from_sse(
    [{"choices": [{"delta": {"reasoning_content": "想到一半"}}]}, {"choices": [{"delta": {"content": "答到"}}]}],
    done=False, stall_after=2,
)]).start()
url = server.url + "/v1"
%load_ext thinkbook
"""

AFTER_STOP = """\
print("disconnected:", server.wait_for_disconnect(5))
print("kept:", _think.reasoning, _think.answer)
server.stop()"""


def test_interrupt_button_stops_a_blocking_cell_and_keeps_the_partial(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in (STALLED, "%%think -m local --base-url $url\nq", AFTER_STOP)]
    )
    # The stalled cell outlives the timeout; nbclient then presses the kernel's interrupt button.
    NotebookClient(
        notebook,
        timeout=4,
        interrupt_on_timeout=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    stopped = notebook.cells[1]
    assert not outputs(stopped, "error")
    (message,) = outputs(stopped, "stream")
    assert message.name == "stderr" and message.text.strip() == "stopped: partial answer kept in _think"
    (shown,) = outputs(stopped, "display_data")
    assert shown.metadata["thinkbook"]["status"] == "stopped"
    assert "tb-st-stopped" in shown.data["text/html"] and "想到一半" in shown.data["text/html"]
    printed = "".join(o.text for o in outputs(notebook.cells[2], "stream"))
    assert "disconnected: True" in printed and "kept: 想到一半 答到" in printed


STOP_LATER = """\
import time
print("cancelled:", _think_handle.cancel())
for _ in range(50):
    if _think_handle.state != "running":
        break
    time.sleep(0.1)
time.sleep(0.5)  # the handle's line is updated from the engine thread
print(repr(_think_handle))
server.stop()"""


def test_a_stopped_background_cell_does_not_say_running(tmp_path: Path) -> None:
    """Stopping a --bg run (Stop button or cancel()) updates the cell's handle line to "stopped"."""
    notebook = run(tmp_path, STALLED, "%%think -m local --base-url $url --bg\nq", STOP_LATER)
    printed = "".join(o.text for o in outputs(notebook.cells[2], "stream"))
    assert "cancelled: True" in printed and "<ThinkHandle local stopped" in printed
    lines = [o for o in outputs(notebook.cells[1], "display_data") if WIDGET not in o.data]
    assert [o.data["text/plain"] for o in lines] == ["<ThinkHandle local stopped>"]
