"""%%think through a real IPython InteractiveShell against a loopback server (never a real endpoint)."""

from __future__ import annotations

import _thread
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

import thinkbook
from thinkbook import AuthenticationError, ConfigurationError, MissingAPIKeyError, ThinkHandle, ThinkResult
from thinkbook._magic import ThinkMagics
from thinkbook._replay import load_recording
from thinkbook.testing import LoopbackServer, ScriptedResponse

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
KEY_ENV = "THINKBOOK_TEST_KEY"
WIDGET = "application/vnd.jupyter.widget-view+json"


def events(reasoning: list[str], answer: list[str], *, done: bool = True) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"choices": [{"delta": {"reasoning_content": r}}]} for r in reasoning]
    out += [{"choices": [{"delta": {"content": a}}]} for a in answer]
    if done:
        out.append({"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}]})
        usage = {"prompt_tokens": 9, "completion_tokens": 21, "total_tokens": 30}
        out.append({"choices": [], "usage": {**usage, "completion_tokens_details": {"reasoning_tokens": 13}}})
    return out


def answer(reasoning: str = "想一想", text: str = "答案", **options: Any) -> ScriptedResponse:
    return ScriptedResponse.from_sse(events([reasoning], [text]), **options)


def native_answer(reasoning: str, text: str) -> ScriptedResponse:
    chunks = []
    for index, (r, a, finish) in enumerate([(reasoning, "", "null"), ("", text, "stop")], start=1):
        data = {
            "output": {"choices": [{"message": {"role": "assistant", "content": a, "reasoning_content": r}}]},
            "usage": {"input_tokens": 5, "output_tokens": index, "total_tokens": 5 + index},
            "request_id": "req-1",
        }
        data["output"]["choices"][0]["finish_reason"] = finish  # type: ignore[index]
        chunks.append(f"id:{index}\nevent:result\ndata:{json.dumps(data, ensure_ascii=False)}\n\n".encode())
    return ScriptedResponse(body=chunks)


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "thinkbook")
    yield ip
    magics = ip.magics_manager.registry["ThinkMagics"]
    magics.chats.clear()
    magics.pending.clear()
    for name, trait in magics.traits(config=True).items():
        setattr(magics, name, trait.default())
    for name in ("_think", "_think_error", "_think_handle", "_think_panel", "code", "result"):
        ip.user_ns.pop(name, None)


@pytest.fixture
def magics(shell: InteractiveShell) -> ThinkMagics:
    found: ThinkMagics = shell.magics_manager.registry["ThinkMagics"]
    return found


@pytest.fixture
def published(shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every display message (data, metadata, update flag) instead of printing them."""
    capture = CapturingDisplayPublisher()
    monkeypatch.setattr(shell, "display_pub", capture)
    outputs: list[dict[str, Any]] = capture.outputs
    return outputs


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend to run in a kernel: the live widget view is drawn (its comm goes nowhere)."""
    monkeypatch.setattr("thinkbook._magic_run.in_notebook", lambda: True)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    return KEY_ENV


def think(shell: InteractiveShell, line: str, cell: str = "9.11 和 9.9 哪个大？") -> Any:
    return shell.run_cell_magic("think", line, cell)


def bailian(server: LoopbackServer) -> str:
    """A Bailian-compatible gateway on loopback: Bailian's field names, a key is required."""
    return f"--base-url {server.url}/compatible-mode/v1 --api-key-env {KEY_ENV}"


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("thinkbook: "), err
    assert "Traceback" not in err
    return err


# --- options reach the request --------------------------------------------------------------


def test_budget_system_and_key_reach_the_request(shell: InteractiveShell, server: LoopbackServer, key: str) -> None:
    server.enqueue(answer())
    think(shell, f'-m qwen-plus --budget 200 --system "Answer briefly." {bailian(server)}')
    sent = server.requests[0]
    body = sent.json()
    assert body["thinking_budget"] == 200 and body["enable_thinking"] is True  # a budget asks for thinking
    assert body["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "9.11 和 9.9 哪个大？"},
    ]
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    result = shell.user_ns["_think"]
    assert isinstance(result, ThinkResult) and (result.reasoning, result.answer) == ("想一想", "答案")


@pytest.mark.parametrize(("flag", "expected"), [("--think", True), ("--no-think", False), ("", None)])
def test_think_and_no_think(
    shell: InteractiveShell, server: LoopbackServer, key: str, flag: str, expected: bool | None
) -> None:
    server.enqueue(answer())
    think(shell, f"-m qwen-plus {flag} {bailian(server)}")
    assert server.requests[0].json().get("enable_thinking") == expected


def test_preserve_reaches_the_request(shell: InteractiveShell, server: LoopbackServer, key: str) -> None:
    server.enqueue(answer())
    think(shell, f"-m qwen3.7-plus --preserve {bailian(server)}")
    assert server.requests[0].json()["preserve_thinking"] is True


def test_dashscope_protocol_to_a_native_base_url(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(native_answer("嗯", "你好"))
    think(shell, f"-m qwen-plus --protocol dashscope --base-url {server.url}/api/v1 --budget 50", "你是谁")
    sent = server.requests[0]
    assert sent.path == "/api/v1/services/aigc/text-generation/generation"
    assert sent.json()["parameters"]["thinking_budget"] == 50
    assert sent.json()["input"]["messages"] == [{"role": "user", "content": "你是谁"}]
    assert shell.user_ns["_think"].answer == "你好"


def test_soft_switch_passes_through(shell: InteractiveShell, server: LoopbackServer, key: str) -> None:
    server.enqueue(answer())
    think(shell, f"-m qwen3-8b {bailian(server)}", "/no_think 你好")
    assert server.requests[0].json()["messages"][-1]["content"] == "/no_think 你好"


def test_ignored_budget_warns_in_one_line_and_still_asks(
    shell: InteractiveShell, server: LoopbackServer, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer())
    think(shell, f"-m qwq-plus --budget 100 {bailian(server)}")
    captured = capsys.readouterr()
    assert "thinkbook: --budget does not apply to qwq-plus" in captured.out  # a note in the flag the user typed
    assert captured.err == ""
    assert "thinking_budget" not in server.requests[0].json()


# --- templates ------------------------------------------------------------------------------


def test_cell_is_a_template(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(answer(), answer())
    shell.user_ns["code"] = "def f(): return {'x': 1}"
    think(shell, f"-m local --base-url {server.url}/v1", "{code}\nWhy {{braces}}?")
    assert server.requests[0].json()["messages"][0]["content"] == "def f(): return {'x': 1}\nWhy {braces}?"
    think(shell, f"-m local --base-url {server.url}/v1 --raw", "{code} {{x}}")
    assert server.requests[1].json()["messages"][0]["content"] == "{code} {{x}}"


# --- chats ----------------------------------------------------------------------------------


def test_chat_across_cells_sends_reasoning_back_with_preserve(
    shell: InteractiveShell, server: LoopbackServer, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer("它没有释放缓存", "缓存一直增长"), answer("用 LRU", "加上上限"))
    shell.user_ns["code"] = "cache = {}"
    think(shell, f"-m qwen3.7-plus --chat review --preserve {bailian(server)}", "{code}\nWhy does it leak?")
    think(shell, "--chat review", "And how would you fix it?")
    second = server.requests[1].json()
    assert second["preserve_thinking"] is True
    assert second["model"] == "qwen3.7-plus"
    assert second["messages"] == [
        {"role": "user", "content": "cache = {}\nWhy does it leak?"},
        {"role": "assistant", "content": "缓存一直增长", "reasoning_content": "它没有释放缓存"},
        {"role": "user", "content": "And how would you fix it?"},
    ]
    assert server.requests[1].headers["authorization"] == f"Bearer {FAKE_KEY}"  # the key source is kept
    capsys.readouterr()

    shell.run_line_magic("think", "chats")
    listing = capsys.readouterr().out
    assert "review" in listing and "qwen3.7-plus" in listing and "2 turns" in listing
    shell.run_line_magic("think", "history review")
    text = capsys.readouterr().out
    assert "[reasoning]\n用 LRU" in text and "[assistant]\n加上上限" in text and "[user]\nAnd how" in text
    shell.run_line_magic("think", "reset review")
    assert "empty again" in capsys.readouterr().out
    shell.run_line_magic("think", "chats")
    assert "0 turns" in capsys.readouterr().out


def test_chat_without_preserve_keeps_reasoning_to_itself(
    shell: InteractiveShell, server: LoopbackServer, key: str
) -> None:
    server.enqueue(answer("r1", "a1"), answer("r2", "a2"))
    think(shell, f"-m qwen3.7-plus --chat plain {bailian(server)}", "one")
    think(shell, "--chat plain", "two")
    body = server.requests[1].json()
    assert "preserve_thinking" not in body
    assert body["messages"][1] == {"role": "assistant", "content": "a1"}


def test_new_starts_the_chat_over(shell: InteractiveShell, server: LoopbackServer, magics: ThinkMagics) -> None:
    server.enqueue(answer(), answer(), answer())
    base = f"--base-url {server.url}/v1"
    think(shell, f"-m local --chat c {base}", "one")
    think(shell, "--chat c", "two")
    think(shell, f"-m local --chat c --new {base}", "three")
    assert server.requests[2].json()["messages"] == [{"role": "user", "content": "three"}]
    assert magics.chats["c"].conversation.turns == 1


def test_failed_turn_leaves_the_chat_as_it_was(
    shell: InteractiveShell, server: LoopbackServer, magics: ThinkMagics
) -> None:
    server.enqueue(answer(), ScriptedResponse.from_json({"error": {"message": "no"}}, status=400))
    think(shell, f"-m local --chat c --base-url {server.url}/v1", "one")
    think(shell, "--chat c --system 'Be terse.'", "two")
    chat = magics.chats["c"].conversation
    assert chat.turns == 1 and chat.system is None


# --- results --------------------------------------------------------------------------------


def test_out_and_underscore_think(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(answer(text="stored"))
    assert think(shell, f"-m local --base-url {server.url}/v1 --out result") is None
    assert shell.user_ns["result"] is shell.user_ns["_think"]
    assert shell.user_ns["result"].answer == "stored"


def test_json_prints_the_result(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer("r", "a"))
    think(shell, f"-m local --base-url {server.url}/v1 --json")
    printed = json.loads(capsys.readouterr().out)
    assert (printed["reasoning"], printed["answer"]) == ("r", "a")
    assert printed["usage"]["reasoning_tokens"] == 13


# --- bad input: one line, nothing sent ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("-m local", "   \n", "the cell is empty"),
        ("-m local", "why {nothing_like_this}?", "no notebook variable named 'nothing_like_this'"),
        ("-m local --frobnicate", "q", "unrecognized arguments: --frobnicate"),
        ("-m local --budget 0", "q", "--budget must be a positive integer"),
        ("-m local --budget -3", "q", "--budget must be a positive integer"),
        ("-m local --budget many", "q", "--budget must be a positive integer"),
        ("-m qwq-plus --no-think", "q", "qwq-plus is a thinking-only model"),
        ("-m local --think --no-think", "q", "contradict"),
        ("-m local --out 2x", "q", "not a valid Python variable name"),
        ("-m local --api-key-env THINKBOOK_UNSET_VARIABLE", "q", "THINKBOOK_UNSET_VARIABLE is not set"),
        ("-m local --protocol carrier-pigeon", "q", "invalid choice"),
        ("-m local --speed 2", "q", "--speed sets the pace of --replay"),
        ("-m local --new", "q", "--new starts a chat over"),
        ("-m local --bg --json", "q", "--bg returns before the answer exists"),
        ("-m local --record /no/such/folder/x.jsonl", "q", "does not exist"),
        ("", "q", "no model: pass -m MODEL"),
        ("--replay /no/such/recording.jsonl", "ignored", "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_sends_nothing(
    shell: InteractiveShell,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    line: str,
    cell: str,
    message: str,
) -> None:
    base = "" if "--replay" in line else f" --base-url {server.url}/v1"
    assert think(shell, line + base, cell) is None
    assert message in one_error_line(capsys)
    assert isinstance(shell.user_ns["_think_error"], ConfigurationError)
    assert server.requests == []


def test_corrupt_recording_is_one_line(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text('{"thinkbook_recording": 1}\n{"t": oops}\n', encoding="utf-8")
    shell.run_line_magic("think", f"--replay {corrupt}")
    assert "is not a usable thinkbook recording" in one_error_line(capsys)


def test_401_is_one_line_with_what_to_do(
    shell: InteractiveShell, server: LoopbackServer, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    error = {"error": {"code": "invalid_api_key", "message": "Incorrect API key provided."}}
    server.enqueue(ScriptedResponse.from_json(error, status=401))
    think(shell, f"-m qwen-plus {bailian(server)}")
    line = one_error_line(capsys)
    assert "HTTP 401" in line and "Bailian keys are per region" in line and FAKE_KEY not in line
    assert isinstance(shell.user_ns["_think_error"], AuthenticationError)


def test_broken_stream_keeps_the_partial(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(ScriptedResponse.from_sse(events(["half"], ["an"], done=False), done=False, drop_after=2))
    think(shell, f"-m local --base-url {server.url}/v1")
    err = capsys.readouterr().err
    assert err.startswith("thinkbook: ") and "partial answer is in _think" in err
    assert shell.user_ns["_think"].answer == "an"
    assert shell.user_ns["_think_error"].partial.reasoning == "half"


# --- line magics and configuration ----------------------------------------------------------


def test_line_commands(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("think", "models")
    out = capsys.readouterr().out
    assert "qwq-plus" in out and "thinking-only" in out and "qwen3.6-plus" in out
    shell.run_line_magic("think", "chats")
    assert "no chats yet" in capsys.readouterr().out
    shell.run_line_magic("think", "history nobody")
    assert "no chat named 'nobody'" in one_error_line(capsys)
    shell.run_line_magic("think", "reset")
    assert "usage: %think reset NAME" in one_error_line(capsys)
    shell.run_line_magic("think", "dance")
    assert "unknown %think command 'dance'" in one_error_line(capsys)
    shell.run_line_magic("think", "--help")
    text = capsys.readouterr().out
    assert "--budget N" in text and "--no-stream-view" in text and "%think history NAME" in text


def test_help_is_the_magic_docstring(shell: InteractiveShell) -> None:
    doc = shell.find_cell_magic("think").__doc__
    assert "%%think [-m MODEL]" in doc and "{{ and }} are literal braces" in doc


def test_think_config_and_percent_config(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer(), answer())
    shell.run_line_magic("think_config", f"default_model=qwen-plus base_url = {server.url}/v1")
    assert "ThinkMagics.default_model = 'qwen-plus'" in capsys.readouterr().out
    think(shell, "")
    assert server.requests[0].json()["model"] == "qwen-plus"
    shell.run_line_magic("config", "ThinkMagics.default_model = 'qwen3.6-plus'")
    think(shell, "")
    assert server.requests[1].json()["model"] == "qwen3.6-plus"
    capsys.readouterr()
    shell.run_line_magic("think_config", "")
    assert "ThinkMagics.default_model = 'qwen3.6-plus'" in capsys.readouterr().out
    shell.run_line_magic("think_config", "colour=blue")
    assert "unknown setting 'colour'" in one_error_line(capsys)
    shell.run_line_magic("think_config", "lang=klingon")
    assert "lang=klingon" in one_error_line(capsys)


def test_profile_config_is_read(shell: InteractiveShell) -> None:
    from traitlets.config import Config

    config = Config()
    config.ThinkMagics.default_model = "from-profile"
    magics = ThinkMagics(shell, config=config)
    assert magics.default_model == "from-profile"


# --- record and replay ----------------------------------------------------------------------


def test_record_then_replay_round_trip(
    shell: InteractiveShell, server: LoopbackServer, key: str, tmp_path: Path
) -> None:
    path = tmp_path / "turn.jsonl"
    server.enqueue(ScriptedResponse.from_sse(events(["先比较", "小数位"], ["9.9", " 更大"]), delay=0.02))
    think(shell, f"-m qwen-plus --think --record {path} {bailian(server)}")
    live = shell.user_ns["_think"]
    text = path.read_text(encoding="utf-8")
    assert FAKE_KEY not in text and "authorization" not in text.lower()
    header = json.loads(text.splitlines()[0])
    assert header["request"] == server.requests[0].json() and header["protocol"] == "openai"

    shell.run_line_magic("think", f"--replay {path} --speed 0")
    replayed = shell.user_ns["_think"]
    assert len(server.requests) == 1  # nothing sent for the replay
    assert (replayed.reasoning, replayed.answer) == (live.reasoning, live.answer) == ("先比较小数位", "9.9 更大")
    assert replayed.usage == live.usage and replayed.usage.reasoning_tokens == 13


def test_replay_keeps_the_recorded_pace(shell: InteractiveShell, server: LoopbackServer, tmp_path: Path) -> None:
    path = tmp_path / "slow.jsonl"
    server.enqueue(ScriptedResponse.from_sse(events(["a"], ["b"]), delay=0.1))
    think(shell, f"-m local --base-url {server.url}/v1 --record {path}")
    started = time.monotonic()
    think(shell, f"--replay {path} --speed 2", "(the recording's prompt is what plays)")
    assert 0.12 < time.monotonic() - started < 2
    assert shell.user_ns["_think"].answer == "b"


def test_offline_fallback_replays_the_shipped_recording(
    shell: InteractiveShell,
    published: list[dict[str, Any]],
    notebook: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./recordings here
    fast = thinkbook._offline.replay_request
    monkeypatch.setattr("thinkbook._offline.replay_request", lambda recording, speed=1.0: fast(recording, 0))
    think(shell, "-m qwen-plus --think", "你是谁")
    assert shell.user_ns["_think"].answer.startswith("我是千问")
    captured = capsys.readouterr()
    notes = [line for line in captured.out.splitlines() if line.startswith("thinkbook:")]
    assert len(notes) == 1 and notes[0].startswith("thinkbook: no DASHSCOPE_API_KEY set: replaying a recorded answer")
    assert captured.err == ""  # a note on stdout: notebooks don't paint it red
    final = published[-1]
    assert final["update"] and final["metadata"]["thinkbook"]["endpoint"] == "replay:qwen-plus-whoami.jsonl"
    assert "Replayed from a recording" in final["data"]["text/html"]


def test_recording_a_replay_keeps_its_provenance(
    shell: InteractiveShell, notebook: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no key, --record copies the replayed answer: the copy must not pass for a live recording."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", "0")
    think(shell, "-m qwen-plus --think --record copy.jsonl", "你是谁")
    source = load_recording(tmp_path / "copy.jsonl").source
    assert source.startswith("copied from a replay") and "not a live recording" in source
    assert "built from the Bailian deep-thinking guide" in source


def test_offline_without_a_recording_explains_how_to_go_live(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    think(shell, "-m qwen-plus", "an unrecorded question")
    line = one_error_line(capsys)
    assert "DASHSCOPE_API_KEY" in line and "no recorded answer" in line
    assert isinstance(shell.user_ns["_think_error"], MissingAPIKeyError)


# --- views and metadata ---------------------------------------------------------------------


def test_live_view_metadata_has_chat_and_options_but_no_key(
    shell: InteractiveShell, server: LoopbackServer, key: str, published: list[dict[str, Any]], notebook: None
) -> None:
    server.enqueue(answer("r", "a"))
    think(shell, f"-m qwen-plus --chat meta --lang zh --budget 30 {bailian(server)}")
    first, final = published[0], published[-1]
    assert WIDGET in first["data"] and not first["update"]
    assert final["update"] and final["transient"]["display_id"] == first["transient"]["display_id"]
    info = final["metadata"]["thinkbook"]
    assert info["chat"] == "meta" and info["model"] == "qwen-plus" and info["status"] == "done"
    assert info["magic"]["budget"] == 30 and info["magic"]["api_key_env"] == KEY_ENV and info["magic"]["lang"] == "zh"
    assert info["usage"]["reasoning_tokens"] == 13
    assert "完整回复" in final["data"]["text/plain"]  # --lang zh labels
    assert FAKE_KEY not in json.dumps(published, default=str)


def test_no_stream_view_shows_only_the_final_view(
    shell: InteractiveShell, server: LoopbackServer, published: list[dict[str, Any]], notebook: None
) -> None:
    server.enqueue(answer("r", "final"), answer("r", "static"))
    think(shell, f"-m local --base-url {server.url}/v1 --no-stream-view --out result")
    # Shown once, finished: static HTML, no widget (nothing for a saved notebook to miss).
    assert len(published) == 1 and WIDGET not in published[0]["data"] and "final" in published[0]["data"]["text/plain"]
    assert published[0]["metadata"]["thinkbook"]["magic"]["stream_view"] is False
    think(shell, f"-m local --base-url {server.url}/v1 --no-stream-view --static")
    assert WIDGET not in published[1]["data"] and "static" in published[1]["data"]["text/html"]


def test_static_live_view_ends_as_html(
    shell: InteractiveShell, server: LoopbackServer, published: list[dict[str, Any]], notebook: None
) -> None:
    server.enqueue(answer("r", "**bold**"))
    think(shell, f"-m local --base-url {server.url}/v1 --static")
    assert WIDGET in published[0]["data"]
    assert WIDGET not in published[-1]["data"] and "<strong>bold</strong>" in published[-1]["data"]["text/html"]


def test_outside_a_notebook_the_final_result_is_printed(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer("the reasoning", "the answer"))
    think(shell, f"-m local --base-url {server.url}/v1")
    out = capsys.readouterr().out
    assert "the reasoning" in out and "the answer" in out and "Tokens:" in out


# --- stopping -------------------------------------------------------------------------------


def test_interrupt_stops_cleanly_and_keeps_the_partial(
    shell: InteractiveShell,
    server: LoopbackServer,
    published: list[dict[str, Any]],
    notebook: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.enqueue(ScriptedResponse.from_sse(events(["部分", "思考"], ["一半"], done=False), stall_after=3))

    def press_interrupt() -> None:
        assert server.wait_for_requests(1)
        time.sleep(0.4)  # the three chunks have arrived; the stream is stalled
        _thread.interrupt_main()

    threading.Thread(target=press_interrupt, daemon=True).start()
    think(shell, f"-m local --base-url {server.url}/v1 --out result")
    assert capsys.readouterr().err.strip() == "stopped: partial answer kept in _think"
    partial = shell.user_ns["_think"]
    assert (partial.reasoning, partial.answer) == ("部分思考", "一半")
    assert shell.user_ns["result"] is partial
    assert server.wait_for_disconnect()  # the HTTP stream was closed
    final = published[-1]
    assert final["update"] and final["metadata"]["thinkbook"]["status"] == "stopped"
    assert "Stopped" in final["data"]["text/plain"]


# --- background runs ------------------------------------------------------------------------


def test_bg_returns_a_handle_at_once_and_runs_side_by_side(shell: InteractiveShell, server: LoopbackServer) -> None:
    slow = [answer("r", f"run {i}", delay=0.1) for i in range(2)]
    for response in slow:
        response.body = response.chunks + [b""] * 5  # five more pauses of 0.1 s
    server.enqueue(*slow)
    started = time.monotonic()
    first = think(shell, f"-m local --base-url {server.url}/v1 --bg")
    second = think(shell, f"-m local --base-url {server.url}/v1 --bg --out result")
    assert time.monotonic() - started < 0.5
    assert isinstance(first, ThinkHandle) and isinstance(second, ThinkHandle)
    assert shell.user_ns["_think_handle"] is second
    while not (first.done() and second.done()):  # a busy cell in the main thread meanwhile
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    assert 0.8 < elapsed < 1.6, elapsed  # about one run's time (0.9 s), not two
    assert {first.result().answer, second.result().answer} == {"run 0", "run 1"}
    assert shell.user_ns["result"] is second.result()  # stored before the handle reports


def test_bg_chat_turn_is_recorded_when_it_completes(
    shell: InteractiveShell, server: LoopbackServer, magics: ThinkMagics, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer("r1", "a1", delay=0.2), answer("r2", "a2"))
    handle = think(shell, f"-m local --chat bg --bg --base-url {server.url}/v1", "one")
    think(shell, "--chat bg", "too early")
    assert "still running in the background" in one_error_line(capsys)
    handle.result(timeout=5)
    assert magics.chats["bg"].conversation.turns == 1 and not magics.pending
    think(shell, "--chat bg", "two")
    assert [m["content"] for m in server.requests[1].json()["messages"]] == ["one", "a1", "two"]


def test_bg_cancel_closes_the_stream_and_keeps_the_partial(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(events(["thinking"], [], done=False), stall_after=1))
    handle = think(shell, f"-m local --base-url {server.url}/v1 --bg")
    deadline = time.monotonic() + 5
    while handle.partial is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handle.cancel()
    assert server.wait_for_disconnect()
    while "_think" not in shell.user_ns and time.monotonic() < deadline:  # kept once the stream closed
        time.sleep(0.01)
    assert handle.done() and shell.user_ns["_think"].reasoning == "thinking"


def test_bg_view_stop_button_cancels(
    shell: InteractiveShell, server: LoopbackServer, published: list[dict[str, Any]], notebook: None
) -> None:
    from ipywidgets.widgets.widget import _instances

    server.enqueue(ScriptedResponse.from_sse(events(["slow"], [], done=False), stall_after=1))
    handle = think(shell, f"-m local --base-url {server.url}/v1 --bg")
    view = _instances[published[0]["data"][WIDGET]["model_id"]]
    assert view.can_stop  # the kernel is free, so a Stop click reaches the view
    deadline = time.monotonic() + 5
    while handle.partial is None and time.monotonic() < deadline:
        time.sleep(0.01)
    view._handle_message(view, {"t": "stop"}, [])  # what a click on Stop sends
    assert server.wait_for_disconnect()
    while view.status != "stopped" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handle.done() and view.status == "stopped" and view.final_state().reasoning == "slow"  # retired


def test_bg_record_writes_the_file_when_the_stream_ends(
    shell: InteractiveShell, server: LoopbackServer, tmp_path: Path
) -> None:
    path = tmp_path / "bg.jsonl"
    server.enqueue(answer("r", "a"))
    handle = think(shell, f"-m local --base-url {server.url}/v1 --bg --record {path}")
    assert handle.result(timeout=5).answer == "a"
    assert thinkbook.replay(path, speed=0, display=False).answer == "a"


# --- panels: %think panel and %%think --compare -------------------------------------------------


def test_compare_sends_each_configuration(
    shell: InteractiveShell, server: LoopbackServer, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from thinkbook._compare_panel import ComparePanel

    server.enqueue(answer("a", "1"), answer("b", "2"), answer("c", "3"))
    shell.user_ns["code"] = "x = 1"
    items = "qwen-plus:off,qwen3.6-plus:budget=2000,qwen-plus:on"
    think(shell, f'--compare {items} --system "Be brief." {bailian(server)}', "{code}\nWhy?")
    bodies = {(b["model"], b.get("enable_thinking")): b for b in (r.json() for r in server.requests)}
    assert set(bodies) == {("qwen-plus", False), ("qwen3.6-plus", None), ("qwen-plus", True)}  # 3.6 thinks anyway
    assert "thinking_budget" not in bodies["qwen-plus", False]
    assert bodies["qwen3.6-plus", None]["thinking_budget"] == 2000
    assert "thinking_budget" not in bodies["qwen-plus", True]
    for body in bodies.values():  # the line's options and the templated cell reach every column
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "x = 1\nWhy?"},
        ]
    assert all(r.headers["authorization"] == f"Bearer {FAKE_KEY}" for r in server.requests)
    panel = shell.user_ns["_think_panel"]
    assert isinstance(panel, ComparePanel)  # the cell waited for every column
    assert [row["status"] for row in panel.summary()] == ["done"] * 3
    assert sorted(r.answer for r in panel.results if r) == ["1", "2", "3"]
    out, err = capsys.readouterr()
    assert "| configuration |" in out and "qwen3.6-plus · budget 2000" in out  # no widgets here: the table
    assert FAKE_KEY not in out + err and err == ""


def test_compare_line_options_fill_what_items_leave_out(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer(), answer())
    think(shell, f"--compare local-a,local-b:off --think --budget 300 --base-url {server.url}/v1 --out cmp")
    bodies = {r.json()["model"]: r.json() for r in server.requests}  # a vLLM-style server's field names
    assert bodies["local-a"]["chat_template_kwargs"] == {"enable_thinking": True}
    assert bodies["local-a"]["thinking_token_budget"] == 300
    assert bodies["local-b"]["chat_template_kwargs"] == {"enable_thinking": False}
    assert "thinking_token_budget" not in bodies["local-b"]
    assert shell.user_ns["cmp"] is shell.user_ns["_think_panel"]
    shell.user_ns.pop("cmp")
    capsys.readouterr()


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("qwen-plus", "2 to 6 models"),
        ("a,b,c,d,e,f,g", "2 to 6 models"),
        ("qwen-plus,,qwen-flash", "empty item"),
        ("qwen-plus:budget=0,qwen-flash", "budget must be a positive integer"),
        ("qwen-plus:budget=lots,qwen-flash", "budget must be a positive integer"),
        ("qwen-plus:fast=1,qwen-flash", "unknown option 'fast'"),
        (":off,qwen-flash", "needs a model name"),
        ("qwen-plus:off:budget=100,qwen-flash", "a budget with thinking off"),
        ("qwen-plus:on:off,qwen-flash", "contradict"),
        ("qwen-plus,qwen-flash --chat x", "--compare cannot be combined with --chat"),
        ("qwen-plus,qwen-flash --bg", "--compare cannot be combined with --bg"),
        ("qwen-plus,qwen-flash --record r.jsonl", "--compare cannot be combined with --record"),
        ("qwen-plus,qwen-flash --replay r.jsonl", "--compare cannot be combined with --replay"),
        ("qwen-plus,qwen-flash --json", "--compare cannot be combined with --json"),
        ("qwen-plus,qwen-flash -m qwen-max", "--compare cannot be combined with -m/--model"),
    ],
)
def test_compare_errors_are_one_line_and_send_nothing(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str], items: str, message: str
) -> None:
    think(shell, f"--compare {items} --base-url {server.url}/v1")
    assert message in one_error_line(capsys)
    assert server.requests == [] and "_think_panel" not in shell.user_ns
    assert isinstance(shell.user_ns["_think_error"], ConfigurationError)


def test_compare_model_names_may_hold_a_colon() -> None:
    from thinkbook._magic_args import parse_compare

    assert parse_compare("qwen3:8b:off, qwen3:8b") == (
        {"model": "qwen3:8b", "enable_thinking": False},
        {"model": "qwen3:8b"},
    )


def test_think_panel_line_magic(
    shell: InteractiveShell, server: LoopbackServer, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from thinkbook._chat_panel import ChatPanel

    server.enqueue(answer("想", "好"))
    shell.run_line_magic("think", f'panel -m qwen3.6-plus --system "Be brief." {bailian(server)}')
    panel = shell.user_ns["_think_panel"]
    assert isinstance(panel, ChatPanel)
    assert panel.settings()["model"] == "qwen3.6-plus" and panel.settings()["system"] == "Be brief."
    assert FAKE_KEY not in json.dumps(panel.controls.get_state(), default=str)  # the key is never synced
    panel.send("你好")
    assert panel.wait(5) is not None and panel.conversation.turns == 1
    sent = server.requests[0]
    assert sent.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert sent.json()["model"] == "qwen3.6-plus"
    assert sent.json()["messages"][0] == {"role": "system", "content": "Be brief."}
    assert FAKE_KEY not in "".join(capsys.readouterr())


def test_think_panel_region_and_defaults(shell: InteractiveShell, magics: ThinkMagics) -> None:
    shell.run_line_magic("think", "panel --region beijing")
    panel = shell.user_ns["_think_panel"]
    assert panel.settings()["model"] == "qwen-plus" and panel.settings()["region"] == "beijing"
    magics.default_model = "qwen3.6-plus"
    shell.run_line_magic("think", "panel")
    assert shell.user_ns["_think_panel"].settings()["model"] == "qwen3.6-plus"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("panel --bg", "%think panel takes -m"),
        ("panel --chat x", "not --chat"),
        ("panel --api-key-env THINKBOOK_NOT_SET_ANYWHERE", "THINKBOOK_NOT_SET_ANYWHERE is not set"),
        ("panel --budget 100 --no-think", "--budget was given with --no-think"),
        ("panel --frobnicate", "unrecognized arguments"),
    ],
)
def test_think_panel_errors(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    shell.run_line_magic("think", line)
    assert message in one_error_line(capsys)
    assert "_think_panel" not in shell.user_ns


def test_help_mentions_the_panels(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("think", "--help")
    text = capsys.readouterr().out
    assert "%think panel [-m MODEL]" in text and "--compare M1,M2,..." in text and "qwen-plus:off" in text


# --- bad input refused before sending (issue 9, points 2, 6, 7 and 12) ---------------------------


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("-m local", "\u200b\u200c\n\u2060\ufeff", "the cell is empty"),
        ("-m local --out print", "q", "--out print would hide Python's built-in print"),
        ("-m local --out len", "q", "built-in len"),
        ("-m local --timeout nan", "q", "--timeout must be a positive number"),
        ("-m local --dialect litellm", "q", "unknown dialect 'litellm'"),
        ("-m local --dialect ''", "q", "--dialect needs a value"),
        ("-m '' ", "q", "-m/--model needs a value"),
        ("-m local --region ''", "q", "--region needs a value"),
        ("-m local --system ''", "q", "--system needs a value"),
        ("-m local --protocol dashscope --dialect vllm", "q", "--dialect vllm is for OpenAI-compatible servers"),
        ("-m local --temperature 2", "q", "unrecognized arguments"),
    ],
)
def test_more_bad_input_is_one_line_and_sends_nothing(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str], line: str, cell: str,
    message: str,
) -> None:  # fmt: skip
    assert think(shell, f"{line} --base-url {server.url}/api/v1", cell) is None
    assert message in one_error_line(capsys)
    assert isinstance(shell.user_ns["_think_error"], ConfigurationError)
    assert server.requests == [] and "print" not in shell.user_ns


@pytest.mark.parametrize("value", ["''", '""', "' '"])
def test_an_empty_base_url_is_refused_not_replaced_by_the_default(
    shell: InteractiveShell, magics: ThinkMagics, server: LoopbackServer, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    magics.base_url = server.url + "/v1"  # an empty --base-url must not silently fall back to this
    assert think(shell, f"-m local --base-url {value}") is None
    assert "--base-url needs a URL" in one_error_line(capsys)
    assert server.requests == []


def test_record_into_a_folder_is_refused(
    shell: InteractiveShell, server: LoopbackServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    think(shell, f"-m local --record {tmp_path} --base-url {server.url}/v1")
    assert "is a folder" in one_error_line(capsys)
    assert server.requests == []


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("--base-url http://127.0.0.1:99999/v1", "Port out of range"),
        ("--base-url http://[::1", "not a valid URL"),
        ("--base-url 'http://my host/v1'", "host name contains a space"),
        ("--base-url http://ann:hunter2secret@127.0.0.1:99999/v1", "***@127.0.0.1"),
    ],
)
def test_unusable_urls_are_one_line(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, shown: str
) -> None:
    think(shell, f"-m local {line}")
    err = one_error_line(capsys)
    assert shown in err and "hunter2secret" not in err


def test_a_non_ascii_key_is_one_line_without_the_key(
    shell: InteractiveShell, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-ключ1234567890")
    think(shell, f"-m qwen-plus {bailian(server)}")
    err = one_error_line(capsys)
    assert "non-ASCII" in err and KEY_ENV in err and "ключ" not in err
    assert server.requests == []


def test_a_lone_surrogate_in_the_cell_is_one_line(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    think(shell, f"-m local --base-url {server.url}/v1", "broken \udc9f bytes")
    assert "lone surrogate" in one_error_line(capsys)
    assert server.requests == []


def test_an_unexpected_error_is_one_line_not_a_traceback(
    shell: InteractiveShell, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("something thinkbook did not expect")

    monkeypatch.setattr("thinkbook._magic._prepare", broken)
    think(shell, f"-m local --base-url {server.url}/v1")
    err = one_error_line(capsys)
    assert "RuntimeError" in err and "something thinkbook did not expect" in err and "_think_error" in err
    assert isinstance(shell.user_ns["_think_error"], RuntimeError)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("qwen-plus:ON,qwen-flash", "unknown setting 'ON'"),
        ("qwen-plus:Off,qwen-flash", "unknown setting 'Off'"),
        ("qwen-plus,:foo", "needs a model name"),
        ("qwen-plus:,qwen-flash", "empty setting"),
        ("qwen-plus:think,qwen-flash", "unknown setting 'think'"),
        ("qwen-plus:budget,qwen-flash", "unknown setting 'budget'"),
        ("qwen-plus:no-think,qwen-flash", "unknown setting 'no-think'"),
        ("qwen-plus:true,qwen-flash", "unknown setting 'true'"),
    ],
)
def test_compare_settings_that_are_not_known_are_refused(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str], items: str, message: str
) -> None:
    think(shell, f"--compare {items} --base-url {server.url}/v1")
    assert message in one_error_line(capsys)
    assert server.requests == [] and "_think_panel" not in shell.user_ns


def test_compare_tags_that_are_not_settings_stay_in_the_model_name() -> None:
    from thinkbook._magic_args import parse_compare

    assert parse_compare("deepseek-r1:7b,qwen3:30b-a3b-q4_K_M:on") == (
        {"model": "deepseek-r1:7b"},
        {"model": "qwen3:30b-a3b-q4_K_M", "enable_thinking": True},
    )


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("qwen-plus,qwq-plus:off", "qwq-plus is a thinking-only model"),
        ("qwen-plus,qwq-plus --no-think", "qwq-plus is a thinking-only model"),
    ],
)
def test_compare_with_one_invalid_column_refuses_the_whole_cell(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str], items: str, message: str
) -> None:
    think(shell, f"--compare {items} --base-url {server.url}/v1")
    err = one_error_line(capsys)
    assert "nothing was sent" in err and message in err
    assert server.requests == [] and "_think_panel" not in shell.user_ns


def test_compare_precheck_says_each_note_once(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.enqueue(answer(), answer())
    think(shell, f"--compare qwq-plus:budget=100,local-b --base-url {server.url}/v1")
    out = capsys.readouterr().out
    assert out.count("--budget does not apply to qwq-plus") == 1
    assert len(server.requests) == 2


# --- dialect (issue 9, point 12) -------------------------------------------------------------


def test_dialect_bailian_behind_a_local_gateway(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(answer(), answer())
    think(shell, f"-m qwen-plus --think --budget 100 --base-url {server.url}/v1")
    think(shell, f"-m qwen-plus --think --budget 100 --dialect bailian --base-url {server.url}/v1")
    guessed, chosen = (r.json() for r in server.requests)
    assert guessed["chat_template_kwargs"] == {"enable_thinking": True} and "enable_thinking" not in guessed
    assert chosen["enable_thinking"] is True and chosen["thinking_budget"] == 100
    assert "chat_template_kwargs" not in chosen and "thinking_token_budget" not in chosen


def test_dialect_default_is_configurable(shell: InteractiveShell, magics: ThinkMagics, server: LoopbackServer) -> None:
    server.enqueue(answer())
    shell.run_line_magic("think_config", "dialect=deepseek")
    think(shell, f"-m local --no-think --base-url {server.url}/v1")
    assert server.requests[0].json()["thinking"] == {"type": "disabled"}


def test_dialect_of_a_chat_is_kept_across_turns(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(answer(), answer())
    think(shell, f"-m qwen-plus --chat gw --think --dialect bailian --base-url {server.url}/v1")
    think(shell, "--chat gw", "and then?")
    assert [r.json().get("enable_thinking") for r in server.requests] == [True, True]


def test_dialect_in_the_magic_options_metadata(
    shell: InteractiveShell, server: LoopbackServer, published: list[dict[str, Any]]
) -> None:
    server.enqueue(answer())
    think(shell, f"-m local --dialect vllm --base-url {server.url}/v1")
    metadata = published[-1]["metadata"]["thinkbook"]
    assert metadata["magic"]["dialect"] == "vllm"


def test_url_credentials_stay_out_of_the_saved_options(
    shell: InteractiveShell, server: LoopbackServer, published: list[dict[str, Any]]
) -> None:
    server.enqueue(answer())
    host = server.url.removeprefix("http://")
    think(shell, f"-m local --base-url http://ann:hunter2secret@{host}/v1")
    assert server.requests[0].headers["authorization"].startswith("Basic ")  # still sent as given
    saved = json.dumps(published[-1]["metadata"])
    assert "hunter2secret" not in saved and f"***@{host}" in saved


@pytest.mark.parametrize("name", ["In", "Out", "get_ipython", "exit"])
def test_out_refuses_the_names_ipython_itself_relies_on(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    before = shell.user_ns.get(name)
    think(shell, f"-m local --out {name} --base-url {server.url}/v1")
    assert f"--out {name}" in one_error_line(capsys)
    assert shell.user_ns.get(name) is before and server.requests == []


def test_an_unexpected_error_while_running_is_one_line(
    shell: InteractiveShell, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the engine could not start")

    monkeypatch.setattr("thinkbook._magic.launch", broken)
    think(shell, f"-m local --base-url {server.url}/v1")
    assert "RuntimeError: the engine could not start" in one_error_line(capsys)


def test_an_unexpected_error_in_a_line_command_is_one_line(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> str:
        raise RuntimeError("catalog broke")

    monkeypatch.setattr("thinkbook._magic_lines.catalog", broken)
    shell.run_line_magic("think", "models")
    assert "RuntimeError: catalog broke" in one_error_line(capsys)


def test_think_recordings_lists_what_replays_offline(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("think", "recordings")
    out = capsys.readouterr().out
    # The shipped recordings of the first things a newcomer types, with their models.
    assert "qwen-plus-whoami.jsonl" in out
    assert "qwen-plus-decimal.jsonl" in out
    assert "qwen-plus" in out


# --- help, flag words, catalog hint, --bg handle, lang= -----------------------------------------


@pytest.mark.parametrize(
    "cell",
    ["%%think --help\n", "%%think -h\n\n  \n", "%think --help", "%think -h", "%%think -m qwen-plus --help\n证明"],
)
def test_help_prints_with_or_without_a_cell(
    shell: InteractiveShell, cell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """IPython refuses an empty cell magic ("the cell body is empty"); thinkbook runs it as the line magic."""
    shell.run_cell(cell)
    captured = capsys.readouterr()
    assert captured.out.startswith("Usage: %%think [-m MODEL] [--think]"), captured
    assert "cell body is empty" not in captured.out + captured.err and "--compare M1,M2" in captured.out


def test_an_empty_cell_under_options_gets_thinkbooks_own_message(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell(f"%%think -m local --base-url {server.url}/v1\n")
    assert one_error_line(capsys) == "thinkbook: the cell is empty: write the question under the %%think line"
    assert not server.requests


def test_the_magic_docstring_reads_well_in_question_mark_help() -> None:
    """``%think?`` printed IPython's reST ``::`` first; the usage is now a plain paragraph."""
    doc = vars(ThinkMagics)["think"].__doc__
    assert not doc.startswith("::") and doc.startswith("Usage: %%think [-m MODEL]")
    usage = doc.split("\n\n", 1)[0].splitlines()
    assert all(len(line) <= 100 for line in usage)
    assert all(line.startswith(" " * 15 + "[") for line in usage[1:])  # options never split across lines
    assert "[--chat NAME]" in doc and "Ask a thinking model" in doc


def test_a_thinking_only_error_names_the_flag_that_was_typed(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    think(shell, f"-m qwq-plus --no-think --base-url {server.url}/v1")
    line = one_error_line(capsys)
    assert "thinking-only model" in line and "Drop --no-think," in line and "enable_thinking" not in line
    assert not server.requests


def test_flag_words_leave_server_messages_alone() -> None:
    from thinkbook._spellings import in_flag_words

    assert in_flag_words("answers with enable_thinking=True (--think); thinkbook.recordings() (or "
                         "%think recordings) lists what replays offline", "magic") == (
        "answers with --think; %think recordings lists what replays offline"
    )  # fmt: skip
    assert in_flag_words("thinking_budget=50 (--budget 50) and model='qwq-plus' (-m qwq-plus)", "cli") == (
        "--budget 50 and -m qwq-plus"
    )
    assert in_flag_words("--budget was given", "magic") == "--budget was given"  # already a flag


def test_a_model_outside_the_catalog_gets_one_quiet_line(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """-m gpt-5 goes to the default endpoint as is: one note says where (nothing is sent in this test)."""
    monkeypatch.setenv("DASHSCOPE_API_KEY", FAKE_KEY)

    def stop_here(self: ThinkMagics, plan: Any) -> Any:
        raise ConfigurationError(f"stopped before sending {plan.request.model} (test)")

    monkeypatch.setattr(ThinkMagics, "_start", stop_here)
    think(shell, "-m gpt-5")
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "thinkbook: gpt-5 is not in thinkbook's catalog: sent as is to "
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1 (bailian), its thinking options unchecked; "
        "for another server pass --base-url URL"
    ]
    think(shell, "-m qwen-plus")  # in the catalog: no note
    assert capsys.readouterr().out == ""


def test_a_handle_says_what_became_of_its_run(server: LoopbackServer) -> None:
    server.enqueue(
        answer(),
        ScriptedResponse.from_json({"error": {"code": "InvalidApiKey", "message": "no"}}, status=401),
        ScriptedResponse.from_sse([{"choices": [{"delta": {"content": "半"}}]}], done=False, stall_after=1),
    )
    options: dict[str, Any] = {"model": "local", "base_url": server.url + "/v1", "display": False}
    done = thinkbook.submit("q", **options)
    done.result(timeout=10)
    assert done.state == "done" and repr(done) == "<ThinkHandle local done>"
    failed = thinkbook.submit("q", **options, max_retries=0)
    with pytest.raises(AuthenticationError):
        failed.result(timeout=10)
    assert failed.state == "error" and repr(failed) == "<ThinkHandle local error: AuthenticationError>"
    stalled = thinkbook.submit("q", **options)
    assert stalled.state == "running" and repr(stalled) == "<ThinkHandle local running>"
    assert stalled.cancel()
    assert stalled.state == "stopped" and repr(stalled) == "<ThinkHandle local stopped>"


def test_lang_reaches_the_view_of_think_and_conversation(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``lang=`` picks the view's labels like ``%%think --lang`` (README: labels follow lang=)."""
    from thinkbook._display import LiveDisplay

    views: list[LiveDisplay] = []

    class Spy(LiveDisplay):
        def start(self) -> None:  # no front end here: keep the view, draw nothing
            views.append(self)
            self.view.begin()

    monkeypatch.setattr("thinkbook._display.in_notebook", lambda: True)
    monkeypatch.setattr("thinkbook._run.LiveDisplay", Spy)
    server.enqueue(answer(), answer())
    thinkbook.think("q", model="local", base_url=server.url + "/v1", lang="zh")
    thinkbook.Conversation("local", base_url=server.url + "/v1", lang="en").send("q")
    assert [v.view.header["lang"] for v in views] == ["zh", "en"]
    with pytest.raises(ConfigurationError, match="lang must be 'en' or 'zh'"):
        thinkbook.think("q", model="local", base_url=server.url + "/v1", lang="fr")
    with pytest.raises(ConfigurationError, match="lang must be 'en' or 'zh'"):
        thinkbook.Conversation("local", lang="de")
    assert len(server.requests) == 2  # the bad ones sent nothing
