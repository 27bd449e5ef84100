"""python -m thinkbook: reasoning to stderr, answer to stdout, usage line, dependable exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from thinkbook._cli import EXIT_AUTH, EXIT_OK, EXIT_USAGE, main
from thinkbook.testing import LoopbackServer, ScriptedResponse

FAKE_KEY = "sk-test-SECRET0123456789abcdef"
EVENTS = [
    {"model": "qwen-plus", "choices": [{"delta": {"reasoning_content": "9.9 = 9.90"}}]},
    {"choices": [{"delta": {"content": "9.9 更大"}, "finish_reason": "stop"}]},
    {
        "choices": [],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "total_tokens": 30,
            "completion_tokens_details": {"reasoning_tokens": 12},
        },
    },
]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_answer_on_stdout_reasoning_and_usage_on_stderr(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    server.enqueue(ScriptedResponse.from_sse(EVENTS))
    code, out, err = run(["9.11 和 9.9 哪个大？", "-m", "qwen-plus", "--base-url", server.url, "--budget", "50"])
    assert code == EXIT_OK
    assert out.strip() == "9.9 更大"
    assert "9.9 = 9.90" in err and "reasoning 12" in err and "answer 8" in err and "total 30" in err
    assert server.requests[0].json()["thinking_token_budget"] == 50


def test_json_output_is_the_whole_result(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(EVENTS))
    code, out, _ = run(["q", "-m", "qwen-plus", "--base-url", server.url, "--json", "--no-think"])
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["answer"] == "9.9 更大" and data["reasoning"] == "9.9 = 9.90"
    assert data["usage"]["reasoning_tokens"] == 12
    assert server.requests[0].json()["chat_template_kwargs"] == {"enable_thinking": False}


def test_usage_errors_exit_2_without_sending(server: LoopbackServer) -> None:
    code, _, err = run(["q", "-m", "qwq-plus", "--no-think", "--base-url", server.url])
    assert code == EXIT_USAGE and "thinking-only" in err
    code, _, err = run(["q"])
    assert code == EXIT_USAGE and "--model" in err
    code, _, err = run(["q", "-m", "qwen-plus"])  # no key anywhere
    assert code == EXIT_USAGE and "DASHSCOPE_API_KEY" in err
    assert server.requests == []


def test_auth_failure_exit_code_and_no_key_in_output(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    server.enqueue(
        ScriptedResponse.from_json({"error": {"code": "invalid_api_key", "message": f"bad key {FAKE_KEY}"}}, status=401)
    )
    code, out, err = run(["q", "-m", "m", "--base-url", server.url])
    assert code == EXIT_AUTH
    assert FAKE_KEY not in out + err and "401" in err


def test_list_models_prints_the_catalog() -> None:
    code, out, _ = run(["--list-models"])
    assert code == EXIT_OK
    assert "qwq-plus" in out and "thinking-only" in out and "MiniMax-M2.5" in out


def test_python_dash_m_entry_point(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(EVENTS))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    completed = subprocess.run(
        [sys.executable, "-m", "thinkbook", "q", "-m", "qwen-plus", "--base-url", server.url],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "9.9 更大"
    assert "9.9 = 9.90" in completed.stderr


# --- configuration problems: exit 2, one line, nothing sent (issue 9, points 2, 7 and 12) -------


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["q", "--base-url", ""], "base_url is empty"),
        (["q", "--base-url", "   "], "base_url is empty"),
        (["q", "--base-url", "http://127.0.0.1:99999/v1"], "Port out of range"),
        (["q", "--base-url", "http://[::1"], "not a valid URL"),
        (["q", "--base-url", "http://my host/v1"], "host name contains a space"),
        (["q", "--timeout", "nan"], "timeout must be a positive number"),
        (["q", "--timeout", "-5"], "timeout must be a positive number"),
        (["q", "--dialect", "litellm"], "unknown dialect 'litellm'"),
        (["\u200b\u2060"], "the prompt is empty"),
        (["bad \udcff bytes"], "lone surrogate"),
        (["q", "--system", "  "], "system= is empty"),
        (["q", "--api-key-env", "THINKBOOK_UNSET_VARIABLE"], "THINKBOOK_UNSET_VARIABLE is not set"),
    ],
)
def test_configuration_problems_exit_2_with_one_line(server: LoopbackServer, argv: list[str], message: str) -> None:
    argv = [*argv, "-m", "local"]
    if "--base-url" not in argv:
        argv += ["--base-url", server.url]
    code, out, err = run(argv)
    assert code == EXIT_USAGE and out == ""
    assert message in one_line(err)
    assert server.requests == []


def test_url_credentials_are_hidden_in_cli_errors() -> None:
    code, _, err = run(["q", "-m", "m", "--base-url", "http://ann:hunter2secret@127.0.0.1:99999/v1"])
    assert code == EXIT_USAGE and "hunter2secret" not in err and "***@127.0.0.1" in one_line(err)


def test_a_non_ascii_key_exits_2_without_showing_it(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINKBOOK_CLI_KEY", "sk-ключ1234567890")
    code, _, err = run(["q", "-m", "m", "--base-url", server.url, "--api-key-env", "THINKBOOK_CLI_KEY"])
    assert code == EXIT_USAGE and "non-ASCII" in one_line(err) and "ключ" not in err
    assert server.requests == []


def test_api_key_env_sends_that_variable(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THINKBOOK_CLI_KEY", FAKE_KEY)
    server.enqueue(ScriptedResponse.from_sse(EVENTS))
    code, out, err = run(["q", "-m", "m", "--base-url", server.url, "--api-key-env", "THINKBOOK_CLI_KEY"])
    assert code == EXIT_OK and FAKE_KEY not in out + err
    assert server.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_dialect_picks_the_thinking_fields(server: LoopbackServer) -> None:
    server.enqueue(ScriptedResponse.from_sse(EVENTS))
    code, _, _ = run(["q", "-m", "qwen-plus", "--base-url", server.url, "--think", "--dialect", "bailian"])
    body = server.requests[0].json()
    assert code == EXIT_OK and body["enable_thinking"] is True and "chat_template_kwargs" not in body


def test_undecodable_stdin_exits_2_with_one_line(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"caf\xe9 \xff"), encoding="utf-8"))
    code, _, err = run(["-", "-m", "m", "--base-url", server.url])
    assert code == EXIT_USAGE and "UTF-8" in one_line(err)
    assert server.requests == []


def test_an_unexpected_exception_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something thinkbook did not expect")

    monkeypatch.setattr("thinkbook._cli.stream", broken)
    code, _, err = run(["q", "-m", "m"])
    assert code == 1 and "RuntimeError: something thinkbook did not expect" in one_line(err)


def test_a_withheld_key_is_one_note_line(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", FAKE_KEY)
    server.enqueue(ScriptedResponse.from_sse(EVENTS))
    code, _, err = run(["q", "-m", "qwen-plus", "--base-url", server.url + "/compatible-mode/v1", "--no-reasoning"])
    assert code == EXIT_OK and "authorization" not in server.requests[0].headers
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "DASHSCOPE_API_KEY is set but was not sent" in notes[0] and FAKE_KEY not in err


@pytest.mark.parametrize("speed", ["1", "4"])
def test_replayed_timings_are_the_recordings_and_say_so(monkeypatch: pytest.MonkeyPatch, speed: str) -> None:
    for name in ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("THINKBOOK_REPLAY_SPEED", speed)
    out, err = io.StringIO(), io.StringIO()
    assert main(["-m", "qwen-plus", "--think", "--no-reasoning", "你是谁"], stdout=out, stderr=err) == EXIT_OK
    line = err.getvalue().strip().splitlines()[-1]
    assert line.endswith("timings as recorded"), line
    # The recording took ~3.4 s to think at ~50 tok/s: at 4x the replay measures a quarter of that.
    thought = float(line.split("thought ")[1].split("s")[0])
    rate = float(line.split(" tok/s")[0].rsplit(" ", 1)[1])
    assert 2.8 <= thought <= 4.5 and 35 <= rate <= 65, line


def test_live_timings_carry_no_replay_label(server: LoopbackServer) -> None:
    from thinkbook._cli import usage_line
    from thinkbook._types import ThinkResult, Timings

    result = ThinkResult(answer="a", timings=Timings(0.1, 0.2, 0.1, 1.0, 400.0))
    assert "as recorded" not in usage_line(result) and "400 tok/s" in usage_line(result)
    assert usage_line(result, 4.0).endswith("100 tok/s, timings as recorded")
    assert "tok/s" not in usage_line(result, 0.0) and "replayed without pauses" in usage_line(result, 0.0)


def test_a_missing_key_is_said_the_shells_way(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """The shared message speaks to Python (api_key=...) and %%think users; the CLI names its own ways."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    code, out, err = run(["9.11 和 9.9 哪个大？", "-m", "qwen-plus"])
    assert code == EXIT_USAGE and out == ""
    (line,) = err.splitlines()
    assert "export DASHSCOPE_API_KEY=... (or --api-key-env NAME to read the key from another variable)" in line
    # The shipped recording is named with the CLI's flag, not the Python spelling.
    assert "qwen-plus-decimal.jsonl answers this prompt with --think;" in line
    assert "api_key=" not in line and "%%think" not in line and "enable_thinking" not in line


def test_errors_name_the_flag_that_was_typed(server: LoopbackServer) -> None:
    code, _, err = run(["q", "-m", "qwq-plus", "--no-think", "--base-url", server.url])
    assert code == EXIT_USAGE and not server.requests
    assert "Drop --no-think, or pick a hybrid model" in err and "enable_thinking" not in err


def test_a_model_outside_the_catalog_gets_one_note_naming_where_it_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """-m gpt-5 with no --base-url goes to the default endpoint: the CLI says so before sending."""
    from thinkbook import ConfigurationError

    seen: list[str] = []

    def refuse(request: object, **_: object) -> object:  # the request is prepared: stop before sending
        seen.append(request.model)  # type: ignore[attr-defined]
        raise ConfigurationError("stopped before sending (test)")

    monkeypatch.setenv("DASHSCOPE_API_KEY", FAKE_KEY)
    monkeypatch.setattr("thinkbook._api.iter_events", refuse)
    code, _, err = run(["q", "-m", "gpt-5"])
    assert seen == ["gpt-5"] and code == EXIT_USAGE
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: gpt-5 is not in thinkbook's catalog: sent as is to "
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1 (bailian), its thinking options unchecked; "
        "for another server pass --base-url URL"
    ]
    assert FAKE_KEY not in err
    code, _, err = run(["q", "-m", "qwen-plus"])  # a catalog model: no note
    assert not [line for line in err.splitlines() if line.startswith("note:")]
