"""thinkbook in marimo: notebooks/marimo_quickstart.py served by ``marimo run``, read by chromium.

marimo has no IPython magics but renders anywidgets natively; ``thinkbook.marimo.think`` puts the
view in the running cell's output. This runs the shipped marimo notebook offline (no key: the
recordings replay at their recorded pace) in a private ``marimo run`` (127.0.0.1, free port, no
token, private config), and checks in Debian's headless chromium that the reasoning streams in
while the cell runs, then that the answers, the folded reasoning and the comparison table are there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUTPUT_DIR = HERE / "output"
VIEWPORT = {"width": 1400, "height": 1000}
# Never let real credentials reach the notebook's kernel.
SCRUBBED = ("DASHSCOPE_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL",
            "DASHSCOPE_REGION", "LC_ALL", "LANGUAGE", "THINKBOOK_REPLAY_SPEED")  # fmt: skip
NOTEBOOK = REPO / "notebooks" / "marimo_quickstart.py"
START_TIMEOUT = 90.0
RUN_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def marimo_app(browser_requirements: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``marimo run`` of a copy of the quickstart; its URL. Stopped (with its kernel) at the end."""
    try:
        metadata.version("marimo")
    except metadata.PackageNotFoundError:
        pytest.fail("marimo is not installed: pip install -e '.[test]' (the test extra has it)", pytrace=False)
    base = tmp_path_factory.mktemp("marimo")
    notebook = base / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook)
    _record_hostile_second_turn(base / "recordings" / "hostile.jsonl")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        XDG_CONFIG_HOME=str(base / "config"),  # no user marimo config
        XDG_CACHE_HOME=str(base / "cache"),
        MARIMO_SKIP_UPDATE_CHECK="1",
        LANG="C.UTF-8",  # English labels in the views
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    command = [sys.executable, "-m", "marimo", "run", str(notebook), "--headless", "--host", "127.0.0.1",
               "--port", str(port), "--no-token", "--no-sandbox"]  # fmt: skip
    log = (base / "marimo.log").open("wb")
    process = subprocess.Popen(command, cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"marimo run exited ({process.returncode}):\n{_tail(base / 'marimo.log')}", pytrace=False)
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"marimo run did not answer in {START_TIMEOUT:.0f}s:\n{_tail(base / 'marimo.log')}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


HOSTILE_ANSWER = '<img src=x onerror="window.__tbPwned=1"> **bold** <script>window.__tbPwned=2</script>'
HOSTILE_REASONING = '<img src=x onerror="window.__tbPwned=3">想一想'


def _record_hostile_second_turn(path: Path) -> None:
    """A recorded second chat turn ("你是谁" then "xss") whose model output is hostile HTML.

    Found in ./recordings next to the notebook, it answers the chat's second turn offline.
    """
    from thinkbook._replay import dump_recording

    path.parent.mkdir(parents=True)
    messages = [
        {"role": "user", "content": "你是谁"},
        {"role": "assistant", "content": "我是千问"},
        {"role": "user", "content": "xss"},
    ]
    deltas = [{"reasoning_content": HOSTILE_REASONING}, {"content": HOSTILE_ANSWER}]
    chunks = [(0.05 * i, f"data: {json.dumps({'choices': [{'delta': d}]})}\n\n".encode()) for i, d in enumerate(deltas)]
    chunks.append((0.2, b'data: {"choices":[{"delta":{"content":""},"finish_reason":"stop"}]}\n\n'))
    body = {"model": "qwen-plus", "messages": messages, "enable_thinking": True}
    dump_recording(path, protocol="openai", model="qwen-plus", request=body, chunks=chunks)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _statuses(page: Page) -> list[tuple[str, int, int]]:
    """Each view's (status label, visible reasoning length, answer length), in page order."""
    views = page.locator(".tb-view")
    found = []
    for index in range(views.count()):
        view = views.nth(index)
        status = view.locator(".tb-st").first.inner_text() if view.locator(".tb-st").count() else ""
        reasoning = view.locator(".tb-rtext").first.inner_text() if view.locator(".tb-rtext").count() else ""
        answer = view.locator(".tb-answer").first.inner_text() if view.locator(".tb-answer").count() else ""
        found.append((status.strip(), len(reasoning.strip()), len(answer.strip())))
    return found


def test_the_marimo_quickstart_streams_offline_replays_into_live_views(
    marimo_app: str, chromium: Browser, request: pytest.FixtureRequest
) -> None:
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(marimo_app)  # marimo run executes every cell when a session opens
        samples: list[list[tuple[str, int, int]]] = []
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            samples.append(_statuses(page))
            last = samples[-1]
            if len(last) == 3 and all(status == "done" for status, _, _ in last):
                break
            time.sleep(0.1)
        final = samples[-1]
        assert len(final) == 3 and all(status == "done" for status, _, _ in final), samples[-5:]

        # Streaming, not a finished answer drawn at the end: some view showed reasoning while
        # still thinking, before its answer began.
        mid_stream = [v for sample in samples for v in sample if v[0] == "thinking" and v[1] > 0 and v[2] == 0]
        assert mid_stream, f"no view was seen thinking with partial reasoning: {samples[:40]}"

        first = page.locator(".tb-view").first
        assert "9.9" in first.locator(".tb-answer").inner_text()
        assert "illustrative" in first.inner_text()  # the view says it replays an illustrative recording
        first.locator("details.tb-reason > summary").click()  # the folded reasoning opens
        reasoning = first.locator(".tb-rtext").inner_text()
        assert "9.11" in reasoning and len(reasoning) > 50

        # The comparison: two columns and their summary table, both rows done.
        table = page.locator("table").filter(has_text="Reasoning tokens").first
        assert table.locator("tbody tr").count() == 2
        assert table.locator("tbody").inner_text().count("done") == 2
        body = page.locator("body").inner_text()
        assert "72 tokens" in body  # the illustrative decimal recording's reasoning tokens, in the first view
        assert not errors, errors
    finally:
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / f"{request.node.name}.png"), full_page=True)
        context.close()


def test_the_marimo_chat_streams_reasoning_and_answer_and_keeps_model_html_inert(
    marimo_app: str, chromium: Browser, request: pytest.FixtureRequest
) -> None:
    """tbm.chat: a reply's reasoning and answer show; hostile HTML from the model never runs."""
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(marimo_app)
        chat = page.locator("marimo-chatbot")  # marimo's chat element (the compare panel says 我是千问 too)
        chat_input = chat.locator("[contenteditable=true]")
        chat_input.wait_for(timeout=RUN_TIMEOUT * 1000)

        def ask(text: str, expected: str) -> None:
            chat_input.click()
            page.keyboard.type(text)
            page.keyboard.press("Enter")
            chat.get_by_text(expected).first.wait_for(timeout=60_000)

        ask("你是谁", "我是千问,由通义实验室研发")  # the shipped recording replays offline
        chat.get_by_text("View reasoning").first.wait_for(timeout=10_000)  # the reasoning, folded in the reply
        chat.get_by_text("View reasoning").first.click()
        chat.get_by_text("嗯,用户问“你是谁”").first.wait_for(timeout=10_000)

        ask("xss", "bold")  # the second turn: the hostile recording next to the notebook
        page.wait_for_timeout(1500)
        assert page.evaluate("window.__tbPwned") is None  # no onerror, no script ran
        assert page.locator("img[src=x], img[onerror], script:has-text('__tbPwned')").count() == 0
        assert chat.get_by_text("thinkbook:").count() == 0  # no error in the chat
        assert chat.get_by_text("View reasoning").count() == 2
        assert not errors, errors
    finally:
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / f"{request.node.name}.png"), full_page=True)
        context.close()
