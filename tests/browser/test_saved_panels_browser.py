"""Saved panels read everywhere (issue 11, points 1-4): JupyterLab reopened, nbconvert HTML, GitHub-style HTML.

The notebook's kernel runs a ``thinkbook.testing.LoopbackServer``: a ComparePanel of three columns
(two answer with reasoning, markdown and an XSS attempt, one fails with a long error), a ChatPanel
with one turn that the user finished (``freeze()``), and a ChatPanel left live. The test runs it in
JupyterLab, looks at the live page (the compare panel is static HTML once over), saves it, shuts
the kernel down and reopens the file in a new page: the finished panels show their columns,
folded reasoning, answers, counters and summary (no "model not found"), the live chat shows the
widget error JupyterLab always shows for a widget whose kernel is gone, and its transcript (the
cell's next output, hidden while the live panel is drawn) under it. Then the saved file and
the same notebook executed headless (``jupyter nbconvert --to notebook --execute``) go through
``jupyter nbconvert --to html``, opened from ``file://``; and that HTML with style attributes,
``<style>``, classes, ids and scripts stripped as GitHub does. Every page is screenshotted into
``tests/browser/output/saved-panels-*.png``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

OUTPUT_DIR = Path(__file__).resolve().parent / "output"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CODE_CELLS = f"{NOTEBOOK} .jp-Notebook .jp-Cell.jp-CodeCell"
WIDGET = "application/vnd.jupyter.widget-view+json"
LONG_ERROR = "Incorrect API key provided. " + "This sentence makes the error long enough to be cut. " * 6
LONG_ERROR += "END-OF-ERROR"

SETUP = f"""\
from thinkbook.testing import LoopbackServer, ScriptedResponse
from thinkbook._chat_panel import ChatPanel
from thinkbook._compare_panel import ComparePanel

USAGE = {{"prompt_tokens": 10, "completion_tokens": 30, "total_tokens": 40,
         "completion_tokens_details": {{"reasoning_tokens": 20}}}}
LONG_ERROR = {LONG_ERROR!r}

def respond(request):
    body = request.json()
    model = body["model"]
    if model == "broken":
        return ScriptedResponse.from_json({{"error": {{"message": LONG_ERROR}}}}, status=401)
    word = {{"model-a": "alpha", "model-b": "beta"}}.get(model, "gamma")
    events = [{{"choices": [{{"delta": {{"reasoning_content": f"{{word}} reasons step {{i}}. "}}}}]}} for i in range(4)]
    text = f"**{{word}}** answer with `code` <img src=x onerror=alert(1)>. "
    events += [{{"choices": [{{"delta": {{"content": text}}}}]}}]
    events += [{{"choices": [{{"delta": {{}}, "finish_reason": "stop"}}]}}, {{"choices": [], "usage": USAGE}}]
    return ScriptedResponse.from_sse(events, delay=0.01)

server = LoopbackServer(respond).start()
url = server.url + "/v1"
print("SETUP OK")
"""

COMPARE = """\
configs = ["model-a", {"model": "model-b", "label": "beta <i>"}, "broken"]
compare = ComparePanel("Which is larger, 9.11 or 9.9?", configs,
                       base_url=url, api_key="sk-test", lang="en")
display(compare)
_ = compare.wait(60)
"""

FINISHED_CHAT = """\
done = ChatPanel("model-a", base_url=url, api_key="sk-test", lang="en")
display(done)
done.send("Hello from the finished chat")
_ = done.wait(60)
done.freeze()
"""

LIVE_CHAT = """\
live = ChatPanel("model-b", base_url=url, api_key="sk-test", lang="en")
display(live)
live.send("Hello from the live chat")
_ = live.wait(60)
"""

CELLS = [SETUP, COMPARE, FINISHED_CHAT, LIVE_CHAT]

_SHUT_DOWN_JS = """async (name) => {
  const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || "";
  const headers = { "X-XSRFToken": decodeURIComponent(xsrf) };
  for (const s of await (await fetch("/api/sessions")).json())
    if (s.path === name) await fetch("/api/sessions/" + s.id, { method: "DELETE", headers });
}"""


class _GitHubStrip(HTMLParser):
    """HTML with what GitHub's sanitizer removes taken out: scripts, <style>, style/class/id, handlers."""

    DROP_ELEMENTS = frozenset({"script", "style", "link", "meta"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.DROP_ELEMENTS:
            self.skipping += tag not in ("link", "meta")
            return
        if self.skipping:
            return
        kept = [(k, v) for k, v in attrs if k not in ("style", "class", "id") and not k.startswith("on")]
        attributes = "".join(f' {k}="{v}"' if v is not None else f" {k}" for k, v in kept)
        self.out.append(f"<{tag}{attributes}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.DROP_ELEMENTS:
            self.skipping -= tag not in ("link", "meta")
            return
        if not self.skipping:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        if not self.skipping:
            self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if not self.skipping:
            self.out.append(f"&#{name};")


def github_strip(page: str) -> str:
    parser = _GitHubStrip()
    parser.feed(page)
    parser.close()
    return "".join(parser.out)


def saved_outputs(path: Path) -> list[list[dict[str, Any]]]:
    notebook = json.loads(path.read_text())
    return [cell.get("outputs", []) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def nbconvert(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", *args], cwd=cwd, check=True, timeout=300,
                   capture_output=True)  # fmt: skip


def check_static_compare(scope: Any) -> None:
    """The compare panel's static form, in ``scope`` (a locator): columns side by side, each readable."""
    cells = scope.locator("td[valign=top]")
    assert cells.count() == 3, cells.count()
    boxes = [cells.nth(i).bounding_box() for i in range(3)]
    assert all(b is not None for b in boxes)
    assert len({round(b["y"]) for b in boxes if b}) == 1, boxes  # side by side, one row
    text = [cells.nth(i).inner_text() for i in range(3)]
    assert "alpha answer with code <img src=x onerror=alert(1)>." in text[0].replace("\n", " "), text[0]
    assert "beta <i>" in text[1] and "beta answer" in text[1]
    assert "END-OF-ERROR" in text[2]  # the whole error, not cut
    error_box = cells.nth(2).bounding_box()
    assert error_box and error_box["width"] < 600, error_box  # wrapped inside its column
    fold = cells.nth(0).locator("details")
    assert fold.count() == 1 and fold.first.get_attribute("open") is None  # reasoning folded
    fold.first.locator("summary").click()
    assert "alpha reasons step 3." in fold.first.inner_text()
    assert "Tokens: input 10" in text[0]
    summary = scope.locator("table:has(caption)")
    assert "Summary" in summary.first.inner_text() and "fastest" in summary.first.inner_text()
    assert scope.locator("img").count() == 0


def check_static_chat(scope: Any, message: str) -> None:
    assert message in scope.inner_text()
    assert "alpha answer with code" in scope.inner_text() and "Session: 1 turn ·" in scope.inner_text()


def test_saved_panels_read_in_lab_nbconvert_and_github(lab: Any, tmp_path: Path) -> None:
    OUTPUT_DIR.mkdir(exist_ok=True)
    page = lab.run_notebook(CELLS, name="saved-panels")
    cells = page.locator(CODE_CELLS)
    assert "SETUP OK" in lab.output_text(page, 0)

    # --- live: the finished compare panel is static HTML already; the live chat a widget --------
    compare = cells.nth(1).locator(".tb-static.tb-compare")
    compare.wait_for(timeout=30_000)
    check_static_compare(cells.nth(1))
    check_static_chat(cells.nth(2).locator(".tb-static.tb-chat"), "Hello from the finished chat")
    cells.nth(3).locator(".tb-chat .tb-chat-controls").wait_for(timeout=30_000)
    # the live chat's finished turn is its static rendering, with the Copy buttons the live view had
    settled = cells.nth(3).locator(".tb-chat .tb-settled .tb-static")
    settled.wait_for(timeout=30_000)
    assert "beta answer with code" in settled.inner_text()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and settled.locator("button.tb-btn").count() == 0:
        time.sleep(0.2)
    assert settled.locator("button.tb-btn").count() >= 1, settled.inner_html()[:1500]
    # its transcript (the cell's next output) is in the page but hidden next to the live panel
    saved_copy = cells.nth(3).locator(".tb-chat-saved")
    assert saved_copy.count() == 1 and not saved_copy.is_visible()
    page.screenshot(path=str(OUTPUT_DIR / "saved-panels-live.png"), full_page=True)

    # --- save, shut the kernel down, reopen ---------------------------------------------------
    name = lab.notebooks[-1]
    path = lab.server.root_dir / name
    before = path.stat().st_mtime
    cells.nth(0).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (path.stat().st_mtime == before or not saved_outputs(path)[1]):
        time.sleep(0.2)
    outputs = saved_outputs(path)
    assert [WIDGET in o.get("data", {}) for o in outputs[1]] == [False], "the compare panel saved a widget"
    # (the finished chat: its transcript, and the emptied output that held it while the chat was live)
    assert [WIDGET in o.get("data", {}) for o in outputs[2]] == [False, False], "the finished chat saved a widget"
    assert any(WIDGET in o.get("data", {}) for o in outputs[3]), "the live chat is a widget"
    transcripts = [o for o in outputs[3] if "tb-chat-saved" in "".join(o.get("data", {}).get("text/html", ""))]
    assert len(transcripts) == 1 and WIDGET not in transcripts[0]["data"], "the live chat's transcript output"
    saved = path.read_text()
    (OUTPUT_DIR / "saved-panels.ipynb").write_text(saved)  # to look at
    assert "sk-test" not in json.dumps(outputs) + json.dumps(json.loads(saved)["metadata"])
    pages = ["".join(o.get("data", {}).get("text/html", "")) for cell in outputs for o in cell]
    assert not any("<img" in page for page in pages)  # the model's tag is text (escaped) in the HTML
    page.evaluate(_SHUT_DOWN_JS, name)  # (from the page: the server wants its XSRF cookie for a DELETE)
    page.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and lab.server.session_for(name) is not None:
        time.sleep(0.3)
    assert lab.server.session_for(name) is None, lab.server.sessions()

    reopened = lab.open_notebook(name)
    rcells = reopened.locator(CODE_CELLS)
    rcells.nth(1).locator(".tb-static.tb-compare").wait_for(timeout=30_000)
    check_static_compare(rcells.nth(1))
    check_static_chat(rcells.nth(2), "Hello from the finished chat")
    for index in (1, 2):
        assert "model not found" not in rcells.nth(index).inner_text()
    # the live chat: its widget is gone with its kernel, as for any widget (documented)
    live_output = rcells.nth(3).locator(".jp-OutputArea")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not re.search(r"model not found", live_output.inner_text()):
        time.sleep(0.3)
    assert "model not found" in live_output.inner_text(), live_output.inner_html()[:2000]
    # ... and its turns so far read under it (the transcript output; panels.css is not loaded here)
    transcript = rcells.nth(3).locator(".tb-chat-saved")
    assert transcript.is_visible() and "Hello from the live chat" in transcript.inner_text()
    assert "beta answer with code" in transcript.inner_text() and "Session: 1 turn ·" in transcript.inner_text()
    fold = transcript.locator("details")
    assert fold.count() == 1 and fold.first.get_attribute("open") is None
    reopened.screenshot(path=str(OUTPUT_DIR / "saved-panels-reopened.png"), full_page=True)

    # --- nbconvert HTML, from the Lab-saved file and from a headless run -----------------------
    work = tmp_path / "convert"
    work.mkdir()
    (work / "lab-saved.ipynb").write_text(saved)
    blank = json.loads(saved)
    for cell in blank["cells"]:
        cell["outputs"], cell["execution_count"] = [], None
    blank["metadata"].pop("widgets", None)
    (work / "headless.ipynb").write_text(json.dumps(blank))
    nbconvert("--to", "notebook", "--execute", "--output", "headless-run.ipynb", "headless.ipynb", cwd=work)
    executed = work / "headless-run.ipynb"
    assert [WIDGET in o.get("data", {}) for o in saved_outputs(executed)[1]] == [False]
    for stem in ("lab-saved", "headless-run"):
        nbconvert("--to", "html", f"{stem}.ipynb", cwd=work)
        html_page = (work / f"{stem}.html").read_text()
        (work / f"{stem}-github.html").write_text(github_strip(html_page))
        for variant, label in ((f"{stem}.html", f"nbconvert-{stem}"), (f"{stem}-github.html", f"github-{stem}")):
            view = lab.new_page()
            view.route(re.compile(r"^https?://"), lambda route: route.abort())  # offline, as file:// users are
            view.goto((work / variant).as_uri(), wait_until="load")
            body = view.locator("body")
            check_static_compare(body)
            assert "Hello from the finished chat" in body.inner_text()
            assert "Hello from the live chat" in body.inner_text()  # the live chat's transcript output
            assert "Session: 1 turn ·" in body.inner_text()
            view.screenshot(path=str(OUTPUT_DIR / f"saved-panels-{label}.png"), full_page=True)
            view.close()
