"""Takes for ``08-batch-eval.ipynb``: 50 small arithmetic word problems asked to qwen-plus with
thinking on and off (100 recordings), for a batch grading run offline.

ILLUSTRATIVE: written by the thinkbook developers (generated below), not model output. The
thinking-off answers slip on the order of operations on every fourth question, and two
thinking-on answers make an arithmetic slip, so the grading and the plot have a difference to
show. Those rates are invented for the demonstration, not measured: run the notebook with a key.

The questions are built by the same few lines as in the notebook (``questions()``); the notebook
test fails if the two ever differ (its prompts would find no recording).
"""

from __future__ import annotations

import random

from .builder import Take

FORMAT = "最后单独一行写“答案：”加结果（只写数字）。"

# (template, the right result, a typical slip made when answering without working it out)
TEMPLATES = [
    (
        "书架上有 {a} 本书，又搬来 {b} 箱，每箱 {c} 本，借走了 {d} 本。书架上现在有多少本书？",
        lambda a, b, c, d: a + b * c - d,
        lambda a, b, c, d: (a + b) * c - d,
    ),
    (
        "一辆车每小时行 {a} 千米，先开了 {b} 小时，又开了 {c} 小时，离终点还有 {d} 千米。全程多少千米？",
        lambda a, b, c, d: a * (b + c) + d,
        lambda a, b, c, d: a * b + c + d,
    ),
    (
        "食堂有 {a} 千克米，每天用 {b} 千克，用了 {c} 天后又运来 {d} 千克。现在有多少千克米？",
        lambda a, b, c, d: a - b * c + d,
        lambda a, b, c, d: (a - b) * c + d,
    ),
    (
        "商店进了 {a} 箱饮料，每箱 {b} 瓶，卖出 {c} 瓶后，又退回 {d} 瓶。店里现在有多少瓶？",
        lambda a, b, c, d: a * b - c + d,
        lambda a, b, c, d: a * b - (c + d),
    ),
    (
        "{a} 名同学去春游，每 {b} 人租一条船，每条船 {c} 元，另付门票共 {d} 元。一共花多少元？",
        lambda a, b, c, d: a // b * c + d,
        lambda a, b, c, d: a * c + d,
    ),
]


def questions() -> list[dict[str, object]]:
    """The 50 questions: id, prompt, the right answer, the slip, and the numbers."""
    rng = random.Random(2026)
    out = []
    for i in range(50):
        template, right, slip = TEMPLATES[i % len(TEMPLATES)]
        b, c = rng.randint(2, 9), rng.randint(3, 12)
        a = b * rng.randint(3, 9) if i % len(TEMPLATES) == 4 else rng.randint(b * c + 5, b * c + 90)
        d = rng.randint(2, 30)
        out.append(
            {
                "id": f"q{i + 1:02d}",
                "prompt": template.format(a=a, b=b, c=c, d=d) + "\n" + FORMAT,
                "expected": right(a, b, c, d),
                "slip": slip(a, b, c, d),
                "numbers": (a, b, c, d),
                "kind": i % len(TEMPLATES),
            }
        )
    return out


_STEPS = [
    "先算搬来的书：{b} 箱 × 每箱 {c} 本 = {bc} 本。"
    "再加上原有的 {a} 本：{a} + {bc} = {s1}。最后减去借走的 {d} 本：{s1} − {d} = {r}。",
    "总共开了 {b} + {c} = {bpc} 小时，已行 {a} × {bpc} = {s1} 千米，"
    "再加上剩下的 {d} 千米，全程 {s1} + {d} = {r} 千米。",
    "{c} 天用掉 {b} × {c} = {bc} 千克，剩下 {a} − {bc} = {s1} 千克，又运来 {d} 千克：{s1} + {d} = {r} 千克。",
    "一共进了 {a} × {b} = {ab} 瓶，卖出 {c} 瓶剩 {ab} − {c} = {s1} 瓶，退回的 {d} 瓶要加回来：{s1} + {d} = {r} 瓶。",
    "{a} 人每 {b} 人一条船，需要 {a} ÷ {b} = {adb} 条船，船费 {adb} × {c} = {s1} 元，"
    "加门票 {d} 元，共 {s1} + {d} = {r} 元。",
]


def _reasoning(question: dict[str, object], result: int) -> str:
    a, b, c, d = question["numbers"]  # type: ignore[misc]
    kind = int(question["kind"])  # type: ignore[call-overload]
    values = {"a": a, "b": b, "c": c, "d": d, "bc": b * c, "bpc": b + c, "ab": a * b, "adb": a // b, "r": result}
    values["s1"] = [a + b * c, a * (b + c), a - b * c, a * b - c, a // b * c][kind]
    opening = "这是一道多步的应用题，要注意运算顺序，先乘除后加减，一步一步来。\n"
    check = f"\n再检查一遍每一步的数字，结果是 {result}。用户要求最后一行写答案。"
    return opening + _STEPS[kind].format(**values) + check


def _takes() -> list[Take]:
    takes = []
    for n, question in enumerate(questions()):
        expected, slip = int(question["expected"]), int(question["slip"])  # type: ignore[call-overload]
        on_result = expected + 10 if n in (17, 38) else expected  # two arithmetic slips with thinking on
        off_result = slip if n % 4 == 3 and slip != expected else expected
        prompt = str(question["prompt"])
        reasoning = _reasoning(question, on_result)
        takes.append(
            Take(
                name=f"nb08-qwen-plus-{question['id']}-on",
                model="qwen-plus",
                prompt=prompt,
                enable_thinking=True,
                reasoning=reasoning,
                answer=f"按运算顺序逐步计算，结果是 {on_result}。\n\n答案：{on_result}",
                first_token_seconds=0.4,
            )
        )
        takes.append(
            Take(
                name=f"nb08-qwen-plus-{question['id']}-off",
                model="qwen-plus",
                prompt=prompt,
                enable_thinking=False,
                answer=f"答案：{off_result}",
                first_token_seconds=0.3,
            )
        )
    return takes


TAKES = _takes()
