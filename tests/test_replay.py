"""Recordings: written, validated, replayed through the live pipeline, and the offline fallback."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import thinkbook
from thinkbook._replay import dump_recording, load_recording, shipped_recordings

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
SHIPPED_FROM = {
    "qwen-plus-whoami.jsonl": "bailian_openai_whoami.sse",
    "qwen-plus-whoami.native.jsonl": "bailian_native_whoami.sse",
    "qwen-plus-budget50.native.jsonl": "bailian_native_budget50.sse",
    "qwen3.7-plus-mq-turn1.jsonl": "bailian_openai_preserve_turn1.sse",
    "qwen3.7-plus-mq-turn2-preserve.jsonl": "bailian_openai_preserve_turn2.sse",
}


@pytest.mark.parametrize("name", sorted(SHIPPED_FROM))
def test_shipped_recordings_replay_to_the_seed_answers(name: str, engine: object) -> None:
    path = Path(thinkbook.__file__).parent / "recordings" / name
    expected = EXPECTED[SHIPPED_FROM[name]]
    result = thinkbook.replay(path, speed=0)
    assert (result.reasoning, result.answer) == (expected["reasoning"], expected["answer"])
    assert result.usage is not None and result.usage.total_tokens == expected["usage"]["total_tokens"]
    assert "not a live recording" in load_recording(path).source  # honest provenance


def test_recordings_hold_no_credentials() -> None:
    for recording in shipped_recordings():
        text = recording.path.read_text(encoding="utf-8")
        assert "Authorization" not in text and "Bearer" not in text and "sk-" not in text


def test_offline_fallback_replays_and_says_so(engine: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")  # the pace has its own test
    with pytest.warns(thinkbook.ThinkbookWarning, match="replaying a recorded answer.*DASHSCOPE_API_KEY"):
        result = thinkbook.think("你是谁", model="qwen-plus", enable_thinking=True)
    assert result.answer == EXPECTED["bailian_openai_whoami.sse"]["answer"]
    with pytest.warns(thinkbook.ThinkbookWarning):
        budget = thinkbook.think("你是谁？", model="qwen-plus", thinking_budget=50)
    assert budget.usage is not None and budget.usage.reasoning_tokens == 50


def test_offline_conversation_follows_the_two_turn_recording(engine: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    chat = thinkbook.Conversation("qwen3.7-plus", preserve_thinking=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", thinkbook.ThinkbookWarning)
        chat.send("我需要为一个日均千万消息的电商系统选择消息队列,请推荐")
        second = chat.send("你在对比时为什么排除了Kafka?")
    assert second.answer.startswith("我并没有排除Kafka")
    assert second.usage is not None and second.usage.prompt_tokens == 3463


def _record(directory: Path, name: str, model: str, answer: str, **parameters: object) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "9.11 和 9.9 哪个大"}], **parameters}
    chunk = json.dumps({"choices": [{"delta": {"content": answer}, "finish_reason": "stop"}]})
    dump_recording(
        directory / name, protocol="openai", model=model, request=body, chunks=[(0, f"data: {chunk}\n\n".encode())]
    )


def test_offline_replay_tells_thinking_on_from_off(
    tmp_path: Path, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hybrid model's answers with and without thinking are different recordings of one question."""
    (tmp_path / "recordings").mkdir()
    _record(tmp_path / "recordings", "a-on.jsonl", "qwen-plus", "thought: 9.9", enable_thinking=True)
    _record(tmp_path / "recordings", "b-off.jsonl", "qwen-plus", "quick: 9.9", enable_thinking=False)
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", thinkbook.ThinkbookWarning)
        assert thinkbook.think("9.11 和 9.9 哪个大?", model="qwen-plus", enable_thinking=True).answer == "thought: 9.9"
        assert thinkbook.think("9.11 和 9.9 哪个大", model="qwen-plus", enable_thinking=False).answer == "quick: 9.9"
        # qwen-plus does not think unless asked: leaving it unsaid is the "off" recording.
        assert thinkbook.think("9.11 和 9.9 哪个大", model="qwen-plus").answer == "quick: 9.9"
    # A thinking-only model has no "off" answer to find.
    _record(tmp_path / "recordings", "qwq-off.jsonl", "qwq-plus", "never", enable_thinking=False)
    with pytest.raises(thinkbook.MissingAPIKeyError, match="no recorded answer"):
        thinkbook.think("9.11 和 9.9 哪个大", model="qwq-plus")


def test_offline_replay_tells_preserved_reasoning_from_dropped(
    tmp_path: Path, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second turn that sends the first turn's reasoning back is another request than one that does not."""
    first, second = "我需要为一个日均千万消息的电商系统选择消息队列,请推荐", "你在对比时为什么排除了Kafka?"
    (tmp_path / "recordings").mkdir()
    history = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": "RocketMQ", "reasoning_content": "想一想"},
        {"role": "user", "content": second},
    ]
    chunk = json.dumps({"choices": [{"delta": {"content": "PLAIN"}, "finish_reason": "stop"}]})
    body = {"model": "qwen3.7-plus", "messages": history}
    dump_recording(
        tmp_path / "recordings" / "plain.jsonl",
        protocol="openai",
        model="qwen3.7-plus",
        request=body,
        chunks=[(0, f"data: {chunk}\n\n".encode())],
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    warnings.simplefilter("ignore", thinkbook.ThinkbookWarning)
    preserving = thinkbook.Conversation("qwen3.7-plus", preserve_thinking=True)
    preserving.send(first)  # turn 1 has nothing to preserve: the shipped recording answers it
    assert preserving.send(second).answer.startswith("我并没有排除Kafka")  # the shipped preserve recording
    plain = thinkbook.Conversation("qwen3.7-plus")
    plain.send(first)
    assert plain.send(second).answer == "PLAIN"


def test_offline_requests_meet_the_same_option_errors_as_live_ones(engine: object) -> None:
    with pytest.raises(thinkbook.ConfigurationError, match="thinking-only model"):
        thinkbook.think("你是谁", model="qwq-plus", enable_thinking=False)
    with pytest.raises(thinkbook.ConfigurationError, match="thinking_budget must be a positive integer"):
        thinkbook.think("你是谁", model="qwen-plus", thinking_budget=0)


def test_offline_replay_speed_comes_from_the_environment(engine: object, monkeypatch: pytest.MonkeyPatch) -> None:
    warnings.simplefilter("ignore", thinkbook.ThinkbookWarning)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    start = time.monotonic()
    thinkbook.think("你是谁", model="qwen-plus", enable_thinking=True)
    assert time.monotonic() - start < 1.0  # recorded at one event every 20 ms: ~8 s at speed 1
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "fast")
    with pytest.raises(thinkbook.ConfigurationError, match="THINKBOOK_REPLAY_SPEED must be a number"):
        thinkbook.think("你是谁", model="qwen-plus", enable_thinking=True)


def test_no_recording_means_the_missing_key_error(engine: object) -> None:
    with pytest.raises(thinkbook.MissingAPIKeyError, match=r"DASHSCOPE_API_KEY.*no recorded answer"):
        thinkbook.think("what is 2+2", model="qwen-plus")


def test_replay_keeps_the_recorded_pace_scaled_by_speed(tmp_path: Path, engine: object) -> None:
    chunks = [
        (0.0, b'data: {"choices":[{"delta":{"reasoning_content":"a"}}]}\n\n'),
        (0.4, b'data: {"choices":[{"delta":{"content":"b"},"finish_reason":"stop"}]}\n\n'),
        (0.4, b"data: [DONE]\n\n"),
    ]
    path = dump_recording(tmp_path / "r.jsonl", protocol="openai", model="m", request={}, chunks=chunks)
    start = time.monotonic()
    assert thinkbook.replay(path).answer == "b"
    assert time.monotonic() - start >= 0.38
    start = time.monotonic()
    thinkbook.replay(path, speed=4)
    assert time.monotonic() - start < 0.3


def test_utf8_split_across_reads_survives_a_round_trip(tmp_path: Path, engine: object) -> None:
    data = 'data: {"choices":[{"delta":{"content":"思考"},"finish_reason":"stop"}]}\n\n'.encode()
    cut = data.index("思".encode()) + 1  # inside the character
    path = dump_recording(
        tmp_path / "u.jsonl", protocol="openai", model="m", request={}, chunks=[(0.0, data[:cut]), (0.0, data[cut:])]
    )
    assert '"b64"' in path.read_text(encoding="utf-8")
    assert thinkbook.replay(path, speed=0).answer == "思考"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("", "empty"),
        ("not json\n", "invalid JSON"),
        ('{"hello": 1}\n', "header"),
        ('{"thinkbook_recording": 1}\n{"t": 0}\n', "malformed"),
    ],
)
def test_missing_or_corrupt_recordings_are_clear_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(thinkbook.ConfigurationError, match=message):
        thinkbook.replay(path)


# --- robustness: unusable files, absurd timestamps, URLs that name files -----------------------


def test_unusable_local_recordings_are_skipped_with_one_note_each(
    tmp_path: Path, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "a-bad-json.jsonl").write_text('{"thinkbook_recording": 1, "model": \n', encoding="utf-8")
    (folder / "b-binary.jsonl").write_bytes(bytes(range(256)) * 4)
    (folder / "c-folder.jsonl").mkdir()
    (folder / "d-locked.jsonl").write_text("{}\n", encoding="utf-8")
    (folder / "e-deep.jsonl").write_text("[" * 100_000 + "\n", encoding="utf-8")
    (folder / "f-bad-status.jsonl").write_text('{"thinkbook_recording": 1, "status": "ok"}\n', encoding="utf-8")
    _record(folder, "z-good.jsonl", "qwen-plus", "still answered")
    original_read_text = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        if self.name == "d-locked.jsonl":  # the tests run as root: chmod 000 would not stop them
            raise PermissionError(13, "Permission denied", str(self))
        return original_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert thinkbook.think("9.11 和 9.9 哪个大", model="qwen-plus").answer == "still answered"
        assert thinkbook.think("9.11 和 9.9 哪个大", model="qwen-plus").answer == "still answered"
    notes = [str(w.message) for w in caught if "skipped it" in str(w.message)]
    expected = {
        "a-bad-json.jsonl": "invalid JSON",
        "b-binary.jsonl": "codec can't decode",
        "c-folder.jsonl": "it is a directory",
        "d-locked.jsonl": "Permission denied",
        "e-deep.jsonl": "invalid JSON",
        "f-bad-status.jsonl": "is not an HTTP status",
    }
    assert len(notes) == len(expected)  # once each, though two requests looked
    for name, why in expected.items():
        (note,) = [n for n in notes if name in n]
        assert why in note and "\n" not in note


def _chunk(t: float, text: str) -> str:
    line = json.dumps({"choices": [{"delta": {"content": text}}]})
    return json.dumps({"t": t, "text": f"data: {line}\n\n"})


def test_absurd_timestamps_cannot_stall_a_replay(
    tmp_path: Path, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import thinkbook._replay as replay_module

    monkeypatch.setattr(replay_module, "MAX_PAUSE", 0.05)
    header = json.dumps({"thinkbook_recording": 1, "protocol": "openai", "model": "m", "request": {}})
    stop = json.dumps({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    lines = [
        header,
        _chunk(1e300, "a"),
        _chunk(-5, "b"),
        '{"t": NaN, "text": "data: {\\"choices\\":[{\\"delta\\":{\\"content\\":\\"c\\"}}]}\\n\\n"}',
        '{"t": Infinity, "text": "data: {\\"choices\\":[{\\"delta\\":{\\"content\\":\\"d\\"}}]}\\n\\n"}',
        '{"t": -Infinity, "text": "data: {\\"choices\\":[{\\"delta\\":{\\"content\\":\\"e\\"}}]}\\n\\n"}',
        _chunk(1e308 * 10, "f"),  # json.dumps writes Infinity
        json.dumps({"t": 2e300, "text": f"data: {stop}\n\ndata: [DONE]\n\n"}),
    ]
    path = tmp_path / "absurd.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = time.monotonic()
    assert thinkbook.replay(path, speed=1).answer == "abcdef"
    assert time.monotonic() - start < 2.0


def test_pauses_are_capped_and_never_negative() -> None:
    from thinkbook._replay import MAX_PAUSE, _pauses

    nan, inf = float("nan"), float("inf")
    chunks = [(t, b"") for t in (0.5, 1e300, 0.1, nan, inf, -inf, -3.0, 2e300)]
    pauses = [pause for pause, _ in _pauses(chunks, 1.0)]
    assert pauses == [0.5, MAX_PAUSE, 0.0, 0.0, MAX_PAUSE, 0.0, 0.0, MAX_PAUSE]
    assert [pause for pause, _ in _pauses([(1.0, b""), (3.0, b"")], 4.0)] == [0.25, 0.5]
    assert [pause for pause, _ in _pauses([(1.0, b""), (3.0, b"")], 1e-300)] == [MAX_PAUSE, MAX_PAUSE]
    assert [pause for pause, _ in _pauses([(1.0, b"")], 0.0)] == [0.0]


@pytest.mark.parametrize(
    "make_path",
    [
        lambda recording: quote(str(recording.resolve())),  # the old URL form: a file's absolute path
        lambda recording: "../../../../" + quote(str(recording.resolve())).lstrip("/"),
        lambda recording: "%2e%2e/%2e%2e/etc/passwd",
        lambda recording: "etc/passwd",
        lambda recording: "",
    ],
)
def test_the_replay_transport_reads_no_file_a_url_names(tmp_path: Path, make_path: Any) -> None:
    import httpx

    from thinkbook._replay import REPLAY_HOST, ReplayTransport

    recording = dump_recording(tmp_path / "r.jsonl", protocol="openai", model="m", request={}, chunks=[(0, b"x")])

    async def fetch() -> None:
        async with httpx.AsyncClient(transport=ReplayTransport()) as client:
            await client.post(f"http://{REPLAY_HOST}/{make_path(recording)}?speed=0")

    with pytest.raises(thinkbook.ConfigurationError, match="only answers replays that thinkbook prepared"):
        asyncio.run(fetch())


def test_registered_replays_play_from_their_token(tmp_path: Path) -> None:
    import httpx

    from thinkbook._replay import ReplayTransport, replay_url

    path = dump_recording(tmp_path / "r.jsonl", protocol="openai", model="m", request={}, chunks=[(0, b"bytes")])
    url = replay_url(path, 0.0)
    assert str(tmp_path) not in url and "r.jsonl" not in url
    assert replay_url(path, 0.0) == url  # one token per file
    loaded = replay_url(load_recording(path), float("nan"))  # a bad speed is no pace, not a crash

    async def fetch(target: str) -> bytes:
        async with httpx.AsyncClient(transport=ReplayTransport()) as client:
            return (await client.post(target)).content

    assert asyncio.run(fetch(url)) == b"bytes"
    path.unlink()  # a loaded recording plays from memory
    assert asyncio.run(fetch(loaded)) == b"bytes"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"status": 99999}, "not an HTTP status"),
        ({"status": True}, "not an HTTP status"),
        ({"request": [1, 2]}, "'request' is not a dict"),
        ({"content_type": "text/event-stream\r\nX-Evil: 1"}, "content_type is not a media type"),
    ],
)
def test_malformed_headers_are_clear_errors(tmp_path: Path, header: dict[str, object], message: str) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({"thinkbook_recording": 1, **header}) + "\n", encoding="utf-8")
    with pytest.raises(thinkbook.ConfigurationError, match=message):
        load_recording(path)


def test_a_chunk_whose_text_is_not_a_string_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"thinkbook_recording": 1}\n{"t": 0, "text": 5}\n', encoding="utf-8")
    with pytest.raises(thinkbook.ConfigurationError, match="a chunk line is malformed"):
        load_recording(path)


def test_recordings_lose_an_echoed_key_wherever_the_reads_split_it(tmp_path: Path) -> None:
    from thinkbook._replay import _without_secrets

    key = "tbk_9fQ2xL7vR4mN8pW3zT6y"
    wire = f"data: key {key} and again {key}!\n\n".encode()
    expected = wire.replace(key.encode(), b"***")
    for first in range(len(wire) + 1):
        for second in range(first, len(wire) + 1, 3):
            chunks = [(0.0, wire[:first]), (0.1, wire[first:second]), (0.2, wire[second:])]
            cleaned = _without_secrets(chunks, (key,))
            assert [t for t, _ in cleaned] == [0.0, 0.1, 0.2]
            assert b"".join(data for _, data in cleaned) == expected
    assert _without_secrets([(0.0, wire)], ()) == [(0.0, wire)]


def test_dump_recording_removes_the_request_credentials(tmp_path: Path, engine: object) -> None:
    key = "tbk_9fQ2xL7vR4mN8pW3zT6y"
    line = json.dumps({"choices": [{"delta": {"content": f"your key is {key}"}, "finish_reason": "stop"}]})
    wire = f"data: {line}\n\n".encode()
    path = dump_recording(
        tmp_path / "echo.jsonl",
        protocol="openai",
        model="m",
        request={"messages": [{"role": "user", "content": f"is {key} mine? Bearer tokens explained"}]},
        chunks=[(0.0, wire[:40]), (0.05, wire[40:])],
        source="recorded from http://me:pw-Hq4Zt8Lm2Xc7@gateway/v1",
        secrets=(key, None),
    )
    text = path.read_text(encoding="utf-8")
    assert key not in text and "pw-Hq4Zt8Lm2Xc7" not in text
    recording = load_recording(path)
    assert recording.request["messages"][0]["content"] == "is *** mine? Bearer tokens explained"
    assert recording.source == "recorded from http://***@gateway/v1"
    assert thinkbook.replay(path, speed=0).answer == "your key is ***"


# --- the offline miss: the nearest recording and the one option that plays it -------------------


def test_a_near_miss_names_the_recording_and_the_option_that_plays_it() -> None:
    from thinkbook._replay import describe_near_miss

    who = [{"role": "user", "content": "你是谁"}]
    # qwen-plus does not think by default; the shipped recording of this prompt thinks.
    message = describe_near_miss("qwen-plus", who)
    assert "qwen-plus-whoami.jsonl" in message and "enable_thinking=True (--think)" in message
    assert "thinkbook.recordings()" in message and "\n" not in message and len(message) < 260
    assert "-m qwen-plus" in describe_near_miss("qwen-max", who, enable_thinking=True)
    assert "--budget 50" in describe_near_miss("qwen-plus", who, enable_thinking=True, thinking_budget=80) or (
        "no thinking_budget" in describe_near_miss("qwen-plus", who, enable_thinking=True, thinking_budget=80)
    )
    unknown = describe_near_miss("qwen-plus", [{"role": "user", "content": "what is 2+2"}])
    assert "no recorded answer for this prompt" in unknown and "thinkbook.recordings()" in unknown


def test_the_offline_first_run_says_how_to_play_the_shipped_recording(engine: object) -> None:
    with pytest.raises(thinkbook.MissingAPIKeyError, match=r"enable_thinking=True \(--think\)"):
        thinkbook.think("你是谁", model="qwen-plus")


def test_the_readme_headline_examples_replay_offline(engine: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    with pytest.warns(thinkbook.ThinkbookWarning, match="illustrative"):
        result = thinkbook.think("9.11 和 9.9 哪个大？", model="qwen-plus", enable_thinking=True)
    assert "9.9 更大" in result.answer and result.reasoning
    with pytest.warns(thinkbook.ThinkbookWarning, match="illustrative"):
        budget = thinkbook.think("9.11 和 9.9 哪个大？", model="qwen-plus", enable_thinking=True, thinking_budget=200)
    assert budget.usage is not None and budget.usage.reasoning_tokens is not None
    assert budget.usage.reasoning_tokens <= 200


def test_each_round_of_a_tool_loop_finds_its_own_recording(tmp_path: Path) -> None:
    from thinkbook._replay import dump_recording, find_recording

    question = [{"role": "user", "content": "Weather in Paris?"}]
    after_call = [
        *question,
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function"}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "21"},
    ]
    for name, messages in (("round1", question), ("round2", after_call)):
        dump_recording(
            tmp_path / f"{name}.jsonl",
            protocol="openai",
            model="qwen-plus",
            request={"model": "qwen-plus", "messages": messages, "enable_thinking": True},
            chunks=[(0.0, b"data: [DONE]\n\n")],
        )
    first = find_recording("qwen-plus", question, enable_thinking=True, extra_dirs=(tmp_path,))
    second = find_recording("qwen-plus", after_call, enable_thinking=True, extra_dirs=(tmp_path,))
    assert first is not None and first.path.name == "round1.jsonl"
    assert second is not None and second.path.name == "round2.jsonl"


# --- recordings in every protocol -----------------------------------------------------------

NOTEBOOK_RECORDINGS = Path(__file__).parent.parent / "notebooks" / "recordings"
BALLS = "一个袋子里有 3 个红球和 2 个蓝球，不放回地连续取出两个球，两个都是红球的概率是多少？"


@pytest.mark.parametrize(
    ("model", "enable_thinking", "protocol"),
    [("claude-opus-4-7", True, "anthropic"), ("gpt-5", None, "responses"), ("gemini-2.5-flash", None, "gemini")],
)
def test_a_recording_in_any_protocol_is_found_by_its_prompt_and_replays(
    model: str, enable_thinking: bool | None, protocol: str
) -> None:
    """Each protocol reads its own request body (Responses ``input`` items, Gemini ``contents``,
    Anthropic ``thinking.type``): a user asking the same question finds the recording."""
    from thinkbook._replay import find_recording

    messages = [{"role": "user", "content": BALLS}]
    recording = find_recording(model, messages, enable_thinking=enable_thinking, extra_dirs=(NOTEBOOK_RECORDINGS,))
    assert recording is not None and recording.protocol == protocol
    assert recording.user_turns == [BALLS]
    if protocol == "anthropic":
        assert recording.enable_thinking is True
        off = find_recording(model, messages, enable_thinking=False, extra_dirs=(NOTEBOOK_RECORDINGS,))
        assert off is None  # thinking off is another answer
    result = thinkbook.replay(recording.path, speed=1000)
    assert "3/10" in result.answer and result.reasoning and result.usage is not None


def test_a_gemini_recording_reads_its_contents_as_turns() -> None:
    from thinkbook._protocols import get_protocol

    gemini = get_protocol("gemini")
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"text": "hello", "thoughtSignature": "c2ln"}]},
            {"role": "user", "parts": [{"text": "again"}]},
        ],
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}},
    }
    history = gemini.recorded_history(body)
    assert [m["role"] for m in history] == ["user", "assistant", "user"]
    assert gemini.recorded_thinking(body).enable is False
