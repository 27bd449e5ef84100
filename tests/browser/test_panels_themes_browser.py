"""ChatPanel and ComparePanel stay readable in JupyterLab's Light and Dark themes, and the compare
columns stack on a narrow page (real JupyterLab + chromium).

The notebook's kernel runs a ``thinkbook.testing.LoopbackServer``: a finished ComparePanel (two
columns and its summary table, one column marked fastest and cheapest) and a ChatPanel with one
finished turn. For each theme (switched as in ``test_themes_browser.py``) the test measures, in
the page, the WCAG 2 contrast of the computed text colour against the effective background of the
panels' text and controls: column titles, answers, the summary table (caption, headers, cells,
badges, buttons), the user's message, the controls' labels, select, buttons, note and totals.
Normal text needs 4.5, muted text (notes, totals, labels) 3. In the dark theme nothing in the
panels may paint a light box. Then the page is narrowed to 560 px: the two columns must stack
(one below the other, each as wide as the grid) and come back side by side at 1400 px.
Screenshots: ``tests/browser/output/panels-theme-light.png``, ``panels-theme-dark.png`` and
``panels-narrow.png``; the measurements in ``panels-theme-contrast.json``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from test_themes_browser import _MEASURE_JS, THEMES, _set_theme

pytestmark = pytest.mark.browser

OUTPUT_DIR = Path(__file__).resolve().parent / "output"

SETUP = """\
from thinkbook.testing import LoopbackServer, ScriptedResponse
from thinkbook import set_price
from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import ComparePanel

USAGE = {"prompt_tokens": 10, "completion_tokens": 30, "total_tokens": 40,
         "completion_tokens_details": {"reasoning_tokens": 20}}

def respond(request):
    model = request.json()["model"]
    word, delay = {"model-a": ("alpha", 0.01), "model-b": ("beta", 0.05)}[model]
    events = [{"choices": [{"delta": {"reasoning_content": f"{word} thinks step {i}. "}}]} for i in range(4)]
    events += [{"choices": [{"delta": {"content": f"**{word}** answer with `code` and text. "}}]}]
    events += [{"choices": [{"delta": {}, "finish_reason": "stop"}]}, {"choices": [], "usage": USAGE}]
    return ScriptedResponse.from_sse(events, delay=delay)

server = LoopbackServer(respond).start()
url = server.url + "/v1"
set_price("model-a", input=1.0, output=2.0)
set_price("model-b", input=3.0, output=4.0)
"""

COMPARE = """\
compare = ComparePanel("Compare", ["model-a", {"model": "model-b", "enable_thinking": False}],
                       base_url=url, api_key="sk-test", lang="en", finalize="widget")
display(compare)
_ = compare.wait(30)
"""

CHAT = """\
chat = ChatPanel("model-a", base_url=url, api_key="sk-test", lang="en")
display(chat)
chat.send("What is the answer?")
_ = chat.wait(30)
"""

# (label, selector inside the panel, minimum contrast): normal text 4.5 (WCAG AA), muted text 3.
COMPARE_ELEMENTS: list[tuple[str, str, float]] = [
    ("column title", '[data-tb="col-label"]', 4.5),
    ("answer", '[data-tb="answer"] p', 4.5),
    ("counters", '[data-tb="counters"]', 3.0),
    ("summary caption", '[data-tb="summary"] caption', 4.5),
    ("summary header", '[data-tb="summary"] thead th', 4.5),
    ("summary cell", '[data-tb="summary"] tbody :is(th, td)', 4.5),
    ("badge", '[data-tb="fastest"], [data-tb="cheapest"]', 4.5),
    ("summary button", ".tb-compare-summary .tb-btn", 4.5),
]
CHAT_ELEMENTS: list[tuple[str, str, float]] = [
    ("user message", '[data-tb="user"] .tb-user-text', 4.5),
    ("user label", '[data-tb="user"] .tb-who', 3.0),
    ("answer", '[data-tb="answer"] p', 4.5),
    ("control label", ".tb-chat-controls label", 3.0),
    ("settings summary", ".tb-chat-controls .tb-settings > summary", 3.0),
    ("model select", ".tb-chat-controls select", 4.5),
    ("button", ".tb-chat-controls .tb-btn", 4.5),
    ("totals", '[data-tb="totals"]', 3.0),
]
# The live chat panel (its saved transcript, hidden next to it, is another .tb-chat).
PANELS = {"compare": (".tb-compare", COMPARE_ELEMENTS), "chat": (".jupyter-widgets.tb-chat", CHAT_ELEMENTS)}

_COLUMNS_JS = """() => [...document.querySelectorAll('.tb-compare .tb-compare-col')].map((e) => {
  const r = e.getBoundingClientRect(), g = e.parentElement.getBoundingClientRect();
  return { left: r.left, top: r.top, bottom: r.bottom, width: r.width, grid: g.width };
})"""


def _check(theme: str, result: dict[str, Any], elements: list[tuple[str, str, float]], failures: list[str]) -> None:
    for label, selector, minimum in elements:
        found = result["elements"][label]
        if not found:
            failures.append(f"{theme}: no {label} ({selector}) with text in the panel")
        for item in found:
            if item["ratio"] < minimum:
                failures.append(
                    f"{theme}: {label} {item['text']!r} {item['fg']} on {item['bg']} "
                    f"has contrast {item['ratio']:.2f} < {minimum}"
                )


def test_panels_are_readable_in_light_and_dark_themes_and_stack_when_narrow(lab: Any) -> None:
    page = lab.run_notebook([SETUP, COMPARE, CHAT])
    page.locator('.tb-compare [data-tb="summary"]').wait_for(state="visible", timeout=60_000)
    # Finished turns and columns settle into their static rendering (no status line; counters).
    page.locator('.jupyter-widgets.tb-chat .tb-turn .tb-static [data-tb="counters"]').first.wait_for(timeout=60_000)
    page.locator('.tb-compare .tb-static [data-tb="counters"]').nth(1).wait_for(timeout=60_000)
    assert lab.page_errors == []

    measured: dict[str, Any] = {}
    failures: list[str] = []
    try:
        for key, theme in THEMES.items():
            _set_theme(page, theme)
            page.mouse.move(0, 0)  # no hover styles
            for name, (root, elements) in PANELS.items():
                panel = page.locator(root).first
                panel.scroll_into_view_if_needed()
                page.wait_for_timeout(200)
                result = page.evaluate(_MEASURE_JS, [root, [[label, sel] for label, sel, _ in elements]])
                assert result is not None, f"no {root} in the page"
                measured[f"{key}/{name}"] = result
                _check(f"{theme} {name}", result, elements, failures)
                if key == "dark":
                    if result["view"]["luminance"] >= 0.2:
                        failures.append(f"{theme} {name}: the panel sits on a light background {result['view']}")
                    light = [box for box in result["boxes"] if box["luminance"] >= 0.2]
                    failures += [f"{theme} {name}: light box {box}" for box in light]
                panel.screenshot(path=str(OUTPUT_DIR / f"panels-theme-{key}-{name}.png"))
            page.screenshot(path=str(OUTPUT_DIR / f"panels-theme-{key}.png"))
    finally:
        OUTPUT_DIR.mkdir(exist_ok=True)
        (OUTPUT_DIR / "panels-theme-contrast.json").write_text(json.dumps(measured, indent=1))
        with contextlib.suppress(Exception):  # leave the server's theme light for the other tests
            _set_theme(page, THEMES["light"])
    for key, result in measured.items():
        for label, found in result["elements"].items():
            print(key, label, [(i["text"], i["fg"], i["bg"], round(i["ratio"], 2)) for i in found])
    assert not failures, "\n".join(failures)

    # Narrow output: the columns stack, each taking the grid's width; wide: side by side again.
    compare = page.locator(".tb-compare").first
    page.set_viewport_size({"width": 560, "height": 900})
    page.wait_for_timeout(500)
    compare.scroll_into_view_if_needed()
    narrow = page.evaluate(_COLUMNS_JS)
    compare.screenshot(path=str(OUTPUT_DIR / "panels-narrow.png"))
    assert len(narrow) == 2, narrow
    first, second = narrow
    assert second["top"] >= first["bottom"] - 1, f"columns not stacked at 560 px: {narrow}"
    assert abs(first["left"] - second["left"]) < 2 and first["width"] >= 0.95 * first["grid"], narrow
    page.set_viewport_size({"width": 1400, "height": 900})
    page.wait_for_timeout(500)
    wide = page.evaluate(_COLUMNS_JS)
    assert abs(wide[0]["top"] - wide[1]["top"]) < 2 and wide[1]["left"] > wide[0]["left"], f"not side by side: {wide}"
    assert lab.page_errors == []
