"""The ``%%think`` options for tools, web search and images: names resolved in the notebook.

``--tools get_weather,query_db`` names callables (or OpenAI-format tool dicts) in the notebook's
namespace: only what the user defined and named runs, never a name the model made up.
``--search`` (with ``--search-strategy`` and ``--citations``) turns on Bailian's web search;
``--image PATH`` (repeatable) attaches a file, an ``http(s)`` URL, or ``{fig}``: a notebook
variable holding a matplotlib figure, a PIL image or bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigurationError
from ._search import SEARCH_STRATEGIES, search_fields

__all__ = ["ARGUMENTS", "MagicExtras", "expand_line", "extras_from"]

ARGUMENTS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("--tools",),
        {"metavar": "F1,F2", "help": "Python functions (or tool dicts) in the notebook the model may call"},
    ),
    (("--search",), {"action": "store_true", "help": "Bailian web search (sources: use --protocol dashscope)"}),
    (
        ("--search-strategy",),
        {"choices": list(SEARCH_STRATEGIES), "help": "how hard to search (implies --search)"},
    ),
    (("--citations",), {"action": "store_true", "help": "cite the search sources as [1], [2]... (implies --search)"}),
    (
        ("--image",),
        {
            "metavar": "PATH",
            "action": "append",
            "help": "an image for a vision model: a file, an http(s) URL or {var} (a figure); repeatable",
        },
    ),
]

_VARIABLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# "--image {fig}" in the line: kept as written, so the figure object (not its str) is what is sent.
_IMAGE_VARIABLE = re.compile(r"(--image(?:=|\s+))\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HELD = "\x00tbimage{}\x00"


def expand_line(_tb_shell: Any, _tb_line: str) -> str:
    """IPython's ``$var`` / ``{expr}`` expansion of a magic line, except ``--image {var}``.

    The magic is declared ``no_var_expand`` so that this runs instead of IPython's own: an image
    named ``{fig}`` must reach thinkbook as the name of the figure, not as ``"Figure(640x480)"``.
    (The odd local names: IPython's expansion also sees this function's locals.)
    """
    _tb_names = [match.group(2) for match in _IMAGE_VARIABLE.finditer(_tb_line)]
    _tb_count = iter(range(len(_tb_names)))
    _tb_text = _IMAGE_VARIABLE.sub(lambda match: match.group(1) + _HELD.format(next(_tb_count)), _tb_line)
    if _tb_shell is not None:
        _tb_text = _tb_shell.var_expand(_tb_text, 0)
    for _tb_index, _tb_name in enumerate(_tb_names):
        _tb_text = _tb_text.replace(_HELD.format(_tb_index), "{" + _tb_name + "}", 1)
    return str(_tb_text)


@dataclass(frozen=True, slots=True)
class MagicExtras:
    """What the tool, search and image options resolved to, as :func:`thinkbook.think` keywords."""

    tools: tuple[Any, ...] = ()
    search: Mapping[str, Any] | None = None
    images: tuple[Any, ...] = ()

    def keywords(self) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        if self.tools:
            shown["tools"] = list(self.tools)
        if self.search:
            shown["enable_search"] = True
            if self.search.get("search_options"):
                shown["search_options"] = dict(self.search["search_options"])
        if self.images:
            shown["images"] = list(self.images)
        return shown

    def __bool__(self) -> bool:
        return bool(self.tools or self.search or self.images)


def _tools(text: str | None, namespace: Mapping[str, Any]) -> tuple[Any, ...]:
    if text is None:
        return ()
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise ConfigurationError(f"--tools takes names separated by commas, got {text!r}")
    found = []
    for name in names:
        if name not in namespace:
            raise ConfigurationError(
                f"--tools: no {name!r} in this notebook: define the function first (def {name}(...): ...)"
            )
        tool = namespace[name]
        if not callable(tool) and not isinstance(tool, Mapping):
            raise ConfigurationError(
                f"--tools: {name!r} is a {type(tool).__name__}, not a function or an OpenAI-format tool dict"
            )
        found.append(tool)
    return tuple(found)


def _images(items: list[str] | None, namespace: Mapping[str, Any]) -> tuple[Any, ...]:
    images = []
    for item in items or []:
        match = _VARIABLE.match(item.strip())
        if match is None:
            images.append(item.strip())  # a path or a URL: thinkbook._images checks it
            continue
        name = match.group(1)
        if name not in namespace:
            raise ConfigurationError(f"--image {item}: no variable {name!r} in this notebook")
        images.append(namespace[name])
    return tuple(images)


def extras_from(args: Any, namespace: Mapping[str, Any]) -> MagicExtras:
    """The parsed options (``args`` from the magic's parser) resolved against ``namespace``."""
    strategy = getattr(args, "search_strategy", None)
    citations = bool(getattr(args, "citations", False))
    wants_search = bool(getattr(args, "search", False)) or strategy is not None or citations
    search = search_fields(True, None, strategy=strategy, citations=citations) if wants_search else None
    return MagicExtras(
        tools=_tools(getattr(args, "tools", None), namespace),
        search=search,
        images=_images(getattr(args, "image", None), namespace),
    )
