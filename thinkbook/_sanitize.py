"""The HTML sanitizer: the last gate between model output and ``innerHTML``.

Model output is untrusted. The widget's JavaScript sets ``innerHTML`` from what Python sends, and
Jupyter does not sanitize it, so script there would run in the Jupyter origin (which can drive the
kernel). Everything the markdown renderer produces passes through :func:`sanitize_html`, which
keeps only what is on the explicit allow-lists below: tags, attributes per tag, class values per tag
and URL schemes. The renderer already escapes raw HTML (``html=False``) and refuses unsafe URLs;
this is the second, independent line of defence, so a renderer or plugin bug cannot become XSS.

Deliberately absent: ``img`` (a remote image is a tracking and exfiltration channel: the renderer
turns images into links), ``style`` (tags and attributes: CSS can overlay or hide the page),
``id`` (DOM clobbering), ``iframe``/``script``/``form``/``svg``/``object``/``embed``, event
handlers, and every URL scheme but http, https and mailto (relative URLs are dropped too: they
would resolve against the Jupyter server).

>>> sanitize_html('<a href="https://example.org" onclick="x()">ok</a><img src=x onerror=y>')
'<a href="https://example.org" target="_blank" rel="noopener noreferrer">ok</a>'
"""

from __future__ import annotations

import html
import re

import nh3
from pygments.lexers import get_all_lexers  # type: ignore[import-untyped]
from pygments.token import STANDARD_TYPES  # type: ignore[import-untyped]

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_CLASSES",
    "ALLOWED_TAGS",
    "ALLOWED_URL_SCHEMES",
    "MATHML_ATTRIBUTES",
    "MATHML_TAGS",
    "escape_text",
    "sanitize_html",
]

#: Block and inline elements that CommonMark + GFM tables/strikethrough produce, plus our wrappers.
HTML_TAGS: frozenset[str] = frozenset(
    {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre"}
    | {"blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "span", "div"}
)

#: The MathML presentation elements latex2mathml emits (no ``maction``, ``semantics`` links or ``href``).
MATHML_TAGS: frozenset[str] = frozenset(
    {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub"}
    | {"msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd"}
    | {"mstyle", "mpadded", "mphantom", "menclose", "merror"}
)

#: Presentational MathML attributes, allowed on every MathML element. ``mathcolor`` and
#: ``mathbackground`` are left out: model-chosen colours can hide text (white on white).
MATHML_ATTRIBUTES: frozenset[str] = frozenset(
    {"display", "displaystyle", "scriptlevel", "mathvariant", "mathsize", "stretchy", "fence", "separator"}
    | {"form", "lspace", "rspace", "accent", "accentunder", "movablelimits", "largeop", "symmetric"}
    | {"minsize", "maxsize", "notation", "width", "height", "depth", "voffset", "linethickness"}
    | {"columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame", "encoding"}
)

ALLOWED_TAGS: frozenset[str] = HTML_TAGS | MATHML_TAGS

#: Attributes per tag, besides ``class`` (see :data:`ALLOWED_CLASSES`). ``a`` gets ``target`` and
#: ``rel`` forced by the cleaner, so they are not accepted from the input.
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "ol": frozenset({"start"}),
    **{tag: MATHML_ATTRIBUTES for tag in MATHML_TAGS},
}

ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

#: Pygments' short token classes (``k``, ``nf``, ``s2``...), as ``HtmlFormatter`` writes them.
PYGMENTS_CLASSES: frozenset[str] = frozenset(name for name in STANDARD_TYPES.values() if name)

#: ``language-<alias>`` for every language Pygments knows: the only languages we highlight.
LANGUAGE_CLASSES: frozenset[str] = frozenset(
    f"language-{alias}"
    for _name, aliases, _files, _mimes in get_all_lexers(plugins=False)
    for alias in aliases
    if re.fullmatch(r"[a-z0-9_+#.-]+", alias)
)

#: Class values per tag. Classes are restricted too, because model text that picked its own classes
#: could borrow JupyterLab's CSS to imitate or cover the notebook's own interface.
ALLOWED_CLASSES: dict[str, frozenset[str]] = {
    "span": PYGMENTS_CLASSES,
    "code": LANGUAGE_CLASSES | {"tb-math-error"},
    "pre": frozenset({"tb-code"}),
    "div": frozenset({"tb-math-block", "tb-table"}),
    "a": frozenset({"tb-image-link"}),
    "th": frozenset({"tb-align-left", "tb-align-center", "tb-align-right"}),
    "td": frozenset({"tb-align-left", "tb-align-center", "tb-align-right"}),
}

# Elements whose *content* goes too, not just the tags: their text is code or markup, never prose.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "svg", "template", "noscript", "noembed", "noframes"}
    | {"textarea", "select", "title", "xmp"}
)

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    url_relative="deny",  # a relative href would point into the Jupyter server itself
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Return ``html`` with everything outside the allow-lists removed (safe for ``innerHTML``).

    >>> sanitize_html("<p onclick=x()>hi<script>alert(1)</script></p>")
    '<p>hi</p>'
    """
    return _CLEANER.clean(html)


def escape_text(text: str) -> str:
    """Escape plain text for HTML (text nodes and quoted attributes), e.g. for fallbacks.

    >>> escape_text('<b title="x">&')
    '&lt;b title=&quot;x&quot;&gt;&amp;'
    """
    return html.escape(text, quote=True)
