"""Conversation: multi-turn history, reasoning kept, sent back only with preserve_thinking."""

from __future__ import annotations

from typing import Any

import pytest

import thinkbook
from thinkbook.testing import LoopbackServer, ScriptedResponse

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
Q1 = "我需要为一个日均千万消息的电商系统选择消息队列,请推荐"
Q2 = "你在对比时为什么排除了Kafka?"


def turn(reasoning: str, answer: str) -> ScriptedResponse:
    return ScriptedResponse.from_sse(
        [
            {"choices": [{"delta": {"reasoning_content": reasoning}}]},
            {"choices": [{"delta": {"content": answer}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}},
        ]
    )


def chat(server: LoopbackServer, **options: Any) -> thinkbook.Conversation:
    # A Bailian-compatible gateway on loopback: the protocol is OpenAI-compatible.
    return thinkbook.Conversation(
        "qwen3.7-plus", base_url=server.url + "/compatible-mode/v1", api_key=FAKE_KEY, **options
    )


def test_two_turns_with_preserve_thinking_send_reasoning_back(server: LoopbackServer) -> None:
    server.enqueue(turn("RocketMQ 更适合", "推荐 RocketMQ"), turn("我并没有排除", "并没有排除 Kafka"))
    conversation = chat(server, preserve_thinking=True, enable_thinking=True)
    first = conversation.send(Q1)
    second = conversation.send(Q2)
    assert (first.answer, second.answer) == ("推荐 RocketMQ", "并没有排除 Kafka")
    body = server.requests[1].json()
    assert body["preserve_thinking"] is True
    assert body["messages"] == [
        {"role": "user", "content": Q1},
        {"role": "assistant", "content": "推荐 RocketMQ", "reasoning_content": "RocketMQ 更适合"},
        {"role": "user", "content": Q2},
    ]
    assert conversation.results == [first, second]
    assert conversation.messages[-1] == {
        "role": "assistant",
        "content": "并没有排除 Kafka",
        "reasoning_content": "我并没有排除",
    }


def test_without_preserve_the_reasoning_is_kept_but_not_sent(server: LoopbackServer) -> None:
    server.enqueue(turn("r1", "a1"), turn("r2", "a2"))
    conversation = chat(server)
    conversation.send(Q1)
    conversation.send(Q2)
    body = server.requests[1].json()
    assert "preserve_thinking" not in body
    assert all("reasoning_content" not in m for m in body["messages"])
    assert conversation.messages[1]["reasoning_content"] == "r1"  # still there for the user


def test_system_prompt_leads_every_request_and_survives_reset(server: LoopbackServer) -> None:
    server.enqueue(turn("r", "a"), turn("r", "b"))
    conversation = chat(server, system="Answer briefly.")
    conversation.send("one")
    conversation.reset()
    assert conversation.messages == [{"role": "system", "content": "Answer briefly."}]
    assert conversation.results == []
    conversation.send("two")
    assert server.requests[1].json()["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "two"},
    ]


def test_failed_turn_leaves_history_unchanged(server: LoopbackServer) -> None:
    server.enqueue(turn("r", "a"), ScriptedResponse.from_json({"error": {"message": "bad"}}, status=400))
    conversation = chat(server)
    conversation.send("one")
    before = [dict(m) for m in conversation.messages]
    with pytest.raises(thinkbook.BadRequestError):
        conversation.send("two")
    assert conversation.messages == before and len(conversation.results) == 1


async def test_asend_continues_the_same_history(server: LoopbackServer) -> None:
    server.enqueue(turn("r", "a"), turn("r", "b"))
    conversation = chat(server)
    conversation.send("one")
    result = await conversation.asend("two")
    assert result.answer == "b"
    assert [m["role"] for m in conversation.messages] == ["user", "assistant", "user", "assistant"]


def test_repr_never_shows_the_key(server: LoopbackServer) -> None:
    conversation = chat(server)
    assert FAKE_KEY not in repr(conversation) and "qwen3.7-plus" in repr(conversation)


# --- bad input and dialects (issue 9, points 7 and 12) ------------------------------------------


@pytest.mark.parametrize("text", ["", "  ", "\u200b\u2060", "\ufeff\n"])
def test_a_blank_turn_is_refused_before_sending(server: LoopbackServer, text: str) -> None:
    conversation = chat(server)
    with pytest.raises(thinkbook.ConfigurationError, match="empty"):
        conversation.send(text)
    assert server.requests == [] and conversation.turns == 0


def test_a_misspelled_option_on_send_warns_and_is_not_sent(server: LoopbackServer) -> None:
    server.enqueue(turn("r", "a"))
    with pytest.warns(thinkbook.ThinkbookWarning, match="did you mean enable_thinking"):
        chat(server).send(Q1, enable_thinkng=False)
    assert "enable_thinkng" not in server.requests[0].json()


def test_messages_as_an_extra_field_of_send_is_refused(server: LoopbackServer) -> None:
    with pytest.raises(thinkbook.ConfigurationError, match="replace the prompt"):
        chat(server).send(Q1, messages=[{"role": "user", "content": "other"}])
    assert server.requests == []


def test_dialect_is_used_on_every_turn(server: LoopbackServer) -> None:
    server.enqueue(turn("r", "a"), turn("r", "b"))
    # A LiteLLM-style gateway on loopback in front of Bailian: without dialect it would get vLLM's fields.
    conversation = thinkbook.Conversation(
        "qwen-plus", base_url=server.url + "/v1", dialect="bailian", enable_thinking=True, thinking_budget=50
    )
    conversation.send(Q1)
    conversation.send(Q2)
    for request in server.requests:
        body = request.json()
        assert (body["enable_thinking"], body["thinking_budget"]) == (True, 50) and "chat_template_kwargs" not in body


def test_unknown_dialect_fails_when_the_chat_is_made() -> None:
    with pytest.raises(thinkbook.ConfigurationError, match="unknown dialect"):
        thinkbook.Conversation("qwen-plus", dialect="litellm")
