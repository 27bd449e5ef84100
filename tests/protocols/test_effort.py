"""effort="low"|"medium"|"high": each dialect's own knob in the request body, and the early errors.

The request bodies are built exactly as for sending (resolve_endpoint + prepare_request); the
front doors (think, Conversation, %%think --effort, the CLI) are checked against a loopback server.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

import thinkbook
from thinkbook import ConfigurationError
from thinkbook._cli import EXIT_OK, EXIT_USAGE, main
from thinkbook._endpoints import resolve_endpoint
from thinkbook._protocols.openai_dialects import EFFORT_BUDGETS
from thinkbook._request import prepare_request
from thinkbook.testing import LoopbackServer, ScriptedResponse

KEY = "sk-test-SECRET0123456789abcdef"
MESSAGES = [{"role": "user", "content": "9.11 和 9.9 哪个大？"}]
BJ = "https://dashscope.aliyuncs.com"
LEVELS = ("low", "medium", "high")


def body(model: str, base_url: str, effort: Any, **options: Any) -> dict[str, Any]:
    endpoint = resolve_endpoint(model, base_url=base_url, api_key=KEY, env={}, **options)
    return prepare_request(endpoint, model, list(MESSAGES), effort=effort).body


def answer() -> ScriptedResponse:
    return ScriptedResponse.from_sse(
        [
            {"choices": [{"delta": {"reasoning_content": "r"}}]},
            {"choices": [{"delta": {"content": "a"}, "finish_reason": "stop"}]},
        ]
    )


# --- each dialect's knob -------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("base_url", "options", "expected"),
    [
        ("https://api.deepseek.com", {}, lambda level: {"reasoning_effort": level}),
        ("https://openrouter.ai/api/v1", {}, lambda level: {"reasoning": {"effort": level}}),
        ("http://localhost:11434/v1", {}, lambda level: {"reasoning_effort": level}),
        ("https://api.openai.com/v1", {"protocol": "openai"}, lambda level: {"reasoning_effort": level}),
        ("https://llm.example.com/v1", {"dialect": "openai"}, lambda level: {"reasoning_effort": level}),
        ("http://localhost:8000/v1", {}, lambda level: {"thinking_token_budget": EFFORT_BUDGETS[level]}),
        (BJ + "/compatible-mode/v1", {}, lambda level: {"thinking_budget": EFFORT_BUDGETS[level]}),
    ],
)
def test_effort_in_each_dialects_own_field(base_url: str, options: dict[str, str], expected: Any, level: str) -> None:
    sent = body("some-unlisted-model", base_url, level, **options)
    fields = {k: v for k, v in sent.items() if k not in ("model", "messages", "stream", "stream_options")}
    assert fields == expected(level)


def test_bailian_levels_are_budgets_that_grow() -> None:
    assert EFFORT_BUDGETS == {"low": 1024, "medium": 4096, "high": 16384}


def test_effort_on_a_hybrid_model_turns_thinking_on_like_a_budget() -> None:
    sent = body("qwen-plus", BJ + "/compatible-mode/v1", "medium")
    assert (sent["enable_thinking"], sent["thinking_budget"]) == (True, 4096)
    native = body("qwen-plus", BJ + "/api/v1", "high")
    assert native["parameters"]["enable_thinking"] is True
    assert native["parameters"]["thinking_budget"] == 16384


def test_dashscope_effort_is_a_thinking_budget() -> None:
    native = body("qwen3.7-max-preview", BJ + "/api/v1", "low")
    assert native["parameters"] == {"result_format": "message", "incremental_output": True, "thinking_budget": 1024}


def test_without_effort_nothing_changes() -> None:
    assert "reasoning_effort" not in body("m", "https://api.deepseek.com", None)
    assert "thinking_budget" not in body("m", BJ + "/compatible-mode/v1", None)


# --- errors, before anything is sent -------------------------------------------------------------


@pytest.mark.parametrize("effort", ["max", "LOW", "", 1, True])
def test_an_unknown_level_names_the_choices(effort: Any) -> None:
    with pytest.raises(ConfigurationError, match="effort must be one of 'low', 'medium', 'high'"):
        body("m", "http://localhost:8000/v1", effort)


def test_effort_with_a_budget_says_pick_one() -> None:
    endpoint = resolve_endpoint("qwen-plus", base_url=BJ + "/compatible-mode/v1", api_key=KEY, env={})
    with pytest.raises(ConfigurationError, match=r"effort and thinking_budget.*pick one"):
        prepare_request(endpoint, "qwen-plus", list(MESSAGES), effort="low", thinking_budget=100)
    with pytest.raises(ConfigurationError, match="enable_thinking=False: pick one"):
        prepare_request(endpoint, "qwen-plus", list(MESSAGES), effort="low", enable_thinking=False)


@pytest.mark.parametrize("base_url", [BJ + "/compatible-mode/v1", BJ + "/api/v1"])
def test_a_bailian_model_without_a_budget_knob_says_so(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="glm-5 has no such knob"):
        body("glm-5", base_url, "high")


def test_the_same_model_elsewhere_takes_the_effort_in_its_own_way() -> None:
    assert body("glm-5", "http://localhost:8000/v1", "high")["thinking_token_budget"] == 16384
    assert body("deepseek-v3.2", "https://api.deepseek.com", "high")["reasoning_effort"] == "high"


def test_think_refuses_a_bad_effort_before_sending(server: LoopbackServer) -> None:
    with pytest.raises(ConfigurationError, match="effort must be one of"):
        thinkbook.think("q", model="m", base_url=server.url + "/v1", effort="extreme")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="pick one"):
        thinkbook.stream("q", model="m", base_url=server.url + "/v1", effort="low", thinking_budget=5)
    with pytest.raises(ConfigurationError, match="effort must be one of"):
        thinkbook.Conversation("m", base_url=server.url + "/v1", effort="max")  # type: ignore[arg-type]
    assert server.requests == []


# --- front doors ---------------------------------------------------------------------------------


def test_think_submit_and_conversation_send_it(server: LoopbackServer) -> None:
    server.enqueue(answer(), answer(), answer(), answer())
    thinkbook.think("q", model="m", base_url=server.url + "/v1", effort="low", display=False)
    thinkbook.submit("q", model="m", base_url=server.url + "/v1", effort="medium", display=False).result(10)
    chat = thinkbook.Conversation("m", base_url="https://x.invalid", effort="high")
    chat.base_url = server.url + "/v1"
    chat.send("q1")
    chat.send("q2")
    sent = [request.json()["thinking_token_budget"] for request in server.requests]
    assert sent == [1024, 4096, 16384, 16384]


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "thinkbook")
    yield ip
    magics = ip.magics_manager.registry["ThinkMagics"]
    magics.chats.clear()
    for name in ("_think", "_think_error"):
        ip.user_ns.pop(name, None)


def test_magic_effort_reaches_the_request(shell: InteractiveShell, server: LoopbackServer) -> None:
    server.enqueue(answer(), answer())
    shell.run_cell_magic("think", f"-m deepseek-v3.2 --effort high --base-url {server.url}/v1", "q")
    shell.run_cell_magic("think", f"-m m --chat effort --effort low --base-url {server.url}/v1", "q")
    assert server.requests[0].json()["thinking_token_budget"] == 16384
    assert server.requests[1].json()["thinking_token_budget"] == 1024


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--effort max", "invalid choice"),
        ("--effort low --budget 10", "pick one"),
        ("--effort low --no-think", "pick one"),
    ],
)
def test_magic_effort_errors(
    shell: InteractiveShell, server: LoopbackServer, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    shell.run_cell_magic("think", f"-m m {line} --base-url {server.url}/v1", "q")
    assert message in capsys.readouterr().err
    assert server.requests == []


def test_cli_effort(server: LoopbackServer) -> None:
    server.enqueue(answer())
    out, err = io.StringIO(), io.StringIO()
    assert main(["q", "-m", "m", "--base-url", server.url, "--effort", "medium"], stdout=out, stderr=err) == EXIT_OK
    assert server.requests[0].json()["thinking_token_budget"] == 4096
    with pytest.raises(SystemExit) as exited:  # argparse's own usage error, as for any bad choice
        main(["q", "-m", "m", "--base-url", server.url, "--effort", "max"], stdout=out, stderr=err)
    assert exited.value.code == EXIT_USAGE
    code = main(["q", "-m", "m", "--base-url", server.url, "--effort", "low", "--budget", "9"], stdout=out, stderr=err)
    assert code == EXIT_USAGE and "pick one" in err.getvalue()
    assert len(server.requests) == 1
