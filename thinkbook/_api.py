"""The front door: ``think``, ``athink``, ``submit``, ``stream``, ``astream`` and ``replay``.

All of them prepare the request in the caller's thread (so bad input fails before anything is
sent) and run the stream on the shared engine (:mod:`thinkbook._run`). With no key and no
endpoint configured, a request is answered from a recording instead (:mod:`thinkbook._offline`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ._catalog import lookup
from ._checks import check_lang, check_timeout, close_match
from ._display import Display
from ._endpoints import resolve_endpoint
from ._errors import ConfigurationError, MissingAPIKeyError, warn_user
from ._images import attach_images, image_inputs
from ._notices import notice
from ._offline import offline_replay, offline_rounds, replay_request
from ._protocols.base import Effort
from ._replay import load_recording
from ._request import (
    PreparedRequest,
    build_messages,
    check_effort,
    check_tool_choice,
    prepare_request,
)
from ._run import ThinkHandle, aiter_events, iter_events, run_async, run_blocking, start_background
from ._search import note_no_sources, search_fields
from ._tool_run import CONFIRM_NEEDS_A_VIEW, Confirm, tool_options
from ._types import ThinkEvent, ThinkResult
from .tools.loop import DEFAULT_MAX_TOOL_ROUNDS

Prompt = str | Sequence[Mapping[str, Any]]


def _prepare(
    prompt: Prompt,
    *,
    model: str,
    base_url: str | None,
    api_key: str | None,
    protocol: str | None,
    region: str | None,
    enable_thinking: bool | None,
    thinking_budget: int | None,
    preserve_thinking: bool | None,
    system: str | None,
    max_retries: int,
    timeout: float | None,
    display: Display,
    extra_body: Mapping[str, Any],
    dialect: str | None = None,
    effort: Effort | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    confirm: Confirm = False,
    enable_search: bool | None = None,
    search_options: Mapping[str, Any] | None = None,
    images: Sequence[Any] | None = None,
) -> PreparedRequest:
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be a non-negative integer, got {max_retries!r}")
    check_timeout(timeout)
    if display not in (None, True, False, "static"):
        raise ConfigurationError(f"display must be None, True, False or 'static', got {display!r}")
    extra_body = _without_misspelled_options(extra_body)
    check_effort(effort, enable_thinking, thinking_budget)  # before the endpoint: offline replays check it too
    # Tools, search and images are checked before anything else can fail on the network side.
    options = tool_options(tools, max_tool_rounds=max_tool_rounds, confirm=confirm)
    if options is not None and options.confirm_in_view and display is False:
        raise ConfigurationError(CONFIRM_NEEDS_A_VIEW)
    check_tool_choice(tool_choice, [tool.spec() for tool in options.tools] if options else [])
    search = search_fields(enable_search or None, search_options)  # False is the default: nothing sent
    messages = attach_images(build_messages(prompt, system), image_inputs(images))
    try:
        endpoint = resolve_endpoint(
            model, base_url=base_url, api_key=api_key, protocol=protocol, region=region, dialect=dialect, env=os.environ
        )
    except MissingAPIKeyError as missing:
        if base_url or region or api_key:
            raise
        replayed = offline_replay(model, messages, enable_thinking, thinking_budget, preserve_thinking, missing)
        if options is None:
            return replayed
        return offline_rounds(
            replayed, options, messages, model, enable_thinking, thinking_budget, preserve_thinking, missing
        )
    if not base_url and _catalog_hints.get() and lookup(model) is None:
        notice(
            f"{model} is not in thinkbook's catalog: sent as is to {endpoint.base_url} ({endpoint.provider}), "
            "its thinking options unchecked; for another server pass --base-url URL"
        )
    request = prepare_request(
        endpoint,
        model,
        messages,
        enable_thinking=enable_thinking,
        thinking_budget=thinking_budget,
        preserve_thinking=preserve_thinking,
        effort=effort,
        extra_body=extra_body,
        tools=options,
        tool_choice=tool_choice,
        search=search,
    )
    if search.get("enable_search") and not getattr(request.endpoint.wire_protocol, "search_sources", False):
        note_no_sources(request.endpoint.protocol)
    return request


# Set by the front ends where a model name is typed (%%think -m, python -m thinkbook -m): a name
# that thinkbook does not know is then said once, with where it is going.
_catalog_hints: ContextVar[bool] = ContextVar("_catalog_hints", default=False)


@contextlib.contextmanager
def catalog_hints() -> Iterator[None]:
    """Inside the block, a model missing from the catalog (and no base URL) gets a one-line notice."""
    token = _catalog_hints.set(True)
    try:
        yield
    finally:
        _catalog_hints.reset(token)


# The keyword options of think() and friends: an extra keyword close to one of these is a typo.
OPTION_NAMES = (
    "model", "base_url", "api_key", "protocol", "region", "dialect", "enable_thinking", "thinking_budget",
    "preserve_thinking", "effort", "system", "max_retries", "timeout", "display", "lang", "tools", "tool_choice",
    "max_tool_rounds", "confirm", "enable_search", "search_options", "images",
)  # fmt: skip


def _without_misspelled_options(extra_body: Mapping[str, Any]) -> Mapping[str, Any]:
    """Extra body fields minus misspelled thinkbook options (``enable_thinkng``), each with a warning.

    A typo would otherwise go silently into the request body, where servers ignore it (or reject it).
    """
    typos = {name: close_match(name, OPTION_NAMES) for name in extra_body if name not in OPTION_NAMES}
    typos = {name: meant for name, meant in typos.items() if meant is not None}
    for name, meant in typos.items():
        warn_user(
            f"{name}= is not a thinkbook option: did you mean {meant}=? It was left out of the request "
            "(extra keyword arguments are sent as request body fields)"
        )
    return {name: value for name, value in extra_body.items() if name not in typos} if typos else extra_body


def _prepare_from(arguments: dict[str, Any], **overrides: Any) -> PreparedRequest:
    """``_prepare`` from a public function's own arguments (its ``locals()`` at entry).

    The public functions spell out every option in their signatures for users and type checkers;
    this keeps their bodies from repeating the list.
    """
    options = {**arguments, **overrides}
    options.setdefault("display", False)
    check_lang(options.pop("lang", None))  # the view's, not the request's: checked before anything is sent
    prompt, extra_body = options.pop("prompt"), options.pop("extra_body")
    return _prepare(prompt, extra_body=extra_body, **options)


# --- public functions -------------------------------------------------------------------------


def think(
    prompt: Prompt,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    effort: Effort | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    display: Display = None,
    lang: str | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    confirm: Confirm = False,
    enable_search: bool = False,
    search_options: Mapping[str, Any] | None = None,
    images: Sequence[Any] | None = None,
    **extra_body: Any,
) -> ThinkResult:
    """Ask a thinking model and wait for the whole streamed answer.

    ``prompt`` is a string or a list of chat messages. ``protocol`` is ``"openai"`` (any
    OpenAI-compatible server; ``base_url`` ends before ``/chat/completions``) or ``"dashscope"``
    (Bailian native; ``base_url`` ends in ``/api/v1``); None infers it from ``base_url``.
    Other protocols: ``"responses"`` (OpenAI Responses API), ``"anthropic"`` (Messages API),
    ``"gemini"``; each is inferred from its host.
    ``dialect`` picks how the thinking options are spelled in an OpenAI-compatible request
    (``"bailian"``, ``"vllm"``, ``"deepseek"``, ``"openrouter"``, ``"ollama"``, ``"openai"``); None
    follows the host. Pass ``dialect="bailian"`` behind LiteLLM or another gateway in front of
    Bailian on a local or private address, which would otherwise get vLLM's spelling.
    ``effort`` (``"low"``, ``"medium"``, ``"high"``) asks for that much thinking in the provider's
    own terms (``reasoning_effort``, ``reasoning.effort``, or a ``thinking_budget`` per level on
    Bailian and vLLM, see the README); not together with ``thinking_budget``.
    ``timeout`` is the longest silence tolerated between two reads (default 600 s;
    ``float("inf")`` waits forever).
    ``display=None`` draws a live view when running in a notebook, ``True`` insists on one,
    ``False`` never draws, and ``"static"`` replaces the finished view with plain HTML (readable
    anywhere a saved notebook is opened). ``lang`` is the view's labels: ``"en"`` or ``"zh"``
    (None follows the locale), like ``%%think --lang``.
    Extra keyword arguments go into the request body unchanged (one close to an option name, such
    as ``enable_thinkng``, warns and is left out).

    Tools: ``tools=[fn, ...]`` (Python functions, sync or async, described to the model from their
    signature, type hints and docstring; or OpenAI-format tool dicts) lets the model call them.
    Each round streams (reasoning, then the calls), the calls run (arguments validated first; an
    exception, a timeout or a name the model made up becomes an error result the model sees), and
    the next request carries the calls, their results and the round's reasoning, until a round
    answers without calls. ``max_tool_rounds`` rounds with calls and still no answer raise
    :class:`~thinkbook.tools.loop.ToolLoopError` (``.partial`` has every round). A call to a tool
    given as a dict ends the loop: the result's ``tool_calls`` hold the calls for you to run.
    ``tool_choice``: None (the server decides), ``"auto"``, ``"none"``, ``"required"`` or a tool's
    name. ``confirm=True`` asks in the view before each call (it needs a view: with
    ``display=False`` it is a ConfigurationError); ``confirm=fn`` asks ``fn(call) -> bool`` instead
    (anywhere, ``stream()`` included). The result: ``.tool_calls`` (every call with its
    ``.arguments``, ``.result`` or ``.error``, ``.seconds``), ``.rounds`` (one per request),
    ``.usage`` summed over the rounds, ``.reasoning`` all of it in order, ``.answer`` the last.

    Web search (Bailian): ``enable_search=True`` and ``search_options={"search_strategy": "max",
    "enable_source": True, ...}``. On the native protocol (``protocol="dashscope"``) the sources
    come back in ``.search_results``; the OpenAI-compatible protocol returns none (said once).
    Another provider's server refuses it with a ConfigurationError before anything is sent.

    Images (vision models): ``images=[...]``, each a path, ``bytes``, an ``http(s)`` URL, a PIL
    image or a matplotlib ``Figure``; they go before the prompt's text in its (last) user message.
    Each is checked (PNG, JPEG, GIF or WEBP, at most 3.75 MB) before anything is sent.

    Ctrl-C (or the kernel's interrupt button) stops the stream and raises
    :class:`ThinkInterrupted` whose ``.partial`` holds what arrived.

    >>> r = think("9.11 和 9.9 哪个大？", model="qwen-plus", enable_thinking=True)  # doctest: +SKIP
    >>> r.reasoning, r.answer, r.usage.reasoning_tokens, r.finish_reason  # doctest: +SKIP
    """
    request = _prepare_from(locals())
    return run_blocking(request, max_retries=max_retries, timeout=timeout, display=display, lang=lang)


async def athink(
    prompt: Prompt,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    effort: Effort | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    display: Display = None,
    lang: str | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    confirm: Confirm = False,
    enable_search: bool = False,
    search_options: Mapping[str, Any] | None = None,
    images: Sequence[Any] | None = None,
    **extra_body: Any,
) -> ThinkResult:
    """Async :func:`think`. Cancelling the awaiting task closes the HTTP stream."""
    request = _prepare_from(locals())
    return await run_async(request, max_retries=max_retries, timeout=timeout, display=display, lang=lang)


def submit(
    prompt: Prompt,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    effort: Effort | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    display: Display = None,
    lang: str | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    confirm: Confirm = False,
    enable_search: bool = False,
    search_options: Mapping[str, Any] | None = None,
    images: Sequence[Any] | None = None,
    **extra_body: Any,
) -> ThinkHandle:
    """Start :func:`think` in the background and return a :class:`ThinkHandle` at once.

    The notebook stays free while the answer streams into its view; several runs stream side by
    side. Bad input still fails here, before anything is sent.

    >>> handle = submit("证明：存在无穷多个素数。", model="qwen-plus")  # doctest: +SKIP
    >>> handle.result().answer  # doctest: +SKIP
    """
    request = _prepare_from(locals())
    return start_background(request, max_retries=max_retries, timeout=timeout, display=display, lang=lang)


def stream(
    prompt: Prompt,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    effort: Effort | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    confirm: Confirm = False,
    enable_search: bool = False,
    search_options: Mapping[str, Any] | None = None,
    images: Sequence[Any] | None = None,
    **extra_body: Any,
) -> Iterator[ThinkEvent]:
    """Yield :class:`ReasoningDelta`, :class:`AnswerDelta`, :class:`UsageUpdate`, ... then
    :class:`Done` with the full result. Options as in :func:`think`; input is checked right away.

    >>> for event in stream("你是谁", model="qwen-plus"):  # doctest: +SKIP
    ...     match event:
    ...         case ReasoningDelta(text): print(text, end="")
    """
    request = _prepare_from(locals(), display=False)
    return iter_events(request, max_retries=max_retries, timeout=timeout)


def astream(
    prompt: Prompt,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    protocol: str | None = None,
    region: str | None = None,
    dialect: str | None = None,
    enable_thinking: bool | None = None,
    thinking_budget: int | None = None,
    preserve_thinking: bool | None = None,
    effort: Effort | None = None,
    system: str | None = None,
    max_retries: int = 2,
    timeout: float | None = None,
    tools: Sequence[Any] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    confirm: Confirm = False,
    enable_search: bool = False,
    search_options: Mapping[str, Any] | None = None,
    images: Sequence[Any] | None = None,
    **extra_body: Any,
) -> AsyncIterator[ThinkEvent]:
    """Async :func:`stream`: ``async for event in astream(...)``. Input is checked right away."""
    request = _prepare_from(locals(), display=False)
    return aiter_events(request, max_retries=max_retries, timeout=timeout)


def replay(path: str | Path, *, speed: float = 1.0, display: Display = None, lang: str | None = None) -> ThinkResult:
    """Play a recording back through the same decoder and adapters as a live stream.

    ``speed`` scales the recorded pace (2 = twice as fast, 0 = as fast as possible).
    A missing or corrupt file raises :class:`ConfigurationError` before anything runs.
    """
    request = replay_request(load_recording(path), speed)
    return run_blocking(request, max_retries=0, timeout=None, display=display, lang=check_lang(lang))
