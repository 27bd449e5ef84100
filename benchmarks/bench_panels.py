"""ComparePanel with 6 columns streaming at once vs one ThinkView: comm messages per second and kernel CPU.

Run from the repository root::

    .venv/bin/python benchmarks/bench_panels.py            # 6 columns, 400 chunks each at ~100 chunks/s
    .venv/bin/python benchmarks/bench_panels.py --json

Both runs stream over a real LoopbackServer (in this process) into widgets on RecordingComms, so
nothing is drawn. "kernel CPU" is this process's CPU time (server thread included) per second of
streaming. Targets (reported, not asserted): messages/s of six columns within one view's 25/s while
streaming, and kernel CPU of the panel under 2x that of the single view. Six columns necessarily
parse six times the bytes; the CPU ratio therefore also shows per-view overhead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from thinkbook._compare_panel import ComparePanel
from thinkbook._engine import Engine, set_default_engine
from thinkbook.testing import ScriptedResponse, recording_comms

TARGET_MESSAGES = 25.0
TARGET_CPU = 2.0


def stream(chunks: int, delay: float, model: str) -> ScriptedResponse:
    events: list[dict[str, Any]] = [{"model": model, "choices": [{"delta": {"reasoning_content": "思考 "}}]}]
    events += [{"choices": [{"delta": {"reasoning_content": f"推理{i} "}}]} for i in range(chunks // 2)]
    events += [{"choices": [{"delta": {"content": f"word{i} "}}]} for i in range(chunks // 2)]
    events += [{"choices": [{"delta": {}, "finish_reason": "stop"}]}]
    return ScriptedResponse.from_sse(events, delay=delay)


# The server runs in its own process: serving six streams must not count as the view's CPU.
_SERVER = """
import sys
sys.path.insert(0, {here!r})
from bench_panels import stream
from thinkbook.testing import LoopbackServer
server = LoopbackServer(lambda r: stream({chunks}, {delay}, r.json()["model"])).start()
print(server.url, flush=True)
sys.stdin.read()
server.stop()
"""


@contextlib.contextmanager
def server_process(chunks: int, delay: float) -> Iterator[str]:
    code = _SERVER.format(here=str(Path(__file__).parent), chunks=chunks, delay=delay)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.communicate(timeout=10)


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url


def run(columns: int, chunks: int, delay: float) -> dict[str, float]:
    set_default_engine(Engine())
    with recording_comms() as comms, server_process(chunks, delay) as url:
        server = _Url(url)
        models = ["qwen-plus", "qwen-flash", "qwen-turbo", "qwen3.6-plus", "qwen3.5-plus", "qwen3-max"][:columns]
        if columns == 1:
            models = [*models, "qwen-flash"]  # ComparePanel needs 2: time one view on its own below
        cpu0, wall0 = time.process_time(), time.monotonic()
        if columns == 1:
            from thinkbook import submit

            handle = submit("q", model="qwen-plus", base_url=server.url + "/v1", api_key="sk-bench", display=False)
            # the same driving path as a panel column, with one view
            from thinkbook._display import LiveDisplay
            from thinkbook._panel_common import _start_stream

            handle.result(60)
            cpu0, wall0 = time.process_time(), time.monotonic()
            request = handle.run.request
            live = LiveDisplay(request)
            first = sum(len(c.messages) for c in comms)
            from thinkbook._engine import default_engine

            future, settled = _start_stream(request, live, engine=default_engine(), max_retries=0, timeout=None,
                                            on_stop=lambda: None)  # fmt: skip
            future.result(60)
            settled.settled.wait(10)
        else:
            panel = ComparePanel("q", models, base_url=server.url + "/v1", api_key="sk-bench")
            first = sum(len(c.messages) for c in comms)
            panel.wait(60)
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        messages = sum(len(c.messages) for c in comms) - first
    return {"columns": columns, "wall_s": wall, "messages": messages, "messages_per_s": messages / wall,
            "cpu_s": cpu, "cpu_per_s": cpu / wall}  # fmt: skip


def run_without_views(streams: int, chunks: int, delay: float) -> float:
    """CPU seconds for the same streams with no view at all (what streaming alone costs)."""
    from thinkbook import submit

    set_default_engine(Engine())
    models = ["qwen-plus", "qwen-flash", "qwen-turbo", "qwen3.6-plus", "qwen3.5-plus", "qwen3-max"][:streams]
    with server_process(chunks, delay) as url:
        submit("q", model="qwen-plus", base_url=url + "/v1", api_key="sk-bench", display=False).result(60)  # warm-up
        cpu0 = time.process_time()
        handles = [submit("q", model=m, base_url=url + "/v1", api_key="sk-bench", display=False) for m in models]
        for handle in handles:
            handle.result(60)
        return time.process_time() - cpu0


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--delay", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # The views' own CPU is small next to streaming's, so each figure is a median over runs,
    # interleaved so that slow phases of a noisy machine hit every variant alike.
    singles, panels, bare_singles, bare_panels = [], [], [], []
    for _ in range(args.repeats):
        singles.append(run(1, args.chunks, args.delay))
        panels.append(run(args.columns, args.chunks, args.delay))
        bare_singles.append(run_without_views(1, args.chunks, args.delay))
        bare_panels.append(run_without_views(args.columns, args.chunks, args.delay))
    single, panel = _median_run(singles), _median_run(panels)
    bare_single = statistics.median(bare_singles)
    bare_panel = statistics.median(bare_panels)
    # The views' own CPU: the whole run minus the same streams with no view. Streaming itself
    # (sockets, httpx, parsing) grows with the number of streams whatever draws them.
    view_single = max(single["cpu_s"] - bare_single, 1e-3)  # floor: never divide by noise
    view_panel = panel["cpu_s"] - bare_panel
    view_cpu_ratio = view_panel / view_single
    # The same ratio within each repeat (its four runs ran back to back): shows the spread.
    paired = sorted(
        (p["cpu_s"] - bp) / max(s["cpu_s"] - bs, 1e-3)
        for s, p, bs, bp in zip(singles, panels, bare_singles, bare_panels, strict=True)
    )
    cpu_ok = view_cpu_ratio <= TARGET_CPU
    report: dict[str, Any] = {
        "repeats": args.repeats,
        "single": single,
        "panel": panel,
        "streams_only_cpu_s": {"single": bare_single, "panel": bare_panel},
        "view_cpu_s": {"single": view_single, "panel": view_panel},
        "messages_ok": panel["messages_per_s"] <= TARGET_MESSAGES,
        "cpu_ratio": panel["cpu_s"] / max(single["cpu_s"], 1e-9),
        "view_cpu_ratio": view_cpu_ratio,
        "view_cpu_ratio_per_repeat": paired,
        "cpu_ok": cpu_ok,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"medians of {args.repeats} interleaved repeats")
        for name, r in (("single", single), ("panel", panel)):
            print(f"{name:>6}: {r['columns']:.0f} col, {r['wall_s']:.2f}s, {r['messages']:.0f} messages "
                  f"({r['messages_per_s']:.1f}/s), CPU {r['cpu_s'] * 1000:.0f} ms "
                  f"({r['cpu_per_s'] * 100:.1f}% of a core)")  # fmt: skip
        print(f"streams alone (no views): 1 stream {bare_single * 1000:.0f} ms CPU, {args.columns} streams "
              f"{bare_panel * 1000:.0f} ms CPU")  # fmt: skip
        print(f"CPU in the views (run minus streams alone): one view {view_single * 1000:.0f} ms, "
              f"{args.columns} columns {view_panel * 1000:.0f} ms")  # fmt: skip
        print(f"messages/s {'meets' if report['messages_ok'] else 'above'} target {TARGET_MESSAGES}/s (whole run, "
              f"start/end updates included)")  # fmt: skip
        print(f"CPU in the views: {args.columns} columns / one view = {view_cpu_ratio:.2f}x "
              f"({'meets' if cpu_ok else 'above'} target {TARGET_CPU}x; per repeat "
              f"{paired[0]:.2f}-{paired[-1]:.2f}x, median {statistics.median(paired):.2f}x); "
              f"whole kernel incl. {args.columns}x the streaming: {report['cpu_ratio']:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
