"""The protocol registry: every wire protocol, one module each (see :mod:`.base` for the contract).

A module in this package that has a module-level ``PROTOCOL`` (a :class:`WireProtocol` instance)
is a protocol; it is found here by itself, so adding one touches only its own module (its
fixtures, its tests and the README). Modules without ``PROTOCOL`` (``base``, helpers such as
``openai_dialects``) are skipped.

* :func:`get_protocol` ``(name)``: the protocol for a ``protocol=`` value, or a
  :class:`~thinkbook.ConfigurationError` listing every protocol with its title;
* :func:`protocols` ``()``: all of them, the fallback (``openai``) last;
* :func:`providers` ``()``: every :class:`ProviderSpec` they declare, in the order hosts are
  matched (the fallback protocol's last, so its catch-all provider comes last);
* :func:`protocol_for_url` ``(host, path)``: the protocol a base URL speaks when ``protocol=``
  is not given: the first whose :meth:`~WireProtocol.claims` says so, else ``openai``;
* :func:`register` ``(protocol)``: add one at run time (tests, plug-ins); the same as a module.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

from .._errors import ConfigurationError, redact
from .base import ProviderSpec, WireProtocol

__all__ = ["FALLBACK", "get_protocol", "protocol_for_url", "protocols", "providers", "register", "unregister"]

# Chat completions: what any server speaks when nothing says otherwise.
FALLBACK = "openai"

_lock = threading.Lock()
_registry: dict[str, WireProtocol] | None = None


def _discover() -> dict[str, WireProtocol]:
    found: dict[str, WireProtocol] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if module_info.name == "base" or module_info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        protocol = getattr(module, "PROTOCOL", None)
        if protocol is None:
            continue
        if not isinstance(protocol, WireProtocol):
            raise TypeError(f"{module.__name__}.PROTOCOL must be a WireProtocol instance, got {protocol!r}")
        if protocol.name in found:
            raise TypeError(f"two modules declare protocol {protocol.name!r}: {module.__name__} and another")
        found[protocol.name] = protocol
    return found


def _protocols() -> dict[str, WireProtocol]:
    global _registry
    registry = _registry
    if registry is None:
        with _lock:
            if _registry is None:
                _registry = _discover()
            registry = _registry
    return registry


def register(protocol: WireProtocol) -> WireProtocol:
    """Add (or replace) ``protocol`` under its name; returns it."""
    if not isinstance(protocol, WireProtocol):
        raise TypeError(f"register() takes a WireProtocol instance, got {protocol!r}")
    with _lock:
        registry = dict(_registry if _registry is not None else _discover())
        registry[protocol.name] = protocol
        _set(registry)
    return protocol


def unregister(name: str) -> None:
    """Remove a protocol added with :func:`register` (tests)."""
    with _lock:
        registry = dict(_registry if _registry is not None else _discover())
        registry.pop(name, None)
        _set(registry)


def _set(registry: dict[str, WireProtocol]) -> None:
    global _registry
    _registry = registry  # replaced whole: readers never see a half-updated dict


def protocols() -> tuple[WireProtocol, ...]:
    """Every protocol, by name, the fallback last."""
    registry = _protocols()
    return tuple(sorted(registry.values(), key=lambda p: (p.name == FALLBACK, p.name)))


def get_protocol(name: str) -> WireProtocol:
    """The protocol named ``name``; an unknown name lists every protocol with its title."""
    protocol = _protocols().get(name) if isinstance(name, str) else None
    if protocol is None:
        choices = "; ".join(f"{p.name!r} ({p.title})" for p in protocols())
        raise ConfigurationError(f"unknown protocol {redact(str(name))!r}: use one of {choices}")
    return protocol


def providers() -> tuple[ProviderSpec, ...]:
    """Every provider every protocol declares, in matching order (see the module docstring)."""
    return tuple(spec for protocol in protocols() for spec in protocol.providers)


def protocol_for_url(host: str, path: str) -> WireProtocol:
    """The protocol a base URL (lower-cased host, path) speaks: the first that claims it, else the
    fallback."""
    for protocol in protocols():
        if protocol.name != FALLBACK and protocol.claims(host, path):
            return protocol
    return get_protocol(FALLBACK)
