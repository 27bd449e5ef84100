"""Takes for ``02-thinking-on-off.ipynb``: four checkable questions asked to qwen-plus with thinking
on and off, and the ``/no_think`` / ``/think`` soft switch on qwen3-32b.

ILLUSTRATIVE: written by the thinkbook developers, not model output. The thinking-off answers to the
two classic trick questions (9.11 vs 9.9, the r's in "strawberry") are wrong on purpose: that is a
well-known failure of answering without reasoning, shown here so the grading code has something to
catch. Current models often get them right; run the notebook with a key to measure.
"""

from __future__ import annotations

from .builder import Take

FORMAT = "最后单独一行写“答案：”加结果。"

DECIMAL = "9.11 和 9.9 哪个大？\n" + FORMAT
STRAWBERRY = "单词 strawberry 里有几个字母 r？\n" + FORMAT
SHIRT = "一件衬衫原价 80 元，先打八折，再在折后价上减 10 元，最后又打九折。最后卖多少元？\n" + FORMAT
LIARS = (
    "甲、乙、丙三人中只有一人说了真话。甲说：“乙在说谎。”乙说：“丙在说谎。”"
    "丙说：“甲和乙都在说谎。”谁说了真话？\n" + FORMAT
)

# Thinking on: reasoning (思考过程) then the answer (完整回复).
_ON = {
    "decimal": (
        DECIMAL,
        "嗯，用户问 9.11 和 9.9 哪个大。这种题很容易被“11 比 9 大”误导，要按小数的位值逐位比较。\n"
        "先看整数部分：两个数都是 9，相同。\n"
        "再看十分位：9.11 的十分位是 1，9.9 的十分位是 9。9 大于 1，所以 9.9 更大。\n"
        "把位数补齐再核对一次：9.9 = 9.90，和 9.11 比，就是 90 个百分位对 11 个百分位，90 > 11，结论一样。\n"
        "用减法验证：9.9 − 9.11 = 0.79，是正数，所以 9.9 大。\n"
        "还要注意别把它当成版本号，版本号里 9.11 排在 9.9 后面，但这里比较的是小数大小。\n"
        "用户要求最后一行写答案，答案是 9.9。",
        "**9.9 更大。**\n\n"
        "比较小数要逐位看：整数部分都是 9；十分位上 9.9 是 9，9.11 是 1，9 > 1，"
        "所以 9.9 > 9.11（补齐成 9.90 和 9.11 比较也一样，9.9 − 9.11 = 0.79）。\n\n"
        "答案：9.9",
    ),
    "strawberry": (
        STRAWBERRY,
        "好的，用户问单词 strawberry 里有几个字母 r。我把字母逐个拼出来：s-t-r-a-w-b-e-r-r-y。\n"
        "编号：1 s，2 t，3 r，4 a，5 w，6 b，7 e，8 r，9 r，10 y。\n"
        "r 出现在第 3、第 8、第 9 个位置，一共 3 个。\n"
        "再分两段检查：straw 里有一个 r（s-t-r-a-w），berry 里有两个 r（b-e-r-r-y），1 + 2 = 3。\n"
        "容易出错的地方是把 berry 里的 rr 当成一个，或者漏掉 straw 里的 r，得出 2。\n"
        "单词一共 10 个字母，编号也对得上。答案是 3。",
        "单词 **strawberry** 里有 **3** 个字母 r：\n\n"
        "s-t-**r**-a-w-b-e-**r**-**r**-y（第 3、8、9 个字母）。\n\n"
        "答案：3",
    ),
    "shirt": (
        SHIRT,
        "嗯，这是分步计算的价格题，要严格按题目给的顺序算。\n"
        "原价 80 元。第一步打八折，就是乘以 0.8：80 × 0.8 = 64 元。\n"
        "第二步在折后价上减 10 元：64 − 10 = 54 元。\n"
        "第三步再打九折：54 × 0.9。拆开算：50 × 0.9 = 45，4 × 0.9 = 3.6，合计 48.6 元。\n"
        "检查一下顺序：如果先减 10 元再打折，结果会不一样，但题目明确是先八折、再减 10 元、最后九折，所以按这个顺序。\n"
        "最后的价格是 48.6 元。",
        "按题目的顺序计算：\n\n"
        "1. 打八折：80 × 0.8 = 64 元\n"
        "2. 减 10 元：64 − 10 = 54 元\n"
        "3. 打九折：54 × 0.9 = 48.6 元\n\n"
        "答案：48.6",
    ),
    "liars": (
        LIARS,
        "好的，这是真假话推理题，条件是三人中恰好一人说真话。逐个假设谁说真话。\n"
        "假设甲说真话：那么乙在说谎。乙说“丙在说谎”是假的，说明丙说的是真话。"
        "这样甲和丙两人都说真话，和“只有一人说真话”矛盾，排除。\n"
        "假设乙说真话：那么丙在说谎。丙说“甲和乙都在说谎”，乙并没有说谎，所以这句话确实是假的，一致。"
        "甲说“乙在说谎”，而乙说的是真话，所以甲在说谎，也一致。恰好只有乙一人说真话，满足条件。\n"
        "假设丙说真话：那么甲和乙都在说谎。甲说谎意味着“乙在说谎”是假的，也就是乙说真话，和乙在说谎矛盾，排除。\n"
        "只有“乙说真话”这一种情况成立。答案是乙。",
        "**乙**说了真话。\n\n"
        "- 若甲说真话：乙说谎 → 丙说真话，两人说真话，矛盾。\n"
        "- 若丙说真话：甲、乙都说谎；但甲说谎意味着乙说真话，矛盾。\n"
        "- 若乙说真话：丙说谎（“甲和乙都在说谎”确实为假），甲也说谎（乙并没有说谎），恰好一人说真话，成立。\n\n"
        "答案：乙",
    ),
}

# Thinking off: the answer straight away. The two trick questions get the classic wrong answers.
_OFF = {
    "decimal": (DECIMAL, "9.11 更大。小数点后面的 11 比 9 大，所以 9.11 > 9.9。\n\n答案：9.11"),
    "strawberry": (STRAWBERRY, "单词 strawberry 里有 2 个字母 r，都在后半部分的 “berry” 里。\n\n答案：2"),
    "shirt": (SHIRT, "80 × 0.8 = 64 元，64 − 10 = 54 元，54 × 0.9 = 48.6 元。最后卖 48.6 元。\n\n答案：48.6"),
    "liars": (
        LIARS,
        "乙说了真话。如果乙说真话，丙就在说谎，甲说“乙在说谎”也是假话，正好只有一人说真话。\n\n答案：乙",
    ),
}

SOFT_1 = "用一句话解释什么是质数。/no_think"
SOFT_1_ANSWER = "质数是大于 1、并且只能被 1 和它本身整除的自然数，例如 2、3、5、7、11。"
SOFT_2 = "1 到 50 之间有多少个质数？/think"

TAKES: list[Take] = [
    *(
        Take(
            name=f"nb02-qwen-plus-{key}-on",
            model="qwen-plus",
            prompt=prompt,
            reasoning=reasoning,
            answer=answer,
            enable_thinking=True,
            first_token_seconds=0.55,
            reasoning_tokens_per_second=85.0,
            answer_tokens_per_second=70.0,
        )
        for key, (prompt, reasoning, answer) in _ON.items()
    ),
    *(
        Take(
            name=f"nb02-qwen-plus-{key}-off",
            model="qwen-plus",
            prompt=prompt,
            answer=answer,
            enable_thinking=False,
            first_token_seconds=0.35,
            answer_tokens_per_second=70.0,
        )
        for key, (prompt, answer) in _OFF.items()
    ),
    # The soft switch (Qwen3 open-source hybrid models): thinking is on (enable_thinking=True), and the
    # latest /no_think or /think in the prompt decides. /no_think: an empty reasoning, the answer at once.
    Take(
        name="nb02-qwen3-32b-soft-no-think",
        model="qwen3-32b",
        prompt=SOFT_1,
        answer=SOFT_1_ANSWER,
        enable_thinking=True,
        first_token_seconds=0.3,
        answer_tokens_per_second=75.0,
    ),
    Take(
        name="nb02-qwen3-32b-soft-think",
        model="qwen3-32b",
        prompt=[
            {"role": "user", "content": SOFT_1},
            {"role": "assistant", "content": SOFT_1_ANSWER},
            {"role": "user", "content": SOFT_2},
        ],
        reasoning=(
            "用户上一轮关掉了思考，这一轮加了 /think，要认真算。题目是 1 到 50 之间有多少个质数。\n"
            "1 不是质数。逐个十位段列出来：\n"
            "1–10：2、3、5、7，共 4 个。\n"
            "11–20：11、13、17、19，共 4 个。\n"
            "21–30：23、29，共 2 个（21 = 3×7，25 = 5×5，27 = 3×9）。\n"
            "31–40：31、37，共 2 个（33、39 是 3 的倍数，35 是 5 的倍数）。\n"
            "41–50：41、43、47，共 3 个（49 = 7×7）。\n"
            "合计 4 + 4 + 2 + 2 + 3 = 15 个。"
        ),
        answer=(
            "1 到 50 之间共有 **15** 个质数：\n\n2、3、5、7、11、13、17、19、23、29、31、37、41、43、47。\n\n答案：15"
        ),
        enable_thinking=True,
        first_token_seconds=0.4,
        reasoning_tokens_per_second=95.0,
        answer_tokens_per_second=75.0,
    ),
]
