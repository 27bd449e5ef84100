"""Where a request goes and with which key (:mod:`thinkbook._endpoints`).

Every call passes an explicit ``env={...}`` mapping: the real ``os.environ`` is never read.
"""

from __future__ import annotations

import warnings

import pytest

from thinkbook._endpoints import Endpoint, infer_protocol, normalize_region, resolve_endpoint
from thinkbook._errors import ConfigurationError, MissingAPIKeyError, ThinkbookError, ThinkbookWarning

KEY = "sk-test-SECRET123456789"
OTHER_KEY = "sk-test-OTHERKEY98765432"

SG = "https://dashscope-intl.aliyuncs.com"
BJ = "https://dashscope.aliyuncs.com"
US = "https://dashscope-us.aliyuncs.com"
COMPAT = "/compatible-mode/v1"
NATIVE = "/api/v1"
TEXT_GEN = "/services/aigc/text-generation/generation"
MM_GEN = "/services/aigc/multimodal-generation/generation"


def resolve(model: str = "qwen-plus", *, env: dict[str, str] | None = None, **kwargs: object) -> Endpoint:
    return resolve_endpoint(model, env=env if env is not None else {}, **kwargs)  # type: ignore[arg-type]


# --- resolution order ------------------------------------------------------------------------


class TestResolutionOrder:
    def test_base_url_wins_over_everything(self) -> None:
        env = {
            "DASHSCOPE_API_KEY": KEY,
            "DASHSCOPE_REGION": "beijing",
            "OPENAI_BASE_URL": "http://localhost:9999/v1",
        }
        ep = resolve("deepseek-chat", base_url="http://localhost:8000/v1", region="virginia", env=env)
        assert ep.url == "http://localhost:8000/v1/chat/completions"
        assert ep.provider == "local"

    def test_base_url_still_rejects_a_nonsense_region(self) -> None:
        with pytest.raises(ConfigurationError, match="region"):
            resolve(base_url="http://localhost:8000/v1", region="mars")

    def test_region_beats_deepseek_only_model_and_env(self) -> None:
        env = {"DASHSCOPE_API_KEY": KEY, "DASHSCOPE_REGION": "singapore", "OPENAI_BASE_URL": "http://x:1/v1"}
        ep = resolve("qwen-plus", region="beijing", env=env)
        assert ep.url == BJ + COMPAT + "/chat/completions"
        assert ep.provider == "bailian"
        assert ep.api_key == KEY

    def test_region_with_deepseek_only_model_goes_to_bailian(self) -> None:
        ep = resolve("deepseek-chat", region="singapore", env={"DASHSCOPE_API_KEY": KEY})
        assert ep.base_url == SG + COMPAT

    @pytest.mark.parametrize("model", ["deepseek-chat", "deepseek-reasoner", "DeepSeek-Reasoner"])
    def test_deepseek_only_model_goes_to_deepseek_even_with_dashscope_key(self, model: str) -> None:
        env = {"DASHSCOPE_API_KEY": KEY, "DEEPSEEK_API_KEY": OTHER_KEY, "OPENAI_BASE_URL": "http://x:1/v1"}
        ep = resolve(model, env=env)
        assert ep.url == "https://api.deepseek.com/chat/completions"
        assert ep.provider == "deepseek"
        assert ep.api_key == OTHER_KEY
        assert ep.key_variable == "DEEPSEEK_API_KEY"

    def test_deepseek_r1_on_bailian_is_not_deepseek_only(self) -> None:
        ep = resolve("deepseek-r1", env={"DASHSCOPE_API_KEY": KEY, "DEEPSEEK_API_KEY": OTHER_KEY})
        assert ep.provider == "bailian"
        assert ep.api_key == KEY

    def test_dashscope_key_defaults_to_singapore(self) -> None:
        ep = resolve(env={"DASHSCOPE_API_KEY": KEY})
        assert ep.url == SG + COMPAT + "/chat/completions"
        assert ep.protocol == "openai"
        assert ep.api_key == KEY
        assert ep.key_variable == "DASHSCOPE_API_KEY"

    @pytest.mark.parametrize(
        ("region", "host"), [("beijing", BJ), ("virginia", US), ("cn-beijing", BJ), ("us-east-1", US)]
    )
    def test_dashscope_region_variable(self, region: str, host: str) -> None:
        ep = resolve(env={"DASHSCOPE_API_KEY": KEY, "DASHSCOPE_REGION": region})
        assert ep.base_url == host + COMPAT

    def test_bad_dashscope_region_variable_is_an_error(self) -> None:
        with pytest.raises(ConfigurationError, match="beijing"):
            resolve(env={"DASHSCOPE_API_KEY": KEY, "DASHSCOPE_REGION": "atlantis"})

    def test_dashscope_key_beats_openai_base_url(self) -> None:
        env = {"DASHSCOPE_API_KEY": KEY, "OPENAI_BASE_URL": "http://localhost:8000/v1"}
        assert resolve(env=env).provider == "bailian"

    def test_openai_base_url_used_with_openai_api_key(self) -> None:
        env = {"OPENAI_BASE_URL": "https://llm.example.com/v1", "OPENAI_API_KEY": OTHER_KEY}
        ep = resolve("my-model", env=env)
        assert ep.url == "https://llm.example.com/v1/chat/completions"
        assert ep.protocol == "openai"
        assert ep.api_key == OTHER_KEY
        assert ep.key_variable == "OPENAI_API_KEY"

    def test_openai_base_url_local_server_needs_no_key(self) -> None:
        ep = resolve("qwen3-8b", env={"OPENAI_BASE_URL": "http://localhost:8000/v1/"})
        assert ep.url == "http://localhost:8000/v1/chat/completions"
        assert ep.api_key is None
        assert "Authorization" not in ep.headers()

    def test_openai_base_url_pasted_with_chat_completions(self) -> None:
        env = {"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1/chat/completions"}
        assert resolve("x", env=env).url == "http://127.0.0.1:8080/v1/chat/completions"

    def test_nothing_configured_asks_for_dashscope_key(self) -> None:
        with pytest.raises(ConfigurationError, match="DASHSCOPE_API_KEY"):
            resolve(env={})

    def test_nothing_configured_with_explicit_key_goes_to_default_region(self) -> None:
        ep = resolve(api_key=KEY, env={})
        assert ep.base_url == SG + COMPAT
        assert ep.api_key == KEY

    def test_api_key_argument_beats_environment(self) -> None:
        ep = resolve(api_key=OTHER_KEY, env={"DASHSCOPE_API_KEY": KEY})
        assert ep.api_key == OTHER_KEY

    @pytest.mark.parametrize("model", ["", "   "])
    def test_model_is_required(self, model: str) -> None:
        with pytest.raises(ConfigurationError, match="model"):
            resolve(model, api_key=KEY)


# --- regions ----------------------------------------------------------------------------------


class TestRegions:
    @pytest.mark.parametrize(
        ("region", "host"),
        [
            ("singapore", SG),
            ("Singapore", SG),
            ("ap-southeast-1", SG),
            ("intl", SG),
            ("sg", SG),
            ("beijing", BJ),
            ("cn-beijing", BJ),
            ("china", BJ),
            ("cn", BJ),
            ("virginia", US),
            ("us-east-1", US),
            ("US", US),
            (" virginia ", US),
        ],
    )
    def test_region_hosts(self, region: str, host: str) -> None:
        ep = resolve(region=region, api_key=KEY)
        assert ep.base_url == host + COMPAT
        assert ep.url == host + COMPAT + "/chat/completions"
        native = resolve(region=region, api_key=KEY, protocol="dashscope")
        assert native.base_url == host + NATIVE
        assert native.url == host + NATIVE + TEXT_GEN

    @pytest.mark.parametrize(
        ("alias", "canonical"),
        [("ap-southeast-1", "singapore"), ("cn-beijing", "beijing"), ("us-east-1", "virginia")],
    )
    def test_normalize_region_aliases(self, alias: str, canonical: str) -> None:
        assert normalize_region(alias) == canonical

    @pytest.mark.parametrize("region", ["mars", "eu-central-1", "hangzhou", ""])
    def test_unknown_region_lists_choices(self, region: str) -> None:
        with pytest.raises(ConfigurationError) as info:
            resolve(region=region, api_key=KEY)
        message = str(info.value)
        for choice in ("singapore", "beijing", "virginia"):
            assert choice in message


# --- protocol inference and native paths -----------------------------------------------------


class TestProtocol:
    @pytest.mark.parametrize(
        "base_url",
        [
            "https://dashscope.aliyuncs.com/api/v1",
            "https://dashscope-intl.aliyuncs.com/api/v1/",
            "https://ws-abc123.ap-southeast-1.maas.aliyuncs.com/api/v1",
            "https://ws-abc123.cn-beijing.maas.aliyuncs.com/api/v1",
        ],
    )
    def test_native_urls_infer_dashscope(self, base_url: str) -> None:
        assert infer_protocol(base_url) == "dashscope"
        ep = resolve(base_url=base_url, api_key=KEY)
        assert ep.protocol == "dashscope"
        assert ep.provider == "bailian"
        assert ep.url == base_url.rstrip("/") + TEXT_GEN

    @pytest.mark.parametrize(
        "base_url",
        [
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            "https://ws-abc123.ap-southeast-1.maas.aliyuncs.com/compatible-mode/v1",
            "https://openrouter.ai/api/v1",
            "http://localhost:8000/v1",
            "https://api.deepseek.com",
            "https://example.com/api/v1",  # /api/v1 on a non-Bailian host is not DashScope
        ],
    )
    def test_other_urls_infer_openai(self, base_url: str) -> None:
        assert infer_protocol(base_url) == "openai"
        ep = resolve(base_url=base_url, api_key=KEY)
        assert ep.protocol == "openai"
        assert ep.url == base_url + "/chat/completions"

    @pytest.mark.parametrize(
        "model",
        [
            "qwen3.5-plus",
            "qwen3.5-flash",
            "qwen3.6-plus",
            "qwen3.6-flash",
            "qwen3.7-max",
            "qwen3.7-max-preview",
            "Qwen3.6-Plus",
            "qwen3.5-397b-a17b",
            "qwen3.6-some-future-model",
        ],
    )
    def test_qwen35_and_later_use_multimodal_endpoint(self, model: str) -> None:
        ep = resolve(model, base_url=BJ + NATIVE, api_key=KEY)
        assert ep.url == BJ + NATIVE + MM_GEN

    @pytest.mark.parametrize(
        "model", ["qwen-plus", "deepseek-r1", "qwq-plus", "qwen3-max", "qwen3-235b-a22b", "glm-5", "unknown-model"]
    )
    def test_older_models_use_text_generation(self, model: str) -> None:
        ep = resolve(model, base_url=BJ + NATIVE, api_key=KEY)
        assert ep.url == BJ + NATIVE + TEXT_GEN

    def test_native_via_region_and_protocol(self) -> None:
        ep = resolve("qwen3.6-plus", region="virginia", protocol="dashscope", api_key=KEY)
        assert ep.url == US + NATIVE + MM_GEN

    def test_native_via_dashscope_key_and_protocol(self) -> None:
        ep = resolve("qwen-plus", protocol="dashscope", env={"DASHSCOPE_API_KEY": KEY})
        assert ep.url == SG + NATIVE + TEXT_GEN

    def test_compatible_mode_never_uses_native_paths(self) -> None:
        ep = resolve("qwen3.6-plus", region="singapore", api_key=KEY)
        assert ep.url == SG + COMPAT + "/chat/completions"

    @pytest.mark.parametrize(
        ("pasted", "url", "protocol"),
        [
            (BJ + COMPAT + "/chat/completions", BJ + COMPAT + "/chat/completions", "openai"),
            (BJ + COMPAT + "/chat/completions/", BJ + COMPAT + "/chat/completions", "openai"),
            ("http://localhost:8000/v1/chat/completions", "http://localhost:8000/v1/chat/completions", "openai"),
            (BJ + NATIVE + TEXT_GEN, BJ + NATIVE + TEXT_GEN, "dashscope"),
            (SG + NATIVE + MM_GEN, SG + NATIVE + TEXT_GEN, "dashscope"),  # qwen-plus: text endpoint
        ],
    )
    def test_pasted_full_urls_are_accepted(self, pasted: str, url: str, protocol: str) -> None:
        ep = resolve("qwen-plus", base_url=pasted, api_key=KEY)
        assert ep.url == url
        assert ep.protocol == protocol

    def test_pasted_text_endpoint_for_qwen36_is_corrected(self) -> None:
        ep = resolve("qwen3.6-plus", base_url=BJ + NATIVE + TEXT_GEN, api_key=KEY)
        assert ep.url == BJ + NATIVE + MM_GEN

    def test_dashscope_with_compatible_url_says_what_to_do(self) -> None:
        with pytest.raises(ConfigurationError) as info:
            resolve(base_url=BJ + COMPAT, protocol="dashscope", api_key=KEY)
        message = str(info.value)
        assert "/api/v1" in message
        assert "protocol='openai'" in message

    @pytest.mark.parametrize(
        "base_url", ["http://127.0.0.1:8000/api/v1", "https://gateway.example.com/dashscope/api/v1"]
    )
    def test_dashscope_on_gateway_or_local_host_is_allowed(self, base_url: str) -> None:
        # Gateways, proxies and test servers may speak the native protocol: only the URL shape
        # is checked (the native path is still chosen per model).
        ep = resolve("qwen3.6-plus", base_url=base_url, protocol="dashscope", api_key=KEY)
        assert ep.protocol == "dashscope"
        assert ep.url == base_url + MM_GEN
        assert ep.headers()["X-DashScope-SSE"] == "enable"

    def test_dashscope_on_gateway_with_compatible_path_is_rejected(self) -> None:
        with pytest.raises(ConfigurationError, match="protocol='openai'"):
            resolve(base_url="http://127.0.0.1:8000" + COMPAT, protocol="dashscope", api_key=KEY)

    @pytest.mark.parametrize(
        ("model", "base_url"),
        [
            ("qwen-plus", "https://openrouter.ai/api/v1"),
            ("qwen-plus", "https://api.deepseek.com"),
            ("deepseek-reasoner", None),  # DeepSeek-only model: resolved to api.deepseek.com
        ],
    )
    def test_dashscope_on_known_non_bailian_provider_says_what_to_do(self, model: str, base_url: str | None) -> None:
        env = {"DEEPSEEK_API_KEY": KEY}
        with pytest.raises(ConfigurationError) as info:
            resolve(model, base_url=base_url, protocol="dashscope", api_key=KEY, env=env)
        assert "protocol='openai'" in str(info.value)

    def test_explicit_openai_protocol_on_compatible_url(self) -> None:
        ep = resolve(base_url=BJ + COMPAT, protocol="openai", api_key=KEY)
        assert ep.url == BJ + COMPAT + "/chat/completions"

    @pytest.mark.parametrize("protocol", ["native", "OpenAI", "http"])
    def test_unknown_protocol_is_an_error(self, protocol: str) -> None:
        with pytest.raises(ConfigurationError, match="dashscope"):
            resolve(protocol=protocol, api_key=KEY)

    @pytest.mark.parametrize("base_url", ["dashscope.aliyuncs.com/api/v1", "ftp://example.com/v1"])
    def test_base_url_needs_a_scheme(self, base_url: str) -> None:
        with pytest.raises(ConfigurationError, match="http"):
            resolve(base_url=base_url, api_key=KEY)

    def test_openai_protocol_with_native_url_is_rejected(self) -> None:
        with pytest.raises(ConfigurationError):
            resolve(base_url=BJ + NATIVE, protocol="openai", api_key=KEY)


# --- keys -------------------------------------------------------------------------------------


class TestKeys:
    @pytest.mark.parametrize(
        ("kwargs", "variable"),
        [
            ({"region": "beijing"}, "DASHSCOPE_API_KEY"),
            ({"base_url": BJ + COMPAT}, "DASHSCOPE_API_KEY"),
            ({"base_url": "https://ws-1.ap-southeast-1.maas.aliyuncs.com/api/v1"}, "DASHSCOPE_API_KEY"),
            ({"base_url": "https://api.deepseek.com"}, "DEEPSEEK_API_KEY"),
            ({"base_url": "https://api.deepseek.com/v1"}, "DEEPSEEK_API_KEY"),
            ({"base_url": "https://openrouter.ai/api/v1"}, "OPENROUTER_API_KEY"),
        ],
    )
    def test_missing_key_names_the_variable(self, kwargs: dict[str, str], variable: str) -> None:
        # Keys for *other* providers must not be picked up.
        others = {
            "DASHSCOPE_API_KEY": KEY,
            "DEEPSEEK_API_KEY": KEY,
            "OPENROUTER_API_KEY": KEY,
            "OPENAI_API_KEY": KEY,
        }
        env = {name: value for name, value in others.items() if name != variable}
        with pytest.raises(MissingAPIKeyError) as info:
            resolve("qwen-plus", env=env, **kwargs)
        assert isinstance(info.value, ConfigurationError)
        assert info.value.variable == variable
        assert variable in str(info.value)
        assert "api_key" in str(info.value)

    def test_missing_deepseek_key_for_deepseek_only_model(self) -> None:
        with pytest.raises(ConfigurationError, match="DEEPSEEK_API_KEY"):
            resolve("deepseek-reasoner", env={"DASHSCOPE_API_KEY": KEY})

    def test_missing_openai_key_for_openai_base_url_cloud_provider(self) -> None:
        with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
            resolve("x", env={"OPENAI_BASE_URL": "https://openrouter.ai/api/v1"})

    @pytest.mark.parametrize(
        ("variable", "base_url"),
        [
            ("DASHSCOPE_API_KEY", BJ + COMPAT),
            ("DEEPSEEK_API_KEY", "https://api.deepseek.com"),
            ("OPENROUTER_API_KEY", "https://openrouter.ai/api/v1"),
        ],
    )
    def test_key_taken_from_the_providers_variable(self, variable: str, base_url: str) -> None:
        ep = resolve(base_url=base_url, env={variable: KEY})
        assert ep.api_key == KEY
        assert ep.key_variable == variable

    @pytest.mark.parametrize(
        ("base_url", "provider"),
        [
            ("http://localhost:8000/v1", "local"),
            ("http://127.0.0.1:8080/v1", "local"),
            ("http://192.168.1.20:8000/v1", "local"),
            ("http://10.0.0.7:30000/v1", "local"),
            ("http://[::1]:8000/v1", "local"),
            ("http://localhost:11434/v1", "ollama"),
            ("http://gpu-box:11434/v1", "ollama"),
        ],
    )
    def test_local_servers_need_no_key(self, base_url: str, provider: str) -> None:
        ep = resolve("qwen3:8b", base_url=base_url, env={})
        assert ep.provider == provider
        assert ep.protocol == "openai"
        assert ep.api_key is None
        assert "Authorization" not in ep.headers()

    def test_local_server_uses_key_when_given(self) -> None:
        ep = resolve(base_url="http://localhost:8000/v1", api_key=KEY, env={})
        assert ep.headers()["Authorization"] == f"Bearer {KEY}"

    def test_unknown_host_needs_no_key(self) -> None:
        ep = resolve("m", base_url="https://llm.internal.example.com/v1", env={})
        assert ep.provider == "openai"
        assert ep.api_key is None


# --- the key stays secret ---------------------------------------------------------------------


class TestSecrecy:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"region": "singapore"},
            {"region": "beijing", "protocol": "dashscope"},
            {"base_url": "https://openrouter.ai/api/v1"},
            {"base_url": "http://localhost:8000/v1"},
            {"base_url": "https://ws-1.ap-southeast-1.maas.aliyuncs.com/api/v1"},
        ],
    )
    def test_key_not_in_repr_or_str(self, kwargs: dict[str, str]) -> None:
        ep = resolve("qwen3.6-plus", api_key=KEY, **kwargs)
        assert ep.api_key == KEY
        assert KEY not in repr(ep)
        assert KEY not in str(ep)
        assert "SECRET" not in repr(ep)

    def test_key_from_environment_not_in_repr(self) -> None:
        ep = resolve(env={"DASHSCOPE_API_KEY": KEY})
        assert KEY not in repr(ep)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"region": "mars"},
            {"protocol": "grpc"},
            {"base_url": BJ + COMPAT, "protocol": "dashscope"},
            {"base_url": "https://ws-1.cn-beijing.maas.aliyuncs.com" + COMPAT, "protocol": "dashscope"},
            {"base_url": "localhost:8000/v1"},
        ],
    )
    def test_key_not_in_configuration_errors(self, kwargs: dict[str, str]) -> None:
        env = {"DASHSCOPE_API_KEY": KEY, "OPENROUTER_API_KEY": KEY}
        with pytest.raises(ConfigurationError) as info:
            resolve(api_key=KEY, env=env, **kwargs)
        assert KEY not in str(info.value)
        assert KEY not in repr(info.value)

    def test_key_for_other_provider_not_in_missing_key_error(self) -> None:
        env = {"DASHSCOPE_API_KEY": KEY}
        with pytest.raises(ConfigurationError) as info:
            resolve(base_url="https://openrouter.ai/api/v1", env=env)
        assert KEY not in str(info.value)

    def test_key_swapped_into_base_url_is_not_echoed(self) -> None:
        with pytest.raises(ThinkbookError) as info:
            resolve(base_url=KEY, env={})
        assert KEY not in str(info.value)


# --- headers ----------------------------------------------------------------------------------


class TestHeaders:
    def test_openai_compatible_headers(self) -> None:
        headers = resolve(region="singapore", api_key=KEY).headers()
        assert headers["Authorization"] == f"Bearer {KEY}"
        assert headers["Content-Type"] == "application/json"
        assert headers["Accept"] == "text/event-stream"
        assert "X-DashScope-SSE" not in headers

    def test_native_headers_enable_sse(self) -> None:
        headers = resolve(region="singapore", protocol="dashscope", api_key=KEY).headers()
        assert headers["Authorization"] == f"Bearer {KEY}"
        assert headers["X-DashScope-SSE"] == "enable"
        assert headers["Accept"] == "text/event-stream"

    @pytest.mark.parametrize(
        "base_url", ["https://api.deepseek.com", "https://openrouter.ai/api/v1", "http://localhost:11434/v1"]
    )
    def test_no_dashscope_header_elsewhere(self, base_url: str) -> None:
        headers = resolve(base_url=base_url, api_key=KEY).headers()
        assert "X-DashScope-SSE" not in headers


# --- a provider's key goes only to its own hosts (issue 9, point 4) ----------------------------


class TestKeyRouting:
    @pytest.mark.parametrize(
        "base_url",
        [
            "https://evil.example.com/compatible-mode/v1",
            "https://evil.example.com/x/compatible-mode/v1",
            "http://127.0.0.1:4000/compatible-mode/v1",
            "https://bucket.oss-cn-beijing.aliyuncs.com/compatible-mode/v1",  # anyone can serve from OSS
            "https://dashscope.aliyuncs.com.evil.example.com/compatible-mode/v1",
        ],
    )
    def test_dashscope_key_is_not_sent_to_a_foreign_host_with_bailians_path(self, base_url: str) -> None:
        with pytest.warns(ThinkbookWarning, match="DASHSCOPE_API_KEY is set but was not sent") as caught:
            ep = resolve(base_url=base_url, env={"DASHSCOPE_API_KEY": KEY})
        assert ep.api_key is None and "Authorization" not in ep.headers()
        assert ep.dialect == "bailian"  # still Bailian's field names: a gateway in front of it
        assert KEY not in str(caught[0].message)

    def test_a_foreign_host_gets_the_key_only_when_passed(self) -> None:
        ep = resolve(
            base_url="https://gw.example.com/compatible-mode/v1", api_key=OTHER_KEY, env={"DASHSCOPE_API_KEY": KEY}
        )
        assert ep.api_key == OTHER_KEY

    def test_a_foreign_host_needs_no_key(self) -> None:
        ep = resolve(base_url="https://gw.example.com/compatible-mode/v1", env={})
        assert ep.api_key is None and ep.key_variable is None

    @pytest.mark.parametrize(
        "base_url",
        [
            BJ + COMPAT,
            SG + NATIVE,
            US + COMPAT,
            "https://ws-abc123.ap-southeast-1.maas.aliyuncs.com" + COMPAT,
            "https://ws-abc123.cn-beijing.maas.aliyuncs.com" + NATIVE,
        ],
    )
    def test_bailian_hosts_get_the_dashscope_key(self, base_url: str) -> None:
        assert resolve(base_url=base_url, env={"DASHSCOPE_API_KEY": KEY}).api_key == KEY

    @pytest.mark.parametrize(
        "base_url", ["https://evilopenrouter.ai/api/v1", "https://openrouter.ai.evil.example.com/v1"]
    )
    def test_openrouter_key_only_to_openrouter(self, base_url: str) -> None:
        with pytest.warns(ThinkbookWarning, match="OPENAI_API_KEY is set but was not sent"):
            ep = resolve(base_url=base_url, env={"OPENROUTER_API_KEY": KEY, "OPENAI_API_KEY": KEY})
        assert ep.api_key is None and ep.provider == "openai"

    def test_openai_key_goes_to_openai_and_to_openai_base_urls_host(self) -> None:
        assert resolve("gpt-5", base_url="https://api.openai.com/v1", env={"OPENAI_API_KEY": KEY}).api_key == KEY
        env = {"OPENAI_BASE_URL": "https://llm.example.com/v1", "OPENAI_API_KEY": KEY}
        assert resolve("m", base_url="https://llm.example.com/v2", env=env).api_key == KEY

    def test_openai_key_is_not_sent_to_any_other_host(self) -> None:
        with pytest.warns(ThinkbookWarning, match="OPENAI_API_KEY"):
            ep = resolve("m", base_url="https://free-gpt.example.net/v1", env={"OPENAI_API_KEY": KEY})
        assert ep.api_key is None

    def test_local_servers_get_no_environment_key_and_no_note(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ep = resolve(
                "m", base_url="http://localhost:8000/v1", env={"OPENAI_API_KEY": KEY, "DASHSCOPE_API_KEY": KEY}
            )
        assert ep.api_key is None


class TestURLsAndKeysThatCannotBeSent:
    @pytest.mark.parametrize(
        ("base_url", "message"),
        [
            ("http://127.0.0.1:99999/v1", "Port out of range"),
            ("http://[::1", "not a valid URL"),
            ("http://my host/v1", "host name contains a space"),
            ("http://h:80:80/v1", "not a valid URL"),
            ("http:///v1", "no host"),
            ("", "base_url is empty"),
        ],
    )
    def test_refused(self, base_url: str, message: str) -> None:
        with pytest.raises(ConfigurationError, match=message):
            resolve(base_url=base_url, api_key=KEY)

    def test_openai_base_url_variable_is_checked_too(self) -> None:
        with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL"):
            resolve("m", env={"OPENAI_BASE_URL": "http://[::1/v1"})

    def test_credentials_in_the_url_are_hidden_from_repr_and_messages(self) -> None:
        ep = resolve("m", base_url="https://ann:hunter2secret@gw.example.com/v1", env={})
        assert ep.url == "https://ann:hunter2secret@gw.example.com/v1/chat/completions"  # still sent
        assert ep.base_url == "https://***@gw.example.com/v1"
        assert "hunter2secret" not in repr(ep)
        with pytest.raises(ConfigurationError) as info:
            resolve(base_url="https://ann:hunter2secret@gw.example.com/compatible-mode/v1", protocol="dashscope")
        assert "hunter2secret" not in str(info.value) and "***@gw.example.com" in str(info.value)

    @pytest.mark.parametrize("key", ["sk-ключ123456789", "sk-abc\u201cdef12345", "sk-abc def12345", "sk-a\rb12345678"])
    def test_keys_no_header_can_carry(self, key: str) -> None:
        with pytest.raises(ConfigurationError, match="the API key from DASHSCOPE_API_KEY") as info:
            resolve(env={"DASHSCOPE_API_KEY": key})
        assert key not in str(info.value) and key.strip() not in str(info.value)

    def test_key_passed_as_argument_is_named_so(self) -> None:
        with pytest.raises(ConfigurationError, match="api_key="):
            resolve(api_key="sk-é1234567890")


# --- dialects (issue 9, point 12) -------------------------------------------------------------


class TestDialect:
    @pytest.mark.parametrize(
        ("base_url", "dialect"),
        [
            (BJ + COMPAT, "bailian"),
            ("https://gw.example.com/compatible-mode/v1", "bailian"),
            ("http://localhost:8000/v1", "vllm"),
            ("http://localhost:11434/v1", "ollama"),
            ("https://api.deepseek.com", "deepseek"),
            ("https://openrouter.ai/api/v1", "openrouter"),
            ("https://api.openai.com/v1", "openai"),
            ("https://llm.example.com/v1", "bailian"),
        ],
    )
    def test_follows_the_host(self, base_url: str, dialect: str) -> None:
        # Chat completions pinned: some of these hosts infer another protocol (api.openai.com: Responses).
        assert resolve("m", base_url=base_url, api_key=KEY, protocol="openai").dialect == dialect

    def test_explicit_dialect_wins(self) -> None:
        ep = resolve("qwen-plus", base_url="http://127.0.0.1:4000/v1", dialect="bailian", env={})
        assert (ep.provider, ep.dialect) == ("local", "bailian")

    @pytest.mark.parametrize("dialect", ["litellm", "Bailian", "", "vLLM"])
    def test_unknown_dialect_lists_the_valid_ones(self, dialect: str) -> None:
        with pytest.raises(ConfigurationError, match="unknown dialect") as info:
            resolve(base_url="http://localhost:8000/v1", dialect=dialect)
        for name in ("'bailian'", "'vllm'", "'deepseek'", "'openrouter'", "'ollama'", "'openai'", "LiteLLM"):
            assert name in str(info.value)

    def test_dialect_with_the_native_protocol_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="dialect='vllm'"):
            resolve(region="singapore", protocol="dashscope", dialect="vllm", api_key=KEY)
        assert resolve(region="singapore", protocol="dashscope", dialect="bailian", api_key=KEY).protocol == "dashscope"


class TestOptionTypes:
    @pytest.mark.parametrize(
        ("option", "value"),
        [("region", 5), ("region", ["beijing"]), ("api_key", 12345678), ("api_key", b"sk-bytes12345"),
         ("protocol", ["openai"]), ("dialect", ["bailian"]), ("dialect", 1), ("base_url", b"http://x")],
    )  # fmt: skip
    def test_a_value_of_the_wrong_type_is_a_configuration_error(self, option: str, value: object) -> None:
        with pytest.raises(ConfigurationError, match=f"{option} must be"):
            resolve(**{option: value}, env={"DASHSCOPE_API_KEY": KEY})


PLAIN_KEY = "gw7f3a9c1e5b2d4680aa"  # a key of another shape than sk-...: only its value can hide it


class TestKeysInsideURLs:
    def test_a_key_pasted_into_the_url_path_is_not_shown(self) -> None:
        ep = resolve("m", base_url=f"https://gw.example.com/{PLAIN_KEY}/v1", api_key=PLAIN_KEY)
        assert PLAIN_KEY not in ep.base_url and PLAIN_KEY not in repr(ep)
        assert ep.url == f"https://gw.example.com/{PLAIN_KEY}/v1/chat/completions"

    def test_an_environment_key_in_the_url_is_not_in_errors(self) -> None:
        with pytest.raises(ConfigurationError) as info:
            resolve(base_url=f"https://gw.example.com/{PLAIN_KEY}/compatible-mode/v1", protocol="dashscope",
                    env={"DASHSCOPE_API_KEY": PLAIN_KEY})  # fmt: skip
        assert PLAIN_KEY not in str(info.value)

    def test_a_key_in_an_unusable_url_is_not_in_the_error(self) -> None:
        with pytest.raises(ConfigurationError, match="Port out of range") as info:
            resolve(base_url=f"http://gw.example.com:99999/{PLAIN_KEY}/v1", env={"OPENROUTER_API_KEY": PLAIN_KEY})
        assert PLAIN_KEY not in str(info.value)
