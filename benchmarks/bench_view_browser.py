"""ThinkView in a real browser: delta-to-paint latency and paint cost while an answer grows past 100 KB.

Run from the repository root::

    .venv/bin/python benchmarks/bench_view_browser.py           # ~1 minute: 10 s reasoning, 128 KB answer
    .venv/bin/python benchmarks/bench_view_browser.py --json    # JSON on stdout, the text report on stderr

One run:

1. Starts a private JupyterLab (127.0.0.1, free port, no token, temporary root/settings/workspaces/
   runtime directories, news and update checks off, notebook ``windowingMode: none``), as
   ``tests/browser/conftest.py`` does, and Debian's headless chromium through Playwright
   (``/usr/bin/chromium``, never a downloaded browser).
2. Before the notebook loads, sets ``window.__TB_PERF__ = {latency: [], frames: [], marks: [], loaf: []}``.
   ``js/thinkview.js`` then pushes, on every paint, ``Date.now() - ts`` for each painted delta
   (``ThinkView(timestamps=True)`` stamps each delta with the kernel's wall clock) into ``latency``
   and the paint's own duration into ``frames``. This script wraps ``frames.push`` so that, right
   after each paint, it also records into ``marks`` the wall time, the style + layout cost of that
   paint's DOM changes (forced with ``getBoundingClientRect``: work the browser does in that frame
   anyway, now timed), how many latency entries exist, the status and, every 16th frame, the answer
   element's rendered text length; a ``PerformanceObserver`` collects long animation frames (> 50 ms) into ``loaf``.
3. Runs one notebook cell that displays ``ThinkView(model="bench", timestamps=True)`` and drives it
   from a background thread with the real clock, as ``thinkbook._display.LiveDisplay.on_batch``
   does: push each chunk, ``flush()`` whenever ``due_in() <= 0`` (also between chunks, like its
   ``call_later``), and ``view.end(result)`` at the end. The chunks (Poisson arrivals, seeded):
   1.5 s of "waiting", ~10 s of reasoning at ~60 chunks/s, then a markdown answer (headings,
   tables, fenced code, inline and display math, lists, quotes) growing to 128 KB at ~300 chunks/s.
   The kernel records every delta message it sends (stamp, seq, answer source size at that point).
4. Waits in the page until the view's status is "done", reads ``window.__TB_PERF__`` and reports.

Answer size per frame: each frame is attributed the answer *source* size (markdown characters sent,
ASCII here so characters = bytes) of the last delta the kernel sent before the frame's wall time
(same machine, same clock). "Frames above 100 KB" are the streaming frames painted once the
answer had passed 100 KiB; the final frame (the ``end()`` snapshot re-rendering the whole
answer) is reported on its own.

Targets (reported, not asserted; a shared machine is noisy): latency p95 <= 100 ms; paint cost
p95 <= 16 ms, overall and above 100 KB. The exit code is 0 unless the view never reached "done"
(or the browser stack could not start): then 1. A screenshot goes to ``benchmarks/output/``.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import math
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

HERE = Path(__file__).resolve().parent
OUTPUT_DIR = HERE / "output"
SCREENSHOT = OUTPUT_DIR / "view_browser.png"
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
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_TIMEOUT = 120.0
KERNEL_IDLE_TIMEOUT = 120.0
NOTEBOOK = "bench_view_browser.ipynb"
INPUT_FILE = "bench_view_browser_input.json"
TIMELINE_FILE = "bench_view_browser_timeline.json"
TARGET_LATENCY_P95 = 100.0  # ms
TARGET_FRAME_P95 = 16.0  # ms
KIB = 1024

# Never let real credentials reach the notebook kernel (the server's environment is its).
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
LAB_OVERRIDES: dict[str, dict[str, Any]] = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
# The visible notebook panel, and Lab's Run menu entry (the notebook's own command as a fallback).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
RUN_ALL = '[data-command="runmenu:run-all"], [data-command="notebook:run-all-cells"]'


class BenchError(Exception):
    """The browser stack could not start, or the view never reached "done"."""


# --------------------------------------------------------------------------------------------
# The stream: reasoning text and a markdown answer, cut into chunks on a Poisson schedule
# --------------------------------------------------------------------------------------------

_REASONING_TEXT = (
    "the user wants a comparison so I should first list the cases then check each one against the "
    "constraints and only after that write the table; wait, the second case overflows when n is large, "
    "so use the closed form instead and verify it for n equal to one two and three before answering"
)
_REASONING_WORDS = _REASONING_TEXT.split()
_TOPICS = ("Parsing", "Scheduling", "Caching", "Sorting", "Hashing", "Streaming", "Batching", "Indexing")


def answer_markdown(target_chars: int, rng: random.Random) -> str:
    """A long technical answer: sections with a heading, prose with inline math, a table, a fenced
    code block, display math, a list and a quote, repeated (with varying numbers) to ``target_chars``."""
    parts = ["# Benchmark answer\n\nA long answer that exercises every kind of block the view renders.\n\n"]
    size = len(parts[0])
    section = 0
    while size < target_chars:
        section += 1
        topic = _TOPICS[section % len(_TOPICS)]
        n = rng.randint(3, 9)
        rows = "".join(
            f"| {topic.lower()}-{section}-{i} | {rng.randint(10, 999)} ms | {rng.random():.3f} | "
            f"{'yes' if i % 2 else 'no'} |\n"
            for i in range(n)
        )
        text = (
            f"## {section}. {topic}, case {section}\n\n"
            f"For case {section} the cost grows as $O(n \\log n)$ with $n = {rng.randint(100, 9999)}$, and the "
            f"**constant factor** matters: with `batch={rng.randint(2, 64)}` the *amortised* time per item is "
            f"$t_i = \\frac{{T}}{{{n}}} + c_{{{section}}}$. See the table and the code below.\n\n"
            "| name | time | ratio | cached |\n|---|---:|---:|:---:|\n"
            f"{rows}\n"
            f"```python\ndef case_{section}(items: list[int], k: int = {n}) -> list[int]:\n"
            f'    """Keep the {n} largest items of case {section}."""\n'
            "    best = sorted(items, reverse=True)[:k]\n"
            f"    return [x * {section} for x in best if x % {n} != 0]\n```\n\n"
            f"$$\n\\sum_{{i=1}}^{{{n}}} i^2 = \\frac{{{n}({n}+1)(2 \\cdot {n}+1)}}{{6}}\n$$\n\n"
            f"- first, measure case {section} on real data\n"
            f"- then compare it with case {max(section - 1, 1)}\n"
            f"  - and keep the faster one\n\n"
            f"> Note: case {section} assumes the input fits in memory.\n\n"
        )
        parts.append(text)
        size += len(text)
    return "".join(parts)


@dataclass
class Schedule:
    chunks: list[tuple[float, str, str]]  # (seconds after the start, "r" or "a", text)
    reasoning_chars: int
    answer_chars: int
    reasoning_chunks: int
    answer_chunks: int
    seconds: float


def build_schedule(args: argparse.Namespace) -> Schedule:
    rng = random.Random(args.seed)
    chunks: list[tuple[float, str, str]] = []
    t = args.ttft
    # Reasoning: 1-2 words per chunk, ~60 chunks/s for ~10 s.
    n_reasoning = round(args.reasoning_seconds * args.reasoning_rate)
    reasoning_chars = 0
    for i in range(n_reasoning):
        words = rng.sample(_REASONING_WORDS, rng.randint(1, 2))
        text = ("" if i == 0 else " ") + " ".join(words) + ("." if rng.random() < 0.08 else "")
        chunks.append((t, "r", text))
        reasoning_chars += len(text)
        t += rng.expovariate(args.reasoning_rate)
    # Answer: 4-20 characters per chunk (mean 12: a few tokens), ~300 chunks/s.
    answer = answer_markdown(round(args.answer_kb * KIB), rng)
    pos = n_answer = 0
    while pos < len(answer):
        step = rng.randint(4, 20)
        chunks.append((t, "a", answer[pos : pos + step]))
        pos += step
        n_answer += 1
        t += rng.expovariate(args.answer_rate)
    return Schedule(chunks, reasoning_chars, len(answer), n_reasoning, n_answer, t)


# --------------------------------------------------------------------------------------------
# The notebook cell (runs in the kernel)
# --------------------------------------------------------------------------------------------

CELL = f"""\
import json, threading, time, traceback
from pathlib import Path
from IPython.display import display
from thinkbook import AnswerDelta, ReasoningDelta, ThinkResult, Timings, Usage
from thinkbook._view import ThinkView

spec = json.loads(Path({INPUT_FILE!r}).read_text())
if spec.get("esm"):  # --esm: measure a candidate front end instead of js/thinkview.js
    class ThinkView(ThinkView):
        _esm = spec["esm"]
view = ThinkView(model="bench", timestamps=True)
sent = []  # one [ts ms, seq, answer source chars] per delta message
state = {{"answer": 0, "errors": [], "end_ms": None}}
_send = view.send

def _recording_send(content, buffers=None):
    if isinstance(content, dict) and content.get("t") == "d":
        sent.append([content.get("ts"), content.get("s"), state["answer"]])
    return _send(content, buffers)

view.send = _recording_send

def drive():
    try:
        start = time.monotonic()
        view.begin()

        def wait_until(deadline):
            # What LiveDisplay's call_later does between batches: flush as soon as one is due.
            while True:
                due = view.due_in()
                if due <= 0:
                    view.flush()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                time.sleep(min(left, due))

        reasoning, answer = [], []
        first_answer = None
        for offset, kind, text in spec["chunks"]:
            wait_until(start + offset)
            if kind == "r":
                reasoning.append(text)
                view.push([ReasoningDelta(text)])
            else:
                if first_answer is None:
                    first_answer = time.monotonic() - start
                answer.append(text)
                state["answer"] += len(text)
                view.push([AnswerDelta(text)])
            if view.due_in() <= 0:  # LiveDisplay.on_batch
                view.flush()
        total = time.monotonic() - start
        reasoning_text, answer_text = "".join(reasoning), "".join(answer)
        result = ThinkResult(
            reasoning=reasoning_text,
            answer=answer_text,
            usage=Usage(prompt_tokens=20, completion_tokens=(len(reasoning_text) + len(answer_text)) // 4,
                        reasoning_tokens=len(reasoning_text) // 4),
            finish_reason="stop",
            model="bench",
            timings=Timings(time_to_first_reasoning=spec["ttft"], time_to_first_answer=first_answer,
                            thinking_seconds=(first_answer or total) - spec["ttft"], total_seconds=total),
        )
        t0 = time.perf_counter()
        state["end_ms"] = time.time() * 1000
        view.end(result)
        state["end_seconds"] = time.perf_counter() - t0
    except BaseException as error:
        state["errors"].append(traceback.format_exc())
        view.end(error=error)

display(view)
thread = threading.Thread(target=drive, name="bench-driver", daemon=True)
thread.start()
thread.join()  # like think(): the cell waits, the view is fed from another thread
Path({TIMELINE_FILE!r}).write_text(json.dumps({{"sent": sent, "seq": view._sent_seq, **state}}))
print("driver errors:" if state["errors"] else "driver ok", *state["errors"])
"""

# Installed before any page script: the buffers thinkview.js fills, plus per-frame marks.
INIT_SCRIPT = """(() => {
  const perf = { latency: [], frames: [], marks: [], loaf: [], lastStatus: "" };
  const push = Array.prototype.push;
  // thinkview.js calls frames.push(cost) right after each paint, in the same animation frame.
  perf.frames.push = function (...values) {
    const n = push.apply(this, values);
    const answer = document.querySelector('.tb-view [data-tb="answer"]');
    const status = document.querySelector('.tb-view [data-tb="status"]');
    const t = performance.now();
    if (answer) answer.getBoundingClientRect(); // style + layout of this paint's DOM changes, now
    const layout = performance.now() - t;
    const st = status ? status.className : "";
    // The rendered text length walks the whole answer: only every 16th frame and on status changes.
    const sample = answer && (n % 16 == 0 || st != perf.lastStatus);
    perf.lastStatus = st;
    push.call(perf.marks, [Date.now(), layout, sample ? answer.textContent.length : -1, perf.latency.length, st]);
    return n;
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const scripts = (e.scripts || []).map((s) => [s.duration, s.invoker || "", s.sourceFunctionName || ""]);
        perf.loaf.push({ start: performance.timeOrigin + e.startTime, duration: e.duration,
          blocking: e.blockingDuration || 0, render: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
          style: e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0, scripts });
      }
    }).observe({ type: "long-animation-frame", buffered: true });
  } catch (e) {}
  window.__TB_PERF__ = perf;
})();"""

POLL_JS = """(panel) => {
  const status = document.querySelector('.tb-view [data-tb="status"]');
  const cell = document.querySelector(panel + ' .jp-Notebook .jp-Cell.jp-CodeCell');
  const errors = cell ? [...cell.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], ' +
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')].map((o) => o.textContent) : [];
  return {
    status: status ? status.className : null,
    prompt: cell ? (cell.querySelector('.jp-InputArea-prompt')?.textContent || '').trim() : '',
    errors,
    frames: window.__TB_PERF__ ? window.__TB_PERF__.frames.length : -1,
  };
}"""


# --------------------------------------------------------------------------------------------
# JupyterLab and chromium (the minimal logic of tests/browser/conftest.py)
# --------------------------------------------------------------------------------------------


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


@dataclass
class Lab:
    url: str
    root: Path
    log: Path

    def api(self, method: str, path: str, timeout: float = 10.0) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def kernel_state(self, notebook: str) -> str | None:
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook:
                state: str | None = session.get("kernel", {}).get("execution_state")
                return state
        return None


@contextlib.contextmanager
def jupyter_lab(base: Path, log_path: Path) -> Iterator[Lab]:
    root, settings = base / "root", base / "app-settings"
    for directory in (root, settings, base / "config", base / "runtime", base / "user-settings"):
        directory.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2))
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_VARIABLES}
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        IPYTHONDIR=str(base / "ipython"),
        LANG="C.UTF-8",
        PYTHONUNBUFFERED="1",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    )
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
        "--ServerApp.shutdown_no_activity_timeout=900",  # orphan guard
        "--LabApp.default_url=/lab",
        f"--LabApp.app_settings_dir={settings}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        info_file = base / "runtime" / f"jpserver-{process.pid}.json"
        url = None
        while url is None:
            if process.poll() is not None:
                raise BenchError(f"JupyterLab exited with code {process.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise BenchError(f"JupyterLab did not answer within {SERVER_START_TIMEOUT:.0f}s:\n{_tail(log_path)}")
            with contextlib.suppress(ValueError, KeyError, OSError):
                candidate = f"http://127.0.0.1:{json.loads(info_file.read_text())['port']}"
                with urllib.request.urlopen(f"{candidate}/api/status", timeout=5) as response:
                    if response.status == 200:
                        url = candidate
            if url is None:
                time.sleep(0.2)
        yield Lab(url=url, root=root, log=log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the server shuts its kernels down
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def write_notebook(path: Path, source: str) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "bench", "metadata": {}, "outputs": [],
                   "source": source}],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(notebook, indent=1))


def open_and_run(page: Page, lab: Lab) -> None:
    """Open the notebook, wait for an idle kernel, then Run > Run All Cells."""
    page.goto(f"{lab.url}/lab/workspaces/bench/tree/{NOTEBOOK}", wait_until="load")
    panel = page.locator(PANEL)
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for(state="attached", timeout=KERNEL_IDLE_TIMEOUT * 1000)
    panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
        state="attached", timeout=KERNEL_IDLE_TIMEOUT * 1000
    )
    deadline = time.monotonic() + KERNEL_IDLE_TIMEOUT
    while lab.kernel_state(NOTEBOOK) != "idle":
        if time.monotonic() > deadline:
            raise BenchError(f"the kernel never became idle:\n{_tail(lab.log)}")
        time.sleep(0.2)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    menu = page.locator(".lm-Menu.lm-MenuBar-menu")
    item = menu.locator(RUN_ALL).or_(menu.get_by_role("menuitem", name="Run All Cells", exact=True)).first
    item.wait_for(state="visible")
    item.click()


def wait_for_done(page: Page, timeout: float, say: Callable[..., None]) -> dict[str, Any]:
    """Poll (once a second, from outside: no in-page polling loop to disturb the frames) until "done"."""
    deadline = time.monotonic() + timeout
    last_report = time.monotonic()
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = page.evaluate(POLL_JS, PANEL)
        status = state.get("status") or ""
        if "tb-st-done" in status:
            return state
        if any(s in status for s in ("tb-st-error", "tb-st-stopped")):
            raise BenchError(f"the view ended with {status!r}; cell errors: {state.get('errors')}")
        if state.get("errors") or re.fullmatch(r"\[\d+\]:", state.get("prompt", "")):
            raise BenchError(f"the cell finished (prompt {state.get('prompt')!r}) without a done view: {state}")
        if time.monotonic() - last_report > 10:
            say(f"  ... status {status.replace('tb-st ', '')!r}, {state.get('frames')} frames painted")
            last_report = time.monotonic()
        time.sleep(1.0)
    raise BenchError(f"the view did not reach done within {timeout:.0f}s; last state {state}")


# --------------------------------------------------------------------------------------------
# Statistics and report
# --------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def stats(values: list[float]) -> dict[str, float | int]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else math.nan,
    }


def ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f}"


def triple(s: dict[str, float | int]) -> str:
    return f"{ms(float(s['p50']))} / {ms(float(s['p95']))} / {ms(float(s['max']))}"


def verdict(value: float, target: float) -> str:
    if math.isnan(value):
        return "no data"
    return "meets target" if value <= target else "below target"


def analyse(perf: dict[str, Any], timeline: dict[str, Any], threshold: int) -> dict[str, Any]:
    latency: list[float] = [float(x) for x in perf["latency"]]
    costs: list[float] = [float(x) for x in perf["frames"]]
    marks: list[list[Any]] = perf["marks"]
    sent: list[list[Any]] = [s for s in timeline["sent"] if s[0] is not None]
    sent_ts = [float(s[0]) for s in sent]

    def source_size(wall_ms: float) -> int:
        i = bisect.bisect_right(sent_ts, wall_ms)
        return int(sent[i - 1][2]) if i else 0

    # One row per frame: cost, layout, answer source size, rendered chars, status, this frame's latencies.
    frames: list[dict[str, Any]] = []
    previous_latency = 0
    for cost, mark in zip(costs, marks, strict=False):
        wall, layout, rendered, latency_end, status = mark
        frames.append(
            {
                "cost": cost,
                "layout": float(layout),
                "size": source_size(float(wall)),
                "rendered": int(rendered),
                "status": str(status).replace("tb-st ", "").replace("tb-st-", ""),
                "latency": latency[previous_latency:latency_end],
            }
        )
        previous_latency = latency_end
    streaming = [f for f in frames if f["status"] != "done"]
    final = [f for f in frames if f["status"] == "done"]
    above = [f for f in streaming if f["size"] >= threshold]

    buckets: list[dict[str, Any]] = []
    edges = [round(threshold * q / KIB) for q in (0, 0.25, 0.5, 0.75, 1)]  # KiB
    groups: list[tuple[str, list[dict[str, Any]]]] = [
        ("reasoning", [f for f in streaming if f["status"] in ("waiting", "thinking")])
    ]
    answering = [f for f in streaming if f["status"] == "answering"]
    for low, high in zip(edges, [*edges[1:], None], strict=True):
        label = f"answer {low}-{high} KiB" if high is not None else f"answer >= {low} KiB"
        groups.append(
            (label, [f for f in answering if low * KIB <= f["size"] and (high is None or f["size"] < high * KIB)])
        )
    groups.append(("final (end() snapshot)", final))
    for label, group in groups:
        buckets.append(
            {
                "label": label,
                "frames": len(group),
                "paint": stats([f["cost"] for f in group]),
                "layout": stats([f["layout"] for f in group]),
                "latency": stats([x for f in group for x in f["latency"]]),
                "rendered_chars": max([0, *(f["rendered"] for f in group)]),  # sampled every 16th frame
            }
        )

    stream_start = sent_ts[0] if sent_ts else 0.0
    end_ms = float(timeline.get("end_ms") or (sent_ts[-1] if sent_ts else 0.0))
    loaf = [x for x in perf.get("loaf", []) if stream_start <= float(x["start"]) <= end_ms]
    final_loaf = [x for x in perf.get("loaf", []) if float(x["start"]) > end_ms]
    return {
        "latency": stats(latency),
        "paint_all": stats([f["cost"] for f in streaming]),
        "paint_above": stats([f["cost"] for f in above]),
        "layout_all": stats([f["layout"] for f in streaming]),
        "layout_above": stats([f["layout"] for f in above]),
        "latency_above": stats([x for f in above for x in f["latency"]]),
        "final_paint": [f["cost"] for f in final],
        "final_layout": [f["layout"] for f in final],
        "frames": len(frames),
        "frames_streaming": len(streaming),
        "frames_above": len(above),
        "messages_sent": len(timeline["sent"]),
        "messages_painted": len(latency),
        "last_seq": timeline.get("seq"),
        "buckets": buckets,
        "long_frames": {
            "count": len(loaf),
            "max": max((float(x["duration"]) for x in loaf), default=math.nan),
            "style_layout_max": max((float(x["style"]) for x in loaf), default=math.nan),
        },
        "long_frame_list": [_long_frame(x) for x in loaf],
        "final_long_frames": [round(float(x["duration"]), 1) for x in final_loaf],
        "end_seconds": timeline.get("end_seconds"),
    }


def _long_frame(entry: dict[str, Any]) -> dict[str, Any]:
    """One long animation frame: its length, its style + layout part and its longest script."""
    scripts = sorted(entry.get("scripts", []), key=lambda x: -float(x[0]))
    top: list[Any] = scripts[0] if scripts else [0.0, "", ""]
    return {
        "duration": round(float(entry["duration"]), 1),
        "style_layout": round(float(entry["style"]), 1),
        "longest_script": f"{float(top[0]):.0f} ms {top[1]} {top[2]}".strip() if scripts else "none attributed",
    }


def _finite(value: Any) -> Any:
    """``value`` with NaN / infinity as None, so the JSON is standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def report_table(result: dict[str, Any], threshold_kib: float) -> tuple[str, list[tuple[str, float, float]]]:
    lat, above = result["latency"], result["paint_above"]
    lines = [
        "| metric | p50 / p95 / max (ms) | target | verdict |",
        "|---|---:|---|---|",
        f"| delta-to-paint latency ({lat['n']:,} deltas) | {triple(lat)} | p95 <= {TARGET_LATENCY_P95:.0f} ms | "
        f"{verdict(float(lat['p95']), TARGET_LATENCY_P95)} |",
        f"| paint cost, all streaming frames ({result['paint_all']['n']:,}) | {triple(result['paint_all'])} | "
        f"p95 <= {TARGET_FRAME_P95:.0f} ms | {verdict(float(result['paint_all']['p95']), TARGET_FRAME_P95)} |",
        f"| paint cost, frames with answer >= {threshold_kib:g} KiB ({above['n']:,}) | {triple(above)} | "
        f"p95 <= {TARGET_FRAME_P95:.0f} ms | {verdict(float(above['p95']), TARGET_FRAME_P95)} |",
        f"| latency of deltas painted in those frames | {triple(result['latency_above'])} | | |",
        f"| style + layout after the paint, all streaming frames | {triple(result['layout_all'])} | | |",
        f"| style + layout after the paint, answer >= {threshold_kib:g} KiB | {triple(result['layout_above'])} | | |",
        f"| final frame (end() snapshot of the whole answer): paint, style + layout | "
        f"{' '.join(ms(x) for x in result['final_paint'])}, {' '.join(ms(x) for x in result['final_layout'])} | | |",
    ]
    long_frames = result["long_frames"]
    lines.append(
        f"| long animation frames (> 50 ms) while streaming: count, longest | {long_frames['count']}, "
        f"{ms(long_frames['max'])} | | |"
    )
    lines.append(
        f"| frames painted: all / streaming / answer >= {threshold_kib:g} KiB | {result['frames']:,} / "
        f"{result['frames_streaming']:,} / {result['frames_above']:,} | | |"
    )
    lines.append(
        f"| delta messages: sent by the kernel / painted in the page | {result['messages_sent']:,} / "
        f"{result['messages_painted']:,} | | |"
    )
    checks = [
        ("latency p95", float(lat["p95"]), TARGET_LATENCY_P95),
        ("paint p95 (all)", float(result["paint_all"]["p95"]), TARGET_FRAME_P95),
        (f"paint p95 (>= {threshold_kib:g} KiB)", float(above["p95"]), TARGET_FRAME_P95),
    ]
    return "\n".join(lines), checks


def bucket_table(result: dict[str, Any]) -> str:
    lines = [
        "| phase / answer source size | frames | paint p50 / p95 / max | style+layout p50 / p95 / max "
        "| latency p50 / p95 / max | rendered chars |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for b in result["buckets"]:
        lines.append(
            f"| {b['label']} | {b['frames']:,} | {triple(b['paint'])} | {triple(b['layout'])} | "
            f"{triple(b['latency'])} | {b['rendered_chars']:,} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, schedule: Schedule, say: Callable[..., None]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    OUTPUT_DIR.mkdir(exist_ok=True)
    gitignore = OUTPUT_DIR / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# screenshots and logs written by the benchmarks\n*\n")
    with tempfile.TemporaryDirectory(prefix="thinkbook-bench-view-") as tmp:
        started = time.monotonic()
        with jupyter_lab(Path(tmp), OUTPUT_DIR / "jupyterlab-view-browser.log") as lab:
            say(f"JupyterLab up in {time.monotonic() - started:.1f}s at {lab.url}")
            esm = Path(args.esm).read_text() if args.esm else None
            spec = {"ttft": args.ttft, "chunks": schedule.chunks, "esm": esm}
            (lab.root / INPUT_FILE).write_text(json.dumps(spec))
            write_notebook(lab.root / NOTEBOOK, CELL)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=60_000
                )
                try:
                    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                    context.set_default_timeout(30_000)
                    context.add_init_script(INIT_SCRIPT)
                    page = context.new_page()
                    page_errors: list[str] = []
                    page.on("pageerror", lambda error: page_errors.append(str(error)))
                    page.on("dialog", lambda dialog: dialog.dismiss())
                    open_and_run(page, lab)
                    say(f"chromium {browser.version}: notebook open, cell running (~{schedule.seconds:.0f}s stream)")
                    try:
                        wait_for_done(page, schedule.seconds + args.timeout, say)
                    finally:
                        with contextlib.suppress(Exception):
                            page.screenshot(path=str(SCREENSHOT))
                    # The final snapshot paints in the frame after "done"; let it and the cell finish.
                    deadline = time.monotonic() + 60
                    while not (lab.root / TIMELINE_FILE).exists() and time.monotonic() < deadline:
                        time.sleep(0.2)
                    time.sleep(1.0)
                    with contextlib.suppress(Exception):
                        page.evaluate("() => document.querySelector('.tb-view').scrollIntoView({block: 'start'})")
                        page.screenshot(path=str(SCREENSHOT))
                    perf: dict[str, Any] = page.evaluate("() => window.__TB_PERF__")
                    if page_errors:
                        say(f"page errors: {page_errors}")
                    if not (lab.root / TIMELINE_FILE).exists():
                        raise BenchError("the cell never wrote its timeline")
                    timeline: dict[str, Any] = json.loads((lab.root / TIMELINE_FILE).read_text())
                    if timeline.get("errors"):
                        say("driver errors:\n" + "\n".join(timeline["errors"]))
                    info = {"chromium": browser.version}
                finally:
                    browser.close()
    return {"perf": perf, "timeline": timeline, "info": info}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reasoning-seconds", type=float, default=10.0, help="length of the reasoning phase")
    parser.add_argument("--reasoning-rate", type=float, default=60.0, help="reasoning chunks per second")
    parser.add_argument("--answer-kb", type=float, default=128.0, help="answer size in KiB of markdown")
    parser.add_argument("--answer-rate", type=float, default=300.0, help="answer chunks per second")
    parser.add_argument("--threshold-kb", type=float, default=100.0, help="answer size for the large-answer rows")
    parser.add_argument("--ttft", type=float, default=1.5, help="seconds of 'waiting' before the first chunk")
    parser.add_argument("--timeout", type=float, default=180.0, help="extra seconds to wait for 'done'")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--esm", metavar="PATH", help="a front end to measure instead of js/thinkview.js (e.g. a candidate change)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout (text on stderr)")
    args = parser.parse_args(argv)
    out = sys.stderr if args.json else sys.stdout

    def say(*parts: object) -> None:
        print(*parts, file=out, flush=True)

    versions = {name: _version(name) for name in ("jupyterlab", "ipykernel", "ipywidgets", "anywidget", "playwright")}
    say(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
    say("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    missing = [k for k in ("jupyterlab", "ipykernel", "anywidget", "playwright") if versions[k] is None]
    if missing or not os.access(CHROMIUM, os.X_OK):
        say(f"cannot run: missing {missing or ''} {'' if os.access(CHROMIUM, os.X_OK) else CHROMIUM}")
        return 1
    schedule = build_schedule(args)
    say(
        f"stream: {args.ttft:g}s waiting, {schedule.reasoning_chunks:,} reasoning chunks "
        f"({schedule.reasoning_chars:,} chars, ~{args.reasoning_rate:g}/s), {schedule.answer_chunks:,} answer chunks "
        f"({schedule.answer_chars:,} chars of markdown, ~{args.answer_rate:g}/s); {schedule.seconds:.1f}s in all"
    )
    try:
        raw = run(args, schedule, say)
    except BenchError as error:
        say(f"FAILED: {error}")
        return 1
    threshold = round(args.threshold_kb * KIB)
    result = analyse(raw["perf"], raw["timeline"], threshold)
    table, checks = report_table(result, args.threshold_kb)
    say("")
    say(table)
    say("")
    say(bucket_table(result))
    say("")
    for name, value, target in checks:
        say(f"* {name}: {ms(value)} ms (target <= {target:g} ms): **{verdict(value, target)}**")
    if result["end_seconds"] is not None:
        say(f"* view.end() in the kernel (final render of the whole answer + snapshot): {result['end_seconds']:.2f}s")
    for frame in result["long_frame_list"]:
        say(
            f"* long frame while streaming: {frame['duration']} ms, style + layout {frame['style_layout']} ms, "
            f"longest script {frame['longest_script']}"
        )
    if result["final_long_frames"]:
        say(f"* long animation frames after the stream (final snapshot): {result['final_long_frames']} ms")
    say(f"* screenshot: {SCREENSHOT.relative_to(HERE.parent)}")
    if args.json:
        summary = {k: v for k, v in result.items() if k != "buckets"}
        report = {
            "args": vars(args),
            "versions": {**versions, **raw["info"]},
            "stream": {
                "reasoning_chunks": schedule.reasoning_chunks,
                "reasoning_chars": schedule.reasoning_chars,
                "answer_chunks": schedule.answer_chunks,
                "answer_chars": schedule.answer_chars,
                "seconds": schedule.seconds,
            },
            "result": summary,
            "buckets": result["buckets"],
            "targets": [{"name": n, "value": v, "target": t, "met": v <= t} for n, v, t in checks],
        }
        print(json.dumps(_finite(report), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
