"""Runs no one watches (nbclient): views and comparisons without widgets (``thinkbook._headless``)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from thinkbook import _headless
from thinkbook._compare_panel import ComparePanel
from thinkbook._headless import client_draws_widgets
from thinkbook._types import AnswerDelta, ReasoningDelta
from thinkbook._view import ThinkView
from thinkbook.testing import LoopbackServer, RecordingComm, ScriptedResponse, recording_comms

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


def _shell(parent: Any) -> SimpleNamespace:
    return SimpleNamespace(kernel=SimpleNamespace(get_parent=lambda channel="shell": parent))


def _cell(allow_stdin: bool | None) -> dict[str, Any]:
    content = {} if allow_stdin is None else {"allow_stdin": allow_stdin}
    return {"header": {"msg_type": "execute_request"}, "content": {"code": "x", **content}}


@pytest.mark.parametrize(
    ("parent", "draws"),
    [
        (_cell(False), False),  # nbclient, papermill: cannot answer input(), draws nothing
        (_cell(True), True),  # JupyterLab, Notebook 7, VS Code
        (_cell(None), True),  # unsaid: assume a front end that draws
        ({"header": {"msg_type": "comm_msg"}, "content": {}}, True),  # a button click, not a cell
        ({}, True),
    ],
)
def test_the_client_of_the_running_cell_decides(monkeypatch: pytest.MonkeyPatch, parent: Any, draws: bool) -> None:
    monkeypatch.delenv("THINKBOOK_WIDGETS", raising=False)
    monkeypatch.setattr("IPython.get_ipython", lambda: _shell(parent))
    assert client_draws_widgets() is draws


def test_thinkbook_widgets_overrides_the_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("IPython.get_ipython", lambda: _shell(_cell(False)))
    monkeypatch.setenv("THINKBOOK_WIDGETS", "1")
    assert client_draws_widgets() is True
    monkeypatch.setattr("IPython.get_ipython", lambda: _shell(_cell(True)))
    monkeypatch.setenv("THINKBOOK_WIDGETS", "off")
    assert client_draws_widgets() is False


def test_no_kernel_or_a_kernel_without_get_parent_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THINKBOOK_WIDGETS", raising=False)
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert client_draws_widgets() is True
    monkeypatch.setattr("IPython.get_ipython", lambda: SimpleNamespace(kernel=object()))
    assert client_draws_widgets() is True


def test_a_quiet_view_opens_no_comm_and_shows_its_static_rendering(comms: list[RecordingComm]) -> None:
    view = ThinkView(model="qwen-plus", quiet=True, lang="en")
    view.begin()
    view.push([ReasoningDelta("hmm <b>"), AnswerDelta("**yes**")])
    view.flush()
    assert comms == [] and view.comm is None and view.quiet
    streaming = view._repr_mimebundle_()
    assert WIDGET not in streaming and "qwen-plus" in streaming["text/html"]
    view.end()
    view.retire()
    final = view._repr_mimebundle_()
    assert comms == [] and "hmm &lt;b&gt;" in final["text/html"] and "<strong>yes</strong>" in final["text/html"]
    assert view.final_state().answer_markdown == "**yes**"


def answer(text: str) -> ScriptedResponse:
    events: list[dict[str, Any]] = [{"choices": [{"delta": {"reasoning_content": "r"}}]}]
    events += [{"choices": [{"delta": {"content": text}}]}, {"choices": [{"delta": {}, "finish_reason": "stop"}]}]
    return ScriptedResponse.from_sse(events, delay=0.01)


def test_a_comparison_no_one_watches_makes_no_widget(
    engine: Any, comms: list[RecordingComm], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THINKBOOK_WIDGETS", "0")
    with LoopbackServer(lambda request: answer("says *hi*")) as server:
        panel = ComparePanel(
            "q", ["qwen-plus", "qwen-flash"], base_url=server.url + "/v1", api_key="sk-test-x", lang="en"
        )
        waiting = panel._bundle()[0]
        results = panel.wait(10)
    assert comms == []  # no panel, grid, layout, summary or column comm
    assert WIDGET not in waiting and "tb-compare" in waiting["text/html"]
    final = panel._bundle()[0]
    assert WIDGET not in final and final["text/html"].count("says <em>hi</em>") == 2
    assert "<caption>Summary" in final["text/html"] and [r.answer for r in results if r] == ["says *hi*"] * 2
    assert len(panel.summary()) == 2 and panel.views[1].answer_markdown == "says *hi*"


def test_a_comparison_kept_live_stays_a_widget_even_unwatched(
    engine: Any, comms: list[RecordingComm], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THINKBOOK_WIDGETS", "0")  # finalize="widget" asks for the live panel: it is one
    with LoopbackServer(lambda request: answer("a")) as server:
        panel = ComparePanel("q", ["a", "b"], base_url=server.url + "/v1", api_key="sk-test-x", finalize="widget")
        panel.wait(10)
    assert panel.comm is not None and not panel.quiet and len(comms) >= 5
    assert _headless.quiet_class(ComparePanel) is ComparePanel  # (it mixes Quiet in itself)
