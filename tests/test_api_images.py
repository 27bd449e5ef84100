"""think(images=...) end to end: the request bodies on both protocols, the multimodal endpoint,
limits checked before anything is sent, and images kept in a Conversation's history."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from wire_tools import native_answer, openai_answer

import thinkbook
from thinkbook import ConfigurationError
from thinkbook._images import MAX_IMAGE_BYTES
from thinkbook.testing import LoopbackServer

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def compatible(server: LoopbackServer, prompt: Any = "What is in the image?", **options: Any) -> thinkbook.ThinkResult:
    return thinkbook.think(
        prompt,
        model="qwen3-vl-plus",
        base_url=server.url + "/v1",
        api_key=FAKE_KEY,
        dialect="bailian",
        display=False,
        **options,
    )


def test_openai_compatible_sends_image_parts_before_the_text(server: LoopbackServer, tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    path.write_bytes(PNG)
    server.enqueue(openai_answer("", "A chart."))
    compatible(server, images=[path, PNG, "https://example.com/cat.jpg"])
    assert server.requests[0].json()["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": PNG_URL}},
                {"type": "image_url", "image_url": {"url": PNG_URL}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                {"type": "text", "text": "What is in the image?"},
            ],
        }
    ]


def test_images_go_to_the_last_user_message_of_a_list(server: LoopbackServer) -> None:
    server.enqueue(openai_answer("", "ok"))
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "this one?"},
    ]
    compatible(server, history, images=[PNG])
    sent = server.requests[0].json()["messages"]
    assert sent[0]["content"] == "hi"
    assert sent[2]["content"] == [
        {"type": "image_url", "image_url": {"url": PNG_URL}},
        {"type": "text", "text": "this one?"},
    ]


def test_native_goes_to_the_multimodal_service_with_native_parts(server: LoopbackServer) -> None:
    server.enqueue(native_answer("看图", "一只猫。"))
    result = thinkbook.think(
        "图里是什么?",
        model="qwen-plus",  # a text-generation model in the catalog: images still need the multimodal service
        base_url=server.url + "/api/v1",
        protocol="dashscope",
        api_key=FAKE_KEY,
        images=[PNG],
        display=False,
    )
    assert result.answer == "一只猫。"
    sent = server.requests[0]
    assert sent.path == "/api/v1/services/aigc/multimodal-generation/generation"
    assert sent.json()["input"]["messages"] == [
        {"role": "user", "content": [{"image": PNG_URL}, {"text": "图里是什么?"}]}
    ]


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_IMAGE_BYTES, r"MB; vision APIs take at most 3\.75 MB"),
        (b"GIF8 not really", "is not a PNG, JPEG, GIF or WEBP"),
        ("/no/such/file.png", "does not exist"),
        ("data:image/png;base64,@@@", "not valid base64"),
        (3.14, "cannot use a float as an image"),
    ],
)
def test_bad_images_fail_before_sending(server: LoopbackServer, image: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        compatible(server, images=[image])
    assert server.requests == []


def test_conversation_keeps_the_image_in_its_history(server: LoopbackServer) -> None:
    chat = thinkbook.Conversation(
        "qwen3-vl-plus", base_url=server.url + "/v1", api_key=FAKE_KEY, dialect="bailian", display=False
    )
    server.enqueue(openai_answer("", "A chart."), openai_answer("", "Going up."))
    chat.send("What is this?", images=[PNG])
    chat.send("Which way does it go?")
    second = server.requests[1].json()["messages"]
    assert second[0]["content"] == [
        {"type": "image_url", "image_url": {"url": PNG_URL}},
        {"type": "text", "text": "What is this?"},
    ]
    assert second[2] == {"role": "user", "content": "Which way does it go?"}
    assert chat.messages[0]["content"][0]["type"] == "image_url"


def test_conversation_checks_images_before_sending(server: LoopbackServer) -> None:
    chat = thinkbook.Conversation("qwen3-vl-plus", base_url=server.url + "/v1", api_key=FAKE_KEY, display=False)
    with pytest.raises(ConfigurationError, match="not a PNG"):
        chat.send("look", images=[b"nope"])
    assert server.requests == [] and chat.turns == 0
