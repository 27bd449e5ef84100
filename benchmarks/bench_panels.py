"""ComparePanel with 6 columns streaming at once vs one ThinkView: comm messages per second and kernel CPU.

Run from the repository root::

    .venv/bin/python benchmarks/bench_panels.py            # 6 columns, 400 chunks each at ~100 chunks/s, 7 repeats
    .venv/bin/python benchmarks/bench_panels.py --json

The server runs in its own process; the widgets talk to RecordingComms, so nothing is drawn.
Targets (reported, not asserted): messages/s of six columns within one view's 25/s, and the CPU
the views cost under 2x that of one view. The views' CPU is measured twice: in their entry points
(thread CPU time around construction, event batches, flushes/ticks, ends and the summary: the
headline, little noise), and as process CPU minus the same streams with no view (everything the
views cause, but the difference of two noisy totals). Six streams necessarily parse six times
the bytes: streaming is therefore not counted as the views' CPU. See benchmarks/README.md.
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

from _cpu_meter import ThreadCPUMeter

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


def _view_entry_points(columns: int) -> list[tuple[type, str]]:
    from thinkbook._compare_panel import ComparePanel, _Batcher, _ColumnDisplay
    from thinkbook._display import LiveDisplay
    from thinkbook._view import ThinkView

    common: list[tuple[type, str]] = [(ThinkView, "begin"), (LiveDisplay, "finish")]
    if columns == 1:
        return [*common, (LiveDisplay, "__init__"), (LiveDisplay, "on_batch"), (LiveDisplay, "run_due")]
    return [*common, (ComparePanel, "__init__"), (_ColumnDisplay, "on_batch"), (_Batcher, "run_due"),
            (_ColumnDisplay, "finish"), (ComparePanel, "_finished"), (ComparePanel, "_maybe_summarize"),
            (ComparePanel, "_maybe_finalize")]  # fmt: skip


def run(columns: int, chunks: int, delay: float) -> dict[str, float]:
    from thinkbook import submit
    from thinkbook._display import LiveDisplay
    from thinkbook._engine import default_engine
    from thinkbook._panel_common import _start_stream

    set_default_engine(Engine())
    with recording_comms() as comms, server_process(chunks, delay) as url:
        models = ["qwen-plus", "qwen-flash", "qwen-turbo", "qwen3.6-plus", "qwen3.5-plus", "qwen3-max"][:columns]
        # Warm-up (engine thread, HTTP client, connection) in both variants: not part of the measure.
        handle = submit("q", model="qwen-plus", base_url=url + "/v1", api_key="sk-bench", display=False)
        handle.result(60)
        with ThreadCPUMeter(_view_entry_points(columns)) as meter:
            cpu0, wall0 = time.process_time(), time.monotonic()
            if columns == 1:  # the same driving path as a panel column, with one view
                request = handle.run.request
                live = LiveDisplay(request)
                first = sum(len(c.messages) for c in comms)
                future, settled = _start_stream(request, live, engine=default_engine(), max_retries=0, timeout=None,
                                                on_stop=lambda: None)  # fmt: skip
                future.result(60)
                settled.settled.wait(10)
            else:
                panel = ComparePanel("q", models, base_url=url + "/v1", api_key="sk-bench")
                first = sum(len(c.messages) for c in comms)
                panel.wait(60)
            wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        messages = sum(len(c.messages) for c in comms) - first
    return {"columns": columns, "wall_s": wall, "messages": messages, "messages_per_s": messages / wall,
            "cpu_s": cpu, "cpu_per_s": cpu / wall, "view_cpu_s": meter.seconds}  # fmt: skip


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
    # (1) Measured in the views' entry points (thread CPU time): the headline, little noise.
    metered_ratio = panel["view_cpu_s"] / single["view_cpu_s"]
    metered_paired = sorted(p["view_cpu_s"] / s["view_cpu_s"] for s, p in zip(singles, panels, strict=True))
    # (2) The whole process minus the same streams with no view: everything the views cause
    # (timers, GC, comm serialization outside the entry points too), but the difference of two
    # noisy totals. Streaming itself (sockets, httpx, parsing) grows with the number of streams.
    view_single = max(single["cpu_s"] - bare_single, 1e-3)  # floor: never divide by noise
    view_panel = panel["cpu_s"] - bare_panel
    subtracted_ratio = view_panel / view_single
    paired = sorted(
        (p["cpu_s"] - bp) / max(s["cpu_s"] - bs, 1e-3)
        for s, p, bs, bp in zip(singles, panels, bare_singles, bare_panels, strict=True)
    )
    cpu_ok = metered_ratio <= TARGET_CPU
    report: dict[str, Any] = {
        "repeats": args.repeats,
        "single": single,
        "panel": panel,
        "streams_only_cpu_s": {"single": bare_single, "panel": bare_panel},
        "view_cpu_ratio": metered_ratio,
        "view_cpu_ratio_per_repeat": metered_paired,
        "subtracted_view_cpu_s": {"single": view_single, "panel": view_panel},
        "subtracted_view_cpu_ratio": subtracted_ratio,
        "subtracted_view_cpu_ratio_per_repeat": paired,
        "messages_ok": panel["messages_per_s"] <= TARGET_MESSAGES,
        "cpu_ratio": panel["cpu_s"] / max(single["cpu_s"], 1e-9),
        "cpu_ok": cpu_ok,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        n = args.columns
        print(f"medians of {args.repeats} interleaved repeats")
        for name, r in (("single", single), ("panel", panel)):
            print(f"{name:>6}: {r['columns']:.0f} col, {r['wall_s']:.2f}s, {r['messages']:.0f} messages "
                  f"({r['messages_per_s']:.1f}/s), process CPU {r['cpu_s'] * 1000:.0f} ms "
                  f"({r['cpu_per_s'] * 100:.1f}% of a core), in the views {r['view_cpu_s'] * 1000:.1f} ms")  # fmt: skip
        print(f"messages/s {'meets' if report['messages_ok'] else 'above'} target {TARGET_MESSAGES}/s (whole run, "
              f"start/end updates included)")  # fmt: skip
        print(f"CPU in the views (measured in their entry points): {n} columns / one view = {metered_ratio:.2f}x "
              f"({'meets' if cpu_ok else 'above'} target {TARGET_CPU}x; per repeat "
              f"{metered_paired[0]:.2f}-{metered_paired[-1]:.2f}x)")  # fmt: skip
        print(f"streams alone (no views): 1 stream {bare_single * 1000:.0f} ms CPU, {n} streams "
              f"{bare_panel * 1000:.0f} ms CPU")  # fmt: skip
        print(f"CPU in the views (process minus streams alone, noisier): one view {view_single * 1000:.0f} ms, "
              f"{n} columns {view_panel * 1000:.0f} ms = {subtracted_ratio:.2f}x (per repeat "
              f"{paired[0]:.2f}-{paired[-1]:.2f}x, median {statistics.median(paired):.2f}x)")  # fmt: skip
        print(f"whole process incl. {n}x the streaming: {report['cpu_ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
