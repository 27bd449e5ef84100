"""Streaming throughput and memory of thinkbook against a bare httpx loop and the openai SDK.

Run from the repository root::

    .venv/bin/python benchmarks/bench_stream.py                  # 30,000 chunks, 5 repeats
    .venv/bin/python benchmarks/bench_stream.py --chunks 30000 --repeats 5 --json

One run does everything:

1. Builds a Bailian compatible-mode stream shaped like ``tests/fixtures/bailian_openai_whoami.sse``
   (``chat.completion.chunk`` JSON: a role chunk, reasoning and answer delta chunks 2:1 with 1-3
   Chinese/English characters each, a finish chunk, a usage chunk, ``[DONE]``) and serves it from
   :class:`thinkbook.testing.LoopbackServer` in a *separate process* as 64 KiB HTTP chunks, so
   the server is never the bottleneck and takes no GIL from the clients (``--server thread``
   runs it in-process instead, to see how much that distorts the comparison).
2. Times four clients over the same loopback socket, interleaved (a, b, c, c2, a, b, ...) after one
   warm-up each: (a) a bare ``httpx.Client.stream`` + ``iter_lines`` + ``json.loads`` loop, (b) the
   openai SDK loop from the Bailian deep-thinking guide, (c) ``thinkbook.think`` and (c2)
   ``thinkbook.stream``. Every run checks it got the full reasoning and answer, exactly.
3. When thinkbook is below the bare-loop target (or with ``--breakdown always``), times
   thinkbook's layers one by one on the same bytes to show where the time goes.
4. Measures the tracemalloc peak of ``thinkbook.think`` (and of the bare loop, for reference)
   on a 1,000,000-character stream, server in a subprocess so none of its memory is counted.

Targets are reported, not asserted (timings on a shared machine are noisy): the exit code is 0
unless a correctness check fails (then 1).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import thinkbook
from thinkbook.testing import LoopbackServer, ScriptedResponse, sse_chunks

PIECE = 64 * 1024  # bytes per HTTP chunk the server writes
MODEL = "qwen-plus"
PROMPT = "9.11 和 9.9 哪个大？"
API_KEY = "sk-bench"
CREATED = 1745485391
REQUEST_ID = "chatcmpl-e3a1b2c4-5d6f-9a8b-b7c6-d5e4f3a2b1c0"
TARGET_VS_BARE = 0.8
TARGET_VS_OPENAI = 5.0
TARGET_MEMORY = 3.0

# Characters the deltas are drawn from: a mix of Chinese (3 UTF-8 bytes each) and English.
_CHINESE = (
    "好的用户问的是九点一一和九点九哪个大我需要比较这两个小数首先看整数部分都是九然后比较小数部分"
    "十分位上一个是一另一个是九所以后者更大答案是这样的，。：！？、“”"
)
_ENGLISH = "Let me compare 9.11 and 9.9 carefully: the integer parts are equal, so look at tenths. "


# --------------------------------------------------------------------------------------------
# The stream under test
# --------------------------------------------------------------------------------------------


@dataclass
class Stream:
    """One generated response: its wire bytes and the text a correct client must end up with."""

    name: str  # first path segment the server routes on
    body: bytes
    reasoning: str
    answer: str
    chunks: int  # chunks that carry a delta (what "chunks/s" counts)
    reasoning_deltas: list[str] = field(repr=False)
    answer_deltas: list[str] = field(repr=False)

    @property
    def text_bytes(self) -> int:
        return len((self.reasoning + self.answer).encode("utf-8"))


def _deltas(rng: random.Random, count: int | None, chars: int | None) -> list[str]:
    """Deltas of 1-3 characters, stopping after ``count`` deltas or ``chars`` characters."""
    out: list[str] = []
    total = 0
    while (count is None or len(out) < count) and (chars is None or total < chars):
        n = rng.randint(1, 3)
        if chars is not None:
            n = min(n, chars - total)
        pool = _CHINESE if rng.random() < 0.6 else _ENGLISH
        start = rng.randrange(len(pool) - n + 1)
        out.append(pool[start : start + n])
        total += n
    return out


def build_stream(name: str, *, chunks: int | None = None, chars: int | None = None, seed: int = 7) -> Stream:
    """A Bailian compatible-mode stream with reasoning:answer = 2:1 (by chunks, or by characters)."""
    rng = random.Random(seed)
    if chunks is not None:
        n_answer = chunks // 3
        reasoning_deltas = _deltas(rng, chunks - n_answer, None)
        answer_deltas = _deltas(rng, n_answer, None)
    else:
        assert chars is not None
        answer_chars = chars // 3
        reasoning_deltas = _deltas(rng, None, chars - answer_chars)
        answer_deltas = _deltas(rng, None, answer_chars)

    def dump(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    tail = (
        f'"object":"chat.completion.chunk","usage":null,"created":{CREATED},'
        f'"system_fingerprint":null,"model":"{MODEL}","id":"{REQUEST_ID}"}}'
    )
    # The shapes of tests/fixtures/bailian_openai_whoami.sse (a Bailian compatible-mode stream):
    # an opening chunk with the role, reasoning deltas, answer deltas, an empty finishing delta.
    events: list[str] = [
        '{"choices":[{"delta":{"content":null,"role":"assistant","reasoning_content":""},'
        f'"index":0,"logprobs":null,"finish_reason":null}}],{tail}'
    ]
    for text in reasoning_deltas:
        events.append(
            f'{{"choices":[{{"delta":{{"content":null,"reasoning_content":{dump(text)}}},'
            f'"finish_reason":null,"index":0,"logprobs":null}}],{tail}'
        )
    for text in answer_deltas:
        events.append(
            f'{{"choices":[{{"delta":{{"content":{dump(text)},"reasoning_content":null}},'
            f'"finish_reason":null,"index":0,"logprobs":null}}],{tail}'
        )
    events.append(
        '{"choices":[{"finish_reason":"stop","delta":{"content":"","reasoning_content":null},'
        f'"index":0,"logprobs":null}}],{tail}'
    )
    completion = len(reasoning_deltas) + len(answer_deltas)
    usage = {
        "choices": [],
        "object": "chat.completion.chunk",
        "usage": {
            "prompt_tokens": 16,
            "completion_tokens": completion,
            "total_tokens": completion + 16,
            "completion_tokens_details": {"reasoning_tokens": len(reasoning_deltas)},
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        "created": CREATED,
        "system_fingerprint": None,
        "model": MODEL,
        "id": REQUEST_ID,
    }
    body = b"".join(sse_chunks([*events, usage], done=True))
    return Stream(
        name=name,
        body=body,
        reasoning="".join(reasoning_deltas),
        answer="".join(answer_deltas),
        chunks=completion,
        reasoning_deltas=reasoning_deltas,
        answer_deltas=answer_deltas,
    )


# --------------------------------------------------------------------------------------------
# The server (in a subprocess by default)
# --------------------------------------------------------------------------------------------

_SERVER_CODE = r"""
import sys
from pathlib import Path
from thinkbook.testing import LoopbackServer, ScriptedResponse

piece = int(sys.argv[1])
bodies = {}
for arg in sys.argv[2:]:
    name, _, path = arg.partition("=")
    data = Path(path).read_bytes()
    bodies[name] = [data[i : i + piece] for i in range(0, len(data), piece)]

def respond(request):
    body = bodies.get(request.path.lstrip("/").split("/", 1)[0])
    if body is None:
        return ScriptedResponse.from_json({"error": {"message": "no stream at " + request.path}}, status=404)
    return ScriptedResponse(body=body, headers={"Content-Type": "text/event-stream"})

with LoopbackServer(respond) as server:
    print(server.url, flush=True)
    sys.stdin.read()  # the parent closes our stdin to stop us
"""


def _split(body: bytes) -> list[bytes]:
    return [body[i : i + PIECE] for i in range(0, len(body), PIECE)]


@dataclass
class Server:
    url: str
    pid: int | None = None  # of the server process; None when it runs in this process

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (Linux only; None elsewhere)."""
        if self.pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, ValueError, IndexError):
            return None


@contextlib.contextmanager
def serve(streams: list[Stream], mode: str) -> Iterator[Server]:
    """Serve every stream at ``{url}/{stream.name}/compatible-mode/v1/chat/completions``."""
    if mode == "thread":
        bodies = {s.name: _split(s.body) for s in streams}

        def respond(request: Any) -> ScriptedResponse:
            body = bodies[request.path.lstrip("/").split("/", 1)[0]]
            return ScriptedResponse(body=body, headers={"Content-Type": "text/event-stream"})

        with LoopbackServer(respond) as server:
            yield Server(server.url)
        return
    with tempfile.TemporaryDirectory(prefix="thinkbook-bench-") as tmp:
        args = []
        for s in streams:
            path = Path(tmp) / f"{s.name}.sse"
            path.write_bytes(s.body)
            args.append(f"{s.name}={path}")
        proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER_CODE, str(PIECE), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            if not url.startswith("http://"):
                raise RuntimeError(f"the server process did not start (said {url!r})")
            yield Server(url, proc.pid)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def base_url(url: str, stream: Stream) -> str:
    # "/compatible-mode/" makes thinkbook treat the server as Bailian (enable_thinking in the body).
    return f"{url}/{stream.name}/compatible-mode/v1"


# --------------------------------------------------------------------------------------------
# The clients under test. Each returns (reasoning, answer) and checks what it can along the way.
# --------------------------------------------------------------------------------------------


class CheckFailed(Exception):
    pass


def _check(name: str, stream: Stream, reasoning: str, answer: str) -> None:
    for what, got, want in (("reasoning", reasoning, stream.reasoning), ("answer", answer, stream.answer)):
        if got != want:
            at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
            raise CheckFailed(
                f"{name}: {what} differs from what the server sent: got {len(got)} chars, expected {len(want)}; "
                f"first difference at {at}: {got[at : at + 20]!r} vs {want[at : at + 20]!r}"
            )


def make_bare(url: str, stream: Stream) -> tuple[Callable[[], None], Callable[[], None]]:
    """(a) The least a client can do: httpx + iter_lines + json.loads, appending to two lists."""
    client = httpx.Client(timeout=60)
    endpoint = base_url(url, stream) + "/chat/completions"
    payload = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "enable_thinking": True,
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "text/event-stream"}

    def run() -> None:
        reasoning: list[str] = []
        answer: list[str] = []
        loads = json.loads
        done = False
        with client.stream("POST", endpoint, json=payload, headers=headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[6:]
                if data == "[DONE]":
                    done = True  # read on to the end so the connection goes back to the pool
                    continue
                choices = loads(data)["choices"]
                if choices:
                    delta = choices[0]["delta"]
                    text = delta.get("reasoning_content")
                    if text:
                        reasoning.append(text)
                    text = delta.get("content")
                    if text:
                        answer.append(text)
        if not done:
            raise CheckFailed("bare: no [DONE]")
        _check("bare", stream, "".join(reasoning), "".join(answer))

    return run, client.close


def make_openai(url: str, stream: Stream) -> tuple[Callable[[], None], Callable[[], None]]:
    """(b) The loop from the Bailian deep-thinking guide (prints removed), via the openai SDK."""
    import openai

    client = openai.OpenAI(api_key=API_KEY, base_url=base_url(url, stream))

    def run() -> None:
        completion = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": PROMPT}],
            extra_body={"enable_thinking": True},
            stream=True,
            stream_options={"include_usage": True},
        )
        reasoning_content = ""
        answer_content = ""
        usage = None
        for chunk in completion:
            if not chunk.choices:
                usage = chunk.usage
                continue
            delta = chunk.choices[0].delta
            if hasattr(delta, "reasoning_content") and delta.reasoning_content is not None:
                reasoning_content += delta.reasoning_content
            if hasattr(delta, "content") and delta.content:
                answer_content += delta.content
        if usage is None or usage.completion_tokens != stream.chunks:
            raise CheckFailed(f"openai: usage missing or wrong: {usage!r}")
        _check("openai", stream, reasoning_content, answer_content)

    return run, client.close


def _check_result(name: str, stream: Stream, result: thinkbook.ThinkResult) -> None:
    if result.finish_reason != "stop":
        raise CheckFailed(f"{name}: finish_reason {result.finish_reason!r}")
    if result.usage is None or result.usage.completion_tokens != stream.chunks:
        raise CheckFailed(f"{name}: usage missing or wrong: {result.usage!r}")
    _check(name, stream, result.reasoning, result.answer)


def make_think(url: str, stream: Stream) -> tuple[Callable[[], None], Callable[[], None]]:
    """(c) ``thinkbook.think``: one call, the whole ThinkResult back."""
    where = base_url(url, stream)

    def run() -> None:
        result = thinkbook.think(PROMPT, model=MODEL, base_url=where, api_key=API_KEY, enable_thinking=True)
        _check_result("think", stream, result)

    return run, lambda: None


def make_stream(url: str, stream: Stream) -> tuple[Callable[[], None], Callable[[], None]]:
    """(c2) ``for event in thinkbook.stream(...)``, collecting the deltas as a view would."""
    where = base_url(url, stream)

    def run() -> None:
        reasoning: list[str] = []
        answer: list[str] = []
        result: thinkbook.ThinkResult | None = None
        for event in thinkbook.stream(PROMPT, model=MODEL, base_url=where, api_key=API_KEY, enable_thinking=True):
            match event:
                case thinkbook.ReasoningDelta(text):
                    reasoning.append(text)
                case thinkbook.AnswerDelta(text):
                    answer.append(text)
                case thinkbook.Done(done):
                    result = done
        _check("stream", stream, "".join(reasoning), "".join(answer))
        if result is None:
            raise CheckFailed("stream: no Done event")
        _check_result("stream Done.result", stream, result)

    return run, lambda: None


VARIANTS: dict[str, tuple[str, Callable[[str, Stream], tuple[Callable[[], None], Callable[[], None]]]]] = {
    "bare": ("(a) bare httpx + iter_lines + json.loads", make_bare),
    "openai": ("(b) openai SDK, Bailian guide loop", make_openai),
    "think": ("(c) thinkbook.think()", make_think),
    "stream": ("(c2) for event in thinkbook.stream()", make_stream),
}


# --------------------------------------------------------------------------------------------
# Throughput
# --------------------------------------------------------------------------------------------


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process, all threads

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def cpu_share(self) -> float:
        return statistics.median(c / w for c, w in zip(self.cpu, self.wall, strict=True))


def measure_throughput(url: str, stream: Stream, repeats: int, variants: list[str]) -> dict[str, Timing]:
    runs: dict[str, Callable[[], None]] = {}
    closers: list[Callable[[], None]] = []
    for key in variants:
        run, close = VARIANTS[key][1](url, stream)
        runs[key] = run
        closers.append(close)
    timings = {key: Timing() for key in variants}
    try:
        for key in variants:  # warm-up: imports, connections, the engine thread
            runs[key]()
        for _ in range(repeats):
            for key in variants:
                gc.collect()
                cpu0, t0 = time.process_time(), time.perf_counter()
                runs[key]()
                t1, cpu1 = time.perf_counter(), time.process_time()
                timings[key].wall.append(t1 - t0)
                timings[key].cpu.append(cpu1 - cpu0)
    finally:
        for close in closers:
            close()
    return timings


# --------------------------------------------------------------------------------------------
# Where thinkbook's time goes: its layers timed one at a time on the same bytes, no socket and
# no profiler (a profiler's per-call overhead exaggerates small functions).
# --------------------------------------------------------------------------------------------


def breakdown(stream: Stream, think_best: float, repeats: int = 7) -> list[tuple[str, float]]:
    """(layer, seconds) for one pass over ``stream``; the layers add up to ``think_best``.

    Uses thinkbook internals (``_sse``, ``_protocols.openai``, ``_pipeline``): if they are renamed
    this raises ImportError/AttributeError and the caller skips the breakdown.
    """
    from thinkbook._pipeline import StreamPipeline
    from thinkbook._protocols.openai import OpenAIChunkParser
    from thinkbook._sse import SSEDecoder

    pieces = _split(stream.body)
    loads = json.loads
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner json.loads ends up in

    def sse() -> None:
        decoder = SSEDecoder()
        for piece in pieces:
            decoder.decode(piece)

    def sse_loads() -> None:
        decoder = SSEDecoder()
        for piece in pieces:
            for event in decoder.decode(piece):
                if event.data != "[DONE]":
                    loads(event.data)

    def sse_scan() -> None:
        decoder = SSEDecoder()
        for piece in pieces:
            for event in decoder.decode(piece):
                if event.data != "[DONE]":
                    scan(event.data, 0)

    def sse_parse() -> None:
        decoder, parser = SSEDecoder(), OpenAIChunkParser()
        for piece in pieces:
            for event in decoder.decode(piece):
                parser.parse(event)

    def pipeline() -> None:
        p = StreamPipeline("openai", model=MODEL)
        for piece in pieces:
            p.feed(piece)
        result = p.finish()[-1].result  # type: ignore[union-attr]
        if result.reasoning != stream.reasoning or result.answer != stream.answer:
            raise CheckFailed("breakdown: StreamPipeline lost text")

    best: dict[str, float] = {}
    for name, fn in (("sse", sse), ("loads", sse_loads), ("scan", sse_scan), ("parse", sse_parse), ("all", pipeline)):
        times = []
        for _ in range(repeats):
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        best[name] = min(times)
    return [
        ("SSEDecoder.decode (bytes -> events)", best["sse"]),
        ("json: the C scanner itself", best["scan"] - best["sse"]),
        ("json: json.loads' Python wrapper (decode/raw_decode, 2 regex matches)", best["loads"] - best["scan"]),
        ("OpenAIChunkParser.parse minus json (lookups, WireChunk)", best["parse"] - best["loads"]),
        ("StreamPipeline glue (feed loop, _take, _emit, Accumulator.add, events)", best["all"] - best["parse"]),
        ("the rest: socket, async httpx/httpcore/h11/anyio, engine thread", think_best - best["all"]),
    ]


# --------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------


@dataclass
class MemoryResult:
    name: str
    peak: int  # tracemalloc peak during the call, above what was allocated before it
    text_bytes: int  # len((reasoning + answer).encode("utf-8"))
    final_sizeof: int  # sys.getsizeof(reasoning) + sys.getsizeof(answer)
    chars: int
    chunks: int

    @property
    def vs_utf8(self) -> float:
        return self.peak / self.text_bytes

    @property
    def vs_sizeof(self) -> float:
        return self.peak / self.final_sizeof


def _traced_peak(call: Callable[[], tuple[str, str]]) -> tuple[int, str, str]:
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        reasoning, answer = call()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, reasoning, answer


def measure_memory(url: str, stream: Stream) -> list[MemoryResult]:
    """Peak traced memory of thinkbook.think (and of the bare loop, for reference) on ``stream``.

    tracemalloc sees every thread of this process (the engine thread included) and nothing of
    the server process.
    """
    where = base_url(url, stream)
    # Warm up outside tracing: imports, the engine thread, the shared client and its connection.
    thinkbook.think(PROMPT, model=MODEL, base_url=where, api_key=API_KEY, enable_thinking=True)

    def think_call() -> tuple[str, str]:
        result = thinkbook.think(PROMPT, model=MODEL, base_url=where, api_key=API_KEY, enable_thinking=True)
        _check_result("think (memory)", stream, result)
        return result.reasoning, result.answer

    client = httpx.Client(timeout=120)
    endpoint = where + "/chat/completions"
    payload = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": True}

    def bare_call() -> tuple[str, str]:
        reasoning: list[str] = []
        answer: list[str] = []
        with client.stream("POST", endpoint, json=payload) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    choices = json.loads(line[6:])["choices"]
                    if choices:
                        delta = choices[0]["delta"]
                        if delta.get("reasoning_content"):
                            reasoning.append(delta["reasoning_content"])
                        if delta.get("content"):
                            answer.append(delta["content"])
        r, a = "".join(reasoning), "".join(answer)
        _check("bare (memory)", stream, r, a)
        return r, a

    results = []
    try:
        client.post(endpoint, json=payload).read()  # warm the connection
        for name, call in (("thinkbook.think()", think_call), ("bare loop (reference)", bare_call)):
            peak, reasoning, answer = _traced_peak(call)
            results.append(
                MemoryResult(
                    name=name,
                    peak=peak,
                    text_bytes=stream.text_bytes,
                    final_sizeof=sys.getsizeof(reasoning) + sys.getsizeof(answer),
                    chars=len(reasoning) + len(answer),
                    chunks=stream.chunks,
                )
            )
            del reasoning, answer
    finally:
        client.close()
    return results


def pieces_cost(stream: Stream) -> int:
    """Bytes to hold every delta as its own str in two lists: what list-of-pieces accumulation costs.

    Each distinct object counts once: CPython shares one-character Latin-1 strings, for
    json.loads' output as for these slices.
    """
    unique = {id(d): d for d in (*stream.reasoning_deltas, *stream.answer_deltas)}
    strings = sum(sys.getsizeof(d) for d in unique.values())
    lists = sys.getsizeof(list(stream.reasoning_deltas)) + sys.getsizeof(list(stream.answer_deltas))
    return strings + lists


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets target" if ok else "below target"


def machine_info() -> dict[str, Any]:
    import openai

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "httpx": httpx.__version__,
        "openai": openai.__version__,
        "thinkbook": thinkbook.__version__,
    }


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=30_000, help="delta chunks in the throughput stream")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per variant (after one warm-up)")
    parser.add_argument("--memory-chars", type=int, default=1_000_000, help="characters in the memory stream")
    parser.add_argument(
        "--server", choices=("process", "thread"), default="process", help="where the throughput server runs"
    )
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"subset of {','.join(VARIANTS)}")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument(
        "--breakdown",
        choices=("auto", "always", "never"),
        default="auto",
        help="time thinkbook's layers separately (auto: when below the bare-loop target)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout (text on stderr)")
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {','.join(VARIANTS)}")
    if args.chunks < 3 or args.repeats < 1 or args.memory_chars < 3:
        parser.error("need --chunks >= 3, --repeats >= 1, --memory-chars >= 3")

    out = sys.stderr if args.json else sys.stdout

    def say(*parts: object) -> None:
        print(*parts, file=out, flush=True)

    info = machine_info()
    say(
        f"machine: {info['cores']} cores ({info['cores_usable']} usable), {info['processor']}, "
        f"{info['implementation']} {info['python']}, {info['platform']}"
    )
    say(f"versions: httpx {info['httpx']}, openai {info['openai']}, thinkbook {info['thinkbook']}")

    tput = build_stream("tput", chunks=args.chunks)
    say(
        f"stream: {tput.chunks:,} delta chunks ({len(tput.reasoning):,} reasoning + {len(tput.answer):,} answer "
        f"chars), {len(tput.body) / 2**20:.1f} MiB of SSE in {len(_split(tput.body))} HTTP chunks of "
        f"{PIECE // 1024} KiB; server in a {args.server}; {args.repeats} interleaved repeats after 1 warm-up\n"
    )
    report: dict[str, Any] = {"machine": info, "args": vars(args)}
    targets: list[dict[str, Any]] = []
    try:
        with serve([tput], args.server) as server:
            cpu0 = server.cpu_seconds()
            timings = measure_throughput(server.url, tput, args.repeats, variants)
            cpu1 = server.cpu_seconds()

        rate = {key: tput.chunks / t.median for key, t in timings.items()}
        say("| client | median time | chunks/s (median) | chunks/s (best) | CPU / wall | vs bare | vs openai SDK |")
        say("|---|---:|---:|---:|---:|---:|---:|")
        for key, t in timings.items():
            vs_bare = f"{rate[key] / rate['bare']:.2f}x" if "bare" in rate else "-"
            vs_openai = f"{rate[key] / rate['openai']:.2f}x" if "openai" in rate else "-"
            say(
                f"| {VARIANTS[key][0]} | {t.median * 1000:,.0f} ms | {rate[key]:,.0f} | {tput.chunks / t.best:,.0f} "
                f"| {t.cpu_share:.0%} | {vs_bare} | {vs_openai} |"
            )
        served = len(variants) * (args.repeats + 1)
        if cpu0 is not None and cpu1 is not None:
            per = (cpu1 - cpu0) / served
            fastest = min(t.best for t in timings.values())
            say(
                f"\nserver process CPU: {per * 1000:.1f} ms per stream served ({served} streams), "
                f"{per / fastest:.0%} of the fastest client's best time: the server is not the bottleneck"
                if per < 0.5 * fastest
                else f"\nserver process CPU: {per * 1000:.1f} ms per stream: the server may be a bottleneck!"
            )
            report["server_cpu_seconds_per_stream"] = per
        say()
        report["throughput"] = {
            key: {
                "label": VARIANTS[key][0],
                "median_seconds": t.median,
                "best_seconds": t.best,
                "chunks_per_second": rate[key],
                "runs_seconds": t.wall,
                "runs_cpu_seconds": t.cpu,
            }
            for key, t in timings.items()
        }
        for key in ("think", "stream"):
            for base, target in (("bare", TARGET_VS_BARE), ("openai", TARGET_VS_OPENAI)):
                if key in rate and base in rate:
                    ratio = rate[key] / rate[base]
                    targets.append(
                        {"what": f"{key} vs {base}", "ratio": ratio, "target": target, "meets": ratio >= target}
                    )
                    say(
                        f"{VARIANTS[key][0]} vs {VARIANTS[base][0]}: {ratio:.2f}x the chunks/s "
                        f"(target >= {target}x): {verdict(ratio >= target)}"
                    )

        slow = any(not t["meets"] for t in targets if t["what"].endswith("bare"))
        if "think" in timings and (args.breakdown == "always" or (args.breakdown == "auto" and slow)):
            think = timings["think"]
            try:
                layers = breakdown(tput, think.best)
            except (ImportError, AttributeError) as exc:
                say(f"\n(breakdown skipped: thinkbook internals changed: {exc!r})")
            else:
                say(
                    f"\nwhere thinkbook.think()'s time goes (best run, {think.best * 1000:.0f} ms; layers timed "
                    "one by one on the same bytes, without a socket or a profiler):\n"
                )
                say("| layer | ms per stream | µs per chunk | share |")
                say("|---|---:|---:|---:|")
                for name, seconds in layers:
                    say(
                        f"| {name} | {seconds * 1000:.1f} | {seconds / tput.chunks * 1e6:.2f} | "
                        f"{seconds / think.best:.0%} |"
                    )
                if "bare" in timings:
                    bare = timings["bare"].best
                    say(
                        f"| *for comparison: the whole bare loop (best run)* | {bare * 1000:.1f} | "
                        f"{bare / tput.chunks * 1e6:.2f} | |"
                    )
                report["breakdown"] = [
                    {"layer": name, "seconds": seconds, "us_per_chunk": seconds / tput.chunks * 1e6}
                    for name, seconds in layers
                ]

        if not args.no_memory:
            mem = build_stream("mem", chars=args.memory_chars, seed=11)
            # Always a separate process here, so that none of the server's memory is traced.
            with serve([mem], "process") as server:
                memory = measure_memory(server.url, mem)
            say(
                f"\nmemory: {len(mem.reasoning) + len(mem.answer):,} characters ({len(mem.reasoning):,} reasoning + "
                f"{len(mem.answer):,} answer) in {mem.chunks:,} deltas of 1-3 characters; text = "
                f"{mem.text_bytes:,} bytes as UTF-8; tracemalloc peak during the call, above what was allocated "
                "before it\n"
            )
            say("| client | peak traced | / UTF-8 text bytes | / getsizeof(final strings) |")
            say("|---|---:|---:|---:|")
            for m in memory:
                say(f"| {m.name} | {_mib(m.peak)} | {m.vs_utf8:.2f}x | {m.vs_sizeof:.2f}x |")
            cost = pieces_cost(mem)
            say(
                f"\nfor scale: the {mem.chunks:,} deltas held as separate str objects in two lists take "
                f"{_mib(cost)} ({cost / mem.text_bytes:.1f}x the UTF-8 text); the two final strings "
                f"{_mib(memory[0].final_sizeof)}"
            )
            think_mem = memory[0]
            ok = think_mem.vs_utf8 < TARGET_MEMORY
            say(
                f"thinkbook.think() peak memory: {think_mem.vs_utf8:.2f}x the UTF-8 text "
                f"(target < {TARGET_MEMORY}x): {verdict(ok)}"
            )
            targets.append(
                {"what": "think memory / utf8 text", "ratio": think_mem.vs_utf8, "target": TARGET_MEMORY, "meets": ok}
            )
            report["memory"] = [
                {
                    "client": m.name,
                    "peak_bytes": m.peak,
                    "text_utf8_bytes": m.text_bytes,
                    "final_strings_sizeof": m.final_sizeof,
                    "peak_over_utf8": m.vs_utf8,
                    "peak_over_sizeof": m.vs_sizeof,
                    "chars": m.chars,
                    "chunks": m.chunks,
                }
                for m in memory
            ]
            report["memory_pieces_cost_bytes"] = cost
    except CheckFailed as exc:
        say(f"CORRECTNESS CHECK FAILED: {exc}")
        return 1
    report["targets"] = targets
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
