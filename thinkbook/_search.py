"""Bailian web search (联网搜索): the request options, the sources a stream returns, citations as links.

Request: ``enable_search: true`` plus ``search_options`` (``forced_search``, ``search_strategy``
turbo | max | agent | agent_max, ``enable_source``, ``enable_citation``, ``citation_format``
``"[<number>]"`` | ``"[ref_<number>]"``, ``prepend_search_result``). The OpenAI-compatible
protocol takes them top-level, the native one inside ``parameters``: each protocol module places
the fields :func:`search_fields` returns.

Sources come only on the native protocol: ``output.search_info.search_results`` (``index``,
``title``, ``url``, ``site_name``, ``icon``) in the first packet; ``usage.plugins.search.count``
says how many searches ran. The answer cites them as ``[1]`` or ``[ref_1]``; :func:`link_citations`
turns those into links to their source (only ``http(s)`` URLs: a source is server text, untrusted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import ConfigurationError
from ._markdown import is_safe_url
from ._notices import notice
from ._types import SearchResult

__all__ = [
    "CITATION_FORMATS",
    "SEARCH_STRATEGIES",
    "SearchResult",
    "link_citations",
    "note_no_sources",
    "parse_search_results",
    "search_fields",
    "sources_markdown",
]

SEARCH_STRATEGIES = ("turbo", "max", "agent", "agent_max")
CITATION_FORMATS = ("[<number>]", "[ref_<number>]")
_OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "forced_search": bool,
    "search_strategy": str,
    "enable_source": bool,
    "enable_citation": bool,
    "citation_format": str,
    "prepend_search_result": bool,
    "enable_search_extension": bool,
    "freshness": int,
    "assigned_site_list": list,
    "intention_options": dict,
}


def search_fields(
    enable_search: bool | None,
    search_options: Mapping[str, Any] | None = None,
    *,
    strategy: str | None = None,
    citations: bool | None = None,
) -> dict[str, Any]:
    """The body fields for a search wish, checked (empty when search is not asked for).

    ``strategy`` and ``citations`` are the magic's ``--search-strategy`` / ``--citations``
    shortcuts, merged into ``search_options``. Citations need sources, so asking for them turns
    ``enable_source`` on.
    """
    if enable_search is not None and not isinstance(enable_search, bool):
        raise ConfigurationError(f"enable_search must be True, False or None, got {enable_search!r:.40}")
    if search_options is not None and not isinstance(search_options, Mapping):
        raise ConfigurationError("search_options must be a dict, e.g. {'search_strategy': 'max'}")
    options: dict[str, Any] = dict(search_options or {})
    if strategy is not None:
        options["search_strategy"] = strategy
    if citations:
        options.setdefault("enable_citation", True)
        options.setdefault("citation_format", "[<number>]")
    if options.get("enable_citation"):
        options.setdefault("enable_source", True)
    if not enable_search:
        if options and enable_search is False:
            raise ConfigurationError("search options were given with enable_search=False: drop one of them")
        if options:
            enable_search = True  # asking how to search is asking to search
        else:
            return {"enable_search": False} if enable_search is False else {}
    for key, value in options.items():
        expected = _OPTION_TYPES.get(key)
        if expected is None:
            known = ", ".join(sorted(_OPTION_TYPES))
            raise ConfigurationError(f"unknown search option {key!r}: Bailian's search_options are {known}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigurationError(f"search option {key!r} has the wrong type ({type(value).__name__})")
    if options.get("search_strategy", "turbo") not in SEARCH_STRATEGIES:
        raise ConfigurationError(
            f"unknown search_strategy {options['search_strategy']!r}: use one of {', '.join(SEARCH_STRATEGIES)}"
        )
    if options.get("citation_format", CITATION_FORMATS[0]) not in CITATION_FORMATS:
        raise ConfigurationError(
            f"unknown citation_format {options['citation_format']!r}: use {CITATION_FORMATS[0]!r} or "
            f"{CITATION_FORMATS[1]!r}"
        )
    fields: dict[str, Any] = {"enable_search": True}
    if options:
        fields["search_options"] = options
    return fields


_said_no_sources: set[str] = set()


def note_no_sources(protocol: str) -> None:
    """Said once per protocol: its web search answers without the sources it used."""
    if protocol in _said_no_sources:
        return
    _said_no_sources.add(protocol)
    notice(
        f"web search on protocol={protocol!r} (OpenAI-compatible) answers without its sources: thinkbook cannot show "
        "or link them. Bailian's native protocol returns them: protocol='dashscope' (base URL ending in /api/v1)",
        topic=("search sources", protocol),
    )


def _safe_url(url: object) -> str:
    """The URL when the renderer would link it and it is http(s); else "" (a source is server text)."""
    if not isinstance(url, str):
        return ""
    url = url.strip()
    if not is_safe_url(url) or not url.lower().startswith(("https://", "http://")) or any(c in '<>"' for c in url):
        return ""
    return url


def parse_search_results(raw: object) -> list[SearchResult]:
    """``search_info.search_results`` (a list of dicts) as :class:`SearchResult` s; junk skipped."""
    if not isinstance(raw, list):
        return []
    results = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            continue
        index = item.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            index = position
        results.append(
            SearchResult(
                index=index,
                title=str(item.get("title") or "").strip(),
                url=_safe_url(item.get("url")),
                site_name=str(item.get("site_name") or "").strip(),
                icon=_safe_url(item.get("icon")),
            )
        )
    return results


_CITATION = re.compile(r"\[(?:ref_)?(\d{1,4})\](?!\()")
_FENCE = re.compile(r"^(?:```|~~~)", re.MULTILINE)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)


def _escape_label(text: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", text)


def link_citations(answer: str, results: Iterable[SearchResult]) -> str:
    """``[1]`` / ``[ref_1]`` in markdown become links to source 1 (outside code); unknown
    numbers, and sources without a safe URL, stay as they are."""
    urls = {result.index: result.url for result in results if result.url}
    if not urls or "[" not in answer:
        return answer

    def link(match: re.Match[str]) -> str:
        url = urls.get(int(match.group(1)))
        # Brackets as entities: "\\[1\\]" would be TeX display math to the renderer.
        return f"[&#91;{match.group(1)}&#93;]({url})" if url else match.group(0)

    def outside_code(text: str) -> str:
        pieces, last = [], 0
        for span in _CODE_SPAN.finditer(text):
            pieces.append(_CITATION.sub(link, text[last : span.start()]))
            pieces.append(span.group(0))
            last = span.end()
        pieces.append(_CITATION.sub(link, text[last:]))
        return "".join(pieces)

    # Fenced blocks alternate with prose: every odd segment between fence lines is code.
    segments = _FENCE.split(answer)
    fences = _FENCE.findall(answer)
    out = [outside_code(segments[0])]
    for number, (fence, segment) in enumerate(zip(fences, segments[1:], strict=True)):
        out.append(fence + (segment if number % 2 == 0 else outside_code(segment)))
    return "".join(out)


def sources_markdown(results: Iterable[SearchResult]) -> str:
    """A numbered markdown list of the sources (title linked when its URL is safe)."""
    lines = []
    for result in results:
        title = _escape_label(result.title or result.site_name or result.url or f"source {result.index}")
        site = f" · {_escape_label(result.site_name)}" if result.site_name and result.site_name != result.title else ""
        label = f"[{title}]({result.url})" if result.url else title
        lines.append(f"{result.index}. {label}{site}")
    return "\n".join(lines)
