"""Cell templates of %%think: {var} substitution, {{ }} braces, lookups only, clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from thinkbook import ConfigurationError
from thinkbook._template import render_template


class Box:
    def __init__(self) -> None:
        self.label = "boxed"

    @property
    def broken(self) -> str:
        raise RuntimeError("boom")


NAMESPACE: dict[str, Any] = {
    "code": "def f():\n    return {'a': 1}",
    "n": 3,
    "box": Box(),
    "d": {"key": "value", "0": "string zero"},
    "items": ["first", "second"],
    "_": "last output",
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("no fields at all", "no fields at all"),
        ("{code}", "def f():\n    return {'a': 1}"),  # inserted braces are not parsed again
        ("n = {n}", "n = 3"),
        ("{{literal}} and {{ }}", "{literal} and { }"),
        ("{{{n}}}", "{3}"),
        ("{box.label}", "boxed"),
        ("{d[key]}", "value"),
        ("{items[1]}", "second"),  # [1] is an index, as in str.format
        ("{_}", "last output"),  # IPython's underscore variables work
        ("/no_think 你好", "/no_think 你好"),
        ("", ""),
    ],
)
def test_substitution(template: str, expected: str) -> None:
    assert render_template(template, NAMESPACE) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("why {missing}?", "no notebook variable named 'missing'"),
        ("{n!r}", "no !conversions or :format specs"),
        ("{n:>10}", "no !conversions or :format specs"),
        ("{}", "not a variable name"),
        ("{0}", "not a variable name"),
        ("{box.__class__}", "dunder attributes"),
        ("{box.nothing}", "Box has no attribute 'nothing'"),
        ("{box.broken}", "reading .broken failed"),
        ("{d[nokey]}", "cannot look up [nokey]"),
        ("{items[5]}", "cannot look up [5]"),
        ("{items[0]x}", "only .attribute and [key] lookups"),
        ("dict(a={1})", "not a variable name"),
        ("a { b", "not a valid template"),
        ("a } b", "not a valid template"),
    ],
)
def test_errors_name_the_field_and_say_what_to_do(template: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        render_template(template, NAMESPACE)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text  # one line


def test_unknown_name_error_says_how_to_write_braces() -> None:
    with pytest.raises(ConfigurationError, match=r"write \{\{ and \}\} for literal braces, or use --raw"):
        render_template("{code} and {json_blob}", NAMESPACE)


def test_values_are_inserted_with_str() -> None:
    class Shown:
        def __str__(self) -> str:
            return "shown"

    assert render_template("{x}", {"x": Shown()}) == "shown"


def test_no_method_calls() -> None:
    # A method is an attribute: it is looked up but never called (str() of a bound method).
    text = render_template("{s.upper}", {"s": "abc"})
    assert text.startswith("<built-in method upper")


# --- a template reaches only what the cell names -----------------------------------------------


def test_private_attribute_chain_to_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import sys

    monkeypatch.setenv("DASHSCOPE_API_KEY", "tbk_9fQ2xL7vR4mN8pW3zT6y")

    class Shell:  # IPython's `exit` holds the shell as ._ip, which reaches the modules
        _orig_sys_modules_main_mod = sys.modules[__name__]

    class Exit:
        _ip = Shell()

    monkeypatch.setattr(sys.modules[__name__], "os", os, raising=False)
    template = "{exit._ip._orig_sys_modules_main_mod.os.environ[DASHSCOPE_API_KEY]}"
    with pytest.raises(ConfigurationError) as caught:
        render_template(template, {"exit": Exit()})
    text = str(caught.value)
    assert "tbk_" not in text
    assert "private attributes (starting with '_') are not looked up" in text
    assert "value = exit._ip" in text and "{value}" in text  # says what to write instead


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{box._private}", "private attributes (starting with '_') are not looked up"),
        ("{box.label._x}", "value = box.label._x"),
        ("{box.__dict__}", "dunder attributes (starting with '_') are not looked up"),
        ("{json.codecs}", "json.codecs is a module, and templates do not follow modules; import codecs"),
        ("{sysmod.modules[os]}", "sysmod.modules[os] is a module"),
    ],
)
def test_refused_lookups_say_what_to_write(template: str, message: str) -> None:
    import json
    import sys

    with pytest.raises(ConfigurationError) as caught:
        render_template(template, {**NAMESPACE, "json": json, "sysmod": sys})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_module_the_cell_names_is_read() -> None:
    import os

    assert render_template("{os.sep}", {"os": os}) == os.sep


def test_lookup_never_creates_a_key() -> None:
    from collections import Counter, defaultdict

    counts: defaultdict[str, list[int]] = defaultdict(list, {"seen": [1]})
    tally = Counter({"a": 2})
    assert render_template("{d[seen]} {c[a]}", {"d": counts, "c": tally}) == "[1] 2"
    for template in ("{d[typo]}", "{c[typo]}"):
        with pytest.raises(ConfigurationError, match=r"there is no key 'typo'"):
            render_template(template, {"d": counts, "c": tally})
    assert dict(counts) == {"seen": [1]} and dict(tally) == {"a": 2}


def test_dict_like_objects_without_mapping_registration_are_checked_too() -> None:
    class Lazy:  # creates entries on first access, like defaultdict, but is no Mapping
        def __init__(self) -> None:
            self.data: dict[str, str] = {}

        def keys(self) -> list[str]:
            return list(self.data)

        def __contains__(self, key: object) -> bool:
            return key in self.data

        def __getitem__(self, key: str) -> str:
            return self.data.setdefault(key, "made up")

    lazy = Lazy()
    with pytest.raises(ConfigurationError, match="no key 'x'"):
        render_template("{lazy[x]}", {"lazy": lazy})
    assert lazy.data == {}
