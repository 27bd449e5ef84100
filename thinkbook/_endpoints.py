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
``DEEPSEEK_API_KEY``, ``OPENROUTER_API_KEY``, ``OPENAI_API_KEY``). Cloud providers require one;
local servers and unknown hosts work without.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from ._catalog import MULTIMODAL_GENERATION_PATH, TEXT_GENERATION_PATH, lookup, native_endpoint_for
from ._errors import ConfigurationError, MissingAPIKeyError, redact

Protocol = Literal["openai", "dashscope"]
Provider = Literal["bailian", "deepseek", "openrouter", "ollama", "local", "openai"]

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
    """A resolved destination. The key is kept out of ``repr`` and never logged."""

    url: str
    base_url: str
    protocol: Protocol
    provider: Provider
    api_key: str | None = field(default=None, repr=False)
    key_variable: str | None = None

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
    return host.endswith(".aliyuncs.com")


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
    if host.endswith("openrouter.ai"):
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


def _bailian_base(region: str, protocol: Protocol) -> str:
    return REGION_HOSTS[region] + (NATIVE_PATH if protocol == "dashscope" else COMPATIBLE_PATH)


def resolve_endpoint(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    env: Mapping[str, str],
) -> Endpoint:
    """Apply the resolution order in the module docstring; raise before any request on problems."""
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError("model is required, e.g. model='qwen-plus'")
    chosen = _check_protocol(protocol)
    env_key_override: str | None = None

    if base_url:
        base = _strip_known_suffix(base_url)
        if not base.startswith(("http://", "https://")):
            shown = redact(base_url, api_key)
            raise ConfigurationError(f"base_url must start with http:// or https://, got {shown!r}")
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
        env_key_override = "OPENAI_API_KEY"
    else:
        base = _bailian_base(normalize_region(env.get("DASHSCOPE_REGION") or DEFAULT_REGION), chosen or "openai")

    provider = provider_for(base)
    resolved_protocol: Protocol = chosen or infer_protocol(base)
    # Any host may speak the native protocol (gateways, proxies, test servers): only the URL
    # shape is checked.
    if resolved_protocol == "dashscope" and base.endswith(COMPATIBLE_PATH):
        raise ConfigurationError(
            f"protocol='dashscope' needs the native base URL ending in {NATIVE_PATH}, got "
            f"{base}; use protocol='openai' with this URL, or the same host with {NATIVE_PATH}"
        )
    if resolved_protocol == "dashscope" and provider in ("deepseek", "openrouter", "ollama"):
        raise ConfigurationError(
            f"protocol='dashscope' is Bailian's native API, which {base} does not speak; "
            "use protocol='openai' (or leave protocol unset)"
        )
    if resolved_protocol == "openai" and provider == "bailian" and base.endswith(NATIVE_PATH):
        raise ConfigurationError(
            f"{base} is Bailian's native endpoint: use protocol='dashscope' (or leave protocol unset), "
            f"or the OpenAI-compatible base URL ending in {COMPATIBLE_PATH}"
        )

    key_variable = env_key_override or _KEY_VARIABLES[provider]
    key = api_key if api_key else (env.get(key_variable) if key_variable else None)
    if provider == "openai" and not key and not env_key_override:
        key_variable = None  # unknown host: many self-hosted servers need no key
    if not key and provider in ("bailian", "deepseek", "openrouter"):
        raise MissingAPIKeyError(
            f"no API key for {model!r} at {base}: set the {key_variable} environment variable "
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
    return Endpoint(
        url=url,
        base_url=base,
        protocol=resolved_protocol,
        provider=provider,
        api_key=key or None,
        key_variable=key_variable,
    )
