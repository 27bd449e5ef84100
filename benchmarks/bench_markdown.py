"""How render_markdown scales on inputs built to be slow: a table of 10 KB and 100 KB times.

Run from the repository root::

    .venv/bin/python benchmarks/bench_markdown.py              # every case, best of 3
    .venv/bin/python benchmarks/bench_markdown.py --runs 5 --only math

The cases are ``tests/markdown_pathological_cases.py`` (cmark's pathological suite re-created, plus
math delimiters and image openers; ``tests/test_markdown_pathological.py`` asserts their limits) and
the benchmark-only cases bound by the libraries' own speed. A plain answer of the same sizes
(prose, lists, a table, code and formulas) is the baseline. Targets (100 KB under 0.5 s, 100 KB /
10 KB under 15) are reported, not asserted: the exit code is always 0.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from markdown_pathological_cases import BENCHMARK_ONLY_CASES, PATHOLOGICAL_CASES

from thinkbook._markdown import render_markdown
from thinkbook._markdown_math import math_html

SIZES = (10_000, 100_000)
LIMIT_SECONDS = 0.5
MAX_RATIO = 15.0

_PLAIN_ANSWER = """## Step {n}

The cost is $O(n \\log n)$ because each of the \\(n\\) merges costs \\(\\log n\\). **Note** that
the *constant* matters: see [the notes](https://example.org/notes/{n}).

- first, sort the items
- then merge them, keeping `order`

| size | time |
|-----:|------|
| {n} | fast |

```python
def f(x):
    return x * {n}
```

$$
\\sum_{{i=1}}^{{{n}}} i = \\frac{{n(n+1)}}{{2}}
$$

"""


def _plain_answer(size: int) -> str:
    parts: list[str] = []
    total = 0
    while total < size:
        parts.append(_PLAIN_ANSWER.format(n=len(parts)))
        total += len(parts[-1])
    return "".join(parts)


def _best(text: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        math_html.cache_clear()  # every run converts its formulas, as a first render does
        gc.collect()
        gc.freeze()  # collections walk only the render's objects, as in the test (see there)
        start = time.perf_counter()
        render_markdown(text)
        best = min(best, time.perf_counter() - start)
        gc.unfreeze()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per size; the best is reported")
    parser.add_argument("--only", default="", help="only cases whose name contains this")
    args = parser.parse_args()
    builders: dict[str, Callable[[int], str]] = {"plain answer (baseline)": _plain_answer}
    builders.update(PATHOLOGICAL_CASES)
    builders.update({f"{name} [benchmark only]": builder for name, builder in BENCHMARK_ONLY_CASES.items()})
    print(f"{'case':58} {'10 KB s':>9} {'100 KB s':>9} {'ratio':>6}  targets")
    for name, builder in builders.items():
        if args.only not in name:
            continue
        small, large = (_best(builder(size), args.runs) for size in SIZES)
        ratio = large / max(small, 0.002)
        verdict = "ok" if large < LIMIT_SECONDS and ratio < MAX_RATIO else "MISSED"
        print(f"{name:58} {small:9.4f} {large:9.4f} {ratio:6.1f}  {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
