"""ThinkView stays readable in JupyterLab's Light and Dark themes (real JupyterLab + chromium).

A finished view (from ``ThinkView.from_result``, no network) is rendered once; the test then switches
the theme (``apputils:change-theme`` through ``window.jupyterapp`` when the app is exposed, else
Settings > Theme), opens the reasoning fold and measures, in the page, the WCAG 2 contrast ratio of
the computed text ``color`` against the effective background (the first ancestor-or-self whose
``background-color`` is not transparent, semi-transparent layers composited down to an opaque one).
In the dark theme the view must also sit on a dark background and contain no light box.
Screenshots: ``tests/browser/output/theme-light.png`` and ``theme-dark.png``.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

OUTPUT_DIR = Path(__file__).resolve().parent / "output"

ANSWER = "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\ndef f(x):\n    return x ** 2\n```\n\n$x^2$"
REASONING = "First square x, then check the table. Squaring is x times x."

CELL = (
    "import thinkbook\n"
    "thinkbook.ThinkView.from_result(thinkbook.ThinkResult(\n"
    f"    reasoning={REASONING!r},\n"
    f"    answer={ANSWER!r},\n"
    "    usage=thinkbook.Usage(10, 30, 40, 20, 0),\n"
    '    finish_reason="stop",\n'
    '    model="qwen-plus",\n'
    "))"
)

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}

# (label, selector inside .tb-view, minimum contrast or None): normal text 4.5 (WCAG AA), muted text 3.
ELEMENTS: list[tuple[str, str, float | None]] = [
    ("answer", '[data-tb="answer"] p, [data-tb="answer"] h1', 4.5),
    ("answer table cell", '[data-tb="answer"] td', 4.5),
    ("summary", '[data-tb="reasoning"] > summary', 3.0),
    ("counters", '[data-tb="counters"]', 3.0),
    ("reasoning text", '[data-tb="reasoning"] > :not(summary)', 3.0),
    ("keyword", '[data-tb="answer"] pre .k', 4.5),
    # Reported, not asserted: every Pygments token of the code block.
    ("code tokens", '[data-tb="answer"] pre span[class]', None),
]

# Colours are parsed by a canvas (any CSS colour syntax chromium may serialize: rgb(), color(srgb ...), oklch()).
_MEASURE_JS = r"""([viewSelector, elements]) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const rgba = (css) => {
    const m = css.match(/^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)$/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : m[5] ? m[4] / 100 : +m[4]];
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];  // getImageData is not premultiplied
  };
  const over = (top, bottom) => {  // top (rgba) composited over bottom (opaque rgb)
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a));
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 0.999) break;
    }
    let rgb = [255, 255, 255];  // the canvas under everything
    for (const layer of layers.reverse()) rgb = over(layer, rgb);
    return rgb;
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (rgb) => '#' + rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  const view = document.querySelector(viewSelector);
  if (!view) return null;
  const result = { elements: {} };
  for (const [label, selector] of elements) {
    const found = [...view.querySelectorAll(selector)].filter((e) => e.textContent.trim());
    result.elements[label] = found.map((e) => {
      const bg = background(e);
      const style = getComputedStyle(e);
      const fg = over(rgba(style.color), bg);
      return { text: e.textContent.trim().slice(0, 30), color: style.color, fg: hex(fg), bg: hex(bg),
               ratio: ratio(fg, bg), opacity: style.opacity };
    });
  }
  const viewBg = background(view);
  result.view = { bg: hex(viewBg), luminance: luminance(viewBg) };
  // Every box inside the view that paints its own background.
  result.boxes = [...view.querySelectorAll('*')]
    .filter((e) => rgba(getComputedStyle(e).backgroundColor)[3] > 0 && e.getClientRects().length)
    .map((e) => {
      const bg = background(e);
      return { tag: e.tagName.toLowerCase(), cls: e.className && String(e.className), bg: hex(bg),
               luminance: luminance(bg) };
    });
  result.body = { theme: document.body.dataset.jpThemeName, light: document.body.dataset.jpThemeLight };
  return result;
}"""


def _exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def _set_theme(page: Any, theme: str) -> str:
    """Switch JupyterLab's theme; return how ("command" or "menu")."""
    how = page.evaluate(
        """async (theme) => {
          const app = window.jupyterapp;
          if (!app || !app.commands || !app.commands.hasCommand('apputils:change-theme')) return null;
          await app.commands.execute('apputils:change-theme', { theme });
          return 'command';
        }""",
        theme,
    )
    if how is None:
        how = "menu"
        page.keyboard.press("Escape")
        page.get_by_role("menuitem", name="Settings", exact=True).click()
        # Lumino submenu items carry no ARIA role: find them by their label.
        settings = page.locator(".lm-Menu.lm-MenuBar-menu")
        settings.locator(".lm-Menu-item").filter(
            has=page.locator(".lm-Menu-itemLabel", has_text=_exact("Theme"))
        ).click()
        item = (
            page.locator(".lm-Menu:not(.lm-MenuBar-menu) .lm-Menu-item")
            .filter(has=page.locator(".lm-Menu-itemLabel", has_text=_exact(theme)))
            .first
        )
        item.wait_for(state="visible")
        item.click()
    light = "true" if theme == THEMES["light"] else "false"
    page.wait_for_function(
        """([name, light]) => document.body.dataset.jpThemeName === name && document.body.dataset.jpThemeLight === light
           && getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim() !== ''""",
        arg=[theme, light],
        timeout=30_000,
    )
    # The theme's stylesheet is swapped in asynchronously: wait until the layout colour matches the theme.
    page.wait_for_function(
        """(dark) => {
          const probe = document.createElement('div');
          probe.style.color = 'var(--jp-layout-color0)';
          document.body.appendChild(probe);
          const m = getComputedStyle(probe).color.match(/[\\d.]+/g);
          probe.remove();
          if (!m) return false;
          const mean = (+m[0] + +m[1] + +m[2]) / 3;
          return dark ? mean < 100 : mean > 155;
        }""",
        arg=light == "false",
        timeout=30_000,
    )
    page.wait_for_timeout(500)  # let the new colours paint
    return how


def test_thinkview_is_readable_in_light_and_dark_themes(lab: Any) -> None:
    page = lab.run_notebook([CELL])
    view = page.locator(".tb-view").first
    view.wait_for(state="visible", timeout=60_000)
    view.locator('[data-tb="answer"] pre .k').first.wait_for(state="attached", timeout=30_000)
    assert lab.page_errors == []

    measured: dict[str, Any] = {}
    failures: list[str] = []
    try:
        for key, theme in THEMES.items():
            how = _set_theme(page, theme)
            fold = view.locator('[data-tb="reasoning"]')
            if not fold.evaluate("e => e.open"):
                fold.locator("summary").click()
            page.wait_for_function("() => document.querySelector('.tb-view [data-tb=\"reasoning\"]').open")
            page.mouse.move(0, 0)  # no hover styles
            view.scroll_into_view_if_needed()
            page.wait_for_timeout(200)

            result = page.evaluate(_MEASURE_JS, [".tb-view", [[label, sel] for label, sel, _ in ELEMENTS]])
            assert result is not None, "no .tb-view in the page"
            result["switched_by"] = how
            measured[key] = result
            page.screenshot(path=str(OUTPUT_DIR / f"theme-{key}.png"), full_page=False)

            for label, selector, minimum in ELEMENTS:
                found = result["elements"][label]
                if minimum is None:
                    continue
                if not found:
                    failures.append(f"{theme}: no {label} ({selector}) with text in the view")
                for item in found:
                    if item["ratio"] < minimum:
                        failures.append(
                            f"{theme}: {label} {item['text']!r} {item['fg']} on {item['bg']} "
                            f"has contrast {item['ratio']:.2f} < {minimum}"
                        )
            if key == "dark":
                if result["view"]["luminance"] >= 0.2:
                    failures.append(f"{theme}: the view sits on a light background {result['view']}")
                for box in result["boxes"]:
                    if box["luminance"] >= 0.2:
                        failures.append(f"{theme}: light box inside the view: {box}")
    finally:
        OUTPUT_DIR.mkdir(exist_ok=True)
        (OUTPUT_DIR / "theme-contrast.json").write_text(json.dumps(measured, indent=1))
        # The theme is a user setting of the session's server: leave it light for the other tests.
        # Suppressed so a failure here never hides the test's own failure.
        with contextlib.suppress(Exception):
            _set_theme(page, THEMES["light"])

    for key, result in measured.items():
        for label, found in result["elements"].items():
            print(key, label, [(i["text"], i["fg"], i["bg"], round(i["ratio"], 2)) for i in found])
        print(key, "view background", result["view"], "switched by", result["switched_by"])
    assert not failures, "\n".join(failures)
    assert lab.page_errors == []
