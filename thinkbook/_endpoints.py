"""Where a request goes and with which key: regions, providers and the resolution order.

Resolution order (first match wins):

1. ``base_url=`` passed to the call. The provider is recognised from its host (Bailian/DashScope,
   DeepSeek, OpenRouter, Ollama, any other loopback server, or a generic OpenAI-compatible one).
2. ``region=`` passed to the call: Bailian in that region.
3. A model only DeepSeek's own API serves (``deepseek-chat``, ``deepseek-reasoner``): DeepSeek.
4. ``DASHSCOPE_API_KEY`` is set: Bailian in ``DASHSCOPE_REGION`` (default ``singapore``).
5. ``OPENAI_BASE_URL`` is set: that server, with ``OPENAI_API_KEY``.
6. Otherwise Bailian in the default region, which then asks for ``DASHSCOPE_API_KEY``.

Keys: ``api_key=`` first, then the provider's variable (``DASHSCOPE_API_KEY``,
``DEEPSEEK_API_KEY``, ``OPENROUTER_API_KEY``, ``OPENAI_API_KEY``). A variable is only ever sent to
its own provider's hosts: ``DASHSCOPE_API_KEY`` to Bailian (``dashscope*.aliyuncs.com``,
``*.maas.aliyuncs.com``), ``DEEPSEEK_API_KEY`` to ``api.deepseek.com``, ``OPENROUTER_API_KEY`` to
``openrouter.ai``, ``OPENAI_API_KEY`` to ``api.openai.com`` and the host of ``OPENAI_BASE_URL``. Any
other server (a gateway whose path copies Bailian's ``/compatible-mode/``, a proxy, a local server)
gets a key only when the caller passes ``api_key=`` (or ``%%think --api-key-env NAME``). Cloud
providers require a key; local servers and unknown hosts work without.

Dialects: the same thinking wish is spelled differently by each server family (see
:data:`DIALECTS`). The dialect follows from the host; ``dialect=`` picks it explicitly, e.g.
``dialect="bailian"`` behind LiteLLM or another OpenAI-compatible gateway in front of Bailian on a
loopback or private address (which would otherwise get vLLM's ``chat_template_kwargs``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from ._catalog import MULTIMODAL_GENERATION_PATH, TEXT_GENERATION_PATH, lookup, native_endpoint_for
from ._checks import check_api_key, check_encodable, check_url, is_blank
from ._errors import ConfigurationError, MissingAPIKeyError, redact, warn_user

Protocol = Literal["openai", "dashscope"]
Provider = Literal["bailian", "deepseek", "openrouter", "ollama", "local", "openai"]
Dialect = Literal["bailian", "vllm", "deepseek", "openrouter", "ollama", "openai"]

# Which spelling of the thinking options each dialect sends, and so when to pick it.
DIALECTS: dict[Dialect, str] = {
    "bailian": "top-level enable_thinking / thinking_budget (Bailian, and gateways such as LiteLLM in front of it)",
    "vllm": "chat_template_kwargs.enable_thinking / thinking_token_budget (vLLM, SGLang, llama.cpp)",
    "deepseek": "thinking: {type: enabled|disabled} (DeepSeek's API)",
    "openrouter": "reasoning: {enabled, max_tokens} (OpenRouter)",
    "ollama": "reasoning_effort: none to turn thinking off (Ollama)",
    "openai": "no thinking fields (OpenAI, and servers that reject fields they do not know)",
}

# The dialect a provider speaks when ``dialect=`` is not given. Unknown hosts get Bailian's
# spelling: most generic OpenAI-compatible servers that think copied its field names.
_PROVIDER_DIALECTS: dict[Provider, Dialect] = {
    "bailian": "bailian",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
    "ollama": "ollama",
    "local": "vllm",
    "openai": "bailian",
}

DEFAULT_REGION = "singapore"

# Bailian regions and the hosts the guide gives for them.
REGION_HOSTS: dict[str, str] = {
    "singapore": "https://dashscope-intl.aliyuncs.com",
    "beijing": "https://dashscope.aliyuncs.com",
    "virginia": "https://dashscope-us.aliyuncs.com",
}
_REGION_ALIASES: dict[str, str] = {
    "sg": "singapore",
    "intl": "singapore",
    "international": "singapore",
    "ap-southeast-1": "singapore",
    "cn": "beijing",
    "china": "beijing",
    "cn-beijing": "beijing",
    "us": "virginia",
    "us-east-1": "virginia",
}

COMPATIBLE_PATH = "/compatible-mode/v1"
NATIVE_PATH = "/api/v1"
DEEPSEEK_BASE_URL = "https://api.deepseek.com"
_DEEPSEEK_ONLY_MODELS = {"deepseek-chat", "deepseek-reasoner"}

_KEY_VARIABLES: dict[Provider, str | None] = {
    "bailian": "DASHSCOPE_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "openai": "OPENAI_API_KEY",
    "ollama": None,
    "local": None,
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved destination. The key is kept out of ``repr`` and never logged.

    ``url`` is where the request goes (credentials in it included, so it is not in ``repr``);
    ``base_url`` is for showing: any ``user:password@`` in it reads ``***@``.
    """

    url: str = field(repr=False)
    base_url: str
    protocol: Protocol
    provider: Provider
    api_key: str | None = field(default=None, repr=False)
    key_variable: str | None = None
    dialect: Dialect = "bailian"
    # True when the dialect was inferred from the host rather than passed as ``dialect=``.
    dialect_guessed: bool = False

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.protocol == "dashscope":
            headers["X-DashScope-SSE"] = "enable"
        return headers


def normalize_region(region: str) -> str:
    """``"Singapore"``, ``"ap-southeast-1"``, ``"intl"`` -> ``"singapore"``; unknown -> error."""
    key = region.strip().lower()
    key = _REGION_ALIASES.get(key, key)
    if key not in REGION_HOSTS:
        choices = ", ".join(sorted(REGION_HOSTS))
        raise ConfigurationError(
            f"unknown region {redact(region)!r}: use one of {choices}, or pass the workspace URL as base_url"
        )
    return key


def _is_bailian_host(host: str) -> bool:
    """Bailian's own hosts: the regional ``dashscope*.aliyuncs.com`` and workspace ``*.maas.aliyuncs.com``.

    Not every ``*.aliyuncs.com`` host: anyone can serve from an OSS bucket there.
    """
    return (host.startswith("dashscope") and host.endswith(".aliyuncs.com") and host.count(".") == 2) or (
        host.endswith(".maas.aliyuncs.com")
    )


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _gets_provider_key(provider: Provider, host: str, env: Mapping[str, str]) -> bool:
    """May the provider's key variable be sent to ``host``? Only to the provider's own hosts."""
    if provider == "bailian":
        return _is_bailian_host(host)
    if provider == "deepseek":
        return host == "api.deepseek.com"
    if provider == "openrouter":
        return host == "openrouter.ai" or host.endswith(".openrouter.ai")
    if provider == "openai":
        configured = env.get("OPENAI_BASE_URL")
        return host == "api.openai.com" or (bool(configured) and host == _host(configured or ""))
    return False


def _is_loopback_or_private(host: str) -> bool:
    if host in ("localhost", "host.docker.internal") or host.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def provider_for(base_url: str) -> Provider:
    """Which provider a base URL belongs to, from its host (and Ollama's well-known port)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    # "/compatible-mode/" is Bailian's own path: a gateway or proxy in front of it speaks its dialect.
    if _is_bailian_host(host) or "/compatible-mode/" in parts.path + "/":
        return "bailian"
    if host == "api.deepseek.com":
        return "deepseek"
    if host == "openrouter.ai" or host.endswith(".openrouter.ai"):
        return "openrouter"
    if parts.port == 11434 or "ollama" in host:
        return "ollama"
    if _is_loopback_or_private(host):
        return "local"
    return "openai"


def _strip_known_suffix(base_url: str) -> str:
    """Accept a full endpoint URL pasted by mistake: drop ``/chat/completions`` and friends."""
    url = base_url.strip().rstrip("/")
    for suffix in ("/chat/completions", MULTIMODAL_GENERATION_PATH, TEXT_GENERATION_PATH):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def infer_protocol(base_url: str) -> Protocol:
    """Native for a Bailian/DashScope host whose base URL ends in ``/api/v1``, else OpenAI."""
    parts = urlsplit(base_url)
    if _is_bailian_host((parts.hostname or "").lower()) and parts.path.rstrip("/").endswith(NATIVE_PATH):
        return "dashscope"
    return "openai"


def _check_protocol(protocol: str | None) -> Protocol | None:
    if protocol is None:
        return None
    if protocol not in ("openai", "dashscope"):
        raise ConfigurationError(
            f"unknown protocol {protocol!r}: use 'openai' (any OpenAI-compatible server) or "
            "'dashscope' (Bailian's native API)"
        )
    return protocol  # type: ignore[return-value]


def check_dialect(dialect: str | None) -> Dialect | None:
    """``dialect=`` as given, checked: None (follow the host) or one of :data:`DIALECTS`."""
    if dialect is None or dialect in DIALECTS:
        return dialect
    choices = "; ".join(f"{name!r}: {spelling}" for name, spelling in DIALECTS.items())
    raise ConfigurationError(f"unknown dialect {redact(str(dialect))!r}: use one of {choices}")


def _bailian_base(region: str, protocol: Protocol) -> str:
    return REGION_HOSTS[region] + (NATIVE_PATH if protocol == "dashscope" else COMPATIBLE_PATH)


def resolve_endpoint(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    env: Mapping[str, str],
) -> Endpoint:
    """Apply the resolution order in the module docstring; raise before any request on problems."""
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError("model is required, e.g. model='qwen-plus'")
    check_encodable(model, "the model name")
    for name, value in (("base_url", base_url), ("api_key", api_key), ("protocol", protocol), ("region", region),
                        ("dialect", dialect)):  # fmt: skip
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{name} must be a string or None, got {type(value).__name__}")
    chosen = _check_protocol(protocol)
    chosen_dialect = check_dialect(dialect)
    env_key_override: str | None = None

    # Keys never appear in a message, even pasted into a URL by mistake.
    secrets = (api_key, *(env.get(name) for name in _KEY_VARIABLES.values() if name))
    if base_url is not None:
        if not isinstance(base_url, str) or is_blank(base_url):
            raise ConfigurationError(
                "base_url is empty: pass the server's URL (e.g. http://localhost:8000/v1), or leave it out for Bailian"
            )
        base = _strip_known_suffix(base_url)
        if not base.startswith(("http://", "https://")):
            shown = redact(base_url, *secrets)
            raise ConfigurationError(f"base_url must start with http:// or https://, got {shown!r}")
        check_url(base, secrets=secrets)
        if region is not None:
            normalize_region(region)  # still reject nonsense, though base_url decides
    elif region is not None:
        base = _bailian_base(normalize_region(region), chosen or "openai")
    elif model.lower() in _DEEPSEEK_ONLY_MODELS:
        base = DEEPSEEK_BASE_URL
    elif env.get("DASHSCOPE_API_KEY"):
        base = _bailian_base(normalize_region(env.get("DASHSCOPE_REGION") or DEFAULT_REGION), chosen or "openai")
    elif env.get("OPENAI_BASE_URL"):
        base = _strip_known_suffix(env["OPENAI_BASE_URL"])
        check_url(base, "OPENAI_BASE_URL", secrets)
        env_key_override = "OPENAI_API_KEY"
    else:
        base = _bailian_base(normalize_region(env.get("DASHSCOPE_REGION") or DEFAULT_REGION), chosen or "openai")

    shown_base = redact(base, *secrets)
    host = _host(base)
    provider = provider_for(base)
    resolved_protocol: Protocol = chosen or infer_protocol(base)
    # Any host may speak the native protocol (gateways, proxies, test servers): only the URL
    # shape is checked.
    if resolved_protocol == "dashscope" and base.endswith(COMPATIBLE_PATH):
        raise ConfigurationError(
            f"protocol='dashscope' needs the native base URL ending in {NATIVE_PATH}, got "
            f"{shown_base}; use protocol='openai' with this URL, or the same host with {NATIVE_PATH}"
        )
    if resolved_protocol == "dashscope" and provider in ("deepseek", "openrouter", "ollama"):
        raise ConfigurationError(
            f"protocol='dashscope' is Bailian's native API, which {shown_base} does not speak; "
            "use protocol='openai' (or leave protocol unset)"
        )
    if resolved_protocol == "openai" and provider == "bailian" and base.endswith(NATIVE_PATH):
        raise ConfigurationError(
            f"{shown_base} is Bailian's native endpoint: use protocol='dashscope' (or leave protocol unset), "
            f"or the OpenAI-compatible base URL ending in {COMPATIBLE_PATH}"
        )
    if resolved_protocol == "dashscope" and chosen_dialect not in (None, "bailian"):
        raise ConfigurationError(
            f"dialect={chosen_dialect!r} is for OpenAI-compatible servers; protocol='dashscope' is Bailian's own "
            "native API: drop dialect, or use protocol='openai'"
        )

    key_variable = env_key_override or _KEY_VARIABLES[provider]
    own_host = env_key_override is not None or _gets_provider_key(provider, host, env)
    if api_key:
        key: str | None = check_api_key(api_key, "api_key=")
    elif key_variable and own_host and env.get(key_variable):
        key = check_api_key(env[key_variable], key_variable)
    else:
        key = None
        if key_variable and env.get(key_variable):
            warn_user(
                f"{key_variable} is set but was not sent to {host or shown_base}: it goes only to its provider's own "
                f"hosts. If this server should get it, pass api_key=os.environ[{key_variable!r}] "
                f"(or --api-key-env {key_variable})"
            )
        if not own_host:
            key_variable = None  # a gateway, proxy or unknown host: many need no key
    if not key and own_host and provider in ("bailian", "deepseek", "openrouter"):
        raise MissingAPIKeyError(
            f"no API key for {model!r} at {shown_base}: set the {key_variable} environment variable "
            "(or pass api_key=... / %%think --api-key-env NAME)",
            variable=key_variable,
        )

    if resolved_protocol == "dashscope":
        info = lookup(model)
        endpoint_kind = info.native_endpoint if info else native_endpoint_for(model)
        path = MULTIMODAL_GENERATION_PATH if endpoint_kind == "multimodal-generation" else TEXT_GENERATION_PATH
        url = base + path
    else:
        url = base + "/chat/completions"
    guessed = chosen_dialect is None
    if chosen_dialect is None:
        chosen_dialect = "openai" if host == "api.openai.com" else _PROVIDER_DIALECTS[provider]
    return Endpoint(
        url=url,
        base_url=shown_base,
        protocol=resolved_protocol,
        provider=provider,
        api_key=key or None,
        key_variable=key_variable,
        dialect=chosen_dialect,
        dialect_guessed=guessed,
    )
