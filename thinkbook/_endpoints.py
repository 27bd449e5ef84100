"""Where a request goes and with which key: regions, providers, protocols and the resolution order.

The providers and protocols are data the protocol modules declare (``thinkbook/_protocols/``:
each protocol's :class:`~thinkbook._protocols.base.ProviderSpec` entries say their hosts, key
variables, model names and prefixes); this module applies them and never names a protocol.

Resolution order (first match wins):

====  =====================================================  ==========================================
step  when                                                   destination
====  =====================================================  ==========================================
1     ``base_url=`` is passed                                that URL; the provider from its host (below)
2     ``region=`` is passed                                  Bailian in that region
3     the model is one only one provider serves              that provider (``deepseek-chat``,
                                                             ``deepseek-reasoner``: DeepSeek), even
                                                             without its key, which the error then names
4     the model name starts with a provider's prefix and     that provider's default base URL
      that provider's key variable is set                    (``claude-*`` + ``ANTHROPIC_API_KEY``;
                                                             ``gemini-*`` + ``GEMINI_API_KEY`` or
                                                             ``GOOGLE_API_KEY``; ``gpt-*``/``o3*``/``o4*``
                                                             + ``OPENAI_API_KEY`` unless
                                                             ``OPENAI_BASE_URL`` is set); with no key
                                                             and no server configured at all, the
                                                             prefix alone decides (the missing-key
                                                             error names that provider's variable)
5     ``DASHSCOPE_API_KEY`` is set                           Bailian in ``DASHSCOPE_REGION``
                                                             (default ``singapore``)
6     ``OPENAI_BASE_URL`` is set                             that server, with ``OPENAI_API_KEY``
7     otherwise                                              Bailian in the default region, which then
                                                             asks for ``DASHSCOPE_API_KEY``
====  =====================================================  ==========================================

Provider from the host: first the providers' own hosts (Bailian ``dashscope*.aliyuncs.com`` and
``*.maas.aliyuncs.com``, ``api.deepseek.com``, ``openrouter.ai``, ``api.openai.com``,
``api.anthropic.com``, ``generativelanguage.googleapis.com``), then what a base URL shows: Bailian's
``/compatible-mode/`` path (a gateway in front of it), Ollama's port 11434 or an ``ollama`` host, a
loopback or private address (a local server); any other host is a generic OpenAI-compatible server.

Protocol: ``protocol=`` if given, else the one that claims the base URL (a Bailian host with
``/api/v1``: ``dashscope``; ``api.openai.com``: ``responses``; ``api.anthropic.com`` or Bailian's
``/apps/anthropic``: ``anthropic``; Google's host: ``gemini``), else ``openai`` (chat completions).
Unknown model names work at every step.

Keys: ``api_key=`` first, then the provider's variable (``DASHSCOPE_API_KEY``,
``DEEPSEEK_API_KEY``, ``OPENROUTER_API_KEY``, ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``,
``GEMINI_API_KEY``/``GOOGLE_API_KEY``). A variable is only ever sent to its own provider's hosts
(and ``OPENAI_API_KEY`` to the host of ``OPENAI_BASE_URL``). Any other server (a gateway whose
path copies Bailian's ``/compatible-mode/``, a proxy, a local server) gets a key only when the
caller passes ``api_key=`` (or ``%%think --api-key-env NAME``). Cloud providers require a key;
local servers and unknown hosts work without.

Dialects: the same thinking wish is spelled differently by each OpenAI-compatible server family
(see :data:`DIALECTS`). The dialect follows from the host; ``dialect=`` picks it explicitly, e.g.
``dialect="bailian"`` behind LiteLLM or another OpenAI-compatible gateway in front of Bailian on a
loopback or private address (which would otherwise get vLLM's ``chat_template_kwargs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from ._checks import check_api_key, check_encodable, check_url, is_blank
from ._errors import ConfigurationError, MissingAPIKeyError, redact, warn_user
from ._protocols import FALLBACK, get_protocol, protocol_for_url, protocols, providers
from ._protocols.base import ProviderSpec, WireProtocol

# Names, not closed sets: the protocol modules declare them.
Protocol = str
Provider = str
Dialect = str


def all_dialects() -> dict[str, str]:
    """Every ``dialect=`` value some protocol accepts, with what it spells (see ``DIALECTS``)."""
    dialects: dict[str, str] = {}
    for protocol in reversed(protocols()):  # the fallback's descriptions win
        for name, description in protocol.dialects.items():
            dialects.setdefault(name, description)
    return dialects


def __getattr__(name: str) -> dict[str, str]:
    # ``DIALECTS`` (which spelling of the thinking options each dialect sends, and so when to
    # pick it) is read from the protocols when asked: computing it at import would import every
    # protocol module while this one is half-initialised.
    if name == "DIALECTS":
        return all_dialects()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved destination. The key is kept out of ``repr`` and never logged.

    ``url`` is where the request goes (credentials in it included, so it is not in ``repr``);
    ``base_url`` is for showing: any ``user:password@`` in it reads ``***@``. ``protocol`` is the
    protocol's name (``wire_protocol`` the object, from the registry).
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

    @property
    def wire_protocol(self) -> WireProtocol:
        """The protocol object that builds and parses this endpoint's requests."""
        return get_protocol(self.protocol)

    def headers(self) -> dict[str, str]:
        return self.wire_protocol.headers(self.api_key)


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


def for_images(endpoint: Endpoint) -> Endpoint:
    """The endpoint for a request that carries images.

    A protocol that serves images on a path of its own says so with an ``images_path`` attribute
    (DashScope native: the multimodal-generation service, whatever the model); the URL's known
    path suffix is swapped for it. Other protocols take images where they take text.
    """
    images_path = getattr(endpoint.wire_protocol, "images_path", None)
    if not isinstance(images_path, str) or endpoint.url.endswith(images_path):
        return endpoint
    for suffix in endpoint.wire_protocol.suffixes:
        if endpoint.url.endswith(suffix):
            return replace(endpoint, url=endpoint.url[: -len(suffix)] + images_path)
    return endpoint


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def provider_spec_for(base_url: str) -> ProviderSpec:
    """Which provider a base URL belongs to: a provider's own host first, then what the URL shows
    (``ProviderSpec.recognises``, asked in order; the generic OpenAI-compatible one catches all)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    specs = providers()
    for spec in specs:
        if spec.owns_host(host):
            return spec
    try:
        port = parts.port
    except ValueError:
        port = None
    for spec in specs:
        if spec.recognises is not None and spec.recognises(host, parts.path, port):
            return spec
    return specs[-1]


def provider_for(base_url: str) -> Provider:
    """The name of the provider a base URL belongs to (see :func:`provider_spec_for`)."""
    return provider_spec_for(base_url).name


def _gets_provider_key(spec: ProviderSpec, host: str, env: Mapping[str, str]) -> bool:
    """May the provider's key variable be sent to ``host``? Only to the provider's own hosts."""
    if spec.owns_host(host):
        return True
    configured = env.get(spec.base_url_variable) if spec.base_url_variable else None
    return bool(configured) and host == _host(configured or "")


def _strip_known_suffix(base_url: str) -> str:
    """Accept a full endpoint URL pasted by mistake: drop ``/chat/completions`` and friends."""
    url = base_url.strip().rstrip("/")
    for protocol in protocols():
        for suffix in protocol.suffixes:
            if url.endswith(suffix):
                return url[: -len(suffix)]
    return url


def infer_protocol(base_url: str) -> Protocol:
    """The protocol a base URL speaks when ``protocol=`` is not given (native for a Bailian host
    whose base URL ends in ``/api/v1``, ... else ``openai``)."""
    parts = urlsplit(base_url)
    return protocol_for_url((parts.hostname or "").lower(), parts.path).name


def check_dialect(dialect: str | None) -> Dialect | None:
    """``dialect=`` as given, checked: None (follow the host) or one of :data:`DIALECTS`."""
    dialects = all_dialects()
    if dialect is None or dialect in dialects:
        return dialect
    choices = "; ".join(f"{name!r}: {spelling}" for name, spelling in dialects.items())
    raise ConfigurationError(f"unknown dialect {redact(str(dialect))!r}: use one of {choices}")


def _bailian_base(region: str, protocol: WireProtocol | None) -> str:
    protocol = protocol or get_protocol(FALLBACK)
    if protocol.region_path is None:
        raise ConfigurationError(
            f"Bailian has no per-region endpoint for protocol={protocol.name!r}: pass base_url (the part before "
            "the protocol's own path), or drop region"
        )
    return REGION_HOSTS[region] + protocol.region_path


def _key_variable(spec: ProviderSpec, env: Mapping[str, str]) -> str | None:
    """The provider's variable that is set (the first when several are), else its first."""
    for name in spec.key_variables:
        if env.get(name):
            return name
    return spec.key_variables[0] if spec.key_variables else None


def _by_model(model: str, env: Mapping[str, str]) -> ProviderSpec | None:
    """Steps 3 and 4: a model only one provider serves; a provider's prefix with its key set (or
    with no key and no server configured at all)."""
    lowered = model.lower()
    specs = providers()
    for spec in specs:
        if lowered in spec.models:
            return spec
    # A set base-URL variable sharing a key variable (OPENAI_BASE_URL) means "my server for that key".
    redirected = {
        name
        for spec in specs
        if spec.base_url_variable and env.get(spec.base_url_variable)
        for name in spec.key_variables
    }
    prefixed = [
        spec
        for spec in specs
        if spec.model_prefixes and lowered.startswith(tuple(prefix.lower() for prefix in spec.model_prefixes))
    ]
    for spec in prefixed:
        if any(env.get(name) for name in spec.key_variables) and not redirected.intersection(spec.key_variables):
            return spec
    # No key and no server configured at all: a claude-* model is Anthropic's, so the missing-key
    # error (and the offline replay's notice) names ANTHROPIC_API_KEY, not Bailian's variable.
    nothing_configured = not any(env.get(name) for spec in specs for name in spec.key_variables) and not any(
        spec.base_url_variable and env.get(spec.base_url_variable) for spec in specs
    )
    if prefixed and nothing_configured:
        return prefixed[0]
    return None


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
    chosen = get_protocol(protocol) if protocol is not None else None
    chosen_dialect = check_dialect(dialect)
    env_key_override: str | None = None
    specs = providers()

    # Keys never appear in a message, even pasted into a URL by mistake.
    secrets = (api_key, *(env.get(name) for spec in specs for name in spec.key_variables))
    by_model = _by_model(model, env) if base_url is None and region is None else None
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
        base = _bailian_base(normalize_region(region), chosen)
    elif by_model is not None:
        base = by_model.default_base_url
    elif env.get("DASHSCOPE_API_KEY"):
        base = _bailian_base(normalize_region(env.get("DASHSCOPE_REGION") or DEFAULT_REGION), chosen)
    elif configured := next((s for s in specs if s.base_url_variable and env.get(s.base_url_variable)), None):
        variable = configured.base_url_variable or ""
        base = _strip_known_suffix(env[variable])
        check_url(base, variable, secrets)
        env_key_override = configured.key_variables[0] if configured.key_variables else None
    else:
        base = _bailian_base(normalize_region(env.get("DASHSCOPE_REGION") or DEFAULT_REGION), chosen)

    shown_base = redact(base, *secrets)
    host = _host(base)
    spec = provider_spec_for(base)
    wire = chosen or protocol_for_url(host, urlsplit(base).path)
    wire.check_base(base, spec, shown=shown_base)
    if chosen_dialect is not None and chosen_dialect not in wire.dialects:
        raise ConfigurationError(
            f"dialect={chosen_dialect!r} is for OpenAI-compatible servers; protocol={wire.name!r} is {wire.title}: "
            "drop dialect, or use protocol='openai'"
        )

    key_variable = env_key_override or _key_variable(spec, env)
    own_host = env_key_override is not None or _gets_provider_key(spec, host, env)
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
    if not key and own_host and spec.requires_key:
        raise MissingAPIKeyError(
            f"no API key for {model!r} at {shown_base}: set the {key_variable} environment variable "
            "(or pass api_key=... / %%think --api-key-env NAME)",
            variable=key_variable,
        )

    guessed = chosen_dialect is None
    if chosen_dialect is None:
        chosen_dialect = wire.default_dialect(spec, host)
    return Endpoint(
        url=base + wire.path(model, base_url=base),
        base_url=shown_base,
        protocol=wire.name,
        provider=spec.name,
        api_key=key or None,
        key_variable=key_variable,
        dialect=chosen_dialect,
        dialect_guessed=guessed,
    )
