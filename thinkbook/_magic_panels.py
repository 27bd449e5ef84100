"""The magic's panels: ``%think panel`` (a ChatPanel) and ``%%think --compare`` (a ComparePanel).

The options come parsed and checked (:mod:`thinkbook._magic_args`); the magic's defaults
(``%think_config``) fill what the line leaves out. The API key is read from the environment by
the magic and handed to the panel, which keeps it private (never in a synced trait). The panel is
displayed and kept in ``_think_panel``. The widget stack is imported only here, when a panel is
asked for.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from typing import TYPE_CHECKING, Any

from ._display import in_notebook
from ._errors import ConfigurationError, ThinkbookError, ThinkbookWarning
from ._magic_args import MagicOptions
from ._magic_run import SETTLE_SECONDS, WAKE_SECONDS

if TYPE_CHECKING:
    from ._chat_panel import ChatPanel
    from ._compare_panel import ComparePanel

# What ``%think panel`` takes (the rest of the %%think options belong to one answer or a chat turn).
PANEL_OPTIONS = {
    "model", "region", "base_url", "api_key_env", "system", "protocol", "lang", "enable_thinking", "budget",
    "preserve", "timeout", "effort",
}  # fmt: skip


def chat_panel(options: MagicOptions, defaults: Any, api_key: str | None) -> ChatPanel:
    """The ChatPanel of ``%think panel ...`` (``defaults``: the magic, for its configured defaults)."""
    extra = sorted(set(options.given()) - PANEL_OPTIONS)
    if extra:
        flags = ", ".join("--" + name.replace("_", "-") for name in extra)
        raise ConfigurationError(
            f"%think panel takes -m, --region, --base-url, --api-key-env, --system (and --think, --no-think, "
            f"--budget, --effort, --preserve, --protocol, --lang, --timeout), not {flags}"
        )
    from ._chat_panel import ChatPanel

    return ChatPanel(
        options.model or defaults.default_model or "qwen-plus",
        base_url=options.base_url or defaults.base_url,
        api_key=api_key,
        protocol=options.protocol or defaults.protocol,
        region=options.region or defaults.region,
        enable_thinking=options.enable_thinking,
        thinking_budget=options.budget,
        effort=options.effort,
        preserve_thinking=options.preserve,
        system=options.system,
        lang=options.lang or defaults.lang,
        max_retries=defaults.max_retries,
        timeout=options.timeout or defaults.timeout,
    )


def compare_configs(options: MagicOptions) -> list[dict[str, Any]]:
    """One config per ``--compare`` item; the line's --think / --no-think / --budget / --effort fill the gaps."""
    assert options.compare is not None
    configs = []
    for item in options.compare:
        config = dict(item)
        if "effort" in config:
            pass  # the item's own level: nothing of the line's thinking options applies
        elif "enable_thinking" not in config and "thinking_budget" not in config:
            if options.enable_thinking is not None:
                config["enable_thinking"] = options.enable_thinking
            if options.budget is not None and options.enable_thinking is not False:
                config["thinking_budget"] = options.budget
            if options.effort is not None:
                config["effort"] = options.effort
        elif "thinking_budget" not in config and config.get("enable_thinking"):
            if options.budget is not None:
                config["thinking_budget"] = options.budget
            elif options.effort is not None:
                config["effort"] = options.effort
        configs.append(config)
    return configs


def check_compare_columns(prompt: str, options: MagicOptions, defaults: Any, api_key: str | None) -> None:
    """Refuse the whole ``--compare`` cell when one of its columns could not be sent.

    Each column is prepared exactly as the panel will prepare it, quietly (its notes are said once,
    by the panel); the first failure becomes one ConfigurationError, before anything is sent.
    """
    from ._api import _prepare
    from ._offline import collected_replay_notes

    for config in compare_configs(options):
        try:
            with warnings.catch_warnings(), collected_replay_notes():
                warnings.simplefilter("ignore", ThinkbookWarning)
                _prepare(
                    prompt, model=config["model"], base_url=options.base_url or defaults.base_url, api_key=api_key,
                    protocol=options.protocol or defaults.protocol, region=options.region or defaults.region,
                    enable_thinking=config.get("enable_thinking"), thinking_budget=config.get("thinking_budget"),
                    effort=config.get("effort"), preserve_thinking=None, system=options.system,
                    max_retries=defaults.max_retries, timeout=options.timeout or defaults.timeout, display=False,
                    extra_body={},
                )  # fmt: skip
        except ThinkbookError as error:
            raise ConfigurationError(f"--compare item {config['model']!r}: {error}; nothing was sent") from None


def compare_panel(prompt: str, options: MagicOptions, defaults: Any, api_key: str | None) -> ComparePanel:
    """The ComparePanel of ``%%think --compare ...``, not started yet."""
    from ._compare_panel import ComparePanel

    return ComparePanel(
        prompt,
        compare_configs(options),
        base_url=options.base_url or defaults.base_url,
        api_key=api_key,
        protocol=options.protocol or defaults.protocol,
        region=options.region or defaults.region,
        system=options.system,
        max_retries=defaults.max_retries,
        timeout=options.timeout or defaults.timeout,
        lang=options.lang or defaults.lang,
        start=False,
    )


def show(panel: Any, namespace: dict[str, Any], out: str | None = None) -> None:
    """Display ``panel`` and keep it in ``_think_panel`` (and ``out``, for ``--out VAR``)."""
    from IPython.display import display

    namespace["_think_panel"] = panel
    if out is not None:
        namespace[out] = panel
    display(panel)  # type: ignore[no-untyped-call]


def run_to_end(panel: ComparePanel) -> None:
    """Start the columns and block until every one ends; the kernel's interrupt button stops them all.

    Outside a notebook (no widgets to look at) the summary is printed as a markdown table.
    """
    panel.start()
    try:
        _wait_for_all(panel)
    finally:
        if not in_notebook():
            print(panel.to_markdown())


def _wait_for_all(panel: ComparePanel) -> None:
    while True:
        try:
            panel.wait(WAKE_SECONDS)
        except TimeoutError:
            continue
        except KeyboardInterrupt:
            panel.stop()
            with contextlib.suppress(KeyboardInterrupt, TimeoutError):  # a second press while it settles
                panel.wait(SETTLE_SECONDS)
            print("stopped: the partial answers are in _think_panel.results", file=sys.stderr)
        return
