"""Cell templates for ``%%think``: ``{name}`` inserts a notebook variable, ``{{`` / ``}}`` are braces.

The rules are those of :meth:`str.format` field names, restricted to lookups:

* ``{code}`` is the variable ``code`` of the notebook (``shell.user_ns``), turned into text with
  ``str()``;
* ``{obj.attr}`` and ``{d[key]}`` / ``{items[0]}`` look up an attribute or an item (``[0]`` is an
  integer index, ``[key]`` a string key, exactly as in ``str.format``);
* ``{{`` and ``}}`` are a literal ``{`` and ``}``.

Nothing else runs: format specs (``{x:>10}``), conversions (``{x!r}``), positional fields
(``{}``, ``{0}``) are errors, so a template can only read values, never call methods. A template
reaches only what the cell names, so a pasted prompt with braces cannot wander off to the key in
``os.environ``:

* attributes that start with ``_`` (private and dunder: ``{exit._ip}``, ``{x.__class__}``) are
  not looked up;
* a lookup that lands on a module (``{json.codecs}``, ``{sys.modules[os]}``) is refused: a
  module the cell means is imported into a variable and named directly (``{os.sep}``);
* ``[key]`` on a mapping never creates the key (a ``defaultdict`` or ``Counter`` stays as it was).

Inserted values are not themselves templates (a ``{`` inside ``code`` stays as it is).
``%%think --raw`` skips all of this and sends the cell as written.

>>> render_template("Explain {name}: {{braces}}", {"name": "x"})
'Explain x: {braces}'
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ._errors import ConfigurationError

_HINT = "write {{ and }} for literal braces, or use --raw to send the cell as written"


def render_template(text: str, namespace: Mapping[str, Any]) -> str:
    """Fill ``{name}`` fields of ``text`` from ``namespace``; a ConfigurationError names any problem."""
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:  # "Single '}' encountered", "unmatched '{'", ...
        raise ConfigurationError(f"the cell is not a valid template ({exc}): {_HINT}") from None
    out: list[str] = []
    for literal, field, spec, conversion in pieces:
        out.append(literal)
        if field is None:
            continue
        shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if conversion or spec:
            raise ConfigurationError(
                f"{shown} in the cell: templates only insert variables (no !conversions or :format specs); {_HINT}"
            )
        out.append(str(lookup_field(field, namespace)))
    return "".join(out)


def lookup_field(field: str, namespace: Mapping[str, Any]) -> Any:
    """The value of one field name such as ``code``, ``obj.attr``, ``d[key]`` or ``items[0]``."""
    shown = "{" + field + "}"
    first = _NAME.match(field)
    name = first.group() if first else ""
    if not name.isidentifier():
        raise ConfigurationError(f"{shown} in the cell is not a variable name; {_HINT}")
    if name not in namespace:
        raise ConfigurationError(f"{shown} in the cell: there is no notebook variable named {name!r}; {_HINT}")
    value = namespace[name]
    position = len(name)
    while position < len(field):
        step = _STEP.match(field, position)
        if step is None:
            raise ConfigurationError(f"{shown} in the cell: only .attribute and [key] lookups are allowed; {_HINT}")
        position = step.end()
        attribute, key = step.group(1), step.group(2)
        if attribute is not None:
            value = _attribute(value, attribute, shown, field[:position])
        else:
            value = _item(value, key, shown)
        if isinstance(value, ModuleType):
            raise ConfigurationError(
                f"{shown} in the cell: {field[:position]} is a module, and templates do not follow "
                f"modules; import {value.__name__} in a cell and name it directly "
                f"({{{value.__name__.rpartition('.')[2]}.<attribute>}})"
            )
    return value


_NAME = re.compile(r"[^.\[]*")
_STEP = re.compile(r"\.([^.\[]+)|\[([^\]]+)\]")  # .attr, or [key] (str.format's own rules)


def _attribute(value: Any, attribute: str, shown: str, path: str) -> Any:
    if attribute.startswith("_"):
        kind = "dunder" if attribute.startswith("__") else "private"
        raise ConfigurationError(
            f"{shown} in the cell: {kind} attributes (starting with '_') are not looked up; if you "
            f"mean it, put it in a variable first (value = {path}) and write {{value}}, or write "
            "{{ and }} for literal braces"
        )
    try:
        return getattr(value, attribute)
    except AttributeError:
        raise ConfigurationError(
            f"{shown} in the cell: {type(value).__name__} has no attribute {attribute!r}"
        ) from None
    except Exception as exc:  # a property that raised
        raise ConfigurationError(f"{shown} in the cell: reading .{attribute} failed ({exc!r})") from None


def _is_mapping(value: Any) -> bool:
    """A dict-like object: ``[key]`` on it must check the key first (``__missing__`` may insert it)."""
    kind = type(value)
    return isinstance(value, Mapping) or (hasattr(kind, "keys") and hasattr(kind, "__contains__"))


def _item(value: Any, key: str, shown: str) -> Any:
    index: int | str = int(key) if key.isdigit() else key  # as str.format: [0] is an index
    try:
        if _is_mapping(value) and index not in value:
            # Checked with `in`, never by indexing: a defaultdict would create the key.
            raise ConfigurationError(
                f"{shown} in the cell: cannot look up [{key}] (there is no key {index!r}; "
                f"the keys are written without quotes, e.g. {{name[key]}})"
            )
        return value[index]
    except ConfigurationError:
        raise
    except Exception as exc:  # KeyError, IndexError, TypeError, or a __getitem__ that raised
        raise ConfigurationError(f"{shown} in the cell: cannot look up [{key}] ({exc!r})") from None
