"""What a saved notebook keeps of a panel (issue 11, points 1-4).

A finished ComparePanel (and a ChatPanel the user finished) turns its output into static HTML
with no widget mime type and closes its widgets, so JupyterLab without a kernel, nbconvert HTML
and GitHub all show it; a live ChatPanel keeps its widget and keeps its output's fallback current.
The notebooks run headless in a real kernel (nbclient, as ``nbconvert --execute`` does).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import ComparePanel
from thinkbook._errors import ConfigurationError
from thinkbook.testing import LoopbackServer, RecordingComm, ScriptedResponse, recording_comms

WIDGET = "application/vnd.jupyter.widget-view+json"
FAKE_KEY = "sk-test-SECRET0123456789abcdef"


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


_SAVED_SETUP = """\
from thinkbook.testing import LoopbackServer, ScriptedResponse
from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import ComparePanel

def answer(reasoning, text, model):
    events = [{"model": model, "choices": [{"delta": {"reasoning_content": reasoning}}]},
              {"choices": [{"delta": {"content": text}}]},
              {"choices": [{"delta": {}, "finish_reason": "stop"}]},
              {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14,
                                        "completion_tokens_details": {"reasoning_tokens": 4}}}]
    return ScriptedResponse.from_sse(events, delay=0.02)

EVIL = "<img src=x onerror=alert(1)>"
def respond(request):
    model = request.json()["model"]
    if model == "broken":
        return ScriptedResponse.from_json({"error": {"message": "Incorrect API key " + EVIL}}, status=401)
    return answer(f"{model} thinks {EVIL}", f"**{model}** says *hi* {EVIL}", model)

server = LoopbackServer(respond).start()
url = server.url + "/v1"
"""

_SAVED_COMPARE = """\
panel = ComparePanel("Which is larger, 9.11 or 9.9? <b>", ["alpha", {"model": "beta", "label": "Beta <i>"}, "broken"],
                     base_url=url, api_key="sk-SAVED-SECRET-123", lang="en")
display(panel)
_ = panel.wait(30)
"""

_SAVED_CHAT = """\
chat = ChatPanel("alpha", base_url=url, api_key="sk-SAVED-SECRET-123", lang="en")
chat
"""

_SAVED_CHAT_TURN = """\
chat.send("first <question>")
_ = chat.wait(30)
"""

_SAVED_FINISHED_CHAT = """\
done = ChatPanel("alpha", base_url=url, api_key="sk-SAVED-SECRET-123", lang="en")
display(done)
done.send("finished <chat>")
_ = done.wait(30)
done.freeze()
"""

_SAVED_COMPARE_AGAIN = """\
again = ComparePanel("Which is larger, 9.11 or 9.9? (again)", ["alpha", "beta", "broken"], base_url=url, lang="en",
                     api_key="sk-SAVED-SECRET-123")
display(again)
_ = again.wait(30)
server.stop()
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        nbformat.v4.new_code_cell(s)
        for s in (
            _SAVED_SETUP,
            _SAVED_COMPARE,
            _SAVED_CHAT,
            _SAVED_CHAT_TURN,
            _SAVED_FINISHED_CHAT,
            _SAVED_COMPARE_AGAIN,
        )
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path_factory.mktemp("saved-panels")
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path)}}
    ).execute()
    return notebook


def _displayed(cell: Any) -> Any:
    (output,) = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
    return output


def test_saved_compare_panel_is_static_html_with_every_column_and_the_summary(saved: Any) -> None:
    data = _displayed(saved.cells[1]).data
    assert WIDGET not in data  # nothing for a widget renderer to fail on
    page, text = data["text/html"], data["text/plain"]
    # the columns side by side in a plain table; each: title, folded reasoning, sanitized answer, counters
    assert page.count('<td valign="top" align="left" width="33%"') == 3 and page.count('"background:none"><td') == 1
    for title, model in (("alpha", "alpha"), ("Beta &lt;i&gt;", "beta")):
        assert f"<h4>{title}</h4>" in page
        assert (
            '<details data-tb="reasoning"><summary>' in page
            and f"{model} thinks &lt;img src=x onerror=alert(1)&gt;" in page
        )
        assert f"<strong>{model}</strong> says <em>hi</em>" in page
    assert page.count("Tokens: input 5, reasoning 4, answer 5, total 14") == 2
    assert "AuthenticationError" in page  # the failing column says why, in full
    assert "<table><caption>Summary</caption>" in page and "<th>first token (s)</th>" in page
    assert "(fastest" in page and "error: AuthenticationError" in page
    assert "Which is larger, 9.11 or 9.9? &lt;b&gt;" in page
    assert "<img" not in page and "<b>" not in page and "<i>" not in page and "<script" not in page
    assert "## alpha" in text and "**alpha** says *hi*" in text and "| configuration | status |" in text
    assert "alpha thinks" not in text  # the reasoning is in the HTML only: one copy in the file


def _outputs(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]


def test_saved_state_keeps_no_widget_code_or_text_of_a_finished_panel(saved: Any) -> None:
    state = saved.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    esm = [s["state"].get("_esm", "") for s in state.values() if s["model_name"] == "AnyModel"]
    anywidget_js = [e for e in esm if len(e) > 200]
    # the live chat panel (cell 2) keeps its controls' code; its finished turn is static HTML, no ThinkView
    assert len(anywidget_js) <= 1, [e[:60] for e in anywidget_js]
    dumped = json.dumps(state, ensure_ascii=False)
    assert "finished &lt;chat&gt;" not in dumped and "beta thinks" not in dumped  # retired widgets forgot it
    assert "sk-SAVED-SECRET-123" not in json.dumps([c.outputs for c in saved.cells] + [saved.metadata])


def test_saved_state_holds_no_comparison_and_one_turn_view(saved: Any) -> None:
    """A headless run (allow_stdin false) makes comparisons without widgets; the chats' two turns share one
    comm id (a retired widget's id goes to the next widget of its class)."""
    state = saved.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    kinds = Counter(s["state"].get("_anywidget_id") or s["model_name"] for s in state.values())
    assert kinds["thinkbook._view.ThinkView"] == 1
    assert kinds["thinkbook._compare_panel.CompareSummary"] == 0 and kinds["GridBoxModel"] == 0
    assert "again" in json.dumps([c.outputs for c in saved.cells[5:]])  # (the second one did run)


def test_saved_live_chat_panel_keeps_its_widget_and_its_transcript_next_to_it(saved: Any) -> None:
    # displayed in one cell, updated when the next cell's turn ended: the panel, then its transcript
    panel, transcript = _outputs(saved.cells[2])
    assert WIDGET in panel.data  # waiting for the next message: still a live widget while the kernel lives
    assert "Finish chat" in panel.data["text/html"] and "next output" in panel.data["text/plain"]
    assert WIDGET not in transcript.data  # what a reopened notebook shows in place of "model not found"
    page, text = transcript.data["text/html"], transcript.data["text/plain"]
    assert page.startswith('<div class="tb-chat-saved">') and "first &lt;question&gt;" in page
    assert '<details data-tb="reasoning"><summary>' in page and "alpha thinks &lt;img" in page
    assert "<strong>alpha</strong> says <em>hi</em>" in page
    assert "Session: 1 turn ·" in page and "Tokens: input 5" in page
    assert "<img" not in page and "<question>" not in page
    assert "You: first <question>" in text and "**alpha** says *hi*" in text
    assert "alpha thinks" not in panel.data["text/html"]  # one copy of the transcript in the file


def test_saved_finished_chat_is_static(saved: Any) -> None:
    panel, emptied = _outputs(saved.cells[4])
    assert WIDGET not in panel.data
    page = panel.data["text/html"]
    assert "finished &lt;chat&gt;" in page and "<strong>alpha</strong> says <em>hi</em>" in page
    assert "Session: 1 turn ·" in page and "<img" not in page
    assert emptied.data == {"text/plain": ""}  # the transcript is the panel's own output now: once


def answer(reasoning: str, text: str, delay: float = 0.02) -> ScriptedResponse:
    events: list[dict[str, Any]] = [{"choices": [{"delta": {"reasoning_content": reasoning}}]}]
    events += [{"choices": [{"delta": {"content": text}}]}, {"choices": [{"delta": {}, "finish_reason": "stop"}]}]
    return ScriptedResponse.from_sse(events, delay=delay)


class Handle:
    """A display handle that records what the output was updated to."""

    def __init__(self) -> None:
        self.shown: list[dict[str, Any]] = []

    def update(self, data: dict[str, Any], **_: Any) -> None:
        self.shown.append(data)


def test_finished_compare_panel_replaces_its_output_and_closes_its_widgets(engine: Any, comms: Any) -> None:
    with LoopbackServer(lambda request: answer("thinks <b>", "says *hi*")) as server:
        panel = ComparePanel("q", ["qwen-plus", "qwen-flash"], base_url=server.url + "/v1", api_key=FAKE_KEY,
                             lang="en", start=False)  # fmt: skip
        first = panel._repr_mimebundle_()
        assert WIDGET in first and "<caption>" not in first["text/html"]  # live while it streams
        handle = Handle()
        panel._display_handles.append(handle)
        panel.start()
        results = panel.wait(10)
    # when every column is over (again from the waiting thread if the last column ended on a stream's thread)
    final = handle.shown[-1]
    assert 1 <= len(handle.shown) <= 2 and all(shown == final for shown in handle.shown)
    assert WIDGET not in final and "says <em>hi</em>" in final["text/html"] and "<caption>Summary" in final["text/html"]
    assert FAKE_KEY not in json.dumps(handle.shown)
    assert all(w.comm is None for w in (panel, panel.grid, panel.summary_widget, *panel.views))
    # the Python side goes on: results, summary, markdown, the views' text
    assert [r.answer for r in results if r] == ["says *hi*", "says *hi*"]
    assert len(panel.summary()) == 2 and "| qwen-plus" in panel.to_markdown()
    assert panel.views[0].answer_markdown == "says *hi*"
    assert "says <em>hi</em>" in panel._bundle()[0]["text/html"]  # displayed again: the static form
    assert WIDGET not in panel._bundle()[0]


def test_retired_widgets_tell_the_front_end_to_forget_their_code_and_text(engine: Any, comms: Any) -> None:
    with LoopbackServer(lambda request: answer("r" * 300, "a" * 300)) as server:
        panel = ComparePanel("q", ["qwen-plus", "qwen-flash"], base_url=server.url + "/v1", api_key=FAKE_KEY)
        panel.wait(10)
    view_comm = next(c for c in comms if any("answer_markdown" in json.dumps(m) for m in c.messages))
    last = [m["data"] for m in view_comm.messages if m.get("data", {}).get("method") == "update"][-1]
    assert last["state"]["_esm"] == "export default { render() {} };" and last["state"]["_css"] == ""
    assert last["state"]["reasoning"] == "" and last["state"]["answer_markdown"] == ""


def test_a_panel_kept_live_with_finalize_widget(engine: Any, comms: Any) -> None:
    with LoopbackServer(lambda request: answer("r", "a")) as server:
        panel = ComparePanel("q", ["qwen-plus", "qwen-flash"], base_url=server.url + "/v1", api_key=FAKE_KEY,
                             finalize="widget", start=False)  # fmt: skip
        handle = Handle()
        panel._display_handles.append(handle)
        panel.start()
        panel.wait(10)
    final = handle.shown[-1]
    assert (
        1 <= len(handle.shown) <= 2
        and WIDGET in final
        and "<caption>Summary" in final["text/html"]
        and panel.comm is not None
    )
    # the panel stays live, its finished columns are their static renderings (no ThinkView left to save)
    assert [type(w).__name__ for w in panel.grid.children] == ["HTML", "HTML"]
    assert all("tb-compare-col" in w._dom_classes and ">a</p>" in w.value for w in panel.grid.children)
    assert all(v.comm is None for v in panel.views) and panel.views[0].answer_markdown == "a"
    with pytest.raises(ConfigurationError, match="finalize"):
        ComparePanel("q", ["a", "b"], finalize="html")  # type: ignore[arg-type]


def test_a_frozen_chat_is_static_and_refuses_new_messages(engine: Any, comms: Any) -> None:
    with LoopbackServer(lambda request: answer("thinks", "**hi**")) as server:
        panel = ChatPanel("qwen-plus", base_url=server.url + "/v1", api_key=FAKE_KEY, lang="en")
        handle = Handle()
        panel._display_handles.append(handle)
        panel.send("hello <you>")
        panel.wait(10)
        panel.controls._handle_custom_msg({"t": "finish"}, [])  # the Finish chat button
    final = handle.shown[-1]
    assert (
        WIDGET not in final
        and "hello &lt;you&gt;" in final["text/html"]
        and "<strong>hi</strong>" in final["text/html"]
    )
    assert panel.comm is None and panel.controls.comm is None
    with pytest.raises(ConfigurationError, match="finished"):
        panel.send("more")
    assert panel.conversation.turns == 1  # the conversation goes on in code
    assert re.search(r"Session: 1 turn\b", final["text/plain"])


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty pool of retired comm ids (the process-wide one holds whatever earlier tests retired)."""
    from thinkbook import _widget_ids

    fresh = _widget_ids.RetiredIds()
    monkeypatch.setattr(_widget_ids, "RETIRED", fresh)
    return fresh


def _opened(comms: list[RecordingComm], since: int) -> set[str]:
    return {c.comm_id for c in comms[since:]}


def test_a_second_comparison_opens_its_widgets_under_the_first_ones_retired_ids(
    engine: Any, comms: list[RecordingComm], pool: Any
) -> None:
    with LoopbackServer(lambda request: answer("r", "a")) as server:
        first = ComparePanel("q", ["qwen-plus", "qwen-flash"], base_url=server.url + "/v1", api_key=FAKE_KEY)
        first.wait(10)
        assert all(w.comm is None for w in (first, first.grid, first.summary_widget, *first.views))
        first_ids = _opened(comms, 0)
        assert len(pool) == len(first_ids) >= 8  # panel, grid, summary, 2 views and their 3 layouts
        opened = len(comms)
        second = ComparePanel("q2", ["qwen-plus", "qwen-flash"], base_url=server.url + "/v1", api_key=FAKE_KEY)
        second_ids = {w.comm.comm_id for w in (second, second.grid, second.summary_widget, *second.views)}
        assert _opened(comms, opened) == first_ids and second_ids < first_ids and len(pool) == 0
        second.wait(10)
    assert first.views[0].answer_markdown == "a" and second.views[1].answer_markdown == "a"  # each its own text
    assert "q2" in second._bundle()[0]["text/html"] and "q2" not in first._bundle()[0]["text/html"]


def test_an_id_is_reused_only_once_its_widget_is_closed(pool: Any, comms: list[RecordingComm]) -> None:
    import ipywidgets

    from thinkbook._widget_ids import close_and_release, fresh

    live = fresh(ipywidgets.HTML, "live")
    pool.give(live)  # still open: never handed out
    assert len(pool) == 0 and fresh(ipywidgets.HTML, "other").comm.comm_id != live.comm.comm_id
    close_and_release(live)  # closes it and its own layout and style
    again = fresh(ipywidgets.HTML, "again")
    assert again.comm.comm_id == live._model_id and again.value == "again"
    assert isinstance(fresh(ipywidgets.Button), ipywidgets.Button) and len(pool) == 2  # (layout and style wait)


def _ended(model: str, *, replay: str | None, thinking: bool | None = True, lang: str = "en") -> Any:
    from thinkbook._types import AnswerDelta, ReasoningDelta
    from thinkbook._view import ThinkView

    view = ThinkView(model=model, enable_thinking=thinking, replay=replay, lang=lang, quiet=True)
    view.begin()
    view.push([ReasoningDelta("r"), AnswerDelta(f"{model} answers")])
    view.end()
    return view


def test_a_saved_comparison_says_once_what_every_column_shares() -> None:
    from thinkbook._panel_static import columns_table

    shared = "replay:illustrative:nb05.jsonl"
    page = columns_table([("qwen-plus · thinking on", _ended("qwen-plus", replay=shared)),
                          ("glm-4.7", _ended("glm-4.7", replay=shared))])  # fmt: skip
    note = "Every column: Replayed from an illustrative recording (not model output)"
    assert page.startswith(f'<p class="tb-replay-all"><small><em>{note}</em></small></p><table')
    assert page.count("Replayed from") == 1  # not in each column
    # the title names the model and its mode: the column's status line does not say them again
    assert '<b class="tb-model">' not in page and page.count("thinking on") == 2  # title, glm's own mode
    assert "<h4>glm-4.7</h4>" in page and '<span class="tb-think">thinking on</span>' in page
    assert "qwen-plus answers" in page and "glm-4.7 answers" in page
    assert "<small></small>" not in page  # qwen-plus's status line had nothing left to say: none at all


def test_a_saved_comparison_of_live_and_replayed_columns_marks_each_replay() -> None:
    from thinkbook._panel_static import columns_table

    page = columns_table([("a", _ended("a", replay=None)), ("b", _ended("b", replay="replay:x.jsonl"))])
    assert "Every column" not in page and page.count('<em class="tb-replay">Replayed from a recording</em>') == 1
