"""A ChatPanel message that cannot be sent stays in the chat, saying why and what to do (issue 11, point 6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from thinkbook._chat_panel import ChatPanel
from thinkbook._errors import MissingAPIKeyError
from thinkbook._panel_hints import nearest_recording, unsent_line
from thinkbook.testing import LoopbackServer, RecordingComm, ScriptedResponse, recording_comms

KEY_VARIABLES = ("DASHSCOPE_API_KEY", "DASHSCOPE_REGION", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DEEPSEEK_API_KEY")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./recordings next to the "notebook"
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")


@pytest.fixture
def comms() -> Iterator[list[RecordingComm]]:
    with recording_comms() as created:
        yield created


def browser_send(panel: ChatPanel, text: str) -> None:
    panel.controls._handle_custom_msg({"t": "send", "text": text}, [])


def replies(panel: ChatPanel) -> list[dict[str, Any]]:
    """What the kernel sent the controls' front end (custom messages)."""
    comm = panel.controls.comm
    return [m["data"]["content"] for m in comm.messages if m.get("data", {}).get("method") == "custom"]


def test_offline_whoami_with_thinking_off_is_kept_with_what_to_tick(offline: None, comms: Any) -> None:
    panel = ChatPanel(model="qwen-plus", lang="en")  # qwen-plus thinks only when asked; the recording thinks
    browser_send(panel, "你是谁")
    assert not panel.busy and panel.conversation.turns == 0
    (entry,) = panel.turns_box.children
    page = entry.value
    assert 'data-tb="unsent"' in page and "You · not sent" in page and "你是谁" in page
    error = page.split('data-tb="chat-error" role="alert">')[1].split("</div>")[0]
    assert error.startswith("Not sent: no API key for qwen-plus: set the DASHSCOPE_API_KEY environment variable")
    assert "a recording answers this message: tick Thinking, then send it again." in error
    assert "\n" not in error and "Traceback" not in error and "MissingAPIKeyError" not in error
    assert panel.controls.notice == ""  # said once, in the chat
    assert {"t": "unsent", "text": "你是谁"} in replies(panel)  # the prompt box gets the text back


def test_ticking_thinking_as_told_then_replays_and_the_unsent_entry_goes(offline: None, comms: Any) -> None:
    panel = ChatPanel(model="qwen-plus", lang="en")
    with pytest.warns(UserWarning):  # the offline-replay notice
        browser_send(panel, "你是谁")
        panel.controls.enable_thinking = True  # the user ticks Thinking in the panel
        browser_send(panel, "你是谁")
        result = panel.wait(30)
    assert result is not None and result.answer and result.reasoning
    (turn,) = panel.turns_box.children  # the unsent entry made way for the sent turn
    assert 'data-tb="unsent"' not in turn.children[0].value and panel._turns[0].view.final_state().status == "done"


def test_no_recording_at_all_points_to_the_list(offline: None, comms: Any) -> None:
    panel = ChatPanel(model="qwen-plus", lang="zh")
    browser_send(panel, "今天天气怎么样")
    page = panel.turns_box.children[0].value
    assert "你 · 未发送" in page
    assert "未发送：qwen-plus 没有 API key：请设置环境变量 DASHSCOPE_API_KEY" in page
    assert "离线时只能回放录制过的消息（thinkbook.recordings() 列出它们）。" in page


def test_unsent_text_is_escaped_and_clear_removes_it(offline: None, comms: Any) -> None:
    panel = ChatPanel(model="qwen-plus", lang="en")
    browser_send(panel, "<img src=x onerror=alert(1)>")
    page = panel.turns_box.children[0].value
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    panel.clear()
    assert panel.turns_box.children == ()


def test_other_refusals_are_one_line_too(comms: Any) -> None:
    with LoopbackServer() as server:
        server.enqueue(ScriptedResponse.from_sse([{"choices": [{"delta": {"content": "x"}}]}], delay=0.5))
        panel = ChatPanel(model="qwen-plus", base_url=server.url + "/v1", api_key="sk-x", lang="en")
        panel.send("first")
        browser_send(panel, "second")  # while the first streams
        entry = panel.turns_box.children[-1].value
        assert "Not sent: a turn is still streaming: stop it or wait for it first" in entry
        panel.stop()


def test_nearest_recording_names_the_fewest_changes(offline: None) -> None:
    whoami = [{"role": "user", "content": "你是谁？"}]
    settings = {"model": "qwen-plus", "enable_thinking": None, "thinking_budget": None, "preserve_thinking": False}
    assert nearest_recording(settings, whoami) == [("thinking_on", None)]
    assert nearest_recording({**settings, "enable_thinking": True}, whoami) == []  # it would replay as is
    assert nearest_recording({**settings, "thinking_budget": 500, "enable_thinking": True}, whoami) in (
        [("no_budget", None)],
        [("budget", 50)],
    )
    assert nearest_recording(settings, [{"role": "user", "content": "never recorded"}]) is None
    error = MissingAPIKeyError("no key", variable="DASHSCOPE_API_KEY")
    line = unsent_line(error, {**settings, "model": "qwen3.6-plus"}, whoami)
    assert "pick the model qwen-plus and tick Thinking" in line or "pick the model qwen-plus" in line
