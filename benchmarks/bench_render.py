"""Live rendering against the network path: does a ThinkView slow its own stream, or anyone else's?

Run from the repository root::

    .venv/bin/python benchmarks/bench_render.py                 # the four cases at full size (~4 min)
    .venv/bin/python benchmarks/bench_render.py --scale 0.2     # a fifth of the text: a quick look
    .venv/bin/python benchmarks/bench_render.py --cases code,table --json

Four answers, each streamed from a loopback server (its own process) at ~2,000 chunks/s of 1-8
characters into a ThinkView driven exactly as ``think()`` drives it (``LiveDisplay`` on the shared
engine, widgets on ``thinkbook.testing.recording_comms``): a 150 KB single code block, a 100 KB
single paragraph, a 100 KB single table, and a 50 KB answer full of ``\\(...\\)`` and ``$$...$$``.
While it streams, a second ~1 s stream with ``display=False`` runs again and again on the same
engine. Per case (targets reported, never asserted):

* **second stream**: its median (and worst) time while the view streams / its median time alone
  (target <= 1.2x): does a view slow unrelated streams?
* **viewed stream**: wall time from the request to the final view / the same answer's wall time
  with ``display=False`` (target <= 1.5x): does a view slow its own stream?
* **view CPU / pipeline CPU**: thread CPU of everything the view does (``LiveDisplay.on_batch`` on
  the engine thread, the view worker thread, the final ``finish``) / the engine thread's CPU for
  the same bytes without a view (reading, decoding, parsing, accumulating) (target <= 2x).
* kernel-to-browser bytes per byte of text (all the view's comm messages).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _cpu_meter import ThreadCPUMeter

TARGET_SECOND = 1.2
TARGET_WALL = 1.5
TARGET_CPU = 2.0
CASES = ("code", "paragraph", "table", "math")
SIZES = {"code": 150_000, "paragraph": 100_000, "table": 100_000, "math": 50_000}
SECOND_CHUNKS = 2_000


def answer(case: str, size: int) -> str:
    """The answer of one case, ``size`` characters (about), the same at every run."""
    rng = random.Random(case)
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        n = rng.randint(0, 999)
        if case == "code":
            piece = f"def step_{i}(values, scale={n}):\n    # 调整 {i}: {n} times\n"
            piece += "    return [v * scale for v in values]\n\n"
            piece = ("```python\n" if i == 0 else "") + piece
        elif case == "paragraph":
            piece = f"word{i} with *some {n}* emphasis, `code {i}` and a [link](https://example.org/{n}) 中文 "
        elif case == "table":
            head = "| step | name | value | note |\n|---:|:---|---:|---|\n" if i == 0 else ""
            piece = f"{head}| {i} | item {n} | **{n * i}** | `c{i}` 说明 |\n"
        else:
            piece = (
                f"Step {i}: with \\(x_{{{i}}} = {n}\\) and \\(\\frac{{a_{i}}}{{b}}\\) we get\n\n"
                f"$$\n\\sum_{{k=1}}^{{{n}}} k^2 = \\frac{{{n}({n}+1)(2 \\cdot {n}+1)}}{{6}}\n$$\n\n"
            )
        parts.append(piece)
        total += len(piece)
        i += 1
    text = "".join(parts)
    return text + "```\n" if case == "code" else text


def pieces(text: str, seed: str) -> list[str]:
    """``text`` cut in chunks of 1-8 characters (a model's tokens), seeded."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 8)
        out.append(text[i : i + n])
        i += n
    return out


def response(model: str, scale: float, rate: float) -> Any:
    from thinkbook.testing import ScriptedResponse, openai_events, sse_chunks

    if model == "second":
        chunks = [f"r{i} " for i in range(SECOND_CHUNKS // 2)]
        events = openai_events(chunks, [f"a{i} " for i in range(SECOND_CHUNKS // 2)], model=model)
    else:
        text = answer(model, int(SIZES[model] * scale))
        events = openai_events(["Let me think. "], pieces(text, model), model=model)
    sse = sse_chunks(events)
    # Two events per write, a write every 2/rate s: ~rate chunks/s without a timer per chunk.
    body = [b"".join(sse[i : i + 2]) for i in range(0, len(sse), 2)]
    return ScriptedResponse(body=body, delay=2 / rate)


# The server runs in its own process: serving the streams must not count as anyone's CPU.
_SERVER = """
import sys
sys.path.insert(0, {here!r})
from bench_render import response
from thinkbook.testing import LoopbackServer
server = LoopbackServer(lambda r: response(r.json()["model"], {scale}, {rate})).start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""


@contextlib.contextmanager
def server_process(scale: float, rate: float) -> Iterator[str]:
    code = _SERVER.format(here=str(Path(__file__).parent), scale=scale, rate=rate)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip() + "/v1"
    finally:
        proc.communicate(timeout=10)


def thread_cpu(thread: threading.Thread | None) -> float:
    """CPU seconds ``thread`` has used so far (0 if it does not exist yet)."""
    if thread is None or thread.ident is None or not thread.is_alive():
        return 0.0
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def _submit(url: str, model: str) -> Any:
    from thinkbook import submit

    return submit("q", model=model, base_url=url, api_key="sk-bench", display=False, max_retries=0)


def second_alone(url: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        _submit(url, "second").result(60)
        times.append(time.monotonic() - started)
    return times


def without_view(url: str, case: str) -> dict[str, float]:
    """The case's stream with ``display=False``: wall time and the engine thread's CPU."""
    from thinkbook._engine import default_engine

    engine_thread = default_engine()._thread
    cpu0, started = thread_cpu(engine_thread), time.monotonic()
    result = _submit(url, case).result(120)
    wall = time.monotonic() - started
    return {"wall": wall, "engine_cpu": thread_cpu(engine_thread) - cpu0, "chars": len(result.answer)}


def with_view(url: str, case: str, request: Any) -> dict[str, Any]:
    """The case's stream into a ThinkView (as ``think()`` drives it) while second streams run back to back."""
    from thinkbook._display import LiveDisplay
    from thinkbook._engine import default_engine
    from thinkbook._panel_common import _start_stream
    from thinkbook._view_worker import default_worker
    from thinkbook.testing import recording_comms

    worker = default_worker()
    seconds: list[float] = []
    stop = threading.Event()

    def second_streams() -> None:
        while not stop.is_set():
            started = time.monotonic()
            _submit(url, "second").result(60)
            if not stop.is_set():  # (one that ended after the viewed stream did not run beside it)
                seconds.append(time.monotonic() - started)

    with recording_comms() as comms:
        # What the view does on the engine thread (take the events) and at the end (the final render).
        with ThreadCPUMeter([(LiveDisplay, "on_batch"), (LiveDisplay, "finish")]) as meter:
            live = LiveDisplay(request)
            worker_cpu0 = thread_cpu(worker._thread)
            runner = threading.Thread(target=second_streams)
            started = time.monotonic()
            future, run = _start_stream(request, live, engine=default_engine(), max_retries=0, timeout=None,
                                        on_stop=lambda: None)  # fmt: skip
            time.sleep(0.05)
            runner.start()
            result = future.result(300)
            run.settled.wait(60)
            wall = time.monotonic() - started
            stop.set()
            worker_cpu = thread_cpu(worker._thread) - worker_cpu0
            runner.join(120)
        view = live.view
        assert view.status == "done" and view.answer_markdown == result.answer, "the view did not end right"
        view_bytes = sum(c.bytes_sent for c in comms if c.comm_id == view.comm.comm_id)
        messages = len(view.comm.messages)
    text_bytes = len(result.answer.encode()) + len(result.reasoning.encode())
    return {
        "wall": wall,
        "view_cpu": meter.seconds + worker_cpu,
        "worker_cpu": worker_cpu,
        "engine_side_cpu": meter.seconds,
        "second": seconds,
        "bytes_per_text_byte": view_bytes / text_bytes,
        "messages_per_s": messages / wall,
    }


def measure(url: str, case: str, repeats: int) -> dict[str, Any]:
    handle = _submit(url, case)  # warm-up, and the request to replay into the view
    handle.result(120)
    request = handle.run.request
    alone = second_alone(url, 3)
    bare = [without_view(url, case) for _ in range(repeats)]
    viewed = [with_view(url, case, request) for _ in range(repeats)]
    alone += second_alone(url, 3)
    second = [s for v in viewed for s in v["second"]]
    alone_median = statistics.median(alone)
    bare_wall = statistics.median(b["wall"] for b in bare)
    pipeline_cpu = statistics.median(b["engine_cpu"] for b in bare)
    view_wall = statistics.median(v["wall"] for v in viewed)
    view_cpu = statistics.median(v["view_cpu"] for v in viewed)
    return {
        "case": case,
        "answer_chars": bare[0]["chars"],
        "second_alone_s": alone_median,
        "second_beside_view_median_s": statistics.median(second) if second else None,
        "second_beside_view_max_s": max(second) if second else None,
        "second_runs": len(second),
        "second_ratio": statistics.median(second) / alone_median if second else None,
        "second_worst_ratio": max(second) / alone_median if second else None,
        "bare_wall_s": bare_wall,
        "view_wall_s": view_wall,
        "wall_ratio": view_wall / bare_wall,
        "pipeline_cpu_s": pipeline_cpu,
        "view_cpu_s": view_cpu,
        "view_worker_cpu_s": statistics.median(v["worker_cpu"] for v in viewed),
        "view_engine_side_cpu_s": statistics.median(v["engine_side_cpu"] for v in viewed),
        "cpu_ratio": view_cpu / pipeline_cpu,
        "bytes_per_text_byte": statistics.median(v["bytes_per_text_byte"] for v in viewed),
        "messages_per_s": statistics.median(v["messages_per_s"] for v in viewed),
    }


def verdict(value: float | None, target: float) -> str:
    return "–" if value is None else "meets target" if value <= target else "below target"


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"bench_render: scale {args.scale}, ~{args.rate:.0f} chunks/s, {args.repeats} repeat(s) per case",
        "",
        "| case | answer | chunks/s | second stream beside the view / alone (worst) | viewed stream wall / "
        "display=False | view CPU / pipeline CPU | bytes per text byte | messages/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        second = (
            f"{r['second_beside_view_median_s']:.2f} / {r['second_alone_s']:.2f} s = **{r['second_ratio']:.2f}x** "
            f"({r['second_worst_ratio']:.2f}x, {r['second_runs']} runs)"
            if r["second_ratio"] is not None
            else "– (no second stream finished beside it)"
        )
        lines.append(
            f"| {r['case']} | {r['answer_chars'] / 1000:.0f} K chars | {r['chunks_per_s']:,.0f} | {second} | "
            f"{r['view_wall_s']:.2f} / {r['bare_wall_s']:.2f} s = **{r['wall_ratio']:.2f}x** | "
            f"{r['view_cpu_s']:.2f} / {r['pipeline_cpu_s']:.2f} s = **{r['cpu_ratio']:.2f}x** "
            f"(worker {r['view_worker_cpu_s']:.2f}, engine side {r['view_engine_side_cpu_s']:.3f}) | "
            f"{r['bytes_per_text_byte']:.2f}x | {r['messages_per_s']:.1f} |"
        )
    lines.append("")
    for r in rows:
        lines.append(
            f"* {r['case']}: second stream {verdict(r['second_ratio'], TARGET_SECOND)} (<= {TARGET_SECOND}x), "
            f"viewed wall {verdict(r['wall_ratio'], TARGET_WALL)} (<= {TARGET_WALL}x), "
            f"view CPU {verdict(r['cpu_ratio'], TARGET_CPU)} (<= {TARGET_CPU}x)"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each case's size")
    parser.add_argument("--rate", type=float, default=2000.0, help="chunks per second the server sends")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with server_process(args.scale, args.rate) as url:
        for case in args.cases.split(","):
            row = measure(url, case, args.repeats)
            chunks = len(pieces(answer(case, int(SIZES[case] * args.scale)), case))
            row["chunks"] = chunks
            row["chunks_per_s"] = chunks / row["bare_wall_s"]
            rows.append(row)
            print(f"{case}: done", file=sys.stderr, flush=True)
    text = report(rows, args)
    print(text, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
