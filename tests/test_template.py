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
