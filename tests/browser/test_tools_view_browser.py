"""A tool loop's timeline in a real JupyterLab + chromium: cards, the Run button, sources, thumbnails.

The notebook builds a ThinkView and pushes a scripted tool-loop event sequence into it (no server:
``ThinkView.push`` / ``flush`` / ``end``, as the engine and the view worker would): round 1's
reasoning and a sentence, a ``get_weather`` call that runs, a call with hostile strings that waits
for approval (``view.approval``). The cell ends there; a thread waits for the click, and the test
clicks Run in the page: the kernel, idle now, receives it and the thread streams round 2 and the
answer, then ends the view with the loop's result (rounds, web sources). The test checks the
timeline's order, the escaping, the citation link and the thumbnail, takes
``notebooks/img/tools-timeline.png`` (light theme, the weather card opened) and
``tests/browser/output/tools-timeline-dark.png``, and measures the cards' text contrast in both themes.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from test_themes_browser import _MEASURE_JS, THEMES, _set_theme

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "notebooks" / "img" / "tools-timeline.png"
OUTPUT_DIR = Path(__file__).resolve().parent / "output"

HOSTILE_NAME = "<img src=x onerror=window.__xss=1>"
HOSTILE_ARG = "<script>window.__xss=2</script>"

CELL = r"""
import io, threading, time
from dataclasses import replace
from PIL import Image, ImageDraw
from IPython.display import display
from thinkbook._view import ThinkView
from thinkbook._types import (AnswerDelta, Done, ReasoningDelta, Round, SearchResult, ThinkResult, Timings,
    ToolCall, ToolCallFinished, ToolCallStarted, Usage, UsageUpdate)

figure = Image.new("RGB", (640, 400), (250, 250, 250))
pen = ImageDraw.Draw(figure)
for x, h in enumerate([120, 200, 160, 300, 240]):
    pen.rectangle([60 + x * 110, 380 - h, 140 + x * 110, 380], fill=(40, 110, 200))
buffer = io.BytesIO(); figure.save(buffer, format="PNG")

view = ThinkView(model="qwen3-max", enable_thinking=True, lang="en", images=[buffer.getvalue()])
display(view)
view.begin()

def step(*events, pause=0.03):
    view.push(list(events)); view.flush(); time.sleep(pause)

R1 = "The user asks what to wear in Paris today. I should check the weather first, then the chart. "
R2 = "18 °C and light rain: a light waterproof jacket. The chart's fourth bar is the highest."
SAID = "Let me check the weather first."
ANSWER = ("Wear a **light waterproof jacket**: it is 18 °C with light rain in Paris [1]. "
          "The tallest bar is the fourth [ref_2].")
weather = ToolCall(id="c1", name="get_weather", arguments={"city": "Paris", "unit": "celsius"})
odd = ToolCall(id="c2", name=HOSTILE_NAME, arguments={"query": HOSTILE_ARG})
for i in range(0, len(R1), 6):
    step(ReasoningDelta(R1[i:i + 6]))
step(AnswerDelta(SAID))
step(UsageUpdate(Usage(120, 60, 180, 40, 0)))
step(ToolCallStarted(weather), ToolCallStarted(odd))
time.sleep(0.4)
weather.result = {"temp_c": 18, "sky": "light rain", "wind_kmh": 12}
weather.seconds = 0.31
step(ToolCallFinished(weather))
answer = view.approval(odd)

def rest():
    if answer.result(timeout=120):
        odd.result = "<b>not bold</b> " + "x" * 6000
        odd.seconds = 0.02
    else:
        odd.error = "the user declined this call"; odd.seconds = 0.0
    step(ToolCallFinished(odd))
    for i in range(0, len(R2), 6):
        step(ReasoningDelta(R2[i:i + 6]))
    for i in range(0, len(ANSWER), 8):
        step(AnswerDelta(ANSWER[i:i + 8]))
    sources = [SearchResult(1, "Paris weather today", "https://weather.example/paris", "Weather Example"),
               SearchResult(2, "Reading bar charts", "https://charts.example/bars", "Charts")]
    result = ThinkResult(
        reasoning=R1 + "\n\n" + R2, answer=ANSWER, model="qwen3-max", finish_reason="stop",
        usage=Usage(300, 140, 440, 90, 0),
        timings=Timings(time_to_first_reasoning=0.3, thinking_seconds=2.4, total_seconds=4.0, tokens_per_second=40.0),
        tool_calls=[weather, odd], search_results=sources,
        rounds=[Round(R1, SAID, [weather, odd], Usage(120, 60, 180, 40, 0)),
                Round(R2, ANSWER, [], Usage(180, 80, 260, 50, 0))],
    )
    step(UsageUpdate(result.usage), Done(result))
    view.end(result)

threading.Thread(target=rest, daemon=True).start()
print("WAITING FOR APPROVAL")
""".replace("HOSTILE_NAME", repr(HOSTILE_NAME)).replace("HOSTILE_ARG", repr(HOSTILE_ARG))

# The timeline's children in order, as "kind:text" (reasoning folds by their data-tb hook).
_ORDER_JS = """() => [...document.querySelector('.tb-view .tb-tl').children].map((n) =>
  n.dataset.tb === 'tool' ? 'tool:' + n.querySelector('.tb-tool-name').textContent
  : n.classList.contains('tb-say') ? 'say:' + n.textContent.trim() : n.dataset.tb)"""

ELEMENTS = [
    ("tool summary", '[data-tb="tool"] > summary', 3.0),
    ("tool name", '[data-tb="tool"] .tb-tool-name', 4.5),
    ("tool text", '[data-tb="tool"] pre', 4.5),
    ("tool status", '[data-tb="tool"] .tb-tool-st', 3.0),
    ("answer", '[data-tb="answer"] p', 4.5),
    ("sources", '[data-tb="sources"] a', 3.0),
]


def test_tool_loop_timeline_with_approval_sources_and_thumbnail(lab: Any) -> None:
    page = lab.run_notebook([CELL])
    assert "WAITING FOR APPROVAL" in lab.output_text(page, 0)
    view = page.locator(".tb-view").first
    cards = view.locator('[data-tb="tool"]')
    run = view.locator('[data-tb="run"]')
    run.wait_for(state="visible", timeout=30_000)
    assert cards.count() == 2
    # The hostile call is text: its name and arguments are shown, never parsed.
    assert cards.nth(1).locator(".tb-tool-name").inner_text() == HOSTILE_NAME
    assert HOSTILE_ARG in cards.nth(1).locator("pre").first.inner_text()
    assert cards.nth(1).locator(".tb-tool-st").inner_text() == "waiting for approval"
    assert cards.nth(0).evaluate("e => !e.open")  # done: folded
    run.click()

    view.locator('[data-tb="status"]').filter(has_text="done").wait_for(timeout=60_000)
    view.locator('[data-tb="sources"] a').first.wait_for(state="visible", timeout=30_000)
    assert page.evaluate(_ORDER_JS) == [
        "reasoning",
        "say:Let me check the weather first.",
        "tool:get_weather",
        f"tool:{HOSTILE_NAME}",
        "reasoning-more",
    ]
    assert cards.nth(1).locator(".tb-tool-st").inner_text().startswith("✓")
    assert cards.nth(1).locator(".tb-more").last.text_content() == "2,016 more characters"  # 4,000 of 6,016 shown
    assert page.evaluate("() => window.__xss") is None
    assert view.locator(".tb-tl img, .tb-tl script, .tb-tl b").count() == 0
    link = view.locator('[data-tb="answer"] a').first
    assert link.get_attribute("href") == "https://weather.example/paris"
    thumb = view.locator('[data-tb="images"] img')
    assert thumb.count() == 1
    assert thumb.evaluate("i => i.complete && i.naturalWidth") == 192  # scaled down by Pillow in the kernel
    assert thumb.evaluate("i => i.getBoundingClientRect().height") <= 98.5  # 96 px and its border
    assert "Tokens: input 300" in view.locator('[data-tb="counters"]').inner_text()

    # Open the weather card for the picture.
    cards.nth(0).locator("summary").click()
    page.mouse.move(0, 0)
    measured: dict[str, Any] = {}
    failures: list[str] = []
    try:
        for key, theme in THEMES.items():
            _set_theme(page, theme)
            view.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            result = page.evaluate(_MEASURE_JS, [".tb-view", [[label, sel] for label, sel, _ in ELEMENTS]])
            measured[key] = result
            for label, selector, minimum in ELEMENTS:
                found = result["elements"][label]
                if not found:
                    failures.append(f"{theme}: no {label} ({selector})")
                for item in found:
                    if item["ratio"] < minimum:
                        failures.append(
                            f"{theme}: {label} {item['text']!r} {item['fg']} on {item['bg']}: {item['ratio']:.2f}"
                        )
            if key == "dark":
                failures += [f"{theme}: light box {box}" for box in result["boxes"] if box["luminance"] >= 0.2]
            box = view.bounding_box()
            assert box is not None
            clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}
            target = SCREENSHOT if key == "light" else OUTPUT_DIR / "tools-timeline-dark.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), clip=clip)
    finally:
        OUTPUT_DIR.mkdir(exist_ok=True)
        (OUTPUT_DIR / "tools-timeline-contrast.json").write_text(json.dumps(measured, indent=1))
        with contextlib.suppress(Exception):
            _set_theme(page, THEMES["light"])
    assert not failures, "\n".join(failures)
    assert lab.page_errors == [] and lab.dialogs == []
