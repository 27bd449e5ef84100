"""A newcomer's first minutes: the README's set-up commands, run as written on a fresh clone.

``test_readme_first_command_opens_a_working_quickstart`` clones the committed HEAD of this
repository into a temporary folder, runs the README's FIRST ```bash block there exactly as written
(``bash -c``), with the provider API keys scrubbed from the environment and only what a headless
run needs added (``BROWSER=true`` so no browser is launched, private Jupyter config/data/runtime
directories, ``JUPYTER_PORT`` on a free port). It waits for the ``http://127.0.0.1:PORT/lab...?token=``
line, opens it in Debian's chromium through Playwright, runs the quickstart's cells up to and
including its first ``%%think`` cell, and checks the ThinkView that replays the shipped recording
(no API key): once finished it is the static view (no live widget left), reasoning folded under
"Thought for", the recorded answer, the replay badge, the counters. Then it saves the notebook,
shuts its kernel down and reopens it, as a newcomer coming back the next day would: the saved
view shows the same reasoning, answer and counters, and no "Error displaying widget". The
screenshots go to ``tests/browser/output/``; the command's output to
``tests/browser/output/<test name>.log``. The command's process group is always terminated.

It tests committed code only (it clones HEAD): commit before running it.

``test_readme_second_command_is_what_ci_runs`` checks the README's second block is ``./run-tests``
and that ``.ci/run`` runs it (running it here would recurse into this test suite).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

HERE = Path(__file__).resolve().parent
OUTPUT_DIR = HERE / "output"

# Provider credentials and endpoints: a newcomer has none of them.
SCRUBBED = ("DASHSCOPE_API_KEY", "OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "OPENAI_BASE_URL")

COMMAND_TIMEOUT = 900.0  # seconds until the lab URL is printed (a cold pip install of JupyterLab)
NOTEBOOK_OPEN_TIMEOUT = 60.0
KERNEL_IDLE_TIMEOUT = 120.0
CELL_TIMEOUT = 120.0
VIEW_DONE_TIMEOUT = 120.0

QUICKSTART_NAME = "01-quickstart.ipynb"
LAB_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab[^\s?]*\?token=\S+")
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CODE_CELLS = f"{NOTEBOOK} .jp-Notebook .jp-Cell.jp-CodeCell"
ERROR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'

# The view's labels in English and Chinese (js/thinkview.js picks them from the kernel's locale).
THOUGHT_LABELS = ("Thought for", "已思考")
REPLAY_LABELS = ("Replayed from a recording", "回放录制的回答")
RECORDED_ANSWER_FRAGMENT = "千问"  # the recorded answer to "你是谁" introduces Qwen (通义千问)

_PROMPT_DONE_JS = """([selector, index]) => {
  const cell = document.querySelectorAll(selector)[index];
  const prompt = cell && cell.querySelector('.jp-InputArea-prompt');
  return !!prompt && /^\\[\\d+\\]:$/.test(prompt.textContent.trim());
}"""

_PROMPT_STARTED_JS = """([selector, index]) => {
  const cell = document.querySelectorAll(selector)[index];
  const prompt = cell && cell.querySelector('.jp-InputArea-prompt');
  return !!prompt && /^\\[(\\*|\\d+)\\]:$/.test(prompt.textContent.trim());
}"""

# A finished view is the static rendering (thinkbook/_fallback.py); the live widget is gone.
_VIEW_DONE_JS = """(cell) =>
  !!cell.querySelector('.tb-view.tb-static') && !cell.querySelector('.tb-view:not(.tb-static)')"""


# --------------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------------


def readme_setup_commands(readme: Path) -> tuple[str, str]:
    """The README's two set-up commands: its first two fenced blocks, both ```bash, before any section."""
    text = readme.read_text(encoding="utf-8")
    head = re.split(r"^## ", text, maxsplit=1, flags=re.MULTILINE)[0]
    blocks = [(lang.strip(), body.strip()) for lang, body in FENCE.findall(text)]
    found = ", ".join(f"```{lang or '(no language)'}" for lang, _ in blocks[:3]) or "no fenced block"
    if len(blocks) < 2 or [lang for lang, _ in blocks[:2]] != ["bash", "bash"]:
        pytest.fail(
            f"{readme} no longer starts with two ```bash set-up blocks (install + open the quickstart, then "
            f"./run-tests); its first fenced blocks are: {found}. Update tests/browser/test_newcomer.py with it.",
            pytrace=False,
        )
    first, second = blocks[0][1], blocks[1][1]
    for body in (first, second):
        if f"```bash\n{body}" not in head.replace("\r\n", "\n"):
            pytest.fail(
                f"{readme}: the set-up block {body!r} is not at the top (before the first '## ' section)", pytrace=False
            )
        if not body or "\n" in body:
            pytest.fail(f"{readme}: a set-up block should hold exactly one command line, got {body!r}", pytrace=False)
    return first, second


def repo_root() -> Path:
    out = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        pytest.fail(f"not inside a git checkout ({HERE}): {out.stderr.strip()}", pytrace=False)
    return Path(out.stdout.strip())


# --------------------------------------------------------------------------------------------
# The command, in its own process group
# --------------------------------------------------------------------------------------------


@dataclass
class Command:
    """A ``bash -c`` command whose merged output is read (and timestamped) line by line."""

    process: subprocess.Popen[bytes]
    log_path: Path
    started: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pump(self) -> None:
        assert self.process.stdout is not None
        with open(self.log_path, "w", encoding="utf-8") as log:
            for raw in iter(self.process.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                with self.lock:
                    self.lines.append((time.monotonic() - self.started, line))
                log.write(line + "\n")
                log.flush()

    def snapshot(self) -> list[tuple[float, str]]:
        with self.lock:
            return list(self.lines)

    def first(self, pattern: str | re.Pattern[str]) -> tuple[float, re.Match[str]] | None:
        """(seconds since start, match) of the first output line matching ``pattern``."""
        for seconds, line in self.snapshot():
            match = re.search(pattern, line)
            if match:
                return seconds, match
        return None

    def tail(self, n: int = 40) -> str:
        return "\n".join(line for _, line in self.snapshot()[-n:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _descendants(root_pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every process below ``root_pid`` (Jupyter puts kernels in their own sessions)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    found: list[tuple[int, str]] = []
    todo = [root_pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()[19]


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the command's process group (JupyterLab then shuts its kernels down), SIGKILL what is left."""
    below = _descendants(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_start_time(pid) == started for pid, started in below):
        time.sleep(0.2)
    for pid, started in below:  # only the very processes seen under the command (same pid, same start time)
        if _start_time(pid) == started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def run_command(command: str, cwd: Path, env: dict[str, str], log_path: Path) -> Iterator[Command]:
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, terminated as a whole at the end
    )
    cmd = Command(process=process, log_path=log_path, started=started)
    reader = threading.Thread(target=cmd.pump, daemon=True)
    reader.start()
    try:
        yield cmd
    finally:
        _terminate(process)
        reader.join(timeout=10)
        stdout: IO[bytes] | None = process.stdout
        if stdout is not None:
            stdout.close()


def wait_for_lab_url(cmd: Command) -> tuple[float, str]:
    deadline = cmd.started + COMMAND_TIMEOUT
    while time.monotonic() < deadline:
        hit = cmd.first(LAB_URL)
        if hit:
            return hit[0], hit[1].group(0)
        if cmd.process.poll() is not None:
            time.sleep(0.5)  # let the reader drain the last lines
            pytest.fail(
                f"the README's first command exited with code {cmd.process.returncode} before printing a "
                f"http://127.0.0.1:PORT/lab?token=... URL; last output:\n{cmd.tail()}\n(full log: {cmd.log_path})",
                pytrace=False,
            )
        time.sleep(0.25)
    pytest.fail(
        f"no http://127.0.0.1:PORT/lab?token=... line within {COMMAND_TIMEOUT:.0f}s; last output:\n{cmd.tail()}",
        pytrace=False,
    )


# --------------------------------------------------------------------------------------------
# The notebook in the browser
# --------------------------------------------------------------------------------------------


def quickstart_panel(page: Any) -> Any:
    return page.locator(NOTEBOOK).filter(has=page.locator(".jp-Notebook"))


def quickstart_tab_open(page: Any) -> bool:
    tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab .lm-TabBar-tabLabel")
    return any(text.strip() == QUICKSTART_NAME for text in tabs.all_inner_texts())


def dismiss_dialogs(page: Any, notes: list[str]) -> None:
    """Answer any JupyterLab dialog the way a newcomer would (its default button), and say so.

    A fresh profile can raise one a moment after the notebook opens (seen intermittently here); it
    takes the keyboard, so a Ctrl+Enter meant for a cell would be lost.
    """
    for _ in range(3):
        dialog = page.locator(".jp-Dialog")
        if dialog.count() == 0:
            return
        text = " ".join(dialog.first.inner_text().split())
        accept = dialog.first.locator(".jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        note(notes, f"JupyterLab raised a dialog, answered with its default button: {text[:200]!r}")
        page.wait_for_timeout(300)


def note(notes: list[str], text: str) -> None:
    """Keep a finding for the summary, and print it now so a failing run shows it too."""
    notes.append(text)
    print(f"NOTE (as it happened): {text}", flush=True)


def run_cell(page: Any, index: int, notes: list[str], timeout: float = CELL_TIMEOUT) -> float:
    """Run code cell ``index`` (click its editor, Ctrl+Enter); wait for its ``[n]:`` prompt; return seconds."""
    cell = page.locator(CODE_CELLS).nth(index)
    started = time.monotonic()
    for attempt in range(4):
        # Right after a notebook opens on a fresh profile, JupyterLab can still redraw the notebook (cells
        # detached mid-click) or drop the first key press while editors attach. A cell that was queued
        # shows [*] or [n]; one whose press was lost still shows [ ]: try again, a newcomer would too.
        try:
            dismiss_dialogs(page, notes)
            cell.scroll_into_view_if_needed(timeout=10_000)
            cell.locator(".jp-InputArea-editor").click(timeout=10_000)
            page.keyboard.press("Control+Enter")
            page.wait_for_function(_PROMPT_STARTED_JS, arg=[CODE_CELLS, index], timeout=10_000, polling=100)
            break
        except Exception as error:  # Playwright's Error and TimeoutError
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            note(notes, f"code cell {index} did not start on attempt {attempt + 1} ({first_line}); tried again")
            page.wait_for_timeout(500)
    try:
        page.wait_for_function(_PROMPT_DONE_JS, arg=[CODE_CELLS, index], timeout=timeout * 1000, polling=100)
    except Exception:
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / f"newcomer-cell-{index}-stuck.png"), full_page=True)
        prompt = cell.locator(".jp-InputArea-prompt").inner_text()
        kernel = page.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        pytest.fail(
            f"code cell {index} did not finish within {timeout:.0f}s: prompt {prompt!r}, kernel status {kernel!r}, "
            f"dialogs {dialogs}; screenshot newcomer-cell-{index}-stuck.png",
            pytrace=False,
        )
    return time.monotonic() - started


def check_finished_view(view: Any) -> str:
    """A finished (static) view: folded reasoning under "Thought for", the recorded answer, the replay
    badge, the counters. Returns the answer's text."""
    assert view.count() == 1, f"{view.count()} finished views in the cell"
    reasoning = view.locator("details")
    assert reasoning.count() == 1, "no reasoning pane"
    assert reasoning.evaluate("e => e.open") is False, "the reasoning is not folded once the answer is done"
    summary = reasoning.locator("summary").inner_text()
    assert any(label in summary for label in THOUGHT_LABELS), f"reasoning summary {summary!r}"
    reasoning_text = reasoning.evaluate("e => e.textContent.length")
    assert reasoning_text > len(summary) + 20, "the folded reasoning pane is empty"
    answer: str = view.locator('[data-tb="answer"]').inner_text()
    assert RECORDED_ANSWER_FRAGMENT in answer, f"not the recorded answer: {answer[:300]!r}"
    text = view.inner_text()
    assert any(label in text for label in REPLAY_LABELS), f"no replay badge in the view: {text[:500]!r}"
    counters = view.locator('[data-tb="counters"]').inner_text()
    assert counters.startswith(("Tokens:", "Token 消耗")), f"counters {counters!r}"
    return answer


def first_think_cell(notebook: Path) -> tuple[int, str]:
    """(index among code cells, source) of the notebook's first ``%%think`` cell."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for index, cell in enumerate(code):
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if source.lstrip().startswith("%%think"):
            return index, source
    pytest.fail(f"{notebook} has no %%think cell", pytrace=False)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_readme_first_command_opens_a_working_quickstart(
    chromium: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    timings: dict[str, float] = {}
    notes: list[str] = []
    root = repo_root()
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True).stdout
    if dirty.strip():
        changed = ", ".join(line[3:] for line in dirty.splitlines()[:5])
        notes.append(f"uncommitted changes ({changed}...) are not tested: this test runs the committed HEAD")

    clone = tmp_path / "thinkbook"
    started = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True, capture_output=True)
    head = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    timings["git clone"] = time.monotonic() - started
    command, _ = readme_setup_commands(clone / "README.md")
    print(f"\nclone of {root} at {head}: {clone}\nREADME's first command: {command}")

    jupyter = tmp_path / "jupyter"
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        BROWSER="true",  # JupyterLab "opens" its page with /bin/true: nothing is launched
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_DATA_DIR=str(jupyter / "data"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        JUPYTER_PORT=str(_free_port()),
    )
    OUTPUT_DIR.mkdir(exist_ok=True)
    test_name = request.node.name
    log_path = OUTPUT_DIR / f"{test_name}.log"
    context = None
    with run_command(command, clone, env, log_path) as cmd:
        url_seconds, url = wait_for_lab_url(cmd)
        pip_start = cmd.first(r"^(Obtaining|Processing|Looking in indexes|Collecting) ")
        pip_end = cmd.first(r"^Successfully installed ")
        lab_first = cmd.first(r"^\[[IWEC] \d{4}-\d\d-\d\d ")
        if pip_start:
            timings["python3 -m venv"] = pip_start[0]
        if pip_start and pip_end:
            timings["pip install"] = pip_end[0] - pip_start[0]
        if pip_end:
            timings["JupyterLab start (to the URL line)"] = url_seconds - pip_end[0]
        elif lab_first:
            timings["JupyterLab start (to the URL line)"] = url_seconds - lab_first[0]
        timings["command start to URL"] = url_seconds
        print(f"lab URL after {url_seconds:.1f}s: {url}")

        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        page = context.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        try:
            opened = time.monotonic()
            page.goto(url, wait_until="load")
            page.locator(".jp-LabShell, #jp-main-dock-panel").first.wait_for(timeout=NOTEBOOK_OPEN_TIMEOUT * 1000)
            # A fresh workspace shows either the notebook or, with no document to open, the Launcher.
            page.locator(f"{NOTEBOOK} .jp-Cell, .jp-Launcher").first.wait_for(
                state="attached", timeout=NOTEBOOK_OPEN_TIMEOUT * 1000
            )
            with contextlib.suppress(Exception):
                quickstart_panel(page).locator(".jp-Cell").first.wait_for(state="attached", timeout=3_000)
            if not quickstart_tab_open(page):
                # The printed URL is the lab's home (/lab?token=...); the notebook is opened by the page
                # JupyterLab hands to the browser it launches (jpserver-file-to-run-*-open.html), which
                # BROWSER=true skipped. A newcomer on a remote machine or in a container only has the URL.
                notes.append(
                    f"the printed URL ({url.split('?')[0]}?token=...) opens JupyterLab's Launcher and file browser, "
                    f"not {QUICKSTART_NAME}: only a browser launched by JupyterLab itself (through "
                    "runtime/jpserver-file-to-run-*-open.html) lands on the notebook; opened that page's target"
                )
                page.screenshot(path=str(OUTPUT_DIR / f"{test_name}-printed-url.png"), full_page=True)
                redirect = sorted((jupyter / "runtime").glob("jpserver-file-to-run-*-open.html"))
                assert redirect, f"no jpserver-file-to-run-*-open.html in {jupyter / 'runtime'}"
                target = re.search(r'href="([^"]+)"', redirect[0].read_text(encoding="utf-8"))
                assert target, f"no link in {redirect[0]}"
                page.goto(target.group(1).replace("&amp;", "&"), wait_until="load")
            panel = quickstart_panel(page)
            panel.locator(".jp-Cell").first.wait_for(state="attached", timeout=NOTEBOOK_OPEN_TIMEOUT * 1000)
            assert quickstart_tab_open(page), f"{QUICKSTART_NAME} is not the open notebook"
            panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
                state="attached", timeout=KERNEL_IDLE_TIMEOUT * 1000
            )
            timings["notebook open + kernel idle"] = time.monotonic() - opened

            # Dialogs JupyterLab may raise on a fresh profile (kernel choice, ...) would block the run.
            dismiss_dialogs(page, notes)

            think_index, think_source = first_think_cell(clone / "notebooks" / QUICKSTART_NAME)
            for index in range(think_index):
                timings[f"cell {index}"] = run_cell(page, index, notes)
            think_started = time.monotonic()
            timings[f"cell {think_index} (%%think)"] = run_cell(page, think_index, notes)
            cell = page.locator(CODE_CELLS).nth(think_index)
            cell.locator(".tb-view").first.wait_for(state="attached", timeout=30_000)
            page.wait_for_function(
                _VIEW_DONE_JS, arg=cell.element_handle(), timeout=VIEW_DONE_TIMEOUT * 1000, polling=100
            )
            view = cell.locator(".tb-view.tb-static")
            timings["%%think cell: run to view done"] = time.monotonic() - think_started
            view.scroll_into_view_if_needed()
            page.wait_for_timeout(300)  # let the last frame paint before the screenshot
            shot = OUTPUT_DIR / f"{test_name}.png"
            page.screenshot(path=str(shot), full_page=True)

            answer = check_finished_view(view)
            assert view.locator(".tb-foot .tb-btn").count() == 1, "no Copy answer button while the kernel lives"

            errors = page.locator(f"{CODE_CELLS} {ERROR_OUTPUT}")
            assert errors.count() == 0, errors.all_inner_texts()
            assert not page_errors, f"uncaught errors in the page: {page_errors}"

            # Coming back later: save, shut the kernel down, reopen the saved file.
            reopened_at = time.monotonic()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+s")
            saved_path = clone / "notebooks" / QUICKSTART_NAME
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "tb-static" not in saved_path.read_text(encoding="utf-8"):
                page.wait_for_timeout(300)
            assert "tb-static" in saved_path.read_text(encoding="utf-8"), "the notebook was not saved"
            page.get_by_role("menuitem", name="Kernel", exact=True).click()
            page.get_by_role("menuitem", name="Shut Down Kernel", exact=True).click()
            dismiss_dialogs(page, notes)
            page.reload(wait_until="load")
            panel = quickstart_panel(page)
            panel.locator(".jp-Cell").first.wait_for(state="attached", timeout=NOTEBOOK_OPEN_TIMEOUT * 1000)
            dismiss_dialogs(page, notes)  # "select a kernel" on a fresh profile: the default answer
            saved_view = page.locator(CODE_CELLS).nth(think_index).locator(".tb-view.tb-static")
            saved_view.wait_for(state="attached", timeout=30_000)
            check_finished_view(saved_view)
            body = page.locator("body").inner_text()
            assert "Error displaying widget" not in body and "model not found" not in body
            saved_view.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUTPUT_DIR / f"{test_name}-reopened.png"), full_page=True)
            timings["save + shut down + reopen"] = time.monotonic() - reopened_at
        finally:
            with contextlib.suppress(Exception):
                if not page.is_closed() and not (OUTPUT_DIR / f"{test_name}.png").exists():
                    page.screenshot(path=str(OUTPUT_DIR / f"{test_name}-failed.png"), full_page=True)
            with contextlib.suppress(Exception):
                context.close()

    print(f"prompt of the first %%think cell: {think_source!r}")
    print(f"answer (start): {answer[:120]!r}")
    print(f"screenshot: {shot}\ncommand log: {log_path}")
    for label, seconds in timings.items():
        print(f"  {label}: {seconds:.1f}s")
    for note in notes:
        print(f"NOTE: {note}")
    shutil.rmtree(clone, ignore_errors=True)  # ~300 MB of .venv; kept when the test fails


def test_readme_second_command_is_what_ci_runs() -> None:
    root = repo_root()
    _, second = readme_setup_commands(root / "README.md")
    assert second == "./run-tests", f"README's second command is {second!r}, expected ./run-tests"
    run_tests = root / "run-tests"
    assert run_tests.is_file() and os.access(run_tests, os.X_OK), "./run-tests is missing or not executable"
    ci = root / ".ci" / "run"
    assert ci.is_file() and os.access(ci, os.X_OK), ".ci/run is missing or not executable"
    code = [line.strip() for line in ci.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
    assert any(re.fullmatch(r"(exec\s+)?\./run-tests(\s+\"\$@\")?", line) for line in code), (
        f".ci/run does not run ./run-tests:\n{ci.read_text(encoding='utf-8')}"
    )
    # ./run-tests is resolved from the repository root: .ci/run must cd there first.
    cd = next((i for i, line in enumerate(code) if line.startswith("cd ")), None)
    run = next(i for i, line in enumerate(code) if "./run-tests" in line)
    assert cd is not None and cd < run and '/.."' in code[cd], f".ci/run does not cd to the repository root: {code}"
