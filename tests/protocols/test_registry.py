"""The protocol registry: discovery, the unknown-name message, and a protocol added as one module.

The "echo" protocol below is written as a module file into a directory that is added to the
package's search path: no other file is touched, and endpoint resolution, the pipeline, the
engine, Conversation and replay all use it through the registry alone.
"""

from __future__ import annotations

import json
import pkgutil
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import thinkbook
import thinkbook._protocols as registry
from thinkbook._endpoints import resolve_endpoint
from thinkbook._errors import ConfigurationError, MissingAPIKeyError
from thinkbook._pipeline import StreamPipeline
from thinkbook._protocols.base import STATE_KEY, WireProtocol
from thinkbook._replay import dump_recording, load_recording
from thinkbook._types import Done
from thinkbook.testing import LoopbackServer, ScriptedResponse

PACKAGE = Path(registry.__file__).parent
THINKBOOK = PACKAGE.parent
KEY = "sk-echo-SECRET0123456789abcdef"
MODULE = "zz_echo_for_tests"

ECHO_MODULE = '''
"""A protocol that exists only in this test: events {"r", "a", "sig", "hidden", "end"}."""

from typing import Any

from thinkbook._errors import ResponseFormatError
from thinkbook._protocols.base import BodyInput, ProviderSpec, WireProtocol, state_of
from thinkbook._wire import WireChunk, loads_json


class EchoParser:
    def __init__(self) -> None:
        self._sig = None

    def parse(self, event):
        try:
            obj = loads_json(event.data)
        except ValueError:
            raise ResponseFormatError("not an echo event") from None
        if "sig" in obj:
            self._sig = obj["sig"]
        return WireChunk(
            reasoning=obj.get("r", ""),
            content=obj.get("a", ""),
            finish_reason="stop" if obj.get("end") else None,
            error=obj.get("error"),
            reasoning_hidden=bool(obj.get("hidden")),
        )

    def turn_state(self):
        return {"protocol": "echo", "sig": self._sig} if self._sig else None


class EchoProtocol(WireProtocol):
    name = "echo"
    title = "a protocol written for the registry test"
    expected = "an echo event"
    providers = (
        ProviderSpec(
            name="echo-cloud",
            protocol="echo",
            default_base_url="https://echo.invalid/echo",
            key_variables=("ECHO_API_KEY",),
            owns_host=lambda host: host == "echo.invalid",
            model_prefixes=("echo-",),
        ),
    )

    def path(self, model, *, base_url):
        return "/talk/" + model

    def headers(self, api_key):
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["x-echo-key"] = api_key
        return headers

    def claims(self, host, path):
        return path.rstrip("/").endswith("/echo")

    def build_body(self, request: BodyInput) -> dict[str, Any]:
        turns = []
        for message in request.messages:
            turn = {"who": message["role"], "text": message["content"]}
            state = state_of(message, self.name)
            if state is not None:
                turn["sig"] = state["sig"]
            turns.append(turn)
        return {"model": request.model, "turns": turns, "effort": request.thinking.effort}

    def error_fields(self, body):
        if isinstance(body, dict) and "oops" in body:
            return body["oops"], body.get("why"), None
        return super().error_fields(body)

    def new_parser(self):
        return EchoParser()


PROTOCOL = EchoProtocol()
'''


@pytest.fixture
def echo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WireProtocol]:
    """The echo module dropped next to the real ones (in a directory on the package's path)."""
    (tmp_path / f"{MODULE}.py").write_text(textwrap.dedent(ECHO_MODULE), encoding="utf-8")
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(tmp_path)])
    monkeypatch.setattr(registry, "_registry", None)  # rediscover; the old registry comes back after
    try:
        yield registry.get_protocol("echo")
    finally:
        sys.modules.pop(f"{registry.__name__}.{MODULE}", None)


LIKE_RESPONSES = """
from thinkbook._protocols.base import ProviderSpec, WireProtocol


class LikeResponses(WireProtocol):
    name = "like-responses"
    title = "a stand-in for a protocol that owns api.openai.com"
    expected = "an event"
    providers = (
        ProviderSpec(
            name="openai-platform",
            protocol="like-responses",
            default_base_url="https://api.openai.com/v1",
            key_variables=("OPENAI_API_KEY",),
            owns_host=lambda host: host == "api.openai.com",
            model_prefixes=("gpt-", "o3", "o4"),
        ),
    )

    def path(self, model, *, base_url):
        return "/responses"

    def claims(self, host, path):
        return host == "api.openai.com"

    def build_body(self, request):
        return {"model": request.model}

    def new_parser(self):
        raise NotImplementedError


PROTOCOL = LikeResponses()
"""


@pytest.fixture
def like_responses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WireProtocol]:
    name = "zz_like_responses_for_tests"
    (tmp_path / f"{name}.py").write_text(LIKE_RESPONSES, encoding="utf-8")
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(tmp_path)])
    monkeypatch.setattr(registry, "_registry", None)
    try:
        yield registry.get_protocol("like-responses")
    finally:
        sys.modules.pop(f"{registry.__name__}.{name}", None)


def test_a_module_owning_api_openai_com_takes_it_over(like_responses: WireProtocol) -> None:
    env = {"OPENAI_API_KEY": KEY, "DASHSCOPE_API_KEY": "sk-other-0123456789abcdef"}
    ep = resolve_endpoint("gpt-5", env=env)  # prefix + key: before DASHSCOPE_API_KEY
    assert (ep.protocol, ep.provider, ep.url, ep.api_key) == (
        "like-responses",
        "openai-platform",
        "https://api.openai.com/v1/responses",
        KEY,
    )
    # OPENAI_BASE_URL means "my OpenAI is that server": the prefix does not win over it.
    ep = resolve_endpoint("gpt-5", env={"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "https://llm.example.com/v1"})
    assert (ep.protocol, ep.url, ep.api_key) == ("openai", "https://llm.example.com/v1/chat/completions", KEY)
    # Chat completions to api.openai.com still work when asked for, with OpenAI's (empty) dialect.
    ep = resolve_endpoint("gpt-5", base_url="https://api.openai.com/v1", protocol="openai", env={"OPENAI_API_KEY": KEY})
    assert (ep.protocol, ep.dialect, ep.api_key) == ("openai", "openai", KEY)
    with pytest.raises(ConfigurationError, match="protocol='openai'"):
        resolve_endpoint("gpt-5", base_url="https://api.openai.com/v1", protocol="dashscope", api_key=KEY, env={})
    # Without the module's key, the model prefix picks nothing and the usual order applies.
    assert resolve_endpoint("gpt-5", env={"DASHSCOPE_API_KEY": KEY}).provider == "bailian"


def sse(*events: dict[str, object]) -> ScriptedResponse:
    return ScriptedResponse(body=[f"data: {json.dumps(event)}\n\n".encode() for event in events])


# --- discovery ---------------------------------------------------------------------------------


def test_every_module_with_a_protocol_is_registered_and_the_others_are_not() -> None:
    names = {p.name for p in registry.protocols()}
    assert {"openai", "dashscope"} <= names
    for info in pkgutil.iter_modules(registry.__path__):
        module = sys.modules.get(f"{registry.__name__}.{info.name}")
        protocol = getattr(module, "PROTOCOL", None)
        if info.name == "base" or protocol is None:
            assert info.name not in names
        else:
            assert registry.get_protocol(protocol.name) is protocol


def test_the_fallback_comes_last_and_protocol_for_url_falls_back_to_it() -> None:
    assert registry.protocols()[-1].name == registry.FALLBACK == "openai"
    assert registry.providers()[-1].name == "openai"  # the catch-all provider
    assert registry.protocol_for_url("llm.example.com", "/v1").name == "openai"
    assert registry.protocol_for_url("dashscope.aliyuncs.com", "/api/v1").name == "dashscope"
    assert registry.protocol_for_url("dashscope.aliyuncs.com", "/compatible-mode/v1").name == "openai"


@pytest.mark.parametrize("name", ["native", "OpenAI", "", "echo"])
def test_an_unknown_name_lists_every_protocol_with_its_title(name: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown protocol") as info:
        registry.get_protocol(name)
    for protocol in registry.protocols():
        assert repr(protocol.name) in str(info.value) and protocol.title in str(info.value)
    with pytest.raises(ConfigurationError, match="unknown protocol"):
        resolve_endpoint("m", base_url="http://127.0.0.1:1/v1", protocol=name, env={})


def test_register_is_the_same_extension_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_registry", None)
    openai = registry.get_protocol("openai")

    class Other(type(openai)):  # type: ignore[misc]
        name = "other-for-tests"
        title = "another test protocol"

    added = registry.register(Other())
    assert registry.get_protocol("other-for-tests") is added
    registry.unregister("other-for-tests")
    with pytest.raises(ConfigurationError):
        registry.get_protocol("other-for-tests")


# --- a protocol added as one module --------------------------------------------------------------


def test_a_dropped_in_module_is_found(echo: WireProtocol) -> None:
    assert type(echo).__module__ == f"{registry.__name__}.{MODULE}"
    assert "echo" in {p.name for p in registry.protocols()}
    assert "echo-cloud" in {spec.name for spec in registry.providers()}
    assert registry.protocols()[-1].name == "openai"


def test_resolution_uses_its_claims_path_headers_and_providers(echo: WireProtocol) -> None:
    ep = resolve_endpoint("m1", base_url="http://127.0.0.1:9/x/echo", api_key=KEY, env={})
    assert (ep.protocol, ep.url) == ("echo", "http://127.0.0.1:9/x/echo/talk/m1")
    assert ep.wire_protocol is echo
    assert ep.headers() == {"Content-Type": "application/json", "x-echo-key": KEY}
    # Its model prefix picks its provider when its key is set, before DASHSCOPE_API_KEY...
    ep = resolve_endpoint("echo-7", env={"ECHO_API_KEY": KEY, "DASHSCOPE_API_KEY": "sk-other-0123456789abc"})
    assert (ep.provider, ep.protocol, ep.api_key, ep.key_variable) == ("echo-cloud", "echo", KEY, "ECHO_API_KEY")
    # ...and not when another provider's key is set: that one (Bailian here) decides...
    ep = resolve_endpoint("echo-7", env={"DASHSCOPE_API_KEY": "sk-other-0123456789abc"})
    assert ep.provider == "bailian"
    # ...while with no key at all the prefix decides, so the error names its variable.
    with pytest.raises(MissingAPIKeyError, match="ECHO_API_KEY"):
        resolve_endpoint("echo-7", env={})
    # Its own host requires its key, and the message names the variable.
    with pytest.raises(MissingAPIKeyError, match="ECHO_API_KEY"):
        resolve_endpoint("echo-7", base_url="https://echo.invalid/echo", env={})
    # A dialect is for protocols that have them.
    with pytest.raises(ConfigurationError, match=r"dialect='vllm'.*protocol='echo'"):
        resolve_endpoint("m", base_url="http://127.0.0.1:9/echo", dialect="vllm", env={})


def test_the_pipeline_uses_its_parser_error_fields_and_state(echo: WireProtocol) -> None:
    pipeline = StreamPipeline(echo)
    pipeline.feed(b'data: {"r": "hm", "sig": "S1"}\n\ndata: {"a": "ok", "end": true}\n\n')
    done = pipeline.finish()[-1]
    assert isinstance(done, Done)
    assert (done.result.reasoning, done.result.answer) == ("hm", "ok")
    assert done.result.reasoning_state == {"protocol": "echo", "sig": "S1"}
    failing = StreamPipeline(echo)
    with pytest.raises(thinkbook.APIStatusError, match="E42: no good"):
        failing.feed(b'data: {"error": {"oops": "E42", "why": "no good"}}\n\n')
    with pytest.raises(thinkbook.ResponseFormatError, match="an echo event"):
        StreamPipeline(echo).feed(b"data: nope\n\n")


def test_conversation_sends_its_state_back_and_never_the_state_key(echo: WireProtocol, server: LoopbackServer) -> None:
    server.enqueue(
        sse({"r": "think 1", "sig": "SIG-1/opaque+="}, {"a": "answer 1", "end": True}),
        sse({"a": "answer 2", "end": True}),
    )
    chat = thinkbook.Conversation("echo-1", base_url=server.url + "/echo", api_key=KEY, effort="high")
    first = chat.send("q1")
    chat.send("q2")
    assert first.reasoning_state == {"protocol": "echo", "sig": "SIG-1/opaque+="}
    assert chat.messages[1] == {
        "role": "assistant",
        "content": "answer 1",
        "reasoning_content": "think 1",
        STATE_KEY: {"protocol": "echo", "sig": "SIG-1/opaque+="},
    }
    assert server.requests[0].path == "/echo/talk/echo-1"
    assert server.requests[0].headers["x-echo-key"] == KEY
    assert server.requests[0].json()["effort"] == "high"  # ThinkingOptions.effort reaches build_body
    second = server.requests[1]
    assert second.json()["turns"] == [
        {"who": "user", "text": "q1"},
        {"who": "assistant", "text": "answer 1", "sig": "SIG-1/opaque+="},
        {"who": "user", "text": "q2"},
    ]
    assert STATE_KEY not in second.body.decode()
    # Without preserve_thinking the reasoning text stays home; the opaque state always goes.
    outgoing = chat._outgoing("q3")[1]
    assert STATE_KEY in outgoing and "reasoning_content" not in outgoing


def test_a_chunk_that_says_reasoning_was_hidden(echo: WireProtocol, server: LoopbackServer) -> None:
    server.enqueue(sse({"hidden": True}, {"a": "42", "end": True}))
    result = thinkbook.think("q", model="m", base_url=server.url + "/echo", display=False)
    assert (result.reasoning, result.answer, result.reasoning_hidden) == ("", "42", True)
    assert result.to_dict()["reasoning_hidden"] is True


def test_a_recording_replays_through_its_protocol(echo: WireProtocol, tmp_path: Path) -> None:
    path = dump_recording(
        tmp_path / "echo.jsonl",
        protocol="echo",
        model="m",
        request={"model": "m", "turns": [{"who": "user", "text": "q"}]},
        chunks=[(0.0, b'data: {"r": "r", "sig": "S"}\n\n'), (0.01, b'data: {"a": "a", "end": true}\n\n')],
    )
    result = thinkbook.replay(path, speed=0, display=False)
    assert (result.reasoning, result.answer, result.reasoning_state) == ("r", "a", {"protocol": "echo", "sig": "S"})


def test_a_recording_of_an_unknown_protocol_is_not_usable(tmp_path: Path) -> None:
    path = dump_recording(tmp_path / "x.jsonl", protocol="nope", model="m", request={}, chunks=[])
    with pytest.raises(ConfigurationError, match="not a usable thinkbook recording: unknown protocol 'nope'"):
        load_recording(path)


# --- nothing outside the protocol modules branches on a protocol's name ---------------------------

_NAMES = "openai|dashscope|responses|anthropic|gemini|bailian|deepseek|openrouter|ollama|local|vllm"
_BRANCH = re.compile(
    rf"""(==|!=|\bin\b)\s*[(\[{{]?\s*["']({_NAMES})["']"""  # x == "openai", x in ("openai", ...)
    rf"""|["']({_NAMES})["']\s*(==|!=|\bin\b)"""  # "openai" == x
    r"""|\b(protocol|provider|dialect)\s*(==|!=)"""  # protocol == ...
)


def test_no_module_outside_the_protocols_branches_on_a_protocol_name() -> None:
    hits = [
        f"{path.relative_to(THINKBOOK.parent)}:{number}: {line.strip()}"
        for path in sorted(THINKBOOK.glob("*.py"))
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if _BRANCH.search(line)
    ]
    assert hits == []


def test_the_branch_pattern_finds_what_it_should() -> None:
    for line in ('if protocol == "dashscope":', 'x in ("deepseek", "openrouter")', 'if "openai" == p:'):
        assert _BRANCH.search(line), line
    assert not _BRANCH.search('protocol=recording.protocol, provider="bailian",')
