"""How fast the Anthropic Messages parser is, against the OpenAI-compatible one on the same text.

Both streams carry the same deltas (``--chunks`` of them, 1-3 characters of Chinese and English
text, reasoning first then answer, 2:1, seeded), each in its own protocol's shape: Anthropic
``content_block_delta`` events (with ``event:`` lines, a thinking block with a signature, a text
block, message_start/delta/stop) and Bailian-style ``chat.completion.chunk`` lines. Each run feeds
the raw bytes in 64 KiB pieces through :class:`thinkbook._sse.SSEDecoder` and the protocol's
parser and joins the text, then checks it against what was sent. Runs alternate between the two
parsers (``--repeats`` each, median reported) so machine noise hits both alike; the result is
the ratio anthropic / openai (1.0 = as fast; the target is at most 1.25: Anthropic events carry
an ``event:`` line and a block index, and the parser keeps every block's text for the next turn).

    .venv/bin/python benchmarks/bench_protocol_anthropic.py [--chunks 30000] [--repeats 7] [--json]

The exit code is 1 if a parser returns the wrong text, else 0; the target is reported, not
asserted (timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from thinkbook._protocols.anthropic import AnthropicParser
from thinkbook._protocols.openai import OpenAIChunkParser
from thinkbook._sse import SSEDecoder

TEXT = "九点九比九点一一大,因为小数部分0.90大于0.11。We compare 9.90 with 9.11 digit by digit. "
TARGET = 1.25


def deltas(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out, at = [], 0
    for _ in range(n):
        size = rng.randint(1, 3)
        out.append((TEXT * 2)[at % len(TEXT) : at % len(TEXT) + size])
        at += size
    return out


def compact(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def anthropic_stream(pieces: list[str], split: int) -> bytes:
    def ev(name: str, obj: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {compact(obj)}\n\n"

    out = [
        ev("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "claude-sonnet-4-6",
                                                                   "usage": {"input_tokens": 9, "output_tokens": 1}}}),
        ev("content_block_start", {"type": "content_block_start", "index": 0,
                                   "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
    ]  # fmt: skip
    for i, text in enumerate(pieces):
        if i == split:
            out.append(
                ev(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "signature_delta", "signature": "Eq" * 40},
                    },
                )
            )
            out.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
            out.append(
                ev(
                    "content_block_start",
                    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
                )
            )
        index, kind, field = (0, "thinking_delta", "thinking") if i < split else (1, "text_delta", "text")
        out.append(ev("content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": kind, field: text}}))  # fmt: skip
    out.append(ev("content_block_stop", {"type": "content_block_stop", "index": 1}))
    out.append(ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                    "usage": {"output_tokens": len(pieces)}}))  # fmt: skip
    out.append(ev("message_stop", {"type": "message_stop"}))
    return "".join(out).encode()


def openai_stream(pieces: list[str], split: int) -> bytes:
    head = {"object": "chat.completion.chunk", "created": 1745485391, "model": "qwen-plus", "id": "chatcmpl-1"}
    out = []
    for i, text in enumerate(pieces):
        delta = {"content": None, "reasoning_content": text} if i < split else {"content": text}
        choice = {"delta": delta, "finish_reason": None, "index": 0, "logprobs": None}
        out.append(f"data: {compact({'choices': [choice], **head})}\n\n")
    out.append(f"data: {compact({'choices': [{'delta': {}, 'finish_reason': 'stop', 'index': 0}], **head})}\n\n")
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def run(body: bytes, parser_factory: Callable[[], Any]) -> tuple[float, str, str]:
    decoder, parser = SSEDecoder(), parser_factory()
    reasoning: list[str] = []
    answer: list[str] = []
    start = time.perf_counter()
    for at in range(0, len(body), 65536):
        for event in decoder.decode(body[at : at + 65536]):
            chunk = parser.parse(event)
            if chunk is not None:
                if chunk.reasoning:
                    reasoning.append(chunk.reasoning)
                if chunk.content:
                    answer.append(chunk.content)
    if hasattr(parser, "turn_state"):
        parser.turn_state()  # part of the Anthropic parser's job: the next turn's blocks
    return time.perf_counter() - start, "".join(reasoning), "".join(answer)


def main(argv: list[str]) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--chunks", type=int, default=30000)
    args.add_argument("--repeats", type=int, default=7)
    args.add_argument("--json", action="store_true")
    opts = args.parse_args(argv)
    pieces = deltas(opts.chunks)
    split = opts.chunks * 2 // 3
    want = ("".join(pieces[:split]), "".join(pieces[split:]))
    bodies = {"anthropic": anthropic_stream(pieces, split), "openai": openai_stream(pieces, split)}
    factories: dict[str, Callable[[], Any]] = {"anthropic": AnthropicParser, "openai": OpenAIChunkParser}
    times: dict[str, list[float]] = {name: [] for name in bodies}
    ok = True
    for name in bodies:  # warm-up
        run(bodies[name], factories[name])
    for _ in range(opts.repeats):
        for name, body in bodies.items():
            gc.collect()
            elapsed, reasoning, answer = run(body, factories[name])
            ok = ok and (reasoning, answer) == want
            times[name].append(elapsed)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    ratio = medians["anthropic"] / medians["openai"]
    report = {
        "chunks": opts.chunks,
        "bytes": {name: len(body) for name, body in bodies.items()},
        "median_s": medians,
        "us_per_delta": {name: m / opts.chunks * 1e6 for name, m in medians.items()},
        "ratio_anthropic_over_openai": ratio,
        "target": TARGET,
        "meets_target": ratio <= TARGET,
        "text_correct": ok,
    }
    if opts.json:
        print(json.dumps(report, indent=2))
    else:
        for name in bodies:
            print(
                f"{name:9} {medians[name] * 1000:7.1f} ms  {report['us_per_delta'][name]:5.2f} µs/delta  "
                f"{len(bodies[name]) / 2**20:5.1f} MiB"
            )
        verdict = "meets target" if ratio <= TARGET else "below target"
        print(f"anthropic / openai: {ratio:.2f}x (target <= {TARGET}x: {verdict}); text correct: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
