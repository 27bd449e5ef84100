"""The exact request bodies thinkbook sends (:mod:`thinkbook._request`)."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest

from thinkbook._endpoints import Endpoint, resolve_endpoint
from thinkbook._errors import ConfigurationError, ThinkbookWarning
from thinkbook._request import build_messages, prepare_request

KEY = "sk-test-SECRET123456789"
MESSAGES = [{"role": "user", "content": "9.11 和 9.9 哪个大?"}]


def endpoint(model: str = "qwen-plus", **kwargs: Any) -> Endpoint:
    kwargs.setdefault("api_key", KEY)
    return resolve_endpoint(model, env={}, **kwargs)


BAILIAN = {"region": "singapore"}
NATIVE = {"region": "singapore", "protocol": "dashscope"}
DEEPSEEK = {"base_url": "https://api.deepseek.com"}
OPENROUTER = {"base_url": "https://openrouter.ai/api/v1"}
VLLM = {"base_url": "http://localhost:8000/v1"}
OLLAMA = {"base_url": "http://localhost:11434/v1"}
GENERIC = {"base_url": "https://llm.example.com/v1"}
GATEWAY = {"base_url": "http://127.0.0.1:4000/v1"}  # e.g. LiteLLM on loopback in front of Bailian


def body_for(
    model: str, where: dict[str, str], messages: list[dict[str, Any]] | None = None, **options: Any
) -> dict[str, Any]:
    """Prepare a request and fail on any warning (tests that expect one catch it themselves)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepared = prepare_request(endpoint(model, **where), model, list(messages or MESSAGES), **options)
    assert prepared.model == model
    return prepared.body


# --- OpenAI-compatible bodies -----------------------------------------------------------------


class TestOpenAICompatible:
    def test_bailian_compatible_body_exactly(self) -> None:
        body = body_for("qwen3.6-plus", BAILIAN, enable_thinking=True, thinking_budget=500, preserve_thinking=True)
        assert body == {
            "model": "qwen3.6-plus",
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": True},
            "enable_thinking": True,
            "thinking_budget": 500,
            "preserve_thinking": True,
        }

    def test_enable_thinking_false_is_sent(self) -> None:
        body = body_for("qwen3.6-plus", BAILIAN, enable_thinking=False)
        assert body["enable_thinking"] is False
        assert "thinking_budget" not in body

    def test_none_leaves_every_thinking_field_out(self) -> None:
        body = body_for("qwen-plus", BAILIAN)
        assert body == {
            "model": "qwen-plus",
            "messages": MESSAGES,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    def test_always_streams_with_usage(self) -> None:
        for where in (BAILIAN, DEEPSEEK, OPENROUTER, VLLM, OLLAMA, GENERIC):
            body = body_for("some-model", where)
            assert body["stream"] is True
            assert body["stream_options"] == {"include_usage": True}

    def test_deepseek_thinking_type(self) -> None:
        on = body_for("deepseek-chat", DEEPSEEK, enable_thinking=True)
        off = body_for("deepseek-chat", DEEPSEEK, enable_thinking=False)
        assert on["thinking"] == {"type": "enabled"}
        assert off["thinking"] == {"type": "disabled"}
        for body in (on, off):
            assert "enable_thinking" not in body
            assert "reasoning" not in body
            assert "chat_template_kwargs" not in body
        assert "thinking" not in body_for("deepseek-chat", DEEPSEEK)

    def test_openrouter_reasoning_object(self) -> None:
        body = body_for("qwen/qwen3-235b-a22b", OPENROUTER, enable_thinking=True, thinking_budget=2048)
        assert body["reasoning"] == {"enabled": True, "max_tokens": 2048}
        assert "enable_thinking" not in body
        assert "thinking_budget" not in body
        off = body_for("qwen/qwen3-235b-a22b", OPENROUTER, enable_thinking=False)
        assert off["reasoning"] == {"enabled": False}
        assert "reasoning" not in body_for("qwen/qwen3-235b-a22b", OPENROUTER)

    def test_openrouter_budget_alone(self) -> None:
        body = body_for("deepseek/deepseek-r1", OPENROUTER, thinking_budget=1000)
        assert body["reasoning"] == {"max_tokens": 1000}

    def test_local_server_chat_template_kwargs(self) -> None:
        off = body_for("Qwen/Qwen3-8B", VLLM, enable_thinking=False)
        assert off["chat_template_kwargs"] == {"enable_thinking": False}
        assert "enable_thinking" not in off
        on = body_for("Qwen/Qwen3-8B", VLLM, enable_thinking=True, thinking_budget=256)
        assert on["chat_template_kwargs"] == {"enable_thinking": True}
        assert on["thinking_token_budget"] == 256
        assert "chat_template_kwargs" not in body_for("Qwen/Qwen3-8B", VLLM)

    def test_ollama_reasoning_effort_none_when_off(self) -> None:
        off = body_for("qwen3:8b", OLLAMA, enable_thinking=False)
        assert off["reasoning_effort"] == "none"
        assert "enable_thinking" not in off
        assert "chat_template_kwargs" not in off
        assert "reasoning_effort" not in body_for("qwen3:8b", OLLAMA, enable_thinking=True)
        assert "reasoning_effort" not in body_for("qwen3:8b", OLLAMA)

    def test_messages_are_the_given_ones(self) -> None:
        messages = [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello", "reasoning_content": "greet"},
            {"role": "user", "content": "again"},
        ]
        body = body_for("qwen-plus", BAILIAN, messages)
        assert body["messages"] == messages


# --- DashScope native bodies ------------------------------------------------------------------


class TestNative:
    def test_text_generation_body_exactly(self) -> None:
        body = body_for("qwen-plus", NATIVE, enable_thinking=True, thinking_budget=50)
        assert body == {
            "model": "qwen-plus",
            "input": {"messages": MESSAGES},
            "parameters": {
                "result_format": "message",
                "incremental_output": True,
                "enable_thinking": True,
                "thinking_budget": 50,
            },
        }

    def test_native_has_no_top_level_thinking_fields(self) -> None:
        body = body_for("qwen3.7-plus", NATIVE, enable_thinking=False, preserve_thinking=True)
        for field in ("enable_thinking", "thinking_budget", "preserve_thinking", "messages"):
            assert field not in body
        assert body["parameters"]["enable_thinking"] is False
        assert body["parameters"]["preserve_thinking"] is True

    def test_native_none_leaves_thinking_out(self) -> None:
        body = body_for("qwen-plus", NATIVE)
        assert body["parameters"] == {"result_format": "message", "incremental_output": True}

    def test_multimodal_endpoint_wraps_string_content(self) -> None:
        messages = [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"text": "already parts"}]},
        ]
        original = copy.deepcopy(messages)
        body = body_for("qwen3.6-plus", NATIVE, messages, enable_thinking=True)
        assert body["input"]["messages"] == [
            {"role": "system", "content": [{"text": "be brief"}]},
            {"role": "user", "content": [{"text": "hi"}]},
            {"role": "assistant", "content": [{"text": "already parts"}]},
        ]
        assert messages == original  # the caller's list is untouched
        assert body["parameters"]["enable_thinking"] is True

    def test_text_generation_keeps_string_content(self) -> None:
        body = body_for("qwen-plus", NATIVE)
        assert body["input"]["messages"][0]["content"] == MESSAGES[0]["content"]


# --- thinking option checks -------------------------------------------------------------------


THINKING_ONLY = [
    "qwq-plus",
    "deepseek-r1",
    "qwen3.7-max-preview",
    "kimi-k2-thinking",
    "MiniMax-M2.5",
    "qwen3-235b-a22b-thinking-2507",
]


class TestThinkingOptions:
    @pytest.mark.parametrize("model", THINKING_ONLY)
    @pytest.mark.parametrize("where", [BAILIAN, NATIVE])
    def test_cannot_turn_off_thinking_only_models(self, model: str, where: dict[str, str]) -> None:
        with pytest.raises(ConfigurationError) as info:
            body_for(model, where, enable_thinking=False)
        assert model in str(info.value)

    @pytest.mark.parametrize("model", THINKING_ONLY)
    def test_thinking_only_models_accept_true_and_none(self, model: str) -> None:
        assert body_for(model, BAILIAN, enable_thinking=True)["enable_thinking"] is True
        assert "enable_thinking" not in body_for(model, BAILIAN)

    def test_thinking_only_check_is_case_insensitive(self) -> None:
        with pytest.raises(ConfigurationError, match="qwq-plus"):
            body_for("QwQ-Plus", BAILIAN, enable_thinking=False)

    @pytest.mark.parametrize("value", ["yes", 1, 0])
    def test_enable_thinking_must_be_bool(self, value: object) -> None:
        with pytest.raises(ConfigurationError, match="enable_thinking"):
            body_for("qwen-plus", BAILIAN, enable_thinking=value)

    @pytest.mark.parametrize("budget", [0, -1, 1.5, "50", True, False])
    @pytest.mark.parametrize("model", ["qwen-plus", "totally-unknown-model"])
    def test_budget_must_be_positive_int(self, budget: object, model: str) -> None:
        with pytest.raises(ConfigurationError, match="thinking_budget"):
            body_for(model, BAILIAN, thinking_budget=budget)

    @pytest.mark.parametrize("model", ["deepseek-v3.2", "glm-5", "qwq-plus", "MiniMax-M2.5"])
    @pytest.mark.parametrize("where", [BAILIAN, NATIVE])
    def test_budget_on_model_without_budget_warns_and_is_left_out(self, model: str, where: dict[str, str]) -> None:
        with pytest.warns(ThinkbookWarning, match="thinking_budget"):
            body = prepare_request(endpoint(model, **where), model, list(MESSAGES), thinking_budget=100).body
        assert "thinking_budget" not in body
        assert "thinking_budget" not in body.get("parameters", {})
        # The budget does not switch thinking on where it does not apply.
        assert "enable_thinking" not in body
        assert "enable_thinking" not in body.get("parameters", {})

    def test_budget_warning_names_the_model(self) -> None:
        with pytest.warns(ThinkbookWarning, match="glm-5"):
            prepare_request(endpoint("glm-5"), "glm-5", list(MESSAGES), thinking_budget=100)

    def test_budget_warning_points_at_the_users_line(self) -> None:
        import thinkbook

        with pytest.warns(ThinkbookWarning) as record:
            events = thinkbook.stream("hi", model="glm-5", base_url="http://127.0.0.1:9/v1", thinking_budget=100)
        close = getattr(events, "close", None)
        if close is not None:
            close()  # never iterated: nothing is sent
        assert record[0].filename == __file__

    @pytest.mark.parametrize("model", ["qwen-plus", "qwen-flash", "qwen3-max", "kimi-k2.5"])
    def test_budget_turns_thinking_on_where_off_by_default(self, model: str) -> None:
        body = body_for(model, BAILIAN, thinking_budget=300)
        assert body["enable_thinking"] is True
        assert body["thinking_budget"] == 300
        native = body_for(model, NATIVE, thinking_budget=300)
        assert native["parameters"]["enable_thinking"] is True
        assert native["parameters"]["thinking_budget"] == 300

    @pytest.mark.parametrize("model", ["qwen3.6-plus", "qwen3-235b-a22b-thinking-2507", "kimi-k2-thinking"])
    def test_budget_on_models_thinking_by_default(self, model: str) -> None:
        body = body_for(model, BAILIAN, thinking_budget=300)
        assert body["thinking_budget"] == 300
        assert body.get("enable_thinking") is not False

    def test_budget_with_thinking_off_is_contradictory(self) -> None:
        with pytest.raises(ConfigurationError, match="thinking_budget"):
            body_for("qwen-plus", BAILIAN, enable_thinking=False, thinking_budget=100)

    def test_budget_with_thinking_on_kept(self) -> None:
        body = body_for("qwen-plus", BAILIAN, enable_thinking=True, thinking_budget=1)
        assert body["enable_thinking"] is True
        assert body["thinking_budget"] == 1

    @pytest.mark.parametrize("model", ["qwen3.7-max", "qwen3.6-plus", "kimi-k2.6", "kimi-k2.7-code"])
    def test_preserve_on_supported_models(self, model: str) -> None:
        assert body_for(model, BAILIAN, preserve_thinking=True)["preserve_thinking"] is True

    @pytest.mark.parametrize("model", ["qwen-plus", "qwen3.5-plus", "qwen3.6-flash", "deepseek-r1"])
    def test_preserve_on_unsupported_models_warns_and_is_left_out(self, model: str) -> None:
        with pytest.warns(ThinkbookWarning, match="preserve_thinking"):
            body = prepare_request(endpoint(model, **BAILIAN), model, list(MESSAGES), preserve_thinking=True).body
        assert "preserve_thinking" not in body

    def test_preserve_false_and_none_are_not_sent(self) -> None:
        assert "preserve_thinking" not in body_for("qwen3.6-plus", BAILIAN, preserve_thinking=False)
        assert "preserve_thinking" not in body_for("qwen3.6-plus", BAILIAN)

    @pytest.mark.parametrize("where", [BAILIAN, GENERIC])
    def test_unknown_models_pass_everything_through(self, where: dict[str, str]) -> None:
        body = body_for(
            "my-private-model",
            where,
            enable_thinking=False,
            thinking_budget=777,
            preserve_thinking=True,
        )
        assert body["enable_thinking"] is False
        assert body["thinking_budget"] == 777
        assert body["preserve_thinking"] is True

    def test_unknown_model_native_passes_through(self) -> None:
        params = body_for("my-private-model", NATIVE, enable_thinking=False, thinking_budget=9, preserve_thinking=True)[
            "parameters"
        ]
        assert params["enable_thinking"] is False
        assert params["thinking_budget"] == 9
        assert params["preserve_thinking"] is True

    def test_moonshot_deployed_kimi_preserve_passes(self) -> None:
        # The guide lists kimi/kimi-k2.6 (Moonshot deployment) as supporting preserve_thinking.
        body = body_for("kimi/kimi-k2.6", BAILIAN, preserve_thinking=True)
        assert body["preserve_thinking"] is True


# --- extra_body -------------------------------------------------------------------------------


class TestExtraBody:
    def test_extra_fields_go_in_unchanged(self) -> None:
        extra = {"temperature": 0.3, "top_p": 0.9, "response_format": {"type": "text"}, "n": 1}
        original = copy.deepcopy(extra)
        body = body_for("qwen-plus", BAILIAN, extra_body=extra)
        for key, value in original.items():
            assert body[key] == value
        assert extra == original

    def test_extra_body_can_override_a_thinking_field(self) -> None:
        body = body_for("qwen-plus", BAILIAN, enable_thinking=True, extra_body={"enable_thinking": False})
        assert body["enable_thinking"] is False

    def test_extra_merges_into_stream_options(self) -> None:
        body = body_for("qwen-plus", BAILIAN, extra_body={"stream_options": {"chunk": 1}})
        assert body["stream_options"] == {"include_usage": True, "chunk": 1}

    def test_extra_merges_into_native_parameters(self) -> None:
        extra = {"parameters": {"temperature": 0.2, "seed": 7}}
        body = body_for("qwen-plus", NATIVE, enable_thinking=True, extra_body=extra)
        assert body["parameters"] == {
            "result_format": "message",
            "incremental_output": True,
            "enable_thinking": True,
            "temperature": 0.2,
            "seed": 7,
        }
        assert body["input"] == {"messages": MESSAGES}
        assert extra == {"parameters": {"temperature": 0.2, "seed": 7}}

    def test_extra_top_level_native_field(self) -> None:
        body = body_for("qwen-plus", NATIVE, extra_body={"workspace": "ws-1"})
        assert body["workspace"] == "ws-1"
        assert body["parameters"]["result_format"] == "message"

    @pytest.mark.parametrize("key", ["stream", "model"])
    @pytest.mark.parametrize("where", [BAILIAN, NATIVE])
    def test_stream_and_model_rejected(self, key: str, where: dict[str, str]) -> None:
        with pytest.raises(ConfigurationError, match=key):
            body_for("qwen-plus", where, extra_body={key: False})

    def test_empty_extra_body_changes_nothing(self) -> None:
        assert body_for("qwen-plus", BAILIAN, extra_body={}) == body_for("qwen-plus", BAILIAN)


# --- prepared request -------------------------------------------------------------------------


class TestPreparedRequest:
    def test_headers_and_no_key_in_repr_or_body(self) -> None:
        prepared = prepare_request(endpoint("qwen-plus", **NATIVE), "qwen-plus", list(MESSAGES))
        assert prepared.headers()["Authorization"] == f"Bearer {KEY}"
        assert prepared.headers()["X-DashScope-SSE"] == "enable"
        assert KEY not in repr(prepared)
        assert KEY not in repr(prepared.body)


# --- build_messages ---------------------------------------------------------------------------


class TestBuildMessages:
    def test_string_prompt(self) -> None:
        assert build_messages("hi") == [{"role": "user", "content": "hi"}]

    def test_string_prompt_with_system(self) -> None:
        assert build_messages("hi", system="be brief") == [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
        ]

    @pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
    def test_empty_prompt_rejected(self, prompt: str) -> None:
        with pytest.raises(ConfigurationError, match="empty"):
            build_messages(prompt)

    def test_empty_list_rejected(self) -> None:
        with pytest.raises(ConfigurationError, match="empty"):
            build_messages([])

    @pytest.mark.parametrize("role", ["bot", "User", "", None, "function_call"])
    def test_bad_role_rejected(self, role: object) -> None:
        with pytest.raises(ConfigurationError, match="role"):
            build_messages([{"role": "user", "content": "a"}, {"role": role, "content": "b"}])

    def test_bad_role_error_names_the_index(self) -> None:
        with pytest.raises(ConfigurationError, match="message 1"):
            build_messages([{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}])

    @pytest.mark.parametrize("message", [{"role": "user"}, {"content": "x"}, "hello", ("user", "hi"), None])
    def test_malformed_message_rejected(self, message: object) -> None:
        with pytest.raises(ConfigurationError):
            build_messages([message])  # type: ignore[list-item]

    @pytest.mark.parametrize("prompt", [None, 42, b"hi", {"role": "user", "content": "hi"}])
    def test_wrong_prompt_type_rejected(self, prompt: object) -> None:
        with pytest.raises(ConfigurationError):
            build_messages(prompt)  # type: ignore[arg-type]

    def test_system_plus_existing_system_rejected(self) -> None:
        with pytest.raises(ConfigurationError, match="system"):
            build_messages([{"role": "system", "content": "a"}, {"role": "user", "content": "b"}], system="c")

    def test_system_prepended_to_list(self) -> None:
        messages = [{"role": "user", "content": "b"}]
        out = build_messages(messages, system="s")
        assert out == [{"role": "system", "content": "s"}, {"role": "user", "content": "b"}]
        assert messages == [{"role": "user", "content": "b"}]

    def test_list_is_copied(self) -> None:
        messages = [{"role": "user", "content": "hi", "name": "ann"}]
        out = build_messages(tuple(messages))
        assert out == messages
        out[0]["content"] = "changed"
        out.append({"role": "user", "content": "more"})
        assert messages == [{"role": "user", "content": "hi", "name": "ann"}]

    @pytest.mark.parametrize("role", ["system", "user", "assistant", "tool", "developer"])
    def test_known_roles_accepted(self, role: str) -> None:
        assert build_messages([{"role": role, "content": "x"}])[0]["role"] == role


# --- bad input refused before sending (issue 9, points 2 and 7) -----------------------------------

ZERO_WIDTH = ["\u200b", "\u200c\u200d", " \u2060 ", "\ufeff\n", "\u200b \t\u200b"]


class TestBlankAndBrokenText:
    @pytest.mark.parametrize("prompt", ZERO_WIDTH)
    def test_prompt_of_invisible_characters_is_empty(self, prompt: str) -> None:
        with pytest.raises(ConfigurationError, match="empty"):
            build_messages(prompt)

    def test_visible_text_around_invisible_characters_is_kept(self) -> None:
        assert build_messages("\u200bhi\u200d") == [{"role": "user", "content": "\u200bhi\u200d"}]

    @pytest.mark.parametrize("content", ["", "  ", "\u200b\ufeff"])
    def test_blank_user_message_in_a_list_is_refused(self, content: str) -> None:
        with pytest.raises(ConfigurationError, match=r"message 1 .*empty"):
            build_messages([{"role": "user", "content": "a"}, {"role": "user", "content": content}])

    def test_blank_system_text_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="system"):
            build_messages("hi", system=" \u200b ")

    def test_empty_assistant_turn_is_kept(self) -> None:
        # A turn cut by max_tokens while reasoning has no answer text: still a valid history entry.
        history = [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "b"},
        ]
        assert build_messages(history) == history

    def test_content_none_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match=r"message 0 .*content.*None"):
            build_messages([{"role": "user", "content": None}])

    def test_assistant_tool_call_may_have_no_content(self) -> None:
        call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        history = [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ]
        assert build_messages(history) == history

    @pytest.mark.parametrize("content", [42, {"text": "hi"}, b"hi"])
    def test_content_of_another_type_is_refused(self, content: object) -> None:
        with pytest.raises(ConfigurationError, match="message 0"):
            build_messages([{"role": "user", "content": content}])

    def test_lone_surrogate_in_the_prompt_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match=r"surrogate.*U\+D800") as info:
            build_messages("broken \ud800 text")
        assert "\ud800" not in str(info.value)

    def test_lone_surrogate_in_a_message_names_it(self) -> None:
        with pytest.raises(ConfigurationError, match=r"message 1 .*surrogate"):
            build_messages([{"role": "user", "content": "ok"}, {"role": "user", "content": "x\udcff"}])

    def test_lone_surrogate_in_a_content_part_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="surrogate"):
            build_messages([{"role": "user", "content": [{"type": "text", "text": "a\udc80"}]}])

    def test_lone_surrogate_in_system_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match=r"system.*surrogate"):
            build_messages("hi", system="\udfff")

    def test_real_emoji_pairs_pass(self) -> None:
        assert build_messages("😀 ok")[0]["content"] == "😀 ok"


class TestExtraBodyChecks:
    @pytest.mark.parametrize("key", ["messages", "input"])
    @pytest.mark.parametrize("where", [BAILIAN, NATIVE])
    def test_fields_that_would_replace_the_prompt_are_refused(self, key: str, where: dict[str, str]) -> None:
        with pytest.raises(ConfigurationError, match=f"{key!r}.*prompt"):
            body_for("qwen-plus", where, extra_body={key: [{"role": "user", "content": "other"}]})

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"temperature": object()}, "temperature"),
            ({"stop": {"a", "b"}}, "stop"),
            ({"stream_options": {"x": b"bytes"}}, "stream_options"),
            ({"seed": float("nan")}, "seed"),
            ({"top_p": float("inf")}, "top_p"),
            ({"user": "id\ud800"}, "user"),
        ],
    )
    def test_a_field_json_cannot_carry_is_refused_by_name(self, extra: dict[str, Any], field: str) -> None:
        with pytest.raises(ConfigurationError, match=f"extra body field {field!r}"):
            body_for("qwen-plus", BAILIAN, extra_body=extra)

    def test_native_parameters_are_checked_too(self) -> None:
        with pytest.raises(ConfigurationError, match="'parameters'"):
            body_for("qwen-plus", NATIVE, extra_body={"parameters": {"seed": object()}})


class TestThinkingEnabledRecorded:
    @pytest.mark.parametrize(
        ("model", "options", "expected"),
        [
            ("qwen-plus", {}, None),
            ("qwen-plus", {"enable_thinking": False}, False),
            ("qwen-plus", {"enable_thinking": True}, True),
            ("qwen-plus", {"thinking_budget": 100}, True),  # a budget asks for thinking
        ],
    )
    def test_prepared_request_says_what_was_asked(self, model: str, options: dict[str, Any], expected: object) -> None:
        prepared = prepare_request(endpoint(model, **BAILIAN), model, list(MESSAGES), **options)
        assert prepared.thinking_enabled is expected


class TestDialects:
    """``dialect=`` picks the spelling; the default follows the host (issue 9, point 12)."""

    def test_a_local_gateway_gets_vllms_spelling_by_default(self) -> None:
        with pytest.warns(ThinkbookWarning, match="dialect='bailian'"):  # see TestGatewayHint
            prepared = prepare_request(
                endpoint("qwen-plus", **GATEWAY), "qwen-plus", list(MESSAGES), enable_thinking=True, thinking_budget=100
            )
        assert prepared.body["chat_template_kwargs"] == {"enable_thinking": True}
        assert prepared.body["thinking_token_budget"] == 100

    def test_dialect_bailian_sends_bailians_fields_to_the_gateway(self) -> None:
        body = body_for("qwen3.6-plus", {**GATEWAY, "dialect": "bailian"}, enable_thinking=True,
                        thinking_budget=100, preserve_thinking=True)  # fmt: skip
        assert (body["enable_thinking"], body["thinking_budget"], body["preserve_thinking"]) == (True, 100, True)
        assert "chat_template_kwargs" not in body and "thinking_token_budget" not in body

    @pytest.mark.parametrize(
        ("dialect", "fields"),
        [
            ("vllm", {"chat_template_kwargs": {"enable_thinking": False}}),
            ("deepseek", {"thinking": {"type": "disabled"}}),
            ("openrouter", {"reasoning": {"enabled": False}}),
            ("ollama", {"reasoning_effort": "none"}),
            ("bailian", {"enable_thinking": False}),
        ],
    )
    def test_each_dialect_on_any_host(self, dialect: str, fields: dict[str, Any]) -> None:
        body = body_for("qwen-plus", {**GENERIC, "dialect": dialect}, enable_thinking=False)
        thinking = {
            key: value for key, value in body.items() if key not in ("model", "messages", "stream", "stream_options")
        }
        assert thinking == fields

    def test_dialect_openai_sends_no_thinking_fields_and_says_so(self) -> None:
        with pytest.warns(ThinkbookWarning, match="dialect 'openai' has no field"):
            prepared = prepare_request(
                endpoint("qwen-plus", **GENERIC, dialect="openai"), "qwen-plus", list(MESSAGES), enable_thinking=True
            )
        assert set(prepared.body) == {"model", "messages", "stream", "stream_options"}

    def test_api_openai_com_gets_no_bailian_fields(self) -> None:
        with pytest.warns(ThinkbookWarning, match="reasoning_effort"):
            prepared = prepare_request(
                # chat completions pinned: api.openai.com alone infers the Responses API
                endpoint("gpt-5", base_url="https://api.openai.com/v1", protocol="openai"),
                "gpt-5",
                list(MESSAGES),
                enable_thinking=True,
            )
        assert "enable_thinking" not in prepared.body

    def test_openai_dialect_without_thinking_options_is_quiet(self) -> None:
        where = {"base_url": "https://api.openai.com/v1", "protocol": "openai"}
        body = body_for("gpt-5", where, extra_body={"reasoning_effort": "low"})
        assert body["reasoning_effort"] == "low"


class TestGatewayHint:
    """A Bailian-only model name on a local address is likely a gateway in front of Bailian (point 12)."""

    def test_bailian_model_with_thinking_options_on_a_local_address_says_to_pick_a_dialect(self) -> None:
        with pytest.warns(ThinkbookWarning, match=r"gateway in front of Bailian, pass dialect='bailian'") as caught:
            prepared = prepare_request(
                endpoint("qwen-plus", **GATEWAY), "qwen-plus", list(MESSAGES), enable_thinking=True
            )
        assert "chat_template_kwargs" in prepared.body  # the guess stands; the note says how to change it
        assert "LiteLLM" in str(caught[0].message)

    @pytest.mark.parametrize(
        ("model", "where", "options"),
        [
            ("qwen-plus", GATEWAY, {}),  # no thinking option: the spelling does not matter
            ("qwen-plus", {**GATEWAY, "dialect": "vllm"}, {"enable_thinking": True}),  # chosen: no guess to doubt
            ("qwen-plus", {**GATEWAY, "dialect": "bailian"}, {"enable_thinking": True}),
            ("qwen3-8b", GATEWAY, {"enable_thinking": True}),  # open weights: vLLM serves those
            ("Qwen/Qwen3-8B", GATEWAY, {"enable_thinking": True}),
            ("qwen-plus", BAILIAN, {"enable_thinking": True}),
            ("qwen-plus", {"base_url": "http://127.0.0.1:4000/compatible-mode/v1"}, {"enable_thinking": True}),
        ],
    )
    def test_no_hint_otherwise(self, model: str, where: dict[str, str], options: dict[str, Any]) -> None:
        body_for(model, where, **options)  # body_for fails on any warning


class TestMoreUnsendableValues:
    def test_an_integer_json_will_not_write_names_the_field_and_the_reason(self) -> None:
        with pytest.raises(ConfigurationError, match=r"'seed'.*digits") as info:
            body_for("qwen-plus", BAILIAN, extra_body={"seed": 10**5000})
        assert "nan" not in str(info.value)

    def test_a_lone_surrogate_in_the_model_name_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match=r"model.*surrogate"):
            endpoint("qwen\ud800")
