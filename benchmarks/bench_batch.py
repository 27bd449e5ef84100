"""thinkbook.batch at scale: wall time against the ideal, CPU per row, memory of finished rows.

Run from the repository root::

    .venv/bin/python benchmarks/bench_batch.py                 # levels 1/8/32/64, ~36 s each, then memory
    .venv/bin/python benchmarks/bench_batch.py --seconds 10    # shorter levels (noisier)
    .venv/bin/python benchmarks/bench_batch.py --json > b.json # JSON on stdout, the report on stderr

The server is :class:`thinkbook.testing.LoopbackServer` in a **separate process** (so it takes no
GIL and no CPU time from the client under test): every answer waits 200 ms before its first byte
(time to first token), then streams 25 chat.completion.chunk events ~38 ms apart (a 1 s stream):
15 reasoning and 10 answer deltas, ~2,000 characters in all, a finish chunk, a usage chunk and
``[DONE]``. One prompt therefore takes 1.2 s however fast the client is, and the ideal wall time of
a level is ``prompts x 1.2 s / concurrency``.

The issue's 2,000 prompts at concurrency 1 would take 40 minutes, so the prompt count is scaled
per level to make each level's ideal ``--seconds`` long (default 36 s): 30 prompts at 1, 240 at
8, 960 at 32, 1,920 at 64 (close to the 2,000 of the issue). Reported per level: wall time, ideal,
their ratio (target: within 1.3x at 64), thinkbook's CPU per row (the engine thread, measured
with ``time.pthread_getcpuclockid``: all of httpx, SSE parsing, the pipeline and the runner; and
the whole process), and the peak concurrency the server saw (it counts its open streams).

Memory: 10,000 rows against the same server with no delays (concurrency 64), then the retained
size of the :class:`BatchResult` (every object reachable from it, each counted once, the prompts
excluded because they are the caller's list) divided by the rows' text (reasoning + answer, UTF-8
bytes). Target: under 3x. Targets are reported, not asserted: the exit code is 1 only when a
correctness check fails (a row missing or wrong, concurrency above the limit).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import thinkbook
from thinkbook._engine import default_engine

TTFT = 0.2
STREAM_SECONDS = 1.0
CHUNKS = 25
PER_PROMPT = TTFT + STREAM_SECONDS
LEVELS = (1, 8, 32, 64)
MEMORY_ROWS = 10_000
TARGET_RATIO = 1.3
TARGET_MEMORY = 3.0

_SERVER_CODE = r"""
import json, sys, threading
from thinkbook.testing import LoopbackServer, ScriptedResponse

ttft, gap, chunks = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
state = {"active": 0, "peak": 0}
def sse(obj):
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"

class Counting(LoopbackServer):
    async def _send(self, conn, request, response, close):
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
        try:
            return await super()._send(conn, request, response, close)
        finally:
            with lock:
                state["active"] -= 1

def respond(request):
    if request.path.endswith("/peak"):
        with lock:
            peak, state["peak"] = state["peak"], 0
        return ScriptedResponse.from_json({"peak": peak})
    prompt = request.json()["messages"][-1]["content"]
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": "qwen-plus"}
    body = []
    reasoning_chunks = chunks * 3 // 5
    filler = "let me think about this carefully and check it twice. "
    for i in range(chunks):
        text = f"{prompt} step {i}: " + filler[: 80 - len(prompt) - 10]
        delta = {"reasoning_content": text} if i < reasoning_chunks else {"content": text}
        body.append(sse({**base, "choices": [{"index": 0, "delta": delta}]}))
    body.append(sse({**base, "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "stop"}]}))
    usage = {"prompt_tokens": 20, "completion_tokens": 500, "total_tokens": 520,
             "completion_tokens_details": {"reasoning_tokens": 300}}
    body.append(sse({**base, "choices": [], "usage": usage}) + b"data: [DONE]\n\n")
    return ScriptedResponse(body=body, first_byte_delay=ttft, delay=gap, headers={"Content-Type": "text/event-stream"})

with Counting(respond) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


@contextmanager
def serve(ttft: float, gap: float) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER_CODE, str(ttft), str(gap), str(CHUNKS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the server process did not start (said {url!r})")
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def peak_of(url: str) -> int:
    import httpx

    return int(httpx.post(url + "/peak", json={}).json()["peak"])


def engine_cpu() -> float:
    """CPU seconds of thinkbook's engine thread so far."""
    engine = default_engine()
    engine.loop  # noqa: B018 - starts the thread
    thread = engine._thread
    assert thread is not None and thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def check(result: thinkbook.BatchResult, prompts: list[str]) -> None:
    if result.errors:
        raise SystemExit(f"correctness: {len(result.errors)} rows failed, e.g. {result.errors[0].error}")
    for prompt, row in zip(prompts, result.rows, strict=True):
        if row.result is None or not row.result.answer.startswith(prompt) or not row.result.reasoning:
            raise SystemExit(f"correctness: the row for {prompt!r} is wrong: {row.result!r:.200}")


def run_level(url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    count = max(1, round(seconds * concurrency / PER_PROMPT))
    prompts = [f"q{concurrency}-{i}" for i in range(count)]
    base = f"{url}/compatible-mode/v1"
    peak_of(url)  # reset the server's peak
    cpu0, process0 = engine_cpu(), time.process_time()
    started = time.perf_counter()
    result = thinkbook.batch(
        prompts, model="qwen-plus", base_url=base, api_key="sk-bench", concurrency=concurrency, progress=False
    )
    wall = time.perf_counter() - started
    cpu, process = engine_cpu() - cpu0, time.process_time() - process0
    check(result, prompts)
    peak = peak_of(url)
    if peak > concurrency:
        raise SystemExit(f"correctness: the server saw {peak} streams at once at concurrency {concurrency}")
    ideal = count * PER_PROMPT / concurrency
    return {
        "concurrency": concurrency,
        "prompts": count,
        "wall_s": wall,
        "ideal_s": ideal,
        "ratio": wall / ideal,
        "engine_cpu_ms_per_row": cpu / count * 1000,
        "process_cpu_ms_per_row": process / count * 1000,
        "server_peak": peak,
    }


def deep_size(root: object, exclude: set[int]) -> int:
    """Bytes of every object reachable from ``root`` (each once), minus ``exclude`` and what they hold."""
    seen = set(exclude)
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def run_memory(rows: int) -> dict[str, Any]:
    with serve(0.0, 0.0) as url:
        prompts = [f"m{i}" for i in range(rows)]
        started = time.perf_counter()
        result = thinkbook.batch(
            prompts, model="qwen-plus", base_url=f"{url}/compatible-mode/v1", api_key="sk-bench", concurrency=64,
            progress=False,
        )  # fmt: skip
        wall = time.perf_counter() - started
    check(result, prompts)
    gc.collect()
    # The prompts are the caller's; shared immortal-ish objects (None, small ints, the module) do not grow.
    exclude = {id(p) for p in prompts} | {id(None), id(True), id(False)}
    retained = deep_size(result, exclude)
    text = sum(len((r.reasoning + r.answer).encode("utf-8")) for r in result)  # type: ignore[union-attr]
    strings = sum(sys.getsizeof(r.reasoning) + sys.getsizeof(r.answer) for r in result)  # type: ignore[union-attr]
    return {
        "rows": rows,
        "wall_s": wall,
        "retained_bytes": retained,
        "text_bytes": text,
        "per_row_bytes": retained / rows,
        "text_per_row_bytes": text / rows,
        "ratio_to_text": retained / text,
        "ratio_to_strings": retained / strings,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=36.0, help="ideal seconds per level (default 36)")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--memory-rows", type=int, default=MEMORY_ROWS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x]
    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else (lambda *a: print(*a, flush=True))
    say(f"thinkbook.batch benchmark on {os.cpu_count()} cores; each prompt: {TTFT * 1000:.0f} ms to first token "
        f"+ a {STREAM_SECONDS:.0f} s stream of {CHUNKS} chunks")  # fmt: skip
    say(f"prompt counts are scaled per level so that each level's ideal is {args.seconds:.0f} s "
        f"(2,000 prompts at concurrency 1 would take {2000 * PER_PROMPT / 60:.0f} minutes)")  # fmt: skip
    report: dict[str, Any] = {"levels": []}
    # 25 deltas + the finish chunk + the usage chunk are 27 writes, 26 gaps: 26 x gap = the 1 s stream.
    with serve(TTFT, STREAM_SECONDS / (CHUNKS + 1)) as url:
        run_level(url, 4, 2.0)  # warm up: imports, the engine thread, connections
        for concurrency in levels:
            level = run_level(url, concurrency, args.seconds)
            report["levels"].append(level)
            say(f"  concurrency {concurrency}: {level['prompts']} prompts in {level['wall_s']:.1f} s")
    say("")
    say("| concurrency | prompts | wall | ideal | wall / ideal | engine CPU / row | process CPU / row | server peak |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level in report["levels"]:
        mark = ""
        if level["concurrency"] == 64:
            mark = " (meets target)" if level["ratio"] <= TARGET_RATIO else " (below target)"
        say(
            f"| {level['concurrency']} | {level['prompts']:,} | {level['wall_s']:.1f} s | {level['ideal_s']:.1f} s | "
            f"**{level['ratio']:.2f}x**{mark} | {level['engine_cpu_ms_per_row']:.1f} ms | "
            f"{level['process_cpu_ms_per_row']:.1f} ms | {level['server_peak']} |"
        )
    if args.memory_rows:
        memory = run_memory(args.memory_rows)
        report["memory"] = memory
        verdict = "meets target" if memory["ratio_to_text"] < TARGET_MEMORY else "below target"
        say("")
        say(
            f"memory: {memory['rows']:,} finished rows (run in {memory['wall_s']:.1f} s) retain "
            f"{memory['retained_bytes'] / 2**20:.1f} MiB = {memory['per_row_bytes']:,.0f} B per row for "
            f"{memory['text_per_row_bytes']:,.0f} B of text: **{memory['ratio_to_text']:.2f}x** the UTF-8 text "
            f"({verdict}: < {TARGET_MEMORY:.0f}x), {memory['ratio_to_strings']:.2f}x getsizeof(reasoning + answer)"
        )
    if args.json:
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    raise SystemExit(main())
