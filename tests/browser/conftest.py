"""Real-browser tests: a private JupyterLab server driven by Debian's chromium through Playwright.

Session fixtures start one JupyterLab (127.0.0.1, free port, no token, temporary root, settings,
workspaces and runtime directories; news and update checks off; notebook ``windowingMode: none``
so off-screen outputs stay in the DOM) and one headless chromium (``/usr/bin/chromium``, never a
browser downloaded by Playwright). The function fixture ``lab`` writes notebooks into the server's
root, opens them, waits for an idle kernel, runs all cells through the Run menu and waits for them
to finish; at teardown it saves a screenshot to ``tests/browser/output/<test name>.png`` and shuts
the test's kernels down.

Missing chromium / Playwright / JupyterLab makes these tests FAIL with a message saying what to
install, unless ``THINKBOOK_SKIP_BROWSER=1`` is set: then they are skipped. Browser tests run after
all other tests of the session (they are slow and keep a server and a browser alive until the end).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import nbformat
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page

HERE = Path(__file__).resolve().parent
OUTPUT_DIR = HERE / "output"
CHROMIUM = Path(os.environ.get("THINKBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_VARIABLE = "THINKBOOK_SKIP_BROWSER"
SERVER_START_TIMEOUT = 120.0  # seconds; a cold 2-core CI machine needs ~3-10 s
KERNEL_IDLE_TIMEOUT = 120.0
RUN_TIMEOUT = 180.0
VIEWPORT = {"width": 1400, "height": 1000}

# Never let real credentials reach the notebook kernels (the server's environment is theirs).
_SCRUBBED_VARIABLES = (
    "DASHSCOPE_API_KEY",
    "DASHSCOPE_REGION",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANYWIDGET_HMR",
    "JUPYTER_TOKEN",
    "JUPYTER_PATH",
    "JUPYTER_PREFER_ENV_PATH",
    "LC_ALL",
    "LANGUAGE",
)

# JupyterLab settings for the test server (<app_settings_dir>/overrides.json).
LAB_OVERRIDES: dict[str, dict[str, Any]] = {
    # Keep every cell and output in the DOM, on screen or not.
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    # No news feed, no update check, no "fetch news?" question: nothing leaves 127.0.0.1.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}

# Timings and versions, shown in the terminal summary.
_REPORT: dict[str, Any] = {"timings": []}


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too so `--strict-markers` accepts it before pyproject lists it.
    config.addinivalue_line(
        "markers",
        f"browser: real-browser test (JupyterLab + Debian chromium via Playwright); {SKIP_VARIABLE}=1 skips them",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last: the JupyterLab server and chromium then live only while they run."""
    browser = [item for item in items if item.get_closest_marker("browser") is not None]
    if browser:
        others = [item for item in items if item.get_closest_marker("browser") is None]
        items[:] = others + browser


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _REPORT["timings"] and "lab_start" not in _REPORT:
        return
    write = terminalreporter.write_line
    terminalreporter.section("thinkbook browser tests")
    for key in ("versions", "lab_start", "browser_start"):
        if key in _REPORT:
            write(f"{key}: {_REPORT[key]}")
    for name, label, seconds in _REPORT["timings"]:
        write(f"{name}: {label} {seconds:.1f}s")


# --------------------------------------------------------------------------------------------
# Requirements
# --------------------------------------------------------------------------------------------


def _skip_requested() -> bool:
    return os.environ.get(SKIP_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@pytest.fixture(scope="session")
def browser_requirements() -> None:
    """Fail (not skip) when the browser stack is missing, unless THINKBOOK_SKIP_BROWSER=1."""
    if _skip_requested():
        pytest.skip(f"{SKIP_VARIABLE}={os.environ[SKIP_VARIABLE]}: real-browser tests skipped")
    problems = []
    if _version("playwright") is None:
        problems.append("the Python package 'playwright' is not installed: pip install 'playwright==1.64.*'")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium); "
            "never 'playwright install'"
        )
    for distribution in ("jupyterlab", "ipykernel", "jupyterlab_widgets", "anywidget"):
        if _version(distribution) is None:
            problems.append(f"the Python package '{distribution}' is not installed: pip install {distribution}")
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        pytest.fail(
            f"real-browser tests cannot run:\n{lines}\n"
            f"./run-tests installs all of this; set {SKIP_VARIABLE}=1 to skip these tests instead.",
            pytrace=False,
        )


# --------------------------------------------------------------------------------------------
# JupyterLab server
# --------------------------------------------------------------------------------------------


@dataclass
class LabServer:
    """A running JupyterLab; ``root_dir`` is where notebooks go, ``url`` has no trailing slash."""

    url: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def sessions(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("GET", "/api/sessions")
        return result

    def session_for(self, notebook: str) -> dict[str, Any] | None:
        for session in self.sessions():
            if session.get("path") == notebook:
                return session
        return None

    def shutdown_sessions(self, notebooks: Sequence[str]) -> None:
        for session in self.sessions():
            if session.get("path") in notebooks:
                with contextlib.suppress(urllib.error.URLError, OSError):
                    self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30.0)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_VARIABLES}
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),  # no user config (sys.prefix config still enables extensions)
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        IPYTHONDIR=str(base / "ipython"),
        LANG="C.UTF-8",  # English labels in the view, whatever the CI locale
        PYTHONUNBUFFERED="1",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    )
    return env


@pytest.fixture(scope="session")
def jupyter_lab(browser_requirements: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """Start JupyterLab once for the session; stop it (and its kernels) at the end."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    app_settings = base / "app-settings"
    for directory in (root, app_settings, base / "config", base / "runtime", base / "user-settings"):
        directory.mkdir(parents=True, exist_ok=True)
    (app_settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2))
    OUTPUT_DIR.mkdir(exist_ok=True)
    log_path = OUTPUT_DIR / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={_free_port()}",
        "--ServerApp.port_retries=50",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        # Orphan guard: a server left behind by a killed pytest exits after 15 idle minutes.
        "--ServerApp.shutdown_no_activity_timeout=900",
        "--LabApp.default_url=/lab",
        f"--LabApp.app_settings_dir={app_settings}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=_server_env(base),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest only; teardown stops the server
        )
    server = LabServer(url="", root_dir=root, log_path=log_path, process=process)
    try:
        server.url = _wait_for_server(process, base / "runtime", server)
        _REPORT["lab_start"] = f"{time.monotonic() - started:.1f}s ({server.url})"
        _REPORT["versions"] = ", ".join(
            f"{name} {_version(name)}"
            for name in ("jupyterlab", "jupyter_server", "ipykernel", "ipywidgets", "anywidget", "playwright")
        )
        yield server
    finally:
        _stop_server(process)


def _wait_for_server(process: subprocess.Popen[bytes], runtime: Path, server: LabServer) -> str:
    """The server's URL once ``/api/status`` answers (the port comes from its runtime file)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    info_file = runtime / f"jpserver-{process.pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{server.log_tail()}", pytrace=False)
        if info_file.exists():
            try:
                info = json.loads(info_file.read_text())
                url = f"http://127.0.0.1:{info['port']}"
                with urllib.request.urlopen(f"{url}/api/status", timeout=5) as response:
                    if response.status == 200:
                        return url
            except (ValueError, KeyError, OSError):
                pass
        time.sleep(0.2)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT:.0f}s:\n{server.log_tail()}", pytrace=False)


def _stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium(browser_requirements: None) -> Iterator[Browser]:
    """Debian's headless chromium, launched by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=60_000
            )
        except Exception as error:
            pytest.fail(f"could not launch {CHROMIUM} through Playwright: {error}", pytrace=False)
        _REPORT["browser_start"] = (
            f"{time.monotonic() - started:.1f}s (chromium {browser.version}, playwright {_version('playwright')})"
        )
        try:
            yield browser
        finally:
            browser.close()


# --------------------------------------------------------------------------------------------
# Notebooks in the browser
# --------------------------------------------------------------------------------------------

# The visible notebook panel (the one just opened; every test page opens exactly one).
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# Lab's Run menu shows the generic "runmenu:run-all"; the notebook's own command as a fallback.
RUN_ALL = '[data-command="runmenu:run-all"], [data-command="notebook:run-all-cells"]'

_CELL_STATE_JS = """(selector) => {
  const nb = document.querySelector(selector + ' .jp-Notebook');
  if (!nb) return null;
  return [...nb.querySelectorAll('.jp-Cell.jp-CodeCell')].map((cell) => ({
    prompt: (cell.querySelector('.jp-InputArea-prompt')?.textContent || '').trim(),
    stderr: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map((o) => o.textContent).join('\\n'),
  }));
}"""


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "test"


@dataclass
class Lab:
    """Per-test access to the JupyterLab server in chromium. Create notebooks, run them, look at them."""

    server: LabServer
    context: BrowserContext
    test_name: str
    pages: list[Page] = field(default_factory=list)
    notebooks: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)  # every alert/confirm/prompt/beforeunload seen (dismissed)
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions in the page
    console_errors: list[str] = field(default_factory=list)

    # -- notebooks on disk ---------------------------------------------------------------------

    def write_notebook(self, cells: Sequence[str | nbformat.NotebookNode], name: str | None = None) -> str:
        """Write an .ipynb (python3 kernel) into the server's root; return its name (the API path)."""
        stem = _safe_name(name or self.test_name)
        notebook_name, n = f"{stem}.ipynb", 1
        while (self.server.root_dir / notebook_name).exists():
            n += 1
            notebook_name = f"{stem}-{n}.ipynb"
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(c) if isinstance(c, str) else c for c in cells]
        nbformat.validate(nb)
        nbformat.write(nb, self.server.root_dir / notebook_name)
        self.notebooks.append(notebook_name)
        return notebook_name

    # -- pages -----------------------------------------------------------------------------------

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._on_console)
        self.pages.append(page)
        return page

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        with contextlib.suppress(Exception):
            dialog.dismiss()

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def open_notebook(self, notebook: str, *, timeout: float = KERNEL_IDLE_TIMEOUT) -> Page:
        """Open ``/lab/tree/<notebook>`` (in a fresh workspace) and wait until its kernel is idle."""
        started = time.monotonic()
        page = self.new_page()
        workspace = _safe_name(f"{self.test_name}-{len(self.pages)}")
        page.goto(f"{self.server.url}/lab/workspaces/{workspace}/tree/{quote(notebook)}", wait_until="load")
        panel = page.locator(NOTEBOOK)
        panel.locator(".jp-Notebook .jp-Cell").first.wait_for(state="attached", timeout=timeout * 1000)
        # Kernel idle, as the front end sees it (toolbar indicator) and as the server sees it.
        panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
            state="attached", timeout=timeout * 1000
        )
        self._wait_kernel_idle(notebook, deadline=started + timeout)
        self._timing("open + kernel idle", started)
        return page

    def _wait_kernel_idle(self, notebook: str, deadline: float) -> None:
        state = None
        while time.monotonic() < deadline:
            session = self.server.session_for(notebook)
            state = session and session.get("kernel", {}).get("execution_state")
            if state == "idle":
                return
            time.sleep(0.2)
        pytest.fail(f"kernel for {notebook} not idle (state {state!r}):\n{self.server.log_tail()}", pytrace=False)

    def run_all(self, page: Page) -> None:
        """Run > Run All Cells, through the menu bar."""
        page.locator(NOTEBOOK).locator(".jp-Notebook").first.wait_for()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        menu = page.locator(".lm-Menu.lm-MenuBar-menu")
        item = menu.locator(RUN_ALL).or_(menu.get_by_role("menuitem", name="Run All Cells", exact=True)).first
        item.wait_for(state="visible")
        if item.get_attribute("aria-disabled") == "true":
            pytest.fail("Run > Run All Cells is disabled", pytrace=False)
        item.click()

    def cell_states(self, page: Page) -> list[dict[str, str]]:
        states: list[dict[str, str]] | None = page.evaluate(_CELL_STATE_JS, NOTEBOOK)
        return states or []

    def wait_until_done(self, page: Page, *, timeout: float = RUN_TIMEOUT, started: float | None = None) -> None:
        """Wait until every code cell has run (``[n]:`` prompts); fail on an error or a timeout."""
        started = time.monotonic() if started is None else started
        deadline = started + timeout
        seen_start = False
        states: list[dict[str, str]] = []
        while time.monotonic() < deadline:
            states = self.cell_states(page)
            prompts = [s["prompt"] for s in states]
            running = any("*" in p for p in prompts)
            numbered = [bool(re.fullmatch(r"\[\d+\]:", p)) for p in prompts]
            seen_start = seen_start or running or any(numbered)
            if states and all(numbered):
                self._timing("run all", started)
                return
            if seen_start and not running:  # run-all stopped early: a cell failed
                errors = "\n".join(s["stderr"] for s in states if s["stderr"])
                pytest.fail(f"notebook run stopped at prompts {prompts}:\n{errors}", pytrace=False)
            time.sleep(0.2)
        pytest.fail(
            f"notebook did not finish within {timeout:.0f}s; prompts: {[s['prompt'] for s in states]}\n"
            f"server log:\n{self.server.log_tail(30)}",
            pytrace=False,
        )

    def run_notebook(
        self,
        cells: Sequence[str | nbformat.NotebookNode],
        *,
        name: str | None = None,
        wait: bool = True,
        timeout: float = RUN_TIMEOUT,
    ) -> Page:
        """Write a notebook with ``cells``, open it, run all cells and (``wait``) wait for the end."""
        page = self.open_notebook(self.write_notebook(cells, name))
        started = time.monotonic()
        self.run_all(page)
        if wait:
            self.wait_until_done(page, timeout=timeout, started=started)
        return page

    # -- looking -----------------------------------------------------------------------------------

    def output_text(self, page: Page, cell: int) -> str:
        """The text of all outputs of code cell ``cell`` (0-based)."""
        cells = page.locator(f"{NOTEBOOK} .jp-Notebook .jp-Cell.jp-CodeCell")
        return cells.nth(cell).locator(".jp-OutputArea").inner_text()

    def screenshot(self, page: Page, label: str | None = None) -> Path:
        """Save ``tests/browser/output/<test name>[-label].png``."""
        OUTPUT_DIR.mkdir(exist_ok=True)
        stem = _safe_name(self.test_name if label is None else f"{self.test_name}-{label}")
        path = OUTPUT_DIR / f"{stem}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def _timing(self, label: str, started: float) -> None:
        _REPORT["timings"].append((self.test_name, label, time.monotonic() - started))

    def close(self) -> None:
        for index, page in enumerate(self.pages):
            if page.is_closed():
                continue
            with contextlib.suppress(Exception):
                self.screenshot(page, None if index == 0 else f"page{index + 1}")
        with contextlib.suppress(Exception):
            self.server.shutdown_sessions(self.notebooks)
        with contextlib.suppress(Exception):
            self.context.close()
        if self.page_errors or self.console_errors or self.dialogs:
            print(f"page errors: {self.page_errors}\nconsole errors: {self.console_errors}\ndialogs: {self.dialogs}")
        print(f"JupyterLab log: {self.server.log_path}")


@pytest.fixture
def lab(jupyter_lab: LabServer, chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A fresh browser context on the session's JupyterLab; screenshots and kernel shutdown at teardown."""
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    session = Lab(server=jupyter_lab, context=context, test_name=request.node.name)
    try:
        yield session
    finally:
        session.close()
