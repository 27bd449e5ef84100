"""Per-event cost of the Responses parser against the chat-completions parser, on the same text.

Run from the repository root::

    .venv/bin/python benchmarks/bench_responses_parser.py            # 30,000 deltas, 7 repeats
    .venv/bin/python benchmarks/bench_responses_parser.py --deltas 100000 --json

Builds two streams carrying the same reasoning and answer pieces (2:1, 1-3 characters each):
an OpenAI-compatible ``chat.completion.chunk`` stream (Bailian shape) and a Responses stream
(``response.reasoning_summary_text.delta`` / ``response.output_text.delta`` events, OpenAI's
field set, ``rs_`` / ``msg_`` ids). Both are decoded by :class:`thinkbook._sse.SSEDecoder` once;
then each parser is timed on its own events, interleaved, after a warm-up. The baseline is
:class:`thinkbook._protocols.openai.OpenAIChunkParser`, measured in the same run; the target is a
Responses parser at least 0.8x its events per second (Responses events are larger JSON). Also
reported: bare ``json.loads`` of the same data, the floor any parser pays. Targets are reported,
not asserted; the exit code is 1 only if a parser returns the wrong text.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from thinkbook._protocols.openai import OpenAIChunkParser
from thinkbook._protocols.responses import ResponsesParser
from thinkbook._sse import ServerSentEvent, SSEDecoder

TARGET = 0.8
_TEXT = "Let me compare 9.11 and 9.9 carefully: 好的用户问的是九点一一和九点九哪个大 so look at tenths. "


def pieces(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        start = rng.randrange(len(_TEXT) - 3)
        out.append(("reasoning" if i < 2 * n // 3 else "answer", _TEXT[start : start + rng.randint(1, 3)]))
    return out


def chat_stream(parts: list[tuple[str, str]]) -> bytes:
    lines = []
    for kind, text in parts:
        delta = (
            {"content": None, "reasoning_content": text}
            if kind == "reasoning"
            else {"content": text, "reasoning_content": None}
        )
        chunk = {
            "choices": [{"delta": delta, "index": 0, "logprobs": None, "finish_reason": None}],
            "object": "chat.completion.chunk",
            "usage": None,
            "created": 1745485391,
            "system_fingerprint": None,
            "model": "qwen-plus",
            "id": "chatcmpl-e3a1b2c4-5d6f-9a8b-b7c6-d5e4f3a2b1c0",
        }
        lines.append("data: " + json.dumps(chunk, ensure_ascii=False, separators=(",", ":")) + "\n\n")
    return "".join(lines).encode()


def responses_stream(parts: list[tuple[str, str]]) -> bytes:
    rs, msg = (
        "rs_68ad0f8e5c0c8190b7c1a2f3e4d5c6b70a1b2c3d4e5f6071",
        "msg_68ad0f9a1d2c8190a3b4c5d6e7f8091a0b1c2d3e4f506172",
    )
    lines = []
    for seq, (kind, text) in enumerate(parts):
        if kind == "reasoning":
            event = {
                "type": "response.reasoning_summary_text.delta",
                "sequence_number": seq,
                "item_id": rs,
                "output_index": 0,
                "summary_index": 0,
                "delta": text,
            }
        else:
            event = {
                "type": "response.output_text.delta",
                "sequence_number": seq,
                "item_id": msg,
                "output_index": 1,
                "content_index": 0,
                "delta": text,
                "logprobs": [],
            }
        data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"event: {event['type']}\ndata: {data}\n\n")
    return "".join(lines).encode()


def timed(parse: Callable[[ServerSentEvent], Any], events: list[ServerSentEvent]) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    chunks = [parse(e) for e in events]
    return time.perf_counter() - start, chunks


def text_of(chunks: list[Any]) -> str:
    return "".join(c.reasoning + c.content for c in chunks if c is not None)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deltas", type=int, default=30000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    parts = pieces(args.deltas, seed=7)
    want = "".join(text for _, text in parts)
    chat_events = SSEDecoder().decode(chat_stream(parts))
    resp_events = SSEDecoder().decode(responses_stream(parts))

    def checked(parse: Callable[[ServerSentEvent], Any], events: list[ServerSentEvent]) -> tuple[float, str]:
        elapsed, chunks = timed(parse, events)
        return elapsed, text_of(chunks)

    variants: dict[str, Callable[[], tuple[float, str]]] = {
        "json.loads (chat data)": lambda: (timed(lambda e: json.loads(e.data), chat_events)[0], want),
        "json.loads (responses data)": lambda: (timed(lambda e: json.loads(e.data), resp_events)[0], want),
        "OpenAIChunkParser (baseline)": lambda: checked(OpenAIChunkParser().parse, chat_events),
        "ResponsesParser": lambda: checked(ResponsesParser().parse, resp_events),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    ok = True
    for run in variants.values():  # warm-up
        ok &= run()[1] == want
    for _ in range(args.repeats):
        for name, run in variants.items():
            elapsed, text = run()
            ok &= text == want
            times[name].append(elapsed)
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["OpenAIChunkParser (baseline)"]
    report = {
        name: {
            "median_ms": round(m * 1000, 2),
            "events_per_s": round(args.deltas / m),
            "vs_baseline": round(base / m, 2),
        }
        for name, m in medians.items()
    }
    ratio = report["ResponsesParser"]["vs_baseline"]
    verdict = "meets" if ratio >= TARGET else "misses"
    if args.json:
        print(
            json.dumps(
                {"deltas": args.deltas, "repeats": args.repeats, "results": report, "target": TARGET, "ok": ok},
                indent=2,
            )
        )
    out = sys.stderr if args.json else sys.stdout
    print(f"{args.deltas:,} deltas, median of {args.repeats}:", file=out)
    for name, row in report.items():
        print(
            f"  {name:30} {row['median_ms']:8.2f} ms  {row['events_per_s']:>10,} events/s  {row['vs_baseline']:.2f}x",
            file=out,
        )
    print(
        f"ResponsesParser {ratio:.2f}x the chat parser: {verdict} the {TARGET}x target; texts correct: {ok}", file=out
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
