"""Bailian web search options, sources and citations (thinkbook/_search.py)."""

from __future__ import annotations

import pytest

from thinkbook import ConfigurationError
from thinkbook._search import SearchResult, link_citations, parse_search_results, search_fields, sources_markdown

SOURCES = parse_search_results(
    [
        {"index": 1, "title": "杭州天气", "url": "https://weather.example.cn/hz", "site_name": "天气网", "icon": ""},
        {"index": 2, "title": "Evil", "url": "javascript:alert(1)", "site_name": "x"},
        {"title": "No index", "url": "http://example.org/3"},
        "junk",
    ]
)


def test_search_fields_for_each_way_of_asking() -> None:
    assert search_fields(None) == {}
    assert search_fields(False) == {"enable_search": False}
    assert search_fields(True) == {"enable_search": True}
    assert search_fields(True, strategy="max", citations=True) == {
        "enable_search": True,
        "search_options": {
            "search_strategy": "max",
            "enable_citation": True,
            "citation_format": "[<number>]",
            "enable_source": True,
        },
    }
    # Options alone mean search is wanted.
    assert search_fields(None, {"forced_search": True}) == {
        "enable_search": True,
        "search_options": {"forced_search": True},
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        ((True, {"search_strategy": "deep"}), {}, "unknown search_strategy 'deep': use one of turbo, max, agent"),
        ((True, {"citation_format": "<1>"}), {}, "unknown citation_format"),
        ((True, {"forced": True}), {}, "unknown search option 'forced'"),
        ((True, {"forced_search": "yes"}), {}, "has the wrong type"),
        ((False, {"forced_search": True}), {}, "enable_search=False"),
        (("yes",), {}, "enable_search must be True, False or None"),
    ],
)
def test_bad_search_options_are_refused(args: tuple, kwargs: dict, fragment: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigurationError, match=fragment):
        search_fields(*args, **kwargs)


def test_sources_keep_only_safe_urls_and_fill_missing_indexes() -> None:
    assert [s.index for s in SOURCES] == [1, 2, 3]
    assert SOURCES[1].url == "" and SOURCES[0].url == "https://weather.example.cn/hz"
    assert parse_search_results({"not": "a list"}) == []


def test_citations_become_links_outside_code() -> None:
    answer = "今天晴[1]，明天雨[ref_1]。Unsafe [2], unknown [9].\n\n`a[1]` and\n```\nx = y[1]\n```\nafter [1]"
    linked = link_citations(answer, SOURCES)
    assert linked.startswith(
        "今天晴[&#91;1&#93;](https://weather.example.cn/hz)，明天雨[&#91;1&#93;](https://weather.example.cn/hz)"
    )
    assert "Unsafe [2], unknown [9]" in linked  # no safe URL / no such source: left alone
    assert "`a[1]`" in linked and "x = y[1]\n" in linked  # code is never touched
    assert linked.endswith("after [&#91;1&#93;](https://weather.example.cn/hz)")
    assert link_citations("already [1](https://x.example)", SOURCES) == "already [1](https://x.example)"


def test_sources_list_is_markdown_with_escaped_titles() -> None:
    text = sources_markdown([*SOURCES, SearchResult(4, "a [b] c", "https://e.example/")])
    assert text.splitlines() == [
        "1. [杭州天气](https://weather.example.cn/hz) · 天气网",
        "2. Evil · x",
        "3. [No index](http://example.org/3)",
        "4. [a \\[b\\] c](https://e.example/)",
    ]
