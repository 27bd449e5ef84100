"""Kernel-to-browser traffic and kernel CPU of the live view (ThinkView) on a long streamed answer.

Run from the repository root::

    .venv/bin/python benchmarks/bench_view.py                     # 20,000 reasoning + 10,000 answer chunks
    .venv/bin/python benchmarks/bench_view.py --reasoning-chunks 20000 --answer-chunks 10000 --json

One run does everything, with no browser, no kernel and no sleeping:

1. Builds a stream: reasoning (Chinese and English prose) then a markdown answer (headings, lists,
   tables, fenced python and javascript, inline ``$...$`` and display ``$$...$$`` math, Chinese and
   English), cut into chunks of 1-4 characters, and encodes it as Bailian compatible-mode SSE events.
2. Feeds the events one per network read through :class:`~thinkbook._pipeline.StreamPipeline`
   (the "no view" reference: just the pipeline, its events consumed), under an injected fake clock
   advancing at 50 and at 500 chunks/s, so a 10-minute stream runs in a fraction of a second.
3. Drives a :class:`~thinkbook._view.ThinkView` connected to a
   :class:`~thinkbook.testing.RecordingComm` exactly as ``LiveDisplay.on_batch`` does (push each
   batch; flush when ``due_in() <= 0``, else schedule one flush ``due_in()`` later on the fake clock),
   then ``end(result)``. It counts every comm message and its bytes (JSON of the comm data, UTF-8,
   as RecordingComm counts them) and checks what the browser got: the reasoning reassembled from the
   deltas, the final ``reasoning`` / ``answer_markdown`` traits, consecutive ``seq`` numbers.
4. Baseline: the same chunks through a synced-trait widget (anywidget, ``value = Unicode().tag(sync=True)``,
   one widget per pane, ``value += delta`` per chunk) over the same recording comm.
5. Times ``LiveMarkdown.update_delta()`` (and the ``flush()`` calls that carried answer) per batch
   on a longer answer, around 5 KB and around 100 KB of answer, and the final full render.

Targets are reported, not asserted: the exit code is 0 unless a correctness check fails (then 1).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Protocol

import anywidget
import traitlets

import thinkbook
from thinkbook._live_markdown import LiveMarkdown
from thinkbook._markdown import render_markdown
from thinkbook._pipeline import StreamPipeline
from thinkbook._types import AnswerDelta, Done, ThinkEvent, ThinkResult
from thinkbook._view import ThinkView
from thinkbook.testing import RecordingComm, recording_comms, sse_chunks

RATES = (50, 500)  # chunks per second of the simulated streams
TARGET_BYTES = 2.0  # kernel-to-browser bytes per streamed text byte
TARGET_MESSAGES = 25.0  # comm messages per second
TARGET_FLAT = 2.0  # markdown cost per batch at ~100 KB over ~5 KB
GROWTH_POINTS = (5_000, 100_000)  # answer bytes where the markdown cost per batch is compared
GROWTH_BYTES = 112_000  # length of the answer the markdown growth is measured on
MODEL = "qwen-plus"
REQUEST_ID = "chatcmpl-e3a1b2c4-5d6f-9a8b-b7c6-d5e4f3a2b1c0"
CREATED = 1745485391
START = 1000.0  # fake clock at the request
FIRST_TOKEN = 1.0  # seconds from the request to the first event


class CheckFailed(Exception):
    pass


class FakeClock:
    """The injected clock: the benchmark sets ``now``; the view and the pipeline read it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of ``a`` and ``b`` (character by character, on purpose)."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def jbytes(value: Any) -> int:
    """Bytes of ``value`` as JSON the way RecordingComm counts a message."""
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))


# --------------------------------------------------------------------------------------------
# The stream
# --------------------------------------------------------------------------------------------

_ZH_THOUGHTS = (
    "好的，用户想知道这两种方法在数据量很大时的表现有什么区别。",
    "我先回忆一下哈希表的平均查找复杂度，应该是常数时间。",
    "不过最坏情况下会退化，需要考虑冲突的处理方式。",
    "等等，这里的边界条件我可能想错了，再检查一遍。",
    "如果输入为空，函数应该直接返回空列表，而不是抛出异常。",
    "用一个具体的例子验证：三、一、四、一、五，窗口大小为二。",
    "这样看来排序之后再扫描也可以，但会多一个对数因子。",
    "用户的问题里还提到了内存限制，我需要把空间复杂度也写清楚。",
    "嗯，用表格把几种方案放在一起对比应该更直观。",
    "最后再给出一段 JavaScript 的版本，方便前端同学参考。",
)
_EN_THOUGHTS = (
    "Let me double-check the recurrence before writing it down.",
    "The sum of the first n integers is n(n+1)/2, so the bound holds.",
    "Wait, the window condition should be i - j <= k, not strictly less.",
    "I should also mention what happens when k is larger than the list.",
    "A hash map gives linear time but needs linear extra memory.",
    "Sorting first is simpler to explain, although it costs n log n.",
    "The user seems comfortable with Python, so I will lead with that.",
    "Maybe a small table comparing the options would help here.",
)

# One answer "cycle": every template below, in order, with words and numbers filled in. Fills
# never change the structure (lines per code block, rows per table), so cycles cost alike.
_CYCLE = """## %(k)d. %(zh_title)s / %(en_title)s

%(zh_para)s设 $x_%(k)d = %(a)d$，则 $x_%(k)d^2 + %(b)d x_%(k)d = %(c)d$，整体复杂度为 $O(n \\log n)$。\
We then use **%(en_term)s** with `%(ident)s()` to check the bound.

- **%(zh_term)s**：%(zh_clause)s，其中 $\\alpha = %(a)d$
- **%(en_term)s**: %(en_clause)s when $n \\ge %(b)d$
- 边界情况：空输入返回 `None`，不抛出异常
- Edge case: a single element, so $f(1) = %(c)d$

```python
def %(ident)s(items: list[int], k: int = %(a)d) -> list[int]:
    \"\"\"%(en_clause)s.\"\"\"
    seen: dict[int, int] = {}
    result = []
    for i, x in enumerate(items):
        if x in seen and i - seen[x] <= k:
            result.append(x)
        seen[x] = i
    # %(zh_clause)s
    return sorted(result)[:%(b)d]


print(%(ident)s([3, 1, 4, 1, 5, 9, 2, 6], k=%(c)d))
```

$$
\\sum_{i=1}^{n} i^{%(a)d} = \\frac{n(n+1)}{2} + \\int_0^{%(b)d} e^{-x^2}\\,dx
$$

| 方法 / Method | 时间复杂度 | Memory | 备注 |
|---|:---:|---:|---|
| `%(ident)s` | $O(n)$ | %(a)d MB | %(zh_short)s |
| brute force | $O(n^2)$ | %(b)d MB | too slow when $n > 10^5$ |
| 排序后扫描 | $O(n \\log n)$ | %(c)d MB | %(en_short)s |
| hash map | $O(n)$ | %(a)d%(b)d MB | 需要额外空间 |

1. %(zh_step)s
2. %(en_step)s
3. 最后验证结果：$f(%(a)d) = %(c)d$。

```javascript
function %(ident)sJs(items, k = %(a)d) {
  const seen = new Map();
  const out = [];
  items.forEach((x, i) => {
    if (seen.has(x) && i - seen.get(x) <= k) out.push(x);
    seen.set(x, i);
  });
  // %(en_clause)s
  return out.sort((a, b) => a - b).slice(0, %(b)d);
}
console.log(%(ident)sJs([3, 1, 4, 1, 5], %(c)d));
```

> %(zh_quote)s The answer is **%(c)d**, see [the notes](https://example.com/%(ident)s).

"""

_FILLS: dict[str, tuple[str, ...]] = {
    "zh_title": ("问题分析", "算法设计", "复杂度证明", "实现细节", "边界情况"),
    "en_title": ("Problem analysis", "Algorithm design", "Complexity proof", "Implementation", "Edge cases"),
    "zh_para": (
        "我们先把问题形式化：给定长度为 n 的整数序列，找出距离 k 以内重复出现的元素。",
        "直观的做法是两重循环，但当 n 很大时太慢，需要更合适的数据结构来加速查找。",
        "注意题目要求保持结果有序，因此最后还要排序一次，这一步的代价也要算进去。",
    ),
    "zh_term": ("哈希表", "滑动窗口", "双指针", "排序扫描"),
    "en_term": ("sliding window", "hash map", "two pointers", "sorted scan"),
    "zh_clause": ("每个元素只访问一次", "窗口内最多保留 k 个元素", "插入和查找都是常数时间"),
    "en_clause": ("every element is visited once", "the window never holds more than k items", "lookups stay O(1)"),
    "zh_short": ("推荐", "实现简单", "适合小数据"),
    "en_short": ("stable order", "fewer allocations", "easy to test"),
    "zh_step": (
        "先遍历一次序列，记录每个元素最后出现的位置。",
        "对每个位置检查窗口条件，满足时加入结果。",
        "把结果排序并截断到需要的长度。",
    ),
    "en_step": (
        "Check the window condition for every index and keep the matches.",
        "Sort the matches and cut the list to the requested length.",
        "Run the examples above to confirm the output.",
    ),
    "zh_quote": ("小结：哈希表方案在时间和实现难度之间最平衡。", "提示：k 大于序列长度时窗口就是整个序列。"),
    "ident": ("find_dups", "near_dups", "window_dups", "close_pairs"),
}


def reasoning_text(rng: random.Random, chars: int) -> str:
    """Paragraphs of 3-6 thoughts, Chinese and English mixed, at least ``chars`` characters."""
    paragraphs: list[str] = []
    total = 0
    while total < chars:
        thoughts = [rng.choice(_ZH_THOUGHTS if rng.random() < 0.6 else _EN_THOUGHTS) for _ in range(rng.randint(3, 6))]
        paragraph = "".join(t if t[-1] in "。，" else t + " " for t in thoughts).strip()
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs) + "\n"


def answer_text(rng: random.Random, *, chars: int | None = None, nbytes: int | None = None) -> tuple[str, list[int]]:
    """Markdown answer cycles until ``chars`` characters or ``nbytes`` UTF-8 bytes; and each cycle's byte offset."""
    parts: list[str] = []
    starts: list[int] = []
    length = size = 0
    k = 0
    while (chars is None or length < chars) and (nbytes is None or size < nbytes):
        k += 1
        fill: dict[str, Any] = {name: rng.choice(options) for name, options in _FILLS.items()}
        fill.update(k=k, a=rng.randint(10, 99), b=rng.randint(10, 99), c=rng.randint(10, 99))
        cycle = _CYCLE % fill
        starts.append(size)
        parts.append(cycle)
        length += len(cycle)
        size += utf8(cycle)
    return "".join(parts), starts


def split_exact(rng: random.Random, text: str, count: int) -> list[str]:
    """``text`` in exactly ``count`` chunks of 1-4 characters (``text`` is cut if it is too long)."""
    text = text[: 4 * count] if len(text) > 4 * count else text
    if len(text) < count:
        raise ValueError("text too short for that many chunks")
    sizes = [rng.randint(1, 4) for _ in range(count)]
    diff = len(text) - sum(sizes)
    while diff:
        i = rng.randrange(count)
        if diff > 0 and sizes[i] < 4:
            sizes[i] += 1
            diff -= 1
        elif diff < 0 and sizes[i] > 1:
            sizes[i] -= 1
            diff += 1
    out: list[str] = []
    at = 0
    for n in sizes:
        out.append(text[at : at + n])
        at += n
    return out


def split_random(rng: random.Random, text: str) -> list[str]:
    out: list[str] = []
    at = 0
    while at < len(text):
        n = rng.randint(1, 4)
        out.append(text[at : at + n])
        at += n
    return out


@dataclass
class Stream:
    reasoning_deltas: list[str] = field(repr=False)
    answer_deltas: list[str] = field(repr=False)
    reasoning: str = field(repr=False)
    answer: str = field(repr=False)
    events: list[bytes] = field(repr=False)  # one SSE event per network read

    @property
    def chunks(self) -> int:
        return len(self.reasoning_deltas) + len(self.answer_deltas)

    @property
    def text_bytes(self) -> int:
        return utf8(self.reasoning) + utf8(self.answer)


def sse_events(reasoning_deltas: Sequence[str], answer_deltas: Sequence[str]) -> list[bytes]:
    """Bailian compatible-mode chunks (role, deltas, finish, usage, [DONE]), one SSE event each."""
    tail = {
        "object": "chat.completion.chunk",
        "usage": None,
        "created": CREATED,
        "system_fingerprint": None,
        "model": MODEL,
        "id": REQUEST_ID,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"choices": [{"delta": delta, "finish_reason": finish, "index": 0, "logprobs": None}], **tail}

    events: list[dict[str, Any]] = [chunk({"content": None, "role": "assistant", "reasoning_content": ""})]
    events += [chunk({"content": None, "reasoning_content": text}) for text in reasoning_deltas]
    events += [chunk({"content": text, "reasoning_content": None}) for text in answer_deltas]
    events.append(chunk({"content": "", "reasoning_content": None}, "stop"))
    completion = len(reasoning_deltas) + len(answer_deltas)
    usage = {
        "prompt_tokens": 16,
        "completion_tokens": completion,
        "total_tokens": completion + 16,
        "completion_tokens_details": {"reasoning_tokens": len(reasoning_deltas)},
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    events.append({**tail, "choices": [], "usage": usage})
    return sse_chunks(events, done=True)


def build_stream(reasoning_chunks: int, answer_chunks: int, seed: int = 7) -> Stream:
    rng = random.Random(seed)
    reasoning_deltas = split_exact(rng, reasoning_text(rng, int(reasoning_chunks * 2.5)), reasoning_chunks)
    answer, _ = answer_text(rng, chars=int(answer_chunks * 2.5))
    answer_deltas = split_exact(rng, answer, answer_chunks)
    return Stream(
        reasoning_deltas=reasoning_deltas,
        answer_deltas=answer_deltas,
        reasoning="".join(reasoning_deltas),
        answer="".join(answer_deltas),
        events=sse_events(reasoning_deltas, answer_deltas),
    )


# --------------------------------------------------------------------------------------------
# The pipeline (the "no view" reference) and the driver (what LiveDisplay.on_batch does)
# --------------------------------------------------------------------------------------------

Batch = tuple[float, list[ThinkEvent]]


def read_times(count: int, rate: float) -> list[float]:
    return [START + FIRST_TOKEN + i / rate for i in range(count)]


def run_pipeline(stream: Stream, times: Sequence[float], clock: FakeClock) -> list[Batch]:
    """Feed one SSE event per read at its time; the batches the engine would hand a view."""
    clock.now = START
    pipeline = StreamPipeline("openai", model=MODEL, clock=clock, started=START)
    batches: list[Batch] = []
    t = START
    for t, data in zip(times, stream.events, strict=True):
        clock.now = t
        events = pipeline.feed(data)
        if events:
            batches.append((t, events))
    batches.append((t, pipeline.finish()))
    return batches


class Driven(Protocol):
    def push(self, events: Iterable[ThinkEvent]) -> None: ...
    def due_in(self) -> float: ...
    def flush(self) -> None: ...
    def end(self, result: ThinkResult | None = None) -> None: ...


def drive(view: Driven, clock: FakeClock, batches: Sequence[Batch], after: Callable[[], None] | None = None) -> float:
    """Drive ``view`` like ``LiveDisplay.on_batch`` + its ``call_later`` flush; returns the CPU time of end().

    A scheduled flush fires at its time if that comes before the next batch; ``end(result)`` runs
    at the last batch's time (the engine calls ``finish`` right after the ``Done`` batch).
    """
    inf = float("inf")
    scheduled: float | None = None
    result: ThinkResult | None = None
    for t, events in batches:
        if scheduled is not None and scheduled <= t:
            clock.now = scheduled
            scheduled = None
            view.flush()
            if after is not None:
                after()
        clock.now = t
        view.push(events)
        delay = view.due_in()
        if delay <= 0:
            view.flush()
        elif delay != inf and scheduled is None:
            scheduled = t + delay
        if after is not None:
            after()
        last = events[-1]
        if isinstance(last, Done):
            result = last.result
    t0 = time.process_time()
    view.end(result)
    spent = time.process_time() - t0
    if after is not None:
        after()
    return spent


class NullView:
    """Same calls, no work: measures the driving loop itself."""

    def push(self, events: Iterable[ThinkEvent]) -> None:
        pass

    def due_in(self) -> float:
        return 0.0

    def flush(self) -> None:
        pass

    def end(self, result: ThinkResult | None = None) -> None:
        pass


def new_view(clock: FakeClock) -> ThinkView:
    clock.now = START
    view = ThinkView(model=MODEL, enable_thinking=True, lang="en", clock=clock)
    view.begin()
    return view


def comm_of(view: ThinkView) -> RecordingComm:
    comm = view.comm
    if not isinstance(comm, RecordingComm):
        raise RuntimeError("the view is not connected to a RecordingComm")
    return comm


# --------------------------------------------------------------------------------------------
# Traffic: one run per rate, every message stamped with the fake time it was sent at
# --------------------------------------------------------------------------------------------

BREAKDOWN_ROWS = (
    ("delta_r", "deltas: reasoning text (`r`)"),
    ("delta_b", "deltas: finished answer blocks, HTML (`b`)"),
    ("delta_a", "deltas: open-block tail HTML, re-sent each batch (`a`)"),
    ("delta_c", "deltas: counters (`c`)"),
    ("delta_rest", "deltas: seq, status, keys, comm envelope"),
    ("live_reasoning", "live snapshots: `reasoning`"),
    ("live_answer", "live snapshots: `answer_html` + `answer_tail`"),
    ("live_rest", "live snapshots: counters, seq, status, keys, envelope"),
    ("final_reasoning", "final snapshot (end): `reasoning` (0 if unchanged since a live snapshot)"),
    ("final_answer_html", "final snapshot (end): `answer_html` (one full render)"),
    ("final_answer_markdown", "final snapshot (end): `answer_markdown`"),
    ("final_rest", "final snapshot (end): counters, status, keys, envelope"),
    ("setup", "setup (before the first chunk)"),
)


@dataclass
class Traffic:
    rate: int
    text_bytes: int
    reasoning_bytes: int
    answer_bytes: int
    total_bytes: int
    breakdown: dict[str, int]
    messages: int  # custom + state updates while streaming (first read to end)
    custom: int
    updates: int
    seconds: float  # simulated streaming time
    peak_per_second: int
    deltas_with_tail: int
    live_snapshots: int
    final_snapshot_bytes: int  # state updates sent by end()
    final_answer_html_bytes: int
    blocks_html_bytes: int
    display_update_bytes: int  # the display_data update LiveDisplay.finish sends (IOPub, not comm)
    final_state_bytes: int  # the final reasoning, answer_html and answer_markdown traits, as JSON strings
    tail_diff_bytes: int  # what the `a` fields would cost as "keep n characters of the last tail, add this"
    markdown_cpu: float  # process_time in LiveMarkdown.update_delta() during the run
    answer_from: float  # simulated seconds from the first read to the first answer chunk
    last_snapshot_at: float  # simulated seconds from the first read to the last live snapshot

    @property
    def per_text_byte(self) -> float:
        return self.total_bytes / self.text_bytes

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


def measure_traffic(stream: Stream, rate: int) -> Traffic:
    times = read_times(len(stream.events), rate)
    clock = FakeClock()
    batches = run_pipeline(stream, times, clock)
    done = batches[-1][1][-1]
    if not isinstance(done, Done):
        raise CheckFailed("the pipeline did not end with Done")
    check_text(f"pipeline at {rate}/s", done.result.reasoning, stream.reasoning, done.result.answer, stream.answer)
    with recording_comms():
        view = new_view(clock)
        comm = comm_of(view)
        stamps: list[float] = []
        phases: list[str] = []
        phase = ["stream"]

        def after() -> None:
            new = len(comm.messages) - len(stamps)
            stamps.extend([clock.now] * new)
            phases.extend([phase[0]] * new)

        setup = len(comm.messages)
        stamps.extend([START] * setup)
        phases.extend(["setup"] * setup)

        class Marking:
            """Tags the messages end() sends (its last delta stays a delta, its state updates are 'final')."""

            def push(self, events: Iterable[ThinkEvent]) -> None:
                view.push(events)

            def due_in(self) -> float:
                return view.due_in()

            def flush(self) -> None:
                view.flush()

            def end(self, result: ThinkResult | None = None) -> None:
                after()
                phase[0] = "final"
                view.end(result)

        markdown = view._markdown
        update = markdown.update_delta
        markdown_cpu = [0.0]

        def timed_update() -> Any:
            t0 = time.process_time()
            out = update()
            markdown_cpu[0] += time.process_time() - t0
            return out

        markdown.update_delta = timed_update  # type: ignore[method-assign]
        drive(Marking(), clock, batches, after)
        check_view(f"view at {rate}/s", view, comm, stream)
        messages = comm.messages
        breakdown = dict.fromkeys((key for key, _ in BREAKDOWN_ROWS), 0)
        deltas_with_tail = live_snapshots = final_bytes = final_html = blocks_html = tail_diff = 0
        last_snapshot_at = 0.0
        last_tail = ""
        custom = updates = 0
        first, end = times[0], times[-1]
        buckets: dict[int, int] = {}
        for message, stamp, where in zip(messages, stamps, phases, strict=True):
            if message["msg_type"] != "comm_msg":
                continue
            data, size = message["data"], message["bytes"]
            method = data.get("method")
            if where == "setup":
                breakdown["setup"] += size
                continue
            if method == "custom":
                custom += 1
                content = data["content"]
                fields = {"r": "delta_r", "b": "delta_b", "a": "delta_a", "c": "delta_c"}
                rest = size
                for key, row in fields.items():
                    if key in content:
                        value_bytes = jbytes(content[key])
                        breakdown[row] += value_bytes
                        rest -= value_bytes
                breakdown["delta_rest"] += rest
                if "a" in content:
                    deltas_with_tail += 1
                    tail = content["a"]
                    keep = common_prefix(last_tail, tail)
                    tail_diff += jbytes(tail[keep:]) + len(f', "ak": {keep}')
                    last_tail = tail
                blocks_html += sum(utf8(b) for b in content.get("b", []))
            elif method == "update":
                updates += 1
                state = data["state"]
                prefix = "final" if where == "final" else "live"
                rest = size
                if prefix == "final":
                    final_bytes += size
                    parts: dict[str, tuple[str, ...]] = {
                        "final_reasoning": ("reasoning",),
                        "final_answer_html": ("answer_html",),
                        "final_answer_markdown": ("answer_markdown",),
                    }
                else:
                    if "reasoning" in state or "answer_html" in state or "answer_tail" in state:
                        live_snapshots += 1
                        last_snapshot_at = stamp - first
                    parts = {"live_reasoning": ("reasoning",), "live_answer": ("answer_html", "answer_tail")}
                for row, keys in parts.items():
                    for key in keys:
                        if key in state:
                            value_bytes = jbytes(state[key])
                            breakdown[row] += value_bytes
                            rest -= value_bytes
                breakdown[f"{prefix}_rest"] += rest
                if prefix == "final" and "answer_html" in state:
                    final_html = utf8(state["answer_html"])
            else:
                raise CheckFailed(f"unexpected comm message {method!r}")
            if first <= stamp <= end:
                bucket = int(stamp - first)
                buckets[bucket] = buckets.get(bucket, 0) + 1
        if sum(breakdown.values()) != comm.bytes_sent:
            raise CheckFailed("the byte breakdown does not add up to RecordingComm.bytes_sent")
        bundle = view._repr_mimebundle_()
        bundle_data = bundle[0] if isinstance(bundle, tuple) else bundle
        view.close()
    streamed = custom + updates
    return Traffic(
        rate=rate,
        text_bytes=stream.text_bytes,
        reasoning_bytes=utf8(stream.reasoning),
        answer_bytes=utf8(stream.answer),
        total_bytes=comm.bytes_sent,
        breakdown=breakdown,
        messages=streamed,
        custom=custom,
        updates=updates,
        seconds=end - first,
        peak_per_second=max(buckets.values(), default=0),
        deltas_with_tail=deltas_with_tail,
        live_snapshots=live_snapshots,
        final_snapshot_bytes=final_bytes,
        final_answer_html_bytes=final_html,
        blocks_html_bytes=blocks_html,
        display_update_bytes=jbytes(bundle_data),
        final_state_bytes=jbytes(view.reasoning) + jbytes(view.answer_html) + jbytes(view.answer_markdown),
        tail_diff_bytes=tail_diff,
        markdown_cpu=markdown_cpu[0],
        answer_from=(len(stream.reasoning_deltas) + 1) / rate,
        last_snapshot_at=last_snapshot_at,
    )


def _first_difference(got: str, want: str) -> str:
    at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
    where = f"{got[at : at + 20]!r} vs {want[at : at + 20]!r}"
    return f"got {len(got)} chars, expected {len(want)}; first difference at {at}: {where}"


def check_text(name: str, reasoning: str, want_reasoning: str, answer: str, want_answer: str) -> None:
    for what, got, want in (("reasoning", reasoning, want_reasoning), ("answer", answer, want_answer)):
        if got != want:
            raise CheckFailed(f"{name}: {what} differs: {_first_difference(got, want)}")


def check_view(name: str, view: ThinkView, comm: RecordingComm, stream: Stream) -> None:
    custom = comm.custom_messages()
    seqs = [m["s"] for m in custom]
    if seqs != list(range(1, len(custom) + 1)):
        raise CheckFailed(f"{name}: delta seq numbers are not 1..{len(custom)} in order")
    # What the browser ends up with: the traits as the recorded state updates left them.
    browser: dict[str, Any] = {}
    for update in comm.state_updates():
        browser.update(update)
    for what, state in (("trait", {k: getattr(view, k) for k in browser}), ("browser state", browser)):
        check_text(
            f"{name} ({what})",
            state.get("reasoning", ""),
            stream.reasoning,
            state.get("answer_markdown", ""),
            stream.answer,
        )
        if state.get("seq") != len(custom) or state.get("status") != "done":
            raise CheckFailed(f"{name} ({what}): seq {state.get('seq')} / status {state.get('status')!r} at the end")
    deltas = "".join(m.get("r", "") for m in custom)
    if deltas != stream.reasoning:
        difference = _first_difference(deltas, stream.reasoning)
        raise CheckFailed(f"{name}: the reasoning reassembled from the deltas' r fields differs: {difference}")


# --------------------------------------------------------------------------------------------
# Kernel CPU: the view against the pipeline alone
# --------------------------------------------------------------------------------------------


@dataclass
class Cpu:
    rate: int
    chunks: int
    pipeline: float  # seconds, median: the stream with no view
    view_streaming: float  # seconds, median: push/due_in/flush while streaming (driving loop subtracted)
    view_end: float  # seconds, median: end() (last flush, full render, final snapshot)
    loop: float  # seconds, median: the driving loop alone (subtracted above)

    def per_1000(self, seconds: float) -> float:
        return seconds / self.chunks * 1000 * 1000  # ms per 1,000 chunks

    @property
    def view(self) -> float:
        return self.view_streaming + self.view_end


def measure_cpu(stream: Stream, rate: int, repeats: int) -> Cpu:
    times = read_times(len(stream.events), rate)
    clock = FakeClock()
    pipeline_runs: list[float] = []
    streaming_runs: list[float] = []
    end_runs: list[float] = []
    loop_runs: list[float] = []
    batches = run_pipeline(stream, times, clock)  # warm-up, and the batches the view runs get
    with recording_comms():
        for _ in range(repeats + 1):  # the first round warms up
            gc.collect()
            t0 = time.process_time()
            run_pipeline(stream, times, clock)
            pipeline_runs.append(time.process_time() - t0)
            gc.collect()
            t0 = time.process_time()
            drive(NullView(), clock, batches)
            loop_runs.append(time.process_time() - t0)
            view = new_view(clock)
            gc.collect()
            t0 = time.process_time()
            end = drive(view, clock, batches)
            total = time.process_time() - t0
            end_runs.append(end)
            streaming_runs.append(total - end)
            view.close()
    loop = statistics.median(loop_runs[1:])
    return Cpu(
        rate=rate,
        chunks=stream.chunks,
        pipeline=statistics.median(pipeline_runs[1:]),
        view_streaming=max(0.0, statistics.median(streaming_runs[1:]) - loop),
        view_end=statistics.median(end_runs[1:]),
        loop=loop,
    )


# --------------------------------------------------------------------------------------------
# Markdown cost per batch as the answer grows
# --------------------------------------------------------------------------------------------


@dataclass
class Growth:
    rate: int
    answer_bytes: int
    windows: list[tuple[int, int]]  # answer byte ranges compared (two template cycles around each point)
    update_ms: list[float]  # median LiveMarkdown.update_delta() per window
    update_samples: list[int]
    rendered_chars: list[float]  # median source characters rendered per update, per window
    flush_ms: list[float]  # median flush() that carried answer, per window
    final_render_ms: float

    @property
    def update_ratio(self) -> float:
        return self.update_ms[1] / self.update_ms[0]

    @property
    def flush_ratio(self) -> float:
        return self.flush_ms[1] / self.flush_ms[0]


def growth_answer(seed: int = 11) -> tuple[str, list[int]]:
    return answer_text(random.Random(seed), nbytes=GROWTH_BYTES)


def measure_growth(rate: int, answer: str, starts: list[int], repeats: int) -> Growth:
    """Stream an answer-only response through a view ``repeats`` times; CPU time of each update() and answer flush()."""
    deltas = split_random(random.Random(5), answer)
    windows: list[tuple[int, int]] = []
    for point in GROWTH_POINTS:
        i = max(j for j, s in enumerate(starts) if s <= point)
        if i + 2 >= len(starts):
            raise ValueError("the growth answer is too short")
        windows.append((starts[i], starts[i + 2]))
    clock = FakeClock()
    batches: list[Batch] = [(START + FIRST_TOKEN + i / rate, [AnswerDelta(d)]) for i, d in enumerate(deltas)]
    batches.append((batches[-1][0], [Done(ThinkResult(answer=answer, model=MODEL))]))
    pushed = [0]
    updates: list[tuple[int, float, int]] = []
    flushes: list[tuple[int, float]] = []
    cpu = time.process_time  # per call: ~1 µs against ~500 µs calls, and blind to other jobs on the machine
    with recording_comms():
        for _ in range(repeats):
            pushed[0] = 0
            view = new_view(clock)
            markdown = view._markdown
            update = markdown.update_delta

            def timed_update(markdown: LiveMarkdown = markdown, update: Any = update) -> Any:
                before = markdown.rendered_chars
                t0 = cpu()
                out = update()
                updates.append((pushed[0], cpu() - t0, markdown.rendered_chars - before))
                return out

            markdown.update_delta = timed_update  # type: ignore[method-assign]

            class Timed:
                def __init__(self, view: ThinkView) -> None:
                    self.view = view

                def push(self, events: Iterable[ThinkEvent]) -> None:
                    events = list(events)
                    pushed[0] += sum(utf8(e.text) for e in events if isinstance(e, AnswerDelta))
                    self.view.push(events)

                def due_in(self) -> float:
                    return self.view.due_in()

                def flush(self) -> None:
                    carries = self.view._pending_answer
                    t0 = cpu()
                    self.view.flush()
                    if carries:
                        flushes.append((pushed[0], cpu() - t0))

                def end(self, result: ThinkResult | None = None) -> None:
                    self.view.end(result)

            gc.collect()
            drive(Timed(view), clock, batches)
            if view.answer_markdown != answer:
                raise CheckFailed(f"growth run at {rate}/s: answer_markdown differs")
            view.close()

    def in_window(at: int, window: tuple[int, int]) -> bool:
        return window[0] <= at < window[1]

    update_ms, samples, rendered, flush_ms = [], [], [], []
    for window in windows:
        u = [(dt, chars) for at, dt, chars in updates if in_window(at, window)]
        update_ms.append(statistics.median(dt for dt, _ in u) * 1000)
        samples.append(len(u))
        rendered.append(statistics.median(chars for _, chars in u))
        flush_ms.append(statistics.median(dt for at, dt in flushes if in_window(at, window)) * 1000)
    return Growth(
        rate=rate,
        answer_bytes=utf8(answer),
        windows=windows,
        update_ms=update_ms,
        update_samples=samples,
        rendered_chars=rendered,
        flush_ms=flush_ms,
        final_render_ms=render_ms(answer),
    )


def render_ms(text: str, repeats: int = 5) -> float:
    """Median CPU time of one ``render_markdown`` of ``text``, after a warm-up."""
    render_markdown(text)
    runs = []
    for _ in range(repeats):
        t0 = time.process_time()
        render_markdown(text)
        runs.append(time.process_time() - t0)
    return statistics.median(runs) * 1000


# --------------------------------------------------------------------------------------------
# Baseline: a synced trait, value += delta per chunk
# --------------------------------------------------------------------------------------------


class SyncedText(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { el.textContent = model.get('value'); } };"
    value = traitlets.Unicode("").tag(sync=True)


@dataclass
class Baseline:
    chunks: int  # chunks measured (a prefix of the stream when < the stream's chunks)
    full: bool
    text_bytes: int
    bytes_sent: int
    messages: int

    @property
    def per_text_byte(self) -> float:
        return self.bytes_sent / self.text_bytes


def measure_baseline(stream: Stream, limit: int | None) -> Baseline:
    """One widget per pane (reasoning, answer), ``value += delta`` for each chunk, bytes counted as sent."""
    count = stream.chunks if limit is None else min(limit, stream.chunks)
    reasoning = stream.reasoning_deltas[:count]
    answer = stream.answer_deltas[: count - len(reasoning)]
    sent = messages = 0
    with recording_comms():
        panes = [(SyncedText(), reasoning)]
        if answer:
            panes.append((SyncedText(), answer))
        for widget, deltas in panes:
            comm = widget.comm
            if not isinstance(comm, RecordingComm):
                raise RuntimeError("the baseline widget is not connected to a RecordingComm")
            comm.messages.clear()  # the comm_open
            for delta in deltas:
                widget.value += delta
                # Count, then drop: keeping every full copy of the text would take gigabytes.
                for message in comm.messages:
                    sent += message["bytes"]
                    messages += 1
                comm.messages.clear()
            if widget.value != "".join(deltas):
                raise CheckFailed("baseline: the synced value differs from the text sent")
            widget.close()
    text = utf8("".join(reasoning)) + utf8("".join(answer))
    return Baseline(chunks=count, full=count == stream.chunks, text_bytes=text, bytes_sent=sent, messages=messages)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets target" if ok else "below target"


def machine_info() -> dict[str, Any]:
    packages = ("anywidget", "ipywidgets", "traitlets", "markdown-it-py", "pygments", "latex2mathml", "nh3")
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "thinkbook": thinkbook.__version__,
        **{name: version(name) for name in packages},
    }


def _kb(n: float) -> str:
    return f"{n / 1000:,.1f} KB"


def explain(traffic: Traffic) -> list[str]:
    """Why bytes/text is above the target, from the breakdown: the floor and the biggest avoidable part."""
    b, text = traffic.breakdown, traffic.text_bytes
    first_trip = b["delta_r"] + b["delta_b"]
    floor = first_trip + traffic.final_state_bytes
    answer_html_twice = b["delta_b"] + b["final_answer_html"]
    html_x = traffic.final_answer_html_bytes / traffic.answer_bytes
    snapshots = b["live_reasoning"] + b["live_answer"] + b["live_rest"] + traffic.final_snapshot_bytes
    resent = {
        "open-block tail re-sends (`a`)": b["delta_a"],
        "counters in deltas (`c`)": b["delta_c"],
        "delta envelopes (seq, status, keys)": b["delta_rest"],
        "snapshots beyond one copy of the final state": snapshots - traffic.final_state_bytes,
    }
    lines = [
        f"at {traffic.rate} chunks/s, {traffic.per_text_byte:.2f} bytes per text byte:",
        f"- floor of this protocol, {floor / text:.2f}x: every text byte crosses once live (reasoning `r` "
        f"{b['delta_r'] / text:.2f}x + answer blocks' HTML `b` {b['delta_b'] / text:.2f}x) and the final state once "
        f"(`reasoning` + `answer_html` + `answer_markdown` traits, {traffic.final_state_bytes / text:.2f}x, sent by "
        "end() or, for the reasoning, already by the snapshot at the switch to answering: ipywidgets sends only "
        "changed traits). The answer is "
        f"{traffic.answer_bytes / text:.0%} of the text but its HTML is {html_x:.1f}x its markdown, so the answer "
        f"HTML alone (live + final) is {answer_html_twice / text:.2f}x;",
        "- re-sent on top of that: "
        + ", ".join(f"{name} {size / text:.2f}x" for name, size in resent.items())
        + f" (sum {sum(resent.values()) / text:.2f}x);",
    ]
    name, size = max(resent.items(), key=lambda item: item[1])
    saved = b["delta_a"] - traffic.tail_diff_bytes
    lines.append(
        f"- biggest avoidable part: {name}, {size / text:.2f}x. Sending each tail as a diff against the last one "
        f"(keep n characters, append the rest) would cost {traffic.tail_diff_bytes / text:.2f}x instead of "
        f"{b['delta_a'] / text:.2f}x: {(traffic.total_bytes - saved) / text:.2f}x in all; without counters in the "
        f"deltas as well, {(traffic.total_bytes - saved - b['delta_c']) / text:.2f}x."
    )
    return lines


_KINDS = (
    ("fenced code", re.compile(r"[ \t]*(```|~~~)")),
    ("display math", re.compile(r"[ \t]*(\$\$|\\\[)")),
    ("table", re.compile(r"\|")),
    ("heading", re.compile(r"#")),
    ("list", re.compile(r"([-*+]|\d+[.)])[ \t]")),
    ("blockquote", re.compile(r">")),
)


def html_by_kind(answer: str) -> dict[str, tuple[int, int]]:
    """Markdown and HTML bytes per kind of block, the answer cut where IncrementalMarkdown cuts it."""
    markdown = LiveMarkdown()
    markdown.append(answer)
    markdown.update()
    sources = [*markdown._finished_sources, markdown._open]
    if "".join(sources) != answer:
        raise CheckFailed("IncrementalMarkdown's blocks do not add up to the answer")
    out: dict[str, tuple[int, int]] = {}
    for source in sources:
        if not source.strip():
            continue
        first = source.lstrip("\n")
        kind = next((name for name, pattern in _KINDS if pattern.match(first)), "paragraph")
        md_bytes, html_bytes = out.get(kind, (0, 0))
        out[kind] = (md_bytes + utf8(source), html_bytes + utf8(render_markdown(source)))
    return dict(sorted(out.items(), key=lambda item: -item[1][1]))


def jupyter_envelope_bytes() -> int | None:
    """Bytes a comm message carries besides its data on the websocket (header, parent header, ids, channel)."""
    try:
        from jupyter_client.session import Session
    except ImportError:
        return None
    session = Session(username="username")
    parent = session.msg("execute_request", content={"code": ""})["header"]
    message = session.msg("comm_msg", content={"comm_id": "0" * 32, "data": {}}, parent=parent)
    wire = {**message, "buffers": [], "channel": "iopub"}
    return jbytes(wire) - jbytes({})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reasoning-chunks", type=int, default=20_000, help="reasoning delta chunks")
    parser.add_argument("--answer-chunks", type=int, default=10_000, help="answer delta chunks")
    parser.add_argument("--repeats", type=int, default=3, help="timed CPU runs per rate (after one warm-up)")
    parser.add_argument(
        "--baseline-chunks", type=int, default=None, help="measure the synced-trait baseline on this prefix only"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout (text on stderr)")
    args = parser.parse_args(argv)
    if args.reasoning_chunks < 1 or args.answer_chunks < 1 or args.repeats < 1:
        parser.error("need --reasoning-chunks >= 1, --answer-chunks >= 1, --repeats >= 1")

    out = sys.stderr if args.json else sys.stdout

    def say(*parts: object) -> None:
        print(*parts, file=out, flush=True)

    info = machine_info()
    say(
        f"machine: {info['cores']} cores, {info['processor']}, {info['implementation']} {info['python']}, "
        f"{info['platform']}"
    )
    say(
        f"versions: thinkbook {info['thinkbook']}, anywidget {info['anywidget']}, ipywidgets {info['ipywidgets']}, "
        f"markdown-it-py {info['markdown-it-py']}, pygments {info['pygments']}, latex2mathml {info['latex2mathml']}"
    )
    stream = build_stream(args.reasoning_chunks, args.answer_chunks)
    say(
        f"stream: {args.reasoning_chunks:,} reasoning + {args.answer_chunks:,} answer chunks of 1-4 characters: "
        f"{len(stream.reasoning):,} + {len(stream.answer):,} characters, {utf8(stream.reasoning):,} + "
        f"{utf8(stream.answer):,} = {stream.text_bytes:,} bytes of UTF-8 text; one SSE event per read; fake "
        f"clock at {' and '.join(f'{r} chunks/s' for r in RATES)} "
        f"({' and '.join(f'{stream.chunks / r:,.0f} s' for r in RATES)} of simulated streaming)\n"
    )
    report: dict[str, Any] = {"machine": info, "args": vars(args)}
    try:
        traffic = {rate: measure_traffic(stream, rate) for rate in RATES}
        cpu = {rate: measure_cpu(stream, rate, args.repeats) for rate in RATES}
        long_answer, starts = growth_answer()
        growth = {rate: measure_growth(rate, long_answer, starts, args.repeats) for rate in RATES}
        t0 = time.perf_counter()
        baseline = measure_baseline(stream, args.baseline_chunks)
        baseline_seconds = time.perf_counter() - t0
    except CheckFailed as exc:
        say(f"CORRECTNESS CHECK FAILED: {exc}")
        return 1
    say(
        "correctness: at both rates the reasoning reassembled from the deltas' `r` fields, the final `reasoning` "
        "and `answer_markdown` traits (on the view and as the recorded state updates leave them in the browser) "
        "equal the text sent, delta `seq` numbers run 1..n and the final `seq` is n: ok\n"
    )
    final_render = render_ms(stream.answer)
    bl = baseline
    bl_label = f"{bl.per_text_byte:,.0f}x" if bl.full else f"{bl.per_text_byte:,.0f}x (first {bl.chunks:,} chunks only)"
    cols = " | ".join(f"{r} chunks/s" for r in RATES)
    say(f"| measure | {cols} | target |")
    say("|---|" + "---:|" * len(RATES) + "---|")

    def row(name: str, cells: Iterable[str], target: str = "") -> None:
        say(f"| {name} | {' | '.join(cells)} | {target} |")

    row(
        "kernel→browser bytes per streamed text byte",
        (f"**{traffic[r].per_text_byte:.2f}x** ({_kb(traffic[r].total_bytes)})" for r in RATES),
        f"≤ {TARGET_BYTES:g}x: " + ", ".join(verdict(traffic[r].per_text_byte <= TARGET_BYTES) for r in RATES),
    )
    row("baseline: synced `value += delta` trait", (bl_label for _ in RATES), "")
    row(
        "comm messages per second (mean; busiest second)",
        (f"**{traffic[r].per_second:.1f}** ({traffic[r].peak_per_second})" for r in RATES),
        f"≤ {TARGET_MESSAGES:g}: "
        + ", ".join(verdict(max(traffic[r].per_second, traffic[r].peak_per_second) <= TARGET_MESSAGES) for r in RATES),
    )
    row("baseline: synced trait messages per second", (f"{r}" for r in RATES), "")
    row(
        "view CPU per 1,000 chunks: streaming + end()",
        (f"{cpu[r].per_1000(cpu[r].view_streaming):.1f} + {cpu[r].per_1000(cpu[r].view_end):.1f} ms" for r in RATES),
    )
    row(
        "… of which `LiveMarkdown.update_delta()`",
        (f"{traffic[r].markdown_cpu / stream.chunks * 1e6:.1f} ms" for r in RATES),
    )
    row("pipeline CPU per 1,000 chunks (no view)", (f"{cpu[r].per_1000(cpu[r].pipeline):.1f} ms" for r in RATES))
    row(
        "view CPU / pipeline CPU (streaming; with end())",
        (f"**{cpu[r].view_streaming / cpu[r].pipeline:.2f}x**; {cpu[r].view / cpu[r].pipeline:.2f}x" for r in RATES),
    )
    w = growth[RATES[0]].windows
    row(
        f"`LiveMarkdown.update_delta()` median per batch, ~{_kb(GROWTH_POINTS[0])} → "
        f"~{_kb(GROWTH_POINTS[1])} of answer",
        (
            f"{growth[r].update_ms[0]:.2f} → {growth[r].update_ms[1]:.2f} ms (**{growth[r].update_ratio:.2f}x**)"
            for r in RATES
        ),
        f"≤ {TARGET_FLAT:g}x: " + ", ".join(verdict(growth[r].update_ratio <= TARGET_FLAT) for r in RATES),
    )
    row(
        "`flush()` carrying answer, median, same windows",
        (f"{growth[r].flush_ms[0]:.2f} → {growth[r].flush_ms[1]:.2f} ms ({growth[r].flush_ratio:.2f}x)" for r in RATES),
    )
    row(
        f"final `render_markdown` of the whole answer ({_kb(utf8(stream.answer))}; "
        f"{_kb(growth[RATES[0]].answer_bytes)})",
        (f"{final_render:.0f} ms; {growth[RATES[0]].final_render_ms:.0f} ms" for _ in RATES),
    )
    row(
        "end() snapshot bytes (per text byte)",
        (
            f"{_kb(traffic[r].final_snapshot_bytes)} ({traffic[r].final_snapshot_bytes / stream.text_bytes:.2f}x)"
            for r in RATES
        ),
    )
    say()
    say(
        f"markdown windows: answer bytes {w[0][0]:,}-{w[0][1]:,} and {w[1][0]:,}-{w[1][1]:,} (two template cycles "
        f"each, same structure), of a {_kb(growth[RATES[0]].answer_bytes)} answer streamed alone; samples per window "
        + "; ".join(f"{r}/s: {growth[r].update_samples[0]} and {growth[r].update_samples[1]}" for r in RATES)
        + "; median source characters rendered per update: "
        + "; ".join(f"{r}/s: {growth[r].rendered_chars[0]:.0f} and {growth[r].rendered_chars[1]:.0f}" for r in RATES)
        + f". CPU time (process_time) per call, samples of {args.repeats} runs pooled."
    )
    say(
        f"CPU: time.process_time, median of {args.repeats} runs after a warm-up; streaming = push + due_in + flush "
        f"(with the RecordingComm's JSON encoding) minus the driving loop alone ({cpu[RATES[0]].loop * 1000:.1f} ms "
        "with a no-op view); end() = last flush + full render + final snapshot. Pipeline = StreamPipeline.feed per SSE "
        "event + finish, same events."
    )
    measured = "the whole stream" if bl.full else f"the first {bl.chunks:,} chunks only, not extrapolated"
    say(
        f"baseline: one synced widget per pane, {bl.messages:,} messages, {_kb(bl.bytes_sent)} for "
        f"{_kb(bl.text_bytes)} of text ({measured}; {baseline_seconds:.1f} s to run)"
    )
    say(
        "not counted above (IOPub, not the comm): LiveDisplay.finish then updates the display with the "
        f"widget plus its text/html and text/plain fallbacks: {_kb(traffic[RATES[0]].display_update_bytes)} "
        f"({traffic[RATES[0]].display_update_bytes / stream.text_bytes:.2f}x the text) more\n"
    )

    say("where the bytes go:\n")
    say("| part | " + " | ".join(f"{r}/s bytes | per text byte" for r in RATES) + " |")
    say("|---|" + "---:|---:|" * len(RATES))
    for key, label in BREAKDOWN_ROWS:
        cells = " | ".join(
            f"{traffic[r].breakdown[key]:,} | {traffic[r].breakdown[key] / stream.text_bytes:.3f}" for r in RATES
        )
        say(f"| {label} | {cells} |")
    totals = " | ".join(f"**{traffic[r].total_bytes:,}** | **{traffic[r].per_text_byte:.3f}**" for r in RATES)
    say(f"| **total (RecordingComm.bytes_sent)** | {totals} |")
    say()
    for r in RATES:
        t = traffic[r]
        say(
            f"{r}/s: {t.custom:,} deltas + {t.updates} state updates ({t.live_snapshots} live snapshots) in "
            f"{t.seconds:,.0f} s; answer HTML/markdown: streamed blocks {t.blocks_html_bytes / t.answer_bytes:.2f}x, "
            f"final render {t.final_answer_html_bytes / t.answer_bytes:.2f}x; {t.deltas_with_tail:,} tails re-sent, "
            f"{t.breakdown['delta_a'] / max(t.deltas_with_tail, 1):,.0f} bytes each on average; the answer streams "
            f"from {t.answer_from:,.0f} s to {t.seconds:,.0f} s, the last live snapshot is at "
            f"{t.last_snapshot_at:,.0f} s"
        )
    kinds = html_by_kind(stream.answer)
    say(f"\nthe answer's HTML by kind of block (each block rendered alone; {_kb(utf8(stream.answer))} of markdown):\n")
    say("| block | markdown | HTML | HTML / markdown | share of the HTML |")
    say("|---|---:|---:|---:|---:|")
    all_html = sum(h for _, h in kinds.values())
    for kind, (md_bytes, html_bytes) in kinds.items():
        say(f"| {kind} | {md_bytes:,} | {html_bytes:,} | {html_bytes / md_bytes:.1f}x | {html_bytes / all_html:.0%} |")
    envelope = jupyter_envelope_bytes()
    if envelope is not None:
        say(
            f"\nnot counted either: on the websocket every comm message also carries ~{envelope} bytes of Jupyter "
            "envelope (header, parent_header, ids, channel; measured with jupyter_client.Session): "
            + "; ".join(
                f"at {r}/s {traffic[r].per_second * envelope:,.0f} bytes/s against "
                f"{stream.text_bytes / traffic[r].seconds:,.0f} bytes/s of text"
                for r in RATES
            )
            + f" (the synced-trait baseline: {envelope} bytes per chunk)"
        )
    if any(traffic[r].per_text_byte > TARGET_BYTES for r in RATES):
        say()
        for r in RATES:
            for line in explain(traffic[r]):
                say(line)

    report["stream"] = {
        "reasoning_chunks": len(stream.reasoning_deltas),
        "answer_chunks": len(stream.answer_deltas),
        "reasoning_chars": len(stream.reasoning),
        "answer_chars": len(stream.answer),
        "reasoning_bytes": utf8(stream.reasoning),
        "answer_bytes": utf8(stream.answer),
        "text_bytes": stream.text_bytes,
    }
    report["traffic"] = {
        str(r): {
            "bytes_sent": t.total_bytes,
            "bytes_per_text_byte": t.per_text_byte,
            "messages": t.messages,
            "custom_messages": t.custom,
            "state_updates": t.updates,
            "simulated_seconds": t.seconds,
            "messages_per_second": t.per_second,
            "busiest_second_messages": t.peak_per_second,
            "live_snapshots": t.live_snapshots,
            "final_snapshot_bytes": t.final_snapshot_bytes,
            "final_answer_html_bytes": t.final_answer_html_bytes,
            "streamed_blocks_html_bytes": t.blocks_html_bytes,
            "display_update_bytes": t.display_update_bytes,
            "final_state_bytes": t.final_state_bytes,
            "tail_as_diff_bytes": t.tail_diff_bytes,
            "markdown_update_cpu_seconds": t.markdown_cpu,
            "answer_from_seconds": t.answer_from,
            "last_live_snapshot_seconds": t.last_snapshot_at,
            "breakdown": t.breakdown,
        }
        for r, t in traffic.items()
    }
    report["cpu"] = {
        str(r): {
            "pipeline_ms_per_1000_chunks": c.per_1000(c.pipeline),
            "view_streaming_ms_per_1000_chunks": c.per_1000(c.view_streaming),
            "view_end_ms": c.view_end * 1000,
            "view_end_ms_per_1000_chunks": c.per_1000(c.view_end),
            "driving_loop_ms": c.loop * 1000,
            "view_streaming_over_pipeline": c.view_streaming / c.pipeline,
            "view_with_end_over_pipeline": c.view / c.pipeline,
        }
        for r, c in cpu.items()
    }
    report["markdown_growth"] = {
        str(r): {
            "answer_bytes": g.answer_bytes,
            "windows_bytes": g.windows,
            "update_median_ms": g.update_ms,
            "update_samples": g.update_samples,
            "rendered_chars_median": g.rendered_chars,
            "flush_median_ms": g.flush_ms,
            "update_ratio": g.update_ratio,
            "flush_ratio": g.flush_ratio,
            "final_render_ms": g.final_render_ms,
        }
        for r, g in growth.items()
    }
    report["final_render_ms"] = final_render
    report["answer_html_by_kind"] = {kind: {"markdown_bytes": m, "html_bytes": h} for kind, (m, h) in kinds.items()}
    report["jupyter_envelope_bytes_per_message"] = envelope
    report["baseline"] = {
        "chunks": bl.chunks,
        "whole_stream": bl.full,
        "text_bytes": bl.text_bytes,
        "bytes_sent": bl.bytes_sent,
        "messages": bl.messages,
        "bytes_per_text_byte": bl.per_text_byte,
    }
    report["targets"] = [
        *(
            {
                "what": f"bytes per text byte at {r}/s",
                "value": traffic[r].per_text_byte,
                "target": TARGET_BYTES,
                "meets": traffic[r].per_text_byte <= TARGET_BYTES,
            }
            for r in RATES
        ),
        *(
            {
                "what": f"messages per second at {r}/s (busiest second)",
                "value": traffic[r].peak_per_second,
                "target": TARGET_MESSAGES,
                "meets": max(traffic[r].per_second, traffic[r].peak_per_second) <= TARGET_MESSAGES,
            }
            for r in RATES
        ),
        *(
            {
                "what": f"update() ~100 KB / ~5 KB at {r}/s",
                "value": growth[r].update_ratio,
                "target": TARGET_FLAT,
                "meets": growth[r].update_ratio <= TARGET_FLAT,
            }
            for r in RATES
        ),
    ]
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
