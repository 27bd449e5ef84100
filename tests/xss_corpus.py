"""XSS payloads a model (or a prompt injection through it) could put in an answer, and how to check output.

Shared by the markdown, sanitizer and view tests::

    from xss_corpus import XSS_PAYLOADS, find_dangerous

    for name, payload in XSS_PAYLOADS:
        assert find_dangerous(render(payload)) == [], name

Escaped text is not markup: an answer that *explains* XSS legitimately renders as text such as
``&lt;img src=x onerror=alert(1)&gt;``, which contains ``onerror=`` and ``javascript:``, and a link
title may quote it too. So the :data:`DANGEROUS_MARKERS` are matched against :func:`markup_only`
(tag and attribute names plus URL values, inert text and titles left out), and :func:`find_dangerous`
also checks tags, attributes and URLs structurally. A raw ``<`` can never be text in serialized
HTML, so the markers that start with ``<`` hold for the whole output as well.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

XSS_PAYLOADS: list[tuple[str, str]] = [
    ("script tag", "<script>alert(1)</script>"),
    ("img onerror", "<img src=x onerror=alert(1)>"),
    ("svg onload", "<svg onload=alert(1)>"),
    ("script inside svg", "<svg><script>alert(1)</script></svg>"),
    ("javascript link", "[x](javascript:alert(1))"),
    ("uppercase javascript link", "[x](JAVASCRIPT:alert(1))"),
    ("javascript link with tab entity", "[x](java&#x09;script:alert(1))"),
    ("javascript link with encoded colon", "[x](javascript&colon;alert(1))"),
    ("javascript link with leading space", "[x]( javascript:alert(1))"),
    ("data url link", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("vbscript link", "[x](vbscript:msgbox(1))"),
    ("javascript image", "![x](javascript:alert(1))"),
    ("tracking image", "![x](https://evil.example/track.png)"),
    ("data image", "![x](data:image/png;base64,iVBORw0KGgo=)"),
    ("iframe", '<iframe src="https://evil.example">'),
    ("style tag", "<style>body{display:none}</style>"),
    ("form", "<form action=https://evil.example><input name=a></form>"),
    ("anchor onclick", '<a href="https://ok.example" onclick="alert(1)">x</a>'),
    ("div onmouseover", "<div onmouseover=alert(1)>x</div>"),
    ("mathml xlink href", '<math><mi xlink:href="javascript:alert(1)">x</mi></math>'),
    ("mathml mutation", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"),
    ("latex href", "$\\href{javascript:alert(1)}{x}$"),
    ("latex text with tags", "$\\text{<img src=x onerror=alert(1)>}$"),
    ("bracket math with tags", "\\[\\text{</math><script>alert(1)</script>}\\]"),
    ("display math with tags", "$$\n\\text{<svg onload=alert(1)>}\n$$"),
    ("autolink javascript", "<javascript:alert(1)>"),
    ("reference link javascript", "[x][1]\n\n[1]: javascript:alert(1)"),
    ("reference image tracking", "![x][1]\n\n[1]: https://evil.example/track.png"),
    ("entities spelling a tag", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("numeric entities spelling a tag", "&#60;script&#62;alert(1)&#60;/script&#62;"),
    ("code block breakout", "```\n</code><script>alert(1)</script>\n```"),
    ("highlighted code breakout", "```html\n</code></pre><script>alert(1)</script>\n```"),
    ("fence info breakout", '```python" onmouseover="alert(1)\nx\n```'),
    ("inline code breakout", "`</code><img src=x onerror=alert(1)>`"),
    ("table cell img", "| a |\n|---|\n| <img src=x onerror=alert(1)> |"),
    ("base", '<base href="https://evil.example/">'),
    ("meta refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example">'),
    ("object", '<object data="https://evil.example/x.swf"></object>'),
    ("embed", '<embed src="https://evil.example/x.swf">'),
    ("anchor vbscript", '<a href="vbscript:msgbox(1)">x</a>'),
    ("link title breakout", '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")'),
    ("html comment", "<!-- x --><script>alert(1)</script>"),
    ("style attribute", '<p style="position:fixed;top:0">x</p>'),
]

#: Lower-case fragments that must never occur in the markup (tags) of rendered output: see the
#: module docstring for why they are matched against :func:`markup_only`, not the raw string.
DANGEROUS_MARKERS: tuple[str, ...] = (
    "<script",
    "<iframe",
    "<img",
    "<style",
    "<form",
    "<input",
    "<svg",
    "<object",
    "<embed",
    "<base",
    "<meta",
    "<link",
    "onerror=",
    "onload=",
    "onclick=",
    "onmouseover=",
    "javascript:",
    "vbscript:",
    "=data:",
    " style=",
    "srcdoc=",
    "xlink:href",
)

#: Any event-handler attribute (`` onfoo=``) inside a tag.
EVENT_HANDLER_PATTERN = re.compile(r"[\s/\"']on[a-z]+\s*=", re.IGNORECASE)

#: Elements that must never be in rendered output.
FORBIDDEN_TAGS: frozenset[str] = frozenset(
    {"script", "img", "iframe", "frame", "frameset", "style", "form", "input", "button", "textarea", "select"}
    | {"svg", "object", "embed", "applet", "base", "meta", "link", "audio", "video", "source", "picture"}
    | {"template", "noscript", "portal", "image", "use", "foreignobject", "maction", "mglyph", "malignmark"}
)

#: Attributes that must never be in rendered output (besides every ``on*`` handler).
FORBIDDEN_ATTRIBUTES: frozenset[str] = frozenset(
    {"style", "src", "srcdoc", "srcset", "action", "formaction", "background", "poster", "xlink:href", "id"}
)

SAFE_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

#: Attributes whose value is a URL (or code): their values are markup, other values are inert text.
URL_ATTRIBUTES: frozenset[str] = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "background", "poster", "content"}
)


def markup_only(rendered: str) -> str:
    """The skeleton of ``rendered``, lower-cased: ``<tag name= href=value>`` per start tag, text dropped."""
    parts = []
    for tag, attrs in _parse(rendered):
        names = [f"{name}={value if name in URL_ATTRIBUTES else ''}" for name, value in attrs]
        parts.append(f"<{' '.join([tag, *names])}>")
    return " ".join(parts).lower()


def _parse(rendered: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Collector()
    parser.feed(rendered)
    parser.close()
    return parser.tags


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _url_is_safe(url: str) -> bool:
    # What a browser does first: drop ASCII whitespace and controls, then read the scheme.
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(url)).lower()
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)
    return scheme is not None and scheme.group(1) in SAFE_URL_SCHEMES


def find_dangerous(rendered: str) -> list[str]:
    """Everything dangerous in ``rendered`` HTML, as readable findings (``[]`` when safe)."""
    findings: list[str] = []
    markup = markup_only(rendered)
    findings += [f"marker {marker!r}" for marker in DANGEROUS_MARKERS if marker in markup]
    findings += [f"raw {marker!r}" for marker in DANGEROUS_MARKERS if marker[0] == "<" and marker in rendered.lower()]
    findings += [f"event handler {m.group(0)!r}" for m in EVENT_HANDLER_PATTERN.finditer(markup)]
    for tag, attrs in _parse(rendered):
        if tag in FORBIDDEN_TAGS:
            findings.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in FORBIDDEN_ATTRIBUTES:
                findings.append(f"attribute {name} on <{tag}>")
            if name == "href" and not (tag == "a" and value is not None and _url_is_safe(value)):
                findings.append(f"href {value!r} on <{tag}>")
        if tag == "a" and dict(attrs).get("href") is not None:
            if set((dict(attrs).get("rel") or "").split()) != {"noopener", "noreferrer"}:
                findings.append("link without rel=noopener noreferrer")
            if dict(attrs).get("target") != "_blank":
                findings.append("link without target=_blank")
    return findings
