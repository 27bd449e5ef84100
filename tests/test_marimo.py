"""thinkbook.marimo outside a running marimo notebook: what it refuses, and where notices go.

The real thing (a marimo server, its kernel, a browser) is tests/browser/test_marimo_browser.py.
"""

from __future__ import annotations

import pytest

import thinkbook
import thinkbook.marimo as tbm
from thinkbook import _notices
from thinkbook.testing import LoopbackServer, ScriptedResponse


def test_show_wraps_views_and_results_and_refuses_anything_else() -> None:
    import marimo as mo

    result = thinkbook.ThinkResult(reasoning="想一想", answer="答案")
    assert isinstance(tbm.show(result), mo.ui.anywidget)
    with pytest.raises(thinkbook.ConfigurationError, match="takes a ThinkResult, a ThinkView or a ComparePanel"):
        tbm.show("answer")


def test_bad_input_fails_before_anything_is_sent_or_drawn(server: LoopbackServer) -> None:
    with pytest.raises(thinkbook.ConfigurationError, match="lang must be"):
        tbm.think("q", model="local", base_url=server.url + "/v1", lang="fr")
    with pytest.raises(thinkbook.ConfigurationError, match="thinking-only"):
        tbm.think("q", model="qwq-plus", base_url=server.url + "/v1", enable_thinking=False)
    assert not server.requests


def test_outside_a_notebook_think_still_answers(server: LoopbackServer) -> None:
    """A marimo notebook run as a script (python notebook.py) has no output area: the answer still comes."""
    events = [{"choices": [{"delta": {"reasoning_content": "想"}}]}, {"choices": [{"delta": {"content": "好"}}]}]
    server.enqueue(ScriptedResponse.from_sse(events))
    result = tbm.think("q", model="local", base_url=server.url + "/v1")
    assert (result.reasoning, result.answer) == ("想", "好")


def test_in_a_marimo_notebook_a_notice_is_a_plain_console_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import marimo

    monkeypatch.setattr(marimo, "running_in_notebook", lambda: True)
    assert _notices.where() == "marimo"
    _notices.notice("replaying a recorded answer")
    captured = capsys.readouterr()
    assert captured.out == "thinkbook: replaying a recorded answer\n" and captured.err == ""


def test_chat_keeps_its_turns_in_a_conversation_and_follows_a_cleared_chat() -> None:
    from types import SimpleNamespace

    from thinkbook.marimo import _follow_history, _in_marimo_words

    element = tbm.chat("qwen-plus", enable_thinking=True, prompts=["你是谁"])
    conversation = element.conversation
    assert isinstance(conversation, thinkbook.Conversation) and conversation.enable_thinking is True
    conversation.record_turn("你是谁", thinkbook.ThinkResult(reasoning="想", answer="我是千问"))
    shown = [SimpleNamespace(role="user", content="你是谁"), SimpleNamespace(role="assistant", content="我是千问")]
    _follow_history(conversation, shown)
    assert conversation.messages[-1]["reasoning_content"] == "想"  # in step: the reasoning is kept
    _follow_history(conversation, [])  # the chat was cleared: so is the conversation
    assert conversation.turns == 0
    error = thinkbook.MissingAPIKeyError(
        "no API key: set X (or pass api_key=... / %%think --api-key-env NAME); "
        "thinkbook.recordings() (or %think recordings) lists what replays",
        variable="X",
    )
    assert "%" not in _in_marimo_words(error)
    with pytest.raises(thinkbook.ConfigurationError, match="thinking-only"):
        tbm.chat("qwq-plus", enable_thinking=False)  # refused before any message


def test_effort_is_the_thinking_option_not_a_body_field(server: LoopbackServer) -> None:
    """effort= means what it means in thinkbook.think: the dialect's knob (vLLM's budget here)."""
    events = [{"choices": [{"delta": {"content": "好"}, "finish_reason": "stop"}]}]
    server.enqueue(ScriptedResponse.from_sse(events))
    tbm.think("q", model="local", base_url=server.url + "/v1", effort="low")
    body = server.requests[0].json()
    assert "effort" not in body and body["thinking_token_budget"] == 1024
    with pytest.raises(thinkbook.ConfigurationError, match="effort"):
        tbm.chat("local", base_url=server.url + "/v1", effort="extreme")
