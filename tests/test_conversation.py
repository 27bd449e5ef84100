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
