"""``python -m thinkbook "prompt" --model qwen-plus``: the terminal view.

Reasoning streams dimmed to stderr, the answer to stdout (so ``> answer.md`` captures just the
answer), and a usage line ends the run on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TextIO

from ._api import catalog_hints, stream
from ._catalog import models
from ._checks import check_api_key
from ._errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    MissingAPIKeyError,
    PermissionDeniedError,
    RateLimitError,
    ThinkbookError,
    ThinkbookWarning,
    ThinkInterrupted,
)
from ._notices import notices_to
from ._protocols import protocols
from ._protocols.base import EFFORTS
from ._replay import at_recorded_pace, collect_replays
from ._spellings import in_flag_words
from ._types import AnswerDelta, AnswerWasReasoning, Done, ReasoningDelta, ThinkResult

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_RATE_LIMIT = 4
EXIT_CONNECTION = 5
EXIT_INTERRUPTED = 130

EPILOG = f"""exit codes:
  {EXIT_OK}    the model finished
  {EXIT_ERROR}    the server returned an error or the stream broke (message on stderr)
  {EXIT_USAGE}    bad options or missing API key (nothing was sent)
  {EXIT_AUTH}    authentication or permission refused (wrong key or region)
  {EXIT_RATE_LIMIT}    rate limited or out of quota
  {EXIT_CONNECTION}    could not reach the server, or it timed out
  {EXIT_INTERRUPTED}  interrupted with Ctrl-C (the partial answer was printed)

keys come from DASHSCOPE_API_KEY (Bailian), DEEPSEEK_API_KEY, OPENROUTER_API_KEY or
OPENAI_API_KEY depending on the server, each sent only to its provider's own hosts; any other
server (a gateway, a proxy) gets a key only with --api-key-env NAME. Local servers need none."""

_DIM, _RESET = "\x1b[2m", "\x1b[0m"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m thinkbook",
        description="Ask a thinking model; reasoning goes to stderr (dimmed), the answer to stdout.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", nargs="?", help="the question; '-' reads it from stdin")
    parser.add_argument("-m", "--model", help="model name, e.g. qwen-plus, deepseek-reasoner")
    thinking = parser.add_mutually_exclusive_group()
    thinking.add_argument(
        "--think", dest="enable_thinking", action="store_const", const=True, help="turn thinking on (hybrid models)"
    )
    thinking.add_argument(
        "--no-think",
        dest="enable_thinking",
        action="store_const",
        const=False,
        help="turn thinking off (hybrid models only)",
    )
    parser.add_argument("--budget", type=int, metavar="N", help="thinking_budget: max reasoning tokens")
    parser.add_argument(
        "--effort", choices=list(EFFORTS), help="how hard to think, in the provider's own terms (not with --budget)"
    )
    parser.add_argument("--preserve", action="store_true", help="send preserve_thinking: true")
    parser.add_argument("--system", help="system prompt")
    parser.add_argument("--base-url", help="server URL before /chat/completions (or .../api/v1)")
    parser.add_argument("--protocol", choices=[p.name for p in protocols()], help="wire protocol")
    parser.add_argument(
        "--dialect",
        metavar="NAME",
        help="spelling of the thinking fields: bailian, vllm, deepseek, openrouter, ollama or openai "
        "(default: from the host; bailian behind a local LiteLLM-style gateway to Bailian)",
    )
    parser.add_argument("--api-key-env", metavar="NAME", help="read the API key from this environment variable")
    parser.add_argument("--region", help="Bailian region: singapore, beijing or virginia")
    parser.add_argument("--timeout", type=float, help="longest silence tolerated, seconds")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--no-reasoning", action="store_true", help="don't print the reasoning")
    parser.add_argument("--list-models", action="store_true", help="print the model catalog")
    return parser


def _print_models(out: TextIO) -> None:
    for info in models():
        mode = (
            "thinking-only"
            if info.thinking_only
            else ("hybrid, thinks by default" if info.default_thinking else "hybrid, off by default")
        )
        extras = [name for name, flag in (("budget", info.budget), ("preserve", info.preserve)) if flag]
        out.write(f"{info.name:40} {info.family:9} {mode:26} {' '.join(extras)}\n")


def usage_line(result: ThinkResult, replay_speed: float | None = None) -> str:
    """One human line: tokens by kind, time to first token, thinking time, speed.

    A replay's timings are told at the recording's pace and say so (``replay_speed``: its speed).
    """
    parts = []
    usage = result.usage
    if usage is not None:
        parts.append(f"input {usage.prompt_tokens if usage.prompt_tokens is not None else '?'}")
        if usage.cached_tokens:
            parts.append(f"cached {usage.cached_tokens}")
        if usage.reasoning_tokens is not None:
            parts.append(f"reasoning {usage.reasoning_tokens}")
        if usage.answer_tokens is not None:
            parts.append(f"answer {usage.answer_tokens}")
        elif usage.completion_tokens is not None:
            parts.append(f"output {usage.completion_tokens}")
        if usage.total_tokens is not None:
            parts.append(f"total {usage.total_tokens}")
    else:
        parts.append("usage not reported")
    t = result.timings if replay_speed is None else at_recorded_pace(result.timings, replay_speed)
    if t.time_to_first_token is not None:
        parts.append(f"first token {t.time_to_first_token:.2f}s")
    if t.thinking_seconds:
        parts.append(f"thought {t.thinking_seconds:.1f}s")
    if t.total_seconds is not None:
        parts.append(f"total {t.total_seconds:.1f}s")
    if t.tokens_per_second:
        parts.append(f"{t.tokens_per_second:.0f} tok/s")
    if replay_speed is not None:
        parts.append("timings as recorded" if replay_speed > 0 else "replayed without pauses: no timings")
    return "tokens: " + ", ".join(parts)


def _exit_code(error: ThinkbookError) -> int:
    if isinstance(error, ConfigurationError):
        return EXIT_USAGE
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return EXIT_AUTH
    if isinstance(error, RateLimitError):
        return EXIT_RATE_LIMIT
    if isinstance(error, APIConnectionError):
        return EXIT_CONNECTION
    return EXIT_ERROR


def _one_line(error: BaseException) -> str:
    return _one_line_text(str(error) or type(error).__name__)


def _one_line_text(text: str) -> str:
    return " ".join(text.split())


def _in_cli_words(error: ThinkbookError) -> str:
    """The error's line in the CLI's words: its flags, and a missing key said the shell's way."""
    text = _one_line(error)
    if not isinstance(error, ConfigurationError):
        return text  # a server's message is quoted as the server wrote it
    text = in_flag_words(text, "cli")
    variable = error.variable if isinstance(error, MissingAPIKeyError) else None
    if not variable:
        return text
    hint = "(or --api-key-env NAME to read the key from another variable)"
    text = text.replace(" (or --api-key-env NAME)", "")
    said = f"set the {variable} environment variable"
    if said in text:
        return text.replace(said, f"export {variable}=... {hint}", 1)
    return f"{text}; in a shell: export {variable}=... {hint}"


def _read_key(variable: str | None) -> str | None:
    if variable is None:
        return None
    if not variable.strip():
        raise ConfigurationError("--api-key-env needs the name of an environment variable")
    key = os.environ.get(variable)
    if not key:
        raise ConfigurationError(f"--api-key-env {variable}: the environment variable {variable} is not set")
    return check_api_key(key, variable)


def _read_prompt(argument: str) -> str:
    if argument != "-":
        return argument
    try:
        return sys.stdin.read()
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"the prompt on stdin is not valid UTF-8 (byte {exc.start}): convert it first, e.g. with iconv"
        ) from None


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    if args.list_models:
        _print_models(out)
        return EXIT_OK
    if args.prompt is None or not args.model:
        err.write("error: a prompt and --model are required (see --help)\n")
        return EXIT_USAGE

    def note(text: str) -> None:
        err.write(f"note: {in_flag_words(_one_line_text(text), 'cli')}\n")

    # Notices (an offline replay) and thinkbook's warnings are both one plain "note:" line on stderr.
    # catalog_hints: a model thinkbook does not know gets a note saying where it goes.
    with warnings.catch_warnings(record=True) as caught, notices_to(note), catalog_hints():
        warnings.simplefilter("always", ThinkbookWarning)

        def say_notes() -> None:
            """thinkbook's warnings (a key not sent, a budget left out) as ``note:`` lines, as they happen."""
            for warning in caught:
                if issubclass(warning.category, ThinkbookWarning):
                    note(str(warning.message))
                else:
                    warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            caught.clear()

        try:
            return _run(args, out, err, say_notes)
        except Exception as error:  # a bug of ours: still one line, never a traceback
            message = f"unexpected {type(error).__name__}: {_one_line(error)} (a thinkbook bug; please report it)"
            err.write(f"error: {message}\n")
            return EXIT_ERROR
        finally:
            say_notes()


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, say_notes: Callable[[], None]) -> int:
    color = err.isatty() and "NO_COLOR" not in os.environ
    show_reasoning = not (args.json or args.no_reasoning)
    result: ThinkResult | None = None
    answer_started = False
    played = collect_replays()
    try:
        events = stream(
            _read_prompt(args.prompt),
            model=args.model,
            base_url=args.base_url,
            api_key=_read_key(args.api_key_env),
            protocol=args.protocol,
            region=args.region,
            dialect=args.dialect,
            enable_thinking=args.enable_thinking,
            thinking_budget=args.budget,
            effort=args.effort,
            preserve_thinking=True if args.preserve else None,
            system=args.system,
            timeout=args.timeout,
        )
        say_notes()
        for event in events:
            match event:
                case ReasoningDelta(text) if show_reasoning:
                    err.write(f"{_DIM}{text}{_RESET}" if color else text)
                    err.flush()
                case AnswerWasReasoning(text) if show_reasoning:
                    err.write("\n[the text above was reasoning]\n")
                case AnswerDelta(text) if not args.json:
                    if not answer_started and show_reasoning:
                        err.write("\n\n")
                    answer_started = True
                    out.write(text)
                    out.flush()
                case Done(final):
                    result = final
    except ThinkInterrupted as stop:
        err.write("\n[interrupted]\n")
        if args.json and stop.partial is not None:
            out.write(json.dumps(stop.partial.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return EXIT_INTERRUPTED
    except ThinkbookError as error:
        if answer_started:
            out.write("\n")
        if error.partial is not None and show_reasoning:
            err.write("\n")  # end the streamed text before the error line
        err.write(f"error: {_in_cli_words(error)}\n")
        if args.json and error.partial is not None:
            out.write(json.dumps(error.partial.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return _exit_code(error)
    assert result is not None
    if args.json:
        out.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write("\n")
        err.write(usage_line(result, played[-1] if played else None) + "\n")
    return EXIT_OK
