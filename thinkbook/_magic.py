"""``%%think``: ask a thinking model from a notebook cell, streamed live into a view.

``%load_ext thinkbook`` registers :class:`ThinkMagics`. One cell runs in four steps, one method
each: parse the line (:meth:`ThinkMagics._parse`), build the validated request
(:meth:`~ThinkMagics._build`), run it on the shared engine (:meth:`~ThinkMagics._start`, then
wait or return a handle), and store the outcome (:meth:`~ThinkMagics._store`). Bad input and
server errors print one ``thinkbook: ...`` line on stderr (the exception is kept in
``_think_error``); nothing is sent when the input is bad.

>>> %load_ext thinkbook  # doctest: +SKIP
>>> %%think -m qwen-plus --budget 200  # doctest: +SKIP
... 证明：存在无穷多个素数。
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.utils.text import dedent
from traitlets import Bool, CaselessStrEnum, Float, Int, Unicode

from . import _magic_lines as lines
from . import _magic_panels as panels
from ._api import _prepare, catalog_hints
from ._checks import check_api_key, is_blank
from ._conversation import Conversation
from ._endpoints import DIALECTS
from ._engine import StreamRun
from ._errors import ConfigurationError, ThinkbookError, ThinkbookWarning
from ._magic_args import MagicOptions, parse_line, think_arguments
from ._magic_lines import ChatState
from ._magic_run import Launch, MagicDisplay, Outcome, launch, view_wanted, wait
from ._magic_tools import MagicExtras, expand_line, extras_from
from ._notices import notices_to
from ._offline import replay_request
from ._protocols import protocols
from ._recordings_index import recordings
from ._replay import dump_recording, load_recording
from ._request import PreparedRequest
from ._run import ThinkHandle
from ._spellings import in_flag_words
from ._template import render_template
from ._tool_run import recorded_rounds, tool_options


@dataclass
class Plan:
    """One cell's work: the options, the request to send, and the chat turn it belongs to."""

    options: MagicOptions
    request: PreparedRequest
    prompt: str
    chat: tuple[str, ChatState] | None
    max_retries: int
    timeout: float | None


def report(error: BaseException | Warning | str, suffix: str = "", *, note: bool = False) -> None:
    """One line: ``thinkbook: <message>`` (no traceback); errors on stderr, notes on stdout.

    Notes (an offline replay, an ignored budget) go to stdout so notebooks don't paint them red.
    """
    message = " ".join((str(error) or type(error).__name__).split())
    if note or isinstance(error, ConfigurationError | Warning):  # thinkbook's own words, not a server's
        message = in_flag_words(message, "magic")
    print(f"thinkbook: {message}{suffix}", file=sys.stdout if note else sys.stderr)


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Show thinkbook's notices (an offline replay) and warnings (an ignored budget) as ``thinkbook:`` lines."""
    with warnings.catch_warnings(record=True) as caught, notices_to(lambda message: report(message, note=True)):
        warnings.simplefilter("always", ThinkbookWarning)
        try:
            yield
        finally:
            for warning in caught:
                if issubclass(warning.category, ThinkbookWarning):
                    report(warning.message, note=True)
                else:
                    warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


@magics_class
class ThinkMagics(Magics):
    """``%%think``, ``%think`` and ``%think_config``. Defaults are configurable traits:
    ``%config ThinkMagics.default_model = "qwen-plus"``, an IPython profile, or ``%think_config``.
    """

    default_model = Unicode(None, allow_none=True, help="model used when -m/--model is not given").tag(config=True)
    base_url = Unicode(None, allow_none=True, help="server URL used when --base-url is not given").tag(config=True)
    region = Unicode(None, allow_none=True, help="Bailian region used when --region is not given").tag(config=True)
    protocol = CaselessStrEnum(
        [p.name for p in protocols()], None, allow_none=True, help="wire protocol when --protocol is not given"
    ).tag(config=True)
    dialect = CaselessStrEnum(
        list(DIALECTS),
        None,
        allow_none=True,
        help="spelling of the thinking fields when --dialect is not given (bailian behind a gateway to Bailian)",
    ).tag(config=True)
    api_key_env = Unicode(
        None, allow_none=True, help="environment variable holding the key when --api-key-env is not given"
    ).tag(config=True)
    lang = CaselessStrEnum(["en", "zh"], None, allow_none=True, help="labels of the view (default: locale)").tag(
        config=True
    )
    static = Bool(False, help="always replace finished views by static HTML (like --static)").tag(config=True)
    stream_view = Bool(True, help="show the live view (False: like --no-stream-view)").tag(config=True)
    timeout = Float(None, allow_none=True, help="longest silence between two reads, seconds (default 600)").tag(
        config=True
    )
    max_retries = Int(2, help="retries before any text arrived (connection errors, 429, 5xx)").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.chats: dict[str, ChatState] = {}
        self.pending: set[str] = set()  # chats with a turn running in the background

    # --- the magics ----------------------------------------------------------------------------

    @think_arguments
    @line_cell_magic
    @no_var_expand  # expand_line does it, keeping --image {fig} a name (_magic_tools)
    def think(self, line: str, cell: str | None = None) -> ThinkHandle | None:
        """Ask a thinking model: the cell is the prompt; the reasoning and answer stream into a view.

        The cell blocks until the answer is complete (Run All, nbconvert and nbclient work); the
        kernel's interrupt button stops it and keeps the partial answer in _think. With --bg it
        returns a handle at once and the view's Stop button works. A recording plays back with
        the line magic: %think --replay FILE [--speed X].
        """
        line = expand_line(self.shell, line)
        words = line.split()
        if "-h" in words or "--help" in words:  # %%think -m qwen-plus --help over a question, too
            self._line_command("--help")
            return None
        if cell is None:
            if not words or not words[0].startswith("-"):
                self._line_command(line)
                return None
            cell = ""  # %think --replay FILE: IPython refuses a cell magic with an empty cell
        try:
            options = self._parse(line)
            if options.batch is not None:
                from .batch.magic import run_batch_cell

                run_batch_cell(self, options, cell)
                return None
            if options.compare is not None:
                self._compare(options, cell)
                return None
            plan = self._build(options, cell)
        except ThinkbookError as error:
            self._fail(error)
            return None
        except Exception as error:  # a bug of ours: still one line, the details stay in _think_error
            self._fail_unexpectedly(error)
            return None
        try:
            started = self._start(plan)
            if options.bg:
                return self._background(started)
            self._store(plan, started, wait(started))
        except Exception as error:
            self._fail_unexpectedly(error)
        return None

    @line_magic
    def think_config(self, line: str) -> None:
        """Show the %%think defaults, or set them: %think_config default_model=qwen-plus lang=zh"""
        try:
            print(lines.apply_config(self, line) if line.strip() else lines.show_config(self))
        except ConfigurationError as error:
            report(error)
        except Exception as error:
            self._fail_unexpectedly(error)

    # --- one method per step -------------------------------------------------------------------

    def _parse(self, line: str) -> MagicOptions:
        options = parse_line(_think_function().parser, line)
        hidden = getattr(self.shell, "user_ns_hidden", {})
        if options.out is not None and options.out in hidden:  # In, Out, get_ipython, exit...
            raise ConfigurationError(
                f"--out {options.out} would replace IPython's own {options.out}: pick another name"
            )
        return options

    def _build(self, options: MagicOptions, cell: str) -> Plan:
        """The validated request (nothing sent yet); every bad input fails here."""
        timeout = options.timeout or self.timeout
        if options.replay is not None:
            speed = 1.0 if options.speed is None else options.speed
            request = replay_request(load_recording(options.replay), speed)
            return Plan(options, request, cell, None, 0, timeout)
        prompt = cell if options.raw else render_template(cell, self._namespace)
        if is_blank(prompt):
            raise ConfigurationError("the cell is empty: write the question under the %%think line")
        extras = extras_from(options, self._namespace)
        if options.chat is not None:
            name, state = self._chat_turn(options, extras)
            key = self._api_key(state.api_key_env)
            with warnings_as_lines(), catalog_hints():
                request = state.conversation.prepare_turn(
                    prompt, images=extras.images or None, max_retries=self.max_retries, timeout=timeout, api_key=key
                )
            return Plan(options, request, prompt, (name, state), self.max_retries, timeout)
        with warnings_as_lines(), catalog_hints():
            request = _prepare(
                prompt,
                model=self._model(options.model),
                base_url=options.base_url or self.base_url,
                api_key=self._api_key(options.api_key_env or self.api_key_env),
                protocol=options.protocol or self.protocol,
                region=options.region or self.region,
                dialect=options.dialect or self.dialect,
                enable_thinking=options.enable_thinking,
                thinking_budget=options.budget,
                preserve_thinking=True if options.preserve else None,
                effort=options.effort,
                system=options.system,
                max_retries=self.max_retries,
                timeout=timeout,
                display=False,
                extra_body={},
                **extras.keywords(),
            )
        return Plan(options, request, prompt, None, self.max_retries, timeout)

    def _compare(self, options: MagicOptions, cell: str) -> None:
        """``--compare``: the cell goes to a ComparePanel (``_think_panel``); the cell waits for all."""
        prompt = cell if options.raw else render_template(cell, self._namespace)
        if is_blank(prompt):
            raise ConfigurationError("the cell is empty: write the question under the %%think line")
        key = self._api_key(options.api_key_env or self.api_key_env)
        panels.check_compare_columns(prompt, options, self, key)
        with warnings_as_lines():
            panel = panels.compare_panel(prompt, options, self, key)
        panels.show(panel, self._namespace, options.out)
        panels.run_to_end(panel)

    def _start(self, plan: Plan) -> Launch:
        """Start the stream (with its live view when there is one)."""
        options = plan.options
        live = None
        if view_wanted(options.stream_view and self.stream_view, options.json):
            live = self._display_for(plan)
        chat = plan.chat[0] if plan.chat is not None else None

        def finished(outcome: Outcome, run: StreamRun) -> None:  # --bg: on the engine thread, at the end
            try:
                self._keep(plan, run, outcome)
            finally:
                self.pending.discard(chat or "")

        if options.bg and chat is not None:
            self.pending.add(chat)
        try:
            return launch(
                plan.request,
                live=live,
                max_retries=plan.max_retries,
                timeout=plan.timeout,
                record=options.record is not None,
                can_stop=options.bg,
                on_end=finished if options.bg else None,
            )
        except BaseException:
            self.pending.discard(chat or "")
            raise

    def _background(self, started: Launch) -> ThinkHandle:
        """``--bg``: the handle is the cell's value (and ``_think_handle``); the outcome is kept later."""
        self._namespace["_think_handle"] = started.handle
        return started.handle

    def _store(self, plan: Plan, started: Launch, outcome: Outcome) -> None:
        """A blocking cell ended: keep the outcome, then tell the user (one line) and show it."""
        options = plan.options
        self._keep(plan, started.handle.run, outcome)
        if outcome.stopped:
            what = "partial answer kept in _think" if outcome.partial else "nothing had arrived yet"
            print(f"stopped: {what}", file=sys.stderr)
        elif outcome.error is not None:
            report(outcome.error, " (the partial answer is in _think)" if outcome.partial else "")
        if options.json:
            if outcome.latest is not None:
                print(json.dumps(outcome.latest.to_dict(), ensure_ascii=False, indent=2))
        elif started.live is None:
            self._display_for(plan).show_final(outcome.latest, error=outcome.error, stopped=outcome.stopped)

    def _keep(self, plan: Plan, run: StreamRun, outcome: Outcome) -> None:
        """Put the outcome in the namespace, the chat and the --record file (any thread)."""
        namespace = self._namespace
        options = plan.options
        if outcome.error is not None:
            namespace["_think_error"] = outcome.error
        namespace["_think"] = outcome.latest
        if options.out is not None and outcome.latest is not None:
            namespace[options.out] = outcome.latest
        if outcome.result is None:
            return
        if plan.chat is not None:
            name, state = plan.chat
            state.conversation.record_turn(plan.prompt, outcome.result)
            self.chats[name] = state
        if options.record is not None:
            self._write_recording(options.record, plan.request, run)

    def _write_recording(self, path: str, request: PreparedRequest, run: StreamRun) -> None:
        """``--record FILE``: the wire bytes of the answer, with the request body (never the key).

        A tool loop writes one file per round (``FILE``, ``FILE.round2``...), each with the request
        that round sent: an offline run of the same cell then finds every round by its history.

        Recording a replay (no key set) copies the replayed file's provenance: a copy of an
        illustrative or seed-built answer must never pass for a live one.
        """
        source = "recorded with %%think --record"
        if request.replay_source is not None:
            original = request.replay_source or request.endpoint.base_url
            source = f"copied from a replay ({original}), not a live recording"
        target = Path(os.path.expanduser(path))
        try:
            for number, recorded in enumerate(recorded_rounds(run), 1):
                # A tool loop: one file per round (FILE, then FILE's name + .round2, ...), each with the
                # request that round sent, so an offline replay finds every round by its history.
                name = target if number == 1 else target.with_name(f"{target.stem}.round{number}{target.suffix}")
                dump_recording(
                    name,
                    protocol=request.endpoint.protocol,
                    model=request.model,
                    request=recorded.request.body,
                    chunks=recorded.chunks,
                    status=recorded.status,
                    content_type=recorded.content_type or "text/event-stream",
                    source=source,
                )
        except OSError as exc:
            self._fail(ConfigurationError(f"--record {path}: could not write the recording ({exc})"))

    # --- helpers -------------------------------------------------------------------------------

    @property
    def _namespace(self) -> dict[str, Any]:
        """The notebook's variables (``shell.user_ns``)."""
        assert self.shell is not None, "ThinkMagics needs a shell"
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def _fail(self, error: ThinkbookError) -> None:
        self._namespace["_think_error"] = error
        report(error)

    def _fail_unexpectedly(self, error: Exception) -> None:
        self._namespace["_think_error"] = error
        report(
            f"unexpected {type(error).__name__}: {error}",
            " (a thinkbook bug: the exception is in _think_error; please report it)",
        )

    def _display_for(self, plan: Plan) -> MagicDisplay:
        extra: dict[str, Any] = {"magic": plan.options.given()}
        if plan.chat is not None:
            extra["chat"] = plan.chat[0]
        return MagicDisplay(
            plan.request,
            static=plan.options.static or self.static,
            lang=plan.options.lang or self.lang,
            extra=extra,
            quiet=False if plan.options.bg else None,  # (a --bg view outlives its cell: see _run._live_for)
        )

    def _model(self, given: str | None) -> str:
        model = given or self.default_model
        if not model:
            raise ConfigurationError(
                "no model: pass -m MODEL (e.g. -m qwen-plus), or set a default with %think_config default_model=..."
            )
        return model

    def _api_key(self, variable: str | None) -> str | None:
        if not variable:
            return None
        key = os.environ.get(variable)
        if not key:
            raise ConfigurationError(f"--api-key-env {variable}: the environment variable {variable} is not set")
        return check_api_key(key, variable)

    def _chat_turn(self, options: MagicOptions, extras: MagicExtras) -> tuple[str, ChatState]:
        """The chat this cell continues (or starts), with the cell's options applied.

        Options given on a turn change the chat's settings from then on. The chat is a copy until
        the turn succeeds, so a failed turn leaves the stored chat as it was.
        """
        name = options.chat
        assert name is not None
        existing = self.chats.get(name)
        if name in self.pending:
            raise ConfigurationError(
                f"chat {name!r} has a turn still running in the background: wait for it "
                "(_think_handle.result()) or cancel it first"
            )
        if existing is None or options.new:
            chat = Conversation(
                self._model(options.model),
                base_url=options.base_url or self.base_url,
                protocol=options.protocol or self.protocol,
                region=options.region or self.region,
                dialect=options.dialect or self.dialect,
                enable_thinking=options.enable_thinking,
                thinking_budget=options.budget,
                preserve_thinking=options.preserve,
                effort=options.effort,
                system=options.system,
                display=False,
                tools=extras.tools or None,
                **{k: v for k, v in extras.keywords().items() if k in ("enable_search", "search_options")},
            )
            return name, ChatState(chat, options.api_key_env or self.api_key_env)
        chat = copy.copy(existing.conversation)
        chat.messages, chat.results = list(chat.messages), list(chat.results)
        for attribute, value in (
            ("model", options.model),
            ("base_url", options.base_url),
            ("protocol", options.protocol),
            ("region", options.region),
            ("dialect", options.dialect),
            ("enable_thinking", options.enable_thinking),
            ("thinking_budget", options.budget),
            ("preserve_thinking", True if options.preserve else None),
            ("effort", options.effort),
        ):
            if value is not None:
                setattr(chat, attribute, value)
        if options.system is not None:
            chat.set_system(options.system)
        if extras.tools:  # given on a later turn: the chat may call them from now on
            chat.tools = tool_options(extras.tools).tools  # type: ignore[union-attr]
        if extras.search:
            chat.enable_search, chat.search_options = True, extras.keywords().get("search_options")
        return name, ChatState(chat, options.api_key_env or existing.api_key_env)

    def _line_command(self, line: str) -> None:
        """``%think chats | history NAME | reset NAME | models | recordings | panel [options] | --help``."""
        words = line.split()
        command, rest = (words[0], words[1:]) if words else ("--help", [])
        try:
            if command in ("-h", "--help", "help"):
                print(dedent(_think_function().__doc__ or ""))
            elif command == "chats":
                print(lines.list_chats(dict(self.chats), set(self.pending)))  # bg turns may add chats
            elif command == "history":
                print(lines.history(*lines.chat_named(self.chats, rest, "history")))
            elif command == "reset":
                name, state = lines.chat_named(self.chats, rest, "reset")
                if name in self.pending:
                    raise ConfigurationError(f"chat {name!r} has a turn running in the background: wait for it first")
                state.conversation.reset()
                print(f"chat {name!r} is empty again")
            elif command == "models":
                print(lines.catalog())
            elif command == "recordings":
                from IPython.display import display

                display(recordings())  # type: ignore[no-untyped-call]
            elif command == "panel":
                options = self._parse(line.split(None, 1)[1] if len(words) > 1 else "")
                key = self._api_key(options.api_key_env or self.api_key_env)
                with warnings_as_lines():
                    panel = panels.chat_panel(options, self, key)
                panels.show(panel, self._namespace)
            else:
                raise ConfigurationError(
                    f"unknown %think command {command!r}: use {lines.COMMANDS} (ask a question with %%think in a cell)"
                )
        except ConfigurationError as error:
            report(error)
        except ThinkbookError as error:
            self._fail(error)
        except Exception as error:
            self._fail_unexpectedly(error)


def _think_function() -> Any:
    """The decorated ``think`` function: its ``.parser`` and its help text (the docstring)."""
    return vars(ThinkMagics)["think"]


def empty_think_cell_as_line(cell_lines: list[str]) -> list[str]:
    """``%%think --help`` (or ``-h``, ``--replay FILE``...) with nothing under it runs as ``%think ...``.

    IPython refuses a cell magic whose body is empty before the magic is even called ("the cell
    body is empty"); as a line magic the same words print the help, play the replay, or get
    thinkbook's own "write the question under the %%think line".
    """
    first = next((i for i, text in enumerate(cell_lines) if text.strip()), None)
    if first is None or any(text.strip() for text in cell_lines[first + 1 :]):
        return cell_lines
    head = cell_lines[first].lstrip()
    if head.split(None, 1)[0] != "%%think":
        return cell_lines
    return [*cell_lines[:first], head[1:]]


def load_ipython_extension(ipython: Any) -> None:
    """Register :class:`ThinkMagics` with ``ipython`` (``%load_ext thinkbook``)."""
    ipython.register_magics(ThinkMagics)
    cleanup = getattr(ipython, "input_transformers_cleanup", None)
    if cleanup is not None and empty_think_cell_as_line not in cleanup:  # %reload_ext adds it once
        cleanup.append(empty_think_cell_as_line)
