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
