"""The engine loop never renders: views and panels render on the view worker thread.

Every render entry point (the live renderer's update, the highlighter, ``render_markdown`` as the
view and the live renderer call it, ``ThinkView.flush``) records the thread it runs on while
answers stream from a loopback server into a ThinkView (through ``think()``), a ComparePanel and
a ChatPanel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import thinkbook
from thinkbook import _display, _live_markdown, _view
from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import ComparePanel
from thinkbook._engine import Engine
from thinkbook.testing import LoopbackServer, RecordingComm, ScriptedResponse, openai_events, recording_comms

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
ANSWER = (
    "Intro with *emphasis* and \\(x^2\\).\n\n"
    + "```python\n"
    + "".join(f"value_{i} = compute({i})\n" for i in range(60))
    + "```\n\n"
    + " ".join(f"word{i}" for i in range(150))
    + "\n"
)


def streamed(model: str = "qwen-plus") -> ScriptedResponse:
    reasoning = [f"step {i} " for i in range(40)]
    answer = [ANSWER[i : i + 6] for i in range(0, len(ANSWER), 6)]
    usage = {"prompt_tokens": 5, "completion_tokens": 50, "total_tokens": 55}
    return ScriptedResponse.from_sse(openai_events(reasoning, answer, usage, model=model), delay=0.003)


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


@pytest.fixture
def render_threads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(entry point, thread name) for every render call."""
    calls: list[tuple[str, str]] = []

    def recorded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, threading.current_thread().name))
            return function(*args, **kwargs)

        return wrapper

    for owner, name in [
        (_live_markdown.LiveMarkdown, "update_delta"),
        (_live_markdown._LiveFence, "_highlight"),
        (_live_markdown, "render_markdown"),
        (_view, "render_markdown"),
        (_view.ThinkView, "flush"),
    ]:
        monkeypatch.setattr(owner, name, recorded(name, getattr(owner, name)))
    return calls


def check(calls: list[tuple[str, str]]) -> None:
    names = {name for name, _ in calls}
    assert {"update_delta", "_highlight", "render_markdown", "flush"} <= names, names  # it did render
    on_loop = [call for call in calls if call[1] == "thinkbook-engine"]
    assert on_loop == [], f"{len(on_loop)} renders ran on the engine loop: {on_loop[:3]}"
    assert any(thread == "thinkbook-view" for _, thread in calls)  # while streaming, on the worker


def test_think_into_a_view_renders_off_the_engine_loop(
    engine: Engine, comms: Any, render_threads: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import IPython.display

    class Handle:
        def update(self, *args: Any, **kwargs: Any) -> None:
            pass

    shown: list[Any] = []
    monkeypatch.setattr(_display, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj) or Handle())
    with LoopbackServer([streamed()]) as server:
        result = thinkbook.think("q", model="qwen-plus", base_url=server.url + "/v1", api_key=FAKE_KEY, display=True)
    assert result.answer == ANSWER
    (view,) = shown
    assert isinstance(view, _view.ThinkView) and view.status == "done"
    # It streamed live, then the finished view became static HTML and its widget closed (issue 11).
    assert max(len(comm.custom_messages()) for comm in comms) > 3
    assert view.comm is None
    check(render_threads)


def test_panels_render_off_the_engine_loop(engine: Engine, comms: Any, render_threads: list[tuple[str, str]]) -> None:
    with LoopbackServer(lambda request: streamed(request.json()["model"])) as server:
        compare = ComparePanel("q", ["qwen-plus", "qwen-flash"], base_url=server.url + "/v1", api_key=FAKE_KEY)
        chat = ChatPanel(base_url=server.url + "/v1", api_key=FAKE_KEY)
        chat.send("hello")
        assert [r.answer if r else None for r in compare.wait(20)] == [ANSWER, ANSWER]
        assert chat.wait(20) is not None
    assert all(view.status == "done" for view in compare.views)
    check(render_threads)
