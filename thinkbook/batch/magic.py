"""``%%think --batch VAR``: the cell is a template run over every item of ``VAR``.

``VAR`` is a list, a pandas Series or a DataFrame in the notebook. Each item fills the cell's
``{fields}``: a DataFrame row's columns (``{question}``), a dict item's keys, or ``{item}`` for a
plain value (``{index}`` is the item's label). Other ``{names}`` still read notebook variables.
The rows run through :func:`thinkbook.batch` with the cell's options (``-m``, ``--think`` /
``--no-think``, ``--budget``, ``--system``, ``--region``, ``--base-url``...); the
:class:`BatchResult` goes to ``_think_batch`` (and ``--out VAR``). Small runs (up to 50 rows) show
the grid of answers; the kernel's interrupt button keeps the finished rows in ``_think_batch``.
"""

from __future__ import annotations

import sys
from collections import ChainMap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError
from .._template import render_template
from .grid import MAX_ROWS
from .result import BatchInterrupted
from .runner import batch

if TYPE_CHECKING:
    from .._magic import ThinkMagics
    from .._magic_args import MagicOptions

__all__ = ["item_fields", "run_batch_cell"]

_REFUSED = ("chat", "bg", "record", "replay", "json", "compare", "new")


def item_fields(items: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """(labels, fields) for every item of a list, a Series or a DataFrame."""
    kind = type(items).__name__
    if kind == "DataFrame" and hasattr(items, "iterrows"):
        labels, fields = [], []
        for label, row in items.iterrows():
            labels.append(label)
            fields.append({"index": label, **{str(k): v for k, v in row.items()}})
        return labels, fields
    if kind == "Series" and hasattr(items, "items"):
        pairs = list(items.items())
    elif isinstance(items, str | bytes | Mapping) or not hasattr(items, "__iter__"):
        raise ConfigurationError(
            f"--batch needs a list, a pandas Series or a DataFrame, got {kind}: e.g. questions = ['...', '...']"
        )
    else:
        pairs = list(enumerate(items))
    labels = [label for label, _ in pairs]
    fields = [
        {"index": label, **({str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {"item": value})}
        for label, value in pairs
    ]
    return labels, fields


def _check(options: MagicOptions) -> None:
    for name in _REFUSED:
        value = getattr(options, name)
        if value not in (None, False):
            flag = "--" + name.replace("_", "-")
            raise ConfigurationError(f"--batch cannot be combined with {flag}: a batch runs every item once, in order")


def run_batch_cell(magics: ThinkMagics, options: MagicOptions, cell: str) -> None:
    """Build every row's prompt from the template (nothing is sent on a bad one), then run them."""
    _check(options)
    namespace = magics._namespace
    name = options.batch
    assert name is not None
    if name not in namespace:
        raise ConfigurationError(f"--batch {name}: there is no notebook variable {name!r}")
    _labels, fields = item_fields(namespace[name])
    if not fields:
        raise ConfigurationError(f"--batch {name} is empty: there is nothing to run")
    if options.raw:
        prompts: list[str] = [cell] * len(fields)
    else:
        prompts = [render_template(cell, ChainMap(dict(item), namespace)) for item in fields]
    prompt_input: Any = prompts
    if type(namespace[name]).__name__ in ("Series", "DataFrame"):
        import pandas as pd  # type: ignore[import-untyped]

        prompt_input = pd.Series(prompts, index=namespace[name].index)
    settings: dict[str, Any] = {
        "base_url": options.base_url or magics.base_url,
        "api_key": magics._api_key(options.api_key_env or magics.api_key_env),
        "protocol": options.protocol or magics.protocol,
        "region": options.region or magics.region,
        "dialect": options.dialect or magics.dialect,
        "enable_thinking": options.enable_thinking,
        "thinking_budget": options.budget,
        "preserve_thinking": True if options.preserve else None,
        "system": options.system,
        "timeout": options.timeout or magics.timeout,
    }
    settings = {key: value for key, value in settings.items() if value is not None}
    try:
        result = batch(
            prompt_input,
            model=magics._model(options.model),
            display="rows" if len(prompts) <= MAX_ROWS else None,
            **settings,
        )
    except BatchInterrupted as stopped:
        result = stopped.result
        print(
            f"thinkbook: batch interrupted; the finished rows are in _think_batch ({result.summary()})", file=sys.stderr
        )
    namespace["_think_batch"] = result
    if options.out is not None:
        namespace[options.out] = result
    if len(prompts) > MAX_ROWS:
        print(result.summary())
