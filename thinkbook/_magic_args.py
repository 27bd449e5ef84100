"""The ``%%think`` options: declared with IPython's ``magic_arguments``, parsed into typed values.

Everything here is checked before anything is sent: unknown options, a budget that is not a
positive integer, contradicting flags, a ``--record`` file in a folder that does not exist.
Problems are :class:`ConfigurationError` with one line saying what to do.
"""

from __future__ import annotations

import argparse
import builtins
import keyword
import re
import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from IPython.core import magic_arguments
from IPython.core.error import UsageError

from ._checks import is_blank
from ._endpoints import check_dialect
from ._errors import ConfigurationError, redact
from ._magic_tools import ARGUMENTS as TOOL_ARGUMENTS
from ._protocols import protocols
from ._protocols.base import EFFORTS, Effort

F = TypeVar("F", bound=Callable[..., Any])

EPILOG = """\
The cell is the prompt, and a template: {name} inserts the notebook variable `name` (also
{obj.attr}, {d[key]}, {items[0]}); {{ and }} are literal braces; --raw sends the cell as written.
/think and /no_think in the cell pass through to models that understand them.

Line magics:
  %think chats            list the chats kept with --chat
  %think history NAME     print a chat's turns (with their reasoning)
  %think reset NAME       forget a chat's turns
  %think models           print the thinking-model catalog
  %think panel [-m MODEL] [--region R] [--base-url URL] [--api-key-env NAME] [--system TEXT]
                          a chat panel: prompt box, Send/Stop, settings, totals (in _think_panel)
  %think --replay FILE    play a recording back (no cell needed; also %%think --replay FILE)
  %think --help           this text
  %think_config           show the defaults; %think_config default_model=qwen-plus sets one
                          (also %config ThinkMagics.default_model = "qwen-plus", or a profile)

Results: the last one is in _think (the ThinkResult, or the partial answer after a stop or an
error), its error in _think_error; --out VAR stores it in VAR too. With --bg the cell returns a
handle at once (also in _think_handle): .result(), .cancel(), .done(), .partial.

Comparing: %%think --compare qwen-plus,qwen-plus:off,qwen3.6-plus:budget=2000 sends the cell to
2-6 configurations side by side (a ComparePanel, kept in _think_panel); an item may end in :on,
:off, :budget=N or :effort=low|medium|high. --base-url, --api-key-env, --system, --region and
--protocol apply to every column (--think, --no-think, --budget and --effort too, where an item
sets nothing itself). If one column
cannot be sent (e.g. qwq-plus:off), the whole cell is refused and nothing is sent.

Tools, search, images: --tools get_weather,query_db lets the model call those functions of the
notebook (only them; the view shows each call); --search turns on Bailian's web search (sources and
[n] citations with --protocol dashscope; --search-strategy turbo|max|agent|agent_max, --citations);
--image fig.png or --image {fig} (a matplotlib figure in a variable) sends an image to a vision model.

Gateways: the thinking options are spelled for the server the URL points at (Bailian's
enable_thinking, vLLM's chat_template_kwargs on a local address...). Behind LiteLLM or another
OpenAI-compatible gateway in front of Bailian, pass --dialect bailian (or %think_config
dialect=bailian); the other dialects are vllm, deepseek, openrouter, ollama and openai (none)."""

_ARGUMENTS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("-m", "--model"), {"help": "model name, e.g. qwen-plus, qwen3.6-plus, deepseek-reasoner"}),
    (("--think",), {"action": "store_true", "help": "turn thinking on (default: the model's own default)"}),
    (("--no-think",), {"action": "store_true", "help": "turn thinking off (hybrid models only)"}),
    (("--budget",), {"metavar": "N", "help": "thinking_budget: at most N reasoning tokens"}),
    (
        ("--effort",),
        {"choices": list(EFFORTS), "help": "how hard to think, in the provider's own terms (not with --budget)"},
    ),
    (("--preserve",), {"action": "store_true", "help": "preserve_thinking: send earlier reasoning back"}),
    (("--system",), {"metavar": "TEXT", "help": "system prompt (quote it)"}),
    (("--chat",), {"metavar": "NAME", "help": "a turn of the named chat, kept across cells"}),
    (("--new",), {"action": "store_true", "help": "start the --chat over"}),
    (("--region",), {"help": "Bailian region: singapore, beijing or virginia"}),
    (("--base-url",), {"metavar": "URL", "help": "server URL before /chat/completions (or .../api/v1)"}),
    (("--protocol",), {"choices": [p.name for p in protocols()], "help": "wire protocol"}),
    (
        ("--dialect",),
        {
            "metavar": "NAME",
            "help": "spelling of the thinking fields: bailian, vllm, deepseek, openrouter, ollama or openai "
            "(default: from the host; --dialect bailian behind a local LiteLLM-style gateway to Bailian)",
        },
    ),
    (("--api-key-env",), {"metavar": "NAME", "help": "read the API key from this environment variable"}),
    (("--timeout",), {"metavar": "SECONDS", "help": "longest silence tolerated between two reads"}),
    (("--out",), {"metavar": "VAR", "help": "also store the result in the notebook variable VAR"}),
    (("--bg",), {"action": "store_true", "help": "run in the background; the cell returns a handle at once"}),
    (("--static",), {"action": "store_true", "help": "replace the finished view by static HTML"}),
    (("--lang",), {"choices": ["en", "zh"], "help": "labels of the view"}),
    (("--no-stream-view",), {"action": "store_true", "help": "no live view: show only the final result"}),
    (("--raw",), {"action": "store_true", "help": "send the cell as written (no {var} substitution)"}),
    (("--json",), {"action": "store_true", "help": "print the result as JSON (no view)"}),
    (("--record",), {"metavar": "FILE", "help": "save the live response's wire bytes to FILE (JSON lines)"}),
    (("--replay",), {"metavar": "FILE", "help": "play a recording back (the cell is not sent)"}),
    (("--speed",), {"metavar": "X", "help": "replay speed: 2 = twice as fast, 0 = no pauses"}),
    (("--compare",), {"metavar": "M1,M2,...", "help": "send the cell to 2-6 models side by side (see below)"}),
    *TOOL_ARGUMENTS,  # --tools, --search, --search-strategy, --citations, --image (_magic_tools)
    (
        ("--batch",),
        {
            "metavar": "VAR",
            "help": "run the cell as a template over each item of the list / Series / DataFrame VAR "
            "({column} fields; result in _think_batch)",
        },
    ),
]


def think_arguments(func: F) -> F:
    """Declare the ``%%think`` options on ``func`` with ``magic_arguments`` and build its parser.

    The parser becomes ``func.parser``, and its help (``%%think?``, ``%think --help``) the docstring.
    """
    for flags, options in reversed(_ARGUMENTS):
        func = magic_arguments.argument(*flags, **options)(func)  # type: ignore[no-untyped-call]
    func = magic_arguments.kwds(epilog=EPILOG)(func)  # type: ignore[no-untyped-call]
    decorated: F = magic_arguments.magic_arguments(name="%think")(func)  # type: ignore[no-untyped-call]
    decorated.__doc__ = readable_help(decorated.__doc__ or "")
    return decorated


def readable_help(doc: str) -> str:
    """``magic_arguments``' help without its reST ``::`` block: a plain "Usage:" paragraph.

    IPython writes the usage as a reST literal block (for Sphinx); ``%think?`` and ``--help``
    print it raw, so readers saw a stray ``::`` line first.
    """
    if not doc.startswith("::"):
        return doc
    usage, _, rest = doc[2:].lstrip("\n").partition("\n\n")
    groups = re.findall(r"\[[^\]]*\]|\S+", " ".join(usage.split()))  # never split "[--chat NAME]"
    lines, line = [], "Usage:"
    for group in groups:
        if len(line) + 1 + len(group) > 100 and line.strip() not in ("Usage:", "Usage: %%think"):
            lines.append(line)
            line = " " * 14
        line += " " + group
    return "\n".join([*lines, line]) + f"\n\n{rest}"


@dataclass(frozen=True, slots=True)
class MagicOptions:
    """The parsed ``%%think`` line. ``None`` (or False) means "not given": defaults apply later."""

    model: str | None = None
    enable_thinking: bool | None = None
    budget: int | None = None
    effort: Effort | None = None
    preserve: bool = False
    system: str | None = None
    chat: str | None = None
    new: bool = False
    region: str | None = None
    base_url: str | None = None
    protocol: str | None = None
    dialect: str | None = None
    api_key_env: str | None = None
    timeout: float | None = None
    out: str | None = None
    bg: bool = False
    static: bool = False
    lang: str | None = None
    stream_view: bool = True
    raw: bool = False
    json: bool = False
    record: str | None = None
    replay: str | None = None
    speed: float | None = None
    compare: tuple[dict[str, Any], ...] | None = None
    batch: str | None = None
    # Resolved against the notebook in _magic_tools.extras_from.
    tools: str | None = None
    search: bool = False
    search_strategy: str | None = None
    citations: bool = False
    image: tuple[str, ...] = ()

    def given(self) -> dict[str, Any]:
        """The options that were given, for the output metadata (no secrets: keys never pass here)."""
        defaults = MagicOptions()
        shown: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value != getattr(defaults, name):
                shown[name] = redact(value) if isinstance(value, str) else value
        return shown


def parse_line(parser: argparse.ArgumentParser, line: str) -> MagicOptions:
    """Parse and check the magic's line (see the module docstring)."""
    try:
        # Shell-like quoting: --system "Answer briefly." is one value, without its quotes.
        args = parser.parse_args(shlex.split(line))
    except UsageError as exc:
        raise ConfigurationError(f"{exc} (see %%think? for the options)") from None
    except ValueError as exc:  # unbalanced quotes
        raise ConfigurationError(f"cannot split the %%think line: {exc}") from None
    if args.think and args.no_think:
        raise ConfigurationError("--think and --no-think contradict each other: pick one")
    if args.effort is not None and (args.budget is not None or args.no_think):
        other = "--budget" if args.budget is not None else "--no-think"
        raise ConfigurationError(f"--effort and {other} were both given: pick one")
    _refuse_blank_values(args)
    options = MagicOptions(
        model=args.model,
        enable_thinking=True if args.think else False if args.no_think else None,
        budget=_positive_int("--budget", args.budget),
        effort=args.effort,
        preserve=args.preserve,
        system=args.system,
        chat=args.chat,
        new=args.new,
        region=args.region,
        base_url=args.base_url,
        protocol=args.protocol,
        dialect=check_dialect(args.dialect),
        api_key_env=args.api_key_env,
        timeout=_number("--timeout", args.timeout, positive=True),
        out=_variable_name(args.out),
        bg=args.bg,
        static=args.static,
        lang=args.lang,
        stream_view=not args.no_stream_view,
        raw=args.raw,
        json=args.json,
        record=args.record,
        replay=args.replay,
        speed=_number("--speed", args.speed, positive=False),
        compare=parse_compare(args.compare),
        batch=args.batch,
        tools=args.tools,
        search=args.search,
        search_strategy=args.search_strategy,
        citations=args.citations,
        image=tuple(args.image or ()),
    )
    _check_combinations(options)
    return options


# Options whose value is text: an empty value ('' or spaces) is a mistake, never "use the default".
_TEXT_OPTIONS = {
    "model": "-m/--model", "region": "--region", "dialect": "--dialect", "system": "--system",
    "chat": "--chat", "out": "--out", "timeout": "--timeout", "budget": "--budget", "speed": "--speed",
}  # fmt: skip


def _refuse_blank_values(args: argparse.Namespace) -> None:
    if args.base_url is not None and is_blank(args.base_url):
        raise ConfigurationError("--base-url needs a URL, e.g. --base-url http://localhost:8000/v1 (or leave it out)")
    for name, flag in _TEXT_OPTIONS.items():
        value = getattr(args, name)
        if value is not None and is_blank(value):
            raise ConfigurationError(f"{flag} needs a value (got an empty one); leave the option out for the default")


def _check_combinations(options: MagicOptions) -> None:
    if options.compare is not None:
        _check_compare(options)
    extras = [flag for flag, given in (("--tools", options.tools), ("--image", options.image)) if given]
    if extras and (options.compare is not None or options.batch is not None or options.replay is not None):
        mode = "--compare" if options.compare is not None else "--batch" if options.batch is not None else "--replay"
        raise ConfigurationError(f"{extras[0]} works on a single cell or a --chat turn, not with {mode}")
    if options.new and options.chat is None:
        raise ConfigurationError("--new starts a chat over: give its name with --chat NAME")
    if options.chat is not None and not options.chat.strip():
        raise ConfigurationError("--chat needs a name, e.g. --chat review")
    if options.replay is not None:
        if options.record is not None:
            raise ConfigurationError("--record and --replay together: a replay is already a recording")
        if options.chat is not None:
            raise ConfigurationError("--replay plays a recorded answer; it cannot be a turn of --chat")
    elif options.speed is not None:
        raise ConfigurationError("--speed sets the pace of --replay FILE; add --replay or drop --speed")
    if options.bg and (options.json or not options.stream_view):
        raise ConfigurationError(
            "--bg returns before the answer exists: it cannot be combined with --json or --no-stream-view"
        )
    if options.record is not None:
        target = Path(options.record).expanduser()
        if target.is_dir() or options.record.endswith(("/", "\\")):
            raise ConfigurationError(
                f"--record {options.record} is a folder: name the file to write, "
                f"e.g. --record {target / 'answer.jsonl'}"
            )
        folder = target.resolve().parent
        if not folder.is_dir():
            raise ConfigurationError(f"--record {options.record}: the folder {folder} does not exist")
    if options.api_key_env is not None and not options.api_key_env.strip():
        raise ConfigurationError("--api-key-env needs the name of an environment variable")


def parse_compare(text: str | None) -> tuple[dict[str, Any], ...] | None:
    """``--compare qwen-plus,qwen-plus:off,qwen3.6-plus:budget=2000``: one config dict per item.

    An item is a model name, optionally followed by ``:on``, ``:off`` or ``:budget=N`` (any
    number, peeled from the right, so a model name with a colon such as ``qwen3:8b`` stays whole).
    """
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise ConfigurationError(f"--compare {text!r} has an empty item: separate the models with commas")
    if not 2 <= len(items) <= 6:
        raise ConfigurationError(f"--compare takes 2 to 6 models separated by commas, got {len(items)}")
    return tuple(_compare_item(item) for item in items)


# Words that read as a thinking setting but are not one: refused rather than kept as a model tag
# (a tag such as ``qwen3:8b`` or ``deepseek-r1:7b`` stays part of the name).
_SETTING_LOOKALIKES = {
    "think", "thinking", "no-think", "no_think", "nothink", "no-thinking", "true", "false", "yes", "no",
    "enable", "enabled", "disable", "disabled", "budget", "none",
}  # fmt: skip
_SETTINGS_HINT = "use :on, :off, :budget=N or :effort=low|medium|high"


def _compare_item(item: str) -> dict[str, Any]:
    parts = item.split(":")
    if not parts[0].strip():
        raise ConfigurationError(f"--compare item {item!r} needs a model name first, e.g. qwen-plus:off")
    if any(not part.strip() for part in parts[1:]):
        raise ConfigurationError(f"--compare item {item!r} has an empty setting after ':' ({_SETTINGS_HINT})")
    config: dict[str, Any] = {}
    while len(parts) > 1:
        option = parts[-1].strip()
        lowered = option.lower()
        if (lowered in ("on", "off") and option != lowered) or lowered in _SETTING_LOOKALIKES:
            raise ConfigurationError(f"--compare item {item!r}: unknown setting {option!r} ({_SETTINGS_HINT})")
        if option not in ("on", "off") and "=" not in option:
            break  # a model tag such as qwen3:8b
        parts.pop()
        if option in ("on", "off"):
            if config.get("enable_thinking", option == "on") != (option == "on"):
                raise ConfigurationError(f"--compare item {item!r}: :on and :off contradict each other")
            config["enable_thinking"] = option == "on"
            continue
        name, _, value = option.partition("=")
        if name.strip() == "effort":
            if value.strip() not in EFFORTS:
                raise ConfigurationError(f"--compare item {item!r}: effort is low, medium or high, not {value!r}")
            config["effort"] = value.strip()
            continue
        if name.strip() != "budget":
            raise ConfigurationError(f"--compare item {item!r}: unknown option {name!r} ({_SETTINGS_HINT})")
        config["thinking_budget"] = _positive_int(f"--compare item {item!r}: budget", value.strip())
    model = ":".join(parts).strip()
    if not model or "=" in model:
        raise ConfigurationError(f"--compare item {item!r} needs a model name first, e.g. qwen-plus:off")
    if config.get("enable_thinking") is False and "thinking_budget" in config:
        raise ConfigurationError(f"--compare item {item!r}: a budget with thinking off: pick one")
    if "effort" in config and ("thinking_budget" in config or config.get("enable_thinking") is False):
        other = "a budget" if "thinking_budget" in config else "thinking off"
        raise ConfigurationError(f"--compare item {item!r}: an effort with {other}: pick one")
    return {"model": model, **config}


def _check_compare(options: MagicOptions) -> None:
    """``--compare`` runs its own panel: the options of a single answer or a chat do not fit."""
    for flag, given in (
        ("--chat", options.chat is not None),
        ("--bg", options.bg),
        ("--record", options.record is not None),
        ("--replay", options.replay is not None),
        ("--json", options.json),
        ("-m/--model", options.model is not None),
        ("--preserve", options.preserve),
        ("--static", options.static),
        ("--no-stream-view", not options.stream_view),
        ("--dialect", options.dialect is not None),
    ):
        if given:
            raise ConfigurationError(f"--compare cannot be combined with {flag}: it shows its own side-by-side panel")


def _positive_int(flag: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(f"{flag} must be a positive integer number of tokens, got {text!r}")
    return value


def _number(flag: str, text: str | None, *, positive: bool) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 if positive else value >= 0):  # also rejects nan
        need = "a positive number" if positive else "a number >= 0"
        raise ConfigurationError(f"{flag} must be {need}, got {text!r}")
    return value


def _variable_name(name: str | None) -> str | None:
    if name is not None and (not name.isidentifier() or keyword.iskeyword(name)):
        raise ConfigurationError(f"--out {name!r} is not a valid Python variable name")
    if name is not None and hasattr(builtins, name):
        raise ConfigurationError(
            f"--out {name} would hide Python's built-in {name} in the notebook: pick another name, "
            f"e.g. --out {name}_result"
        )
    return name
