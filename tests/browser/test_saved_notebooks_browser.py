"""Saved notebooks show every finished view everywhere (issue 11, points 1-4), in Debian's chromium.

* JupyterLab: Run All on the quickstart (offline replays), the views end as static HTML with their
  Copy buttons, save, shut the kernel down, reopen: reasoning folded, answer, counters, and no
  "Error displaying widget". The saved file's size per character of text is reported.
* Notebook 7: the same saved file opened at ``/notebooks/...``.
* nbconvert: the quickstart executed headless (nbclient), converted ``--to html``, opened from
  ``file://`` with every non-file request blocked: the views are there.
* GitHub-like: that HTML with ``<style>``, ``<script>`` and every ``style``, ``class`` and ``id``
  attribute stripped (a real HTML parser, :class:`Stripper`): reasoning, answer and counters still
  read, the reasoning still in a ``<details>``.

Screenshots go to ``tests/browser/output/``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import time
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "01-quickstart.ipynb"
OUTPUT_DIR = Path(__file__).resolve().parent / "output"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
VIEWS = 5  # the quickstart's views: %%think, think() twice, a two-turn Conversation
ANSWER_FRAGMENT = "千问"

_spec = importlib.util.spec_from_file_location("bench_saved_size", ROOT / "benchmarks" / "bench_saved_size.py")
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_saved_size"] = bench
_spec.loader.exec_module(bench)

# What a reader must find in each finished view, wherever it is opened.
_VIEWS_JS = """() => [...document.querySelectorAll('.tb-static')].map((v) => {
  const d = v.querySelector('details');
  return {
    folded: d ? !d.open : null,
    summary: d ? d.querySelector('summary').textContent : '',
    reasoning: d ? d.textContent.length - d.querySelector('summary').textContent.length : 0,
    answer: (v.querySelector('.tb-answer') || {}).textContent || '',
    counters: (v.querySelector('[data-tb="counters"]') || {}).textContent || '',
    copy: v.querySelectorAll('.tb-foot .tb-btn').length,
  };
})"""


def check_views(views: list[dict[str, Any]], *, copy: bool | None = None) -> None:
    assert len(views) == VIEWS, views
    for view in views:
        assert view["folded"] is True, view
        assert view["summary"].startswith("Thought for") and view["reasoning"] > 20, view
        assert view["answer"].strip(), view
        assert view["counters"].startswith("Tokens: input"), view
        if copy is not None:
            assert (view["copy"] > 0) is copy, view
    assert any(ANSWER_FRAGMENT in view["answer"] for view in views)


def page_text_has_no_widget_error(page: Any) -> None:
    body = page.locator("body").inner_text()
    assert "Error displaying widget" not in body and "model not found" not in body


class Stripper(HTMLParser):
    """What GitHub's notebook renderer leaves: no <style>/<script> (nor their text), no style, class, id."""

    DROP: ClassVar = frozenset({"style", "class", "id"})
    VOID: ClassVar = frozenset({"br", "hr", "img", "input", "meta", "link", "col", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
            return
        if self._skip:
            return
        kept = "".join(f' {k}="{escape(v or "")}"' for k, v in attrs if k not in self.DROP and not k.startswith("on"))
        self.out.append(f"<{tag}{kept}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
            return
        if not self._skip and tag not in self.VOID:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(escape(data, quote=False))


def strip_like_github(page: str) -> str:
    stripper = Stripper()
    stripper.feed(page)
    stripper.close()
    return "".join(stripper.out)


def save(page: Any) -> None:
    page.locator(f"{NOTEBOOK} .jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")


def test_lab_run_all_save_reopen_in_lab_and_notebook7(lab: Any) -> None:
    notebook = nbformat.read(QUICKSTART, as_version=4)
    hook = nbformat.v4.new_code_cell(bench.HOOK_SOURCE, metadata={"tags": [bench.HOOK_TAG]})
    report = nbformat.v4.new_code_cell(bench.REPORT_SOURCE, metadata={"tags": [bench.HOOK_TAG]})
    notebook.cells = [hook, *notebook.cells, report]
    name = "saved-quickstart.ipynb"
    path = lab.server.root_dir / name
    nbformat.write(notebook, path)
    lab.notebooks.append(name)

    page = lab.open_notebook(name)
    started = time.monotonic()
    lab.run_all(page)
    lab.wait_until_done(page, started=started)
    page.wait_for_function(f"() => document.querySelectorAll('.tb-static').length >= {VIEWS}", timeout=60_000)
    page.wait_for_timeout(500)
    assert page.locator(".tb-view:not(.tb-static)").count() == 0, "a live widget is left after its stream ended"
    check_views(page.evaluate(_VIEWS_JS), copy=True)  # the module is loaded: Copy buttons as live
    page.locator(".tb-static").first.scroll_into_view_if_needed()
    lab.screenshot(page, "live")

    save(page)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and path.read_text(encoding="utf-8").count("tb-static") < VIEWS:
        time.sleep(0.3)
    saved = nbformat.read(path, as_version=4)
    printed = "".join(o.get("text", "") for o in saved.cells[-1].get("outputs", []) if o.get("output_type") == "stream")
    chars, _, utf8 = printed.split(bench.TEXT_MARK, 1)[1].strip().partition(",")
    saved.cells = [c for c in saved.cells if bench.HOOK_TAG not in c.get("metadata", {}).get("tags", [])]
    sizes = bench.measure(saved, (int(chars), int(utf8)))
    (OUTPUT_DIR / "saved-quickstart-lab-size.json").write_text(json.dumps(vars(sizes) | {
        "bytes_per_char": sizes.bytes_per_char, "times_text": sizes.times_text}, indent=1))  # fmt: skip
    ratios = f"{sizes.bytes_per_char:.2f} bytes/char, {sizes.times_text:.2f}x text"
    print(f"\nJupyterLab-saved quickstart: {sizes}; {ratios}")
    assert sizes.widget_bytes == 0, "JupyterLab saved widget state for finished views"
    assert sizes.times_text < 5, sizes

    lab.server.shutdown_sessions([name])
    page.close()
    reopened = lab.open_notebook(name)
    reopened.wait_for_function(f"() => document.querySelectorAll('.tb-static').length >= {VIEWS}", timeout=30_000)
    reopened.wait_for_timeout(1000)
    check_views(reopened.evaluate(_VIEWS_JS))
    page_text_has_no_widget_error(reopened)
    reopened.locator(".tb-static").first.scroll_into_view_if_needed()
    lab.screenshot(reopened, "reopened")
    lab.server.shutdown_sessions([name])

    nb7 = lab.new_page()
    nb7.goto(f"{lab.server.url}/notebooks/{name}", wait_until="load")
    nb7.wait_for_function(f"() => document.querySelectorAll('.tb-static').length >= {VIEWS}", timeout=60_000)
    nb7.wait_for_timeout(1000)
    check_views(nb7.evaluate(_VIEWS_JS))
    page_text_has_no_widget_error(nb7)
    lab.screenshot(nb7, "notebook7")


def test_nbconvert_html_offline_and_stripped_like_github(chromium: Any, tmp_path: Path) -> None:
    executed, _ = bench.execute(QUICKSTART, ROOT)
    ipynb = tmp_path / "quickstart-executed.ipynb"
    nbformat.write(executed, ipynb)
    converted = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(ipynb), "--output-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    page_html = (tmp_path / "quickstart-executed.html").read_text(encoding="utf-8")
    stripped = tmp_path / "quickstart-github.html"
    stripped.write_text(strip_like_github(page_html), encoding="utf-8")
    assert "<script" not in stripped.read_text() and "class=" not in stripped.read_text()

    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    blocked: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    try:
        page = context.new_page()
        page.goto((tmp_path / "quickstart-executed.html").as_uri(), wait_until="load")
        page.wait_for_timeout(500)
        check_views(page.evaluate(_VIEWS_JS))
        page_text_has_no_widget_error(page)
        page.screenshot(path=str(OUTPUT_DIR / "saved-quickstart-nbconvert.png"), full_page=True)

        bare = context.new_page()
        bare.goto(stripped.as_uri(), wait_until="load")
        bare.wait_for_timeout(300)
        details = bare.locator("details")
        assert details.count() >= VIEWS
        assert all(not d.evaluate("e => e.open") for d in details.all()[:VIEWS])
        text = bare.locator("body").inner_text()
        assert text.count("Thought for") >= VIEWS and text.count("Tokens: input") >= VIEWS
        assert ANSWER_FRAGMENT in text and "Replayed from a recording" in text
        reasoning = details.first.evaluate("e => e.querySelector('pre').textContent")
        assert len(reasoning) > 50
        bare.screenshot(path=str(OUTPUT_DIR / "saved-quickstart-github-stripped.png"), full_page=True)
    finally:
        context.close()
    shutil.copy(stripped, OUTPUT_DIR / "saved-quickstart-github-stripped.html")
    print(f"\nrequests blocked while offline: {len(blocked)} ({blocked[:3]})")
