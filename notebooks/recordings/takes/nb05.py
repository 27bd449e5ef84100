"""Takes for ``05-compare-models.ipynb``: one question sent to six models, one to three settings.

All ILLUSTRATIVE (see builder.py): written to show the panel and the summary offline, not model output.
The per-model pacing differs so the summary's "fastest" badge has something to show; it is made up.
"""

from __future__ import annotations

from takes.builder import Take

BALLS = "一个袋子里有 3 个红球和 2 个蓝球，不放回地连续取出两个球，两个都是红球的概率是多少？"

_BALLS_REASONING = (
    "题目：袋中 3 红 2 蓝，共 5 个球，不放回取两个，求两个都是红球的概率。\n"
    "方法一，分步乘法：第一次取到红球的概率是 3/5；第一次取走一个红球后，袋中剩 4 个球，其中 2 个红球，"
    "所以第二次取到红球的概率是 2/4 = 1/2。两步相乘：3/5 × 1/2 = 3/10。\n"
    "方法二，组合数验证：从 5 个球中任取 2 个，共有 C(5,2) = 10 种等可能的取法；两个都是红球的取法有 "
    "C(3,2) = 3 种。概率 = 3/10。\n"
    "两种方法一致，答案是 3/10，也就是 0.3。"
)
_BALLS_ANSWER = (
    "两个都是红球的概率是 **3/10**（0.3）。\n\n"
    "- 第一次取到红球：$\\frac{3}{5}$\n"
    "- 第一次取走一个红球后，第二次再取到红球：$\\frac{2}{4}$\n\n"
    "$$P = \\frac{3}{5} \\times \\frac{2}{4} = \\frac{3}{10}$$\n\n"
    "用组合数验证：$\\frac{C_3^2}{C_5^2} = \\frac{3}{10}$。"
)
_BALLS_QUICK = "两个都是红球的概率是 $\\frac{3}{5} \\times \\frac{2}{4} = \\frac{3}{10}$，即 **0.3**。"

# Each model gets its own take (illustrative), differing the way such models differ: DeepSeek checks
# twice and writes at length, GLM is terse, Kimi answers in a list, MiniMax makes the classic
# with-replacement mistake (9/25) so the grading has something to catch.
_BALLS_LONG_REASONING = _BALLS_REASONING + (
    "\n再用枚举核对：把红球记为 R1、R2、R3，蓝球记为 B1、B2，无序取两个共 10 种组合，"
    "两红的是 R1R2、R1R3、R2R3，3 种，3/10 没错。\n注意是“不放回”，第二次的分母是 4 不是 5。"
)
_BALLS_TERSE_REASONING = "不放回。P = 3/5 × 2/4 = 3/10。"
_BALLS_TERSE = "**3/10**"
_BALLS_LIST = "结论：**3/10**。\n\n1. 第一次红球：3/5\n2. 第二次红球（剩 4 个中 2 个红）：2/4\n3. 相乘：3/10 = 0.3"
_BALLS_WRONG_REASONING = "每次取到红球的概率都是 3/5，两次独立，所以 3/5 × 3/5 = 9/25。"
_BALLS_WRONG = "两个都是红球的概率是 $\\frac{3}{5} \\times \\frac{3}{5} = \\frac{9}{25}$，即 **0.36**。"

# The other providers' columns (Anthropic, OpenAI Responses, Gemini), each in its own wire format
# (takes/wire.py). Their reasoning reads the way each shows it: Claude's summarized thinking, GPT's
# reasoning summary (bold headings, in English), Gemini's thought summary.
_BALLS_CLAUDE_REASONING = (
    "The bag has 3 red and 2 blue balls; two are drawn without replacement. I want P(both red).\n"
    "First draw red: 3/5. Given that, 2 red remain among 4 balls: 2/4. Product: 3/5 × 2/4 = 6/20 = 3/10.\n"
    "Cross-check with combinations: C(3,2)/C(5,2) = 3/10. Consistent. I'll answer in Chinese, as asked."
)
_BALLS_CLAUDE = (
    "概率是 **3/10**。\n\n"
    "**分步计算**\n\n"
    "1. 第一次取到红球：$\\frac{3}{5}$\n"
    "2. 在第一次是红球的条件下，第二次取到红球：$\\frac{2}{4} = \\frac{1}{2}$\n"
    "3. 两步相乘：$\\frac{3}{5} \\times \\frac{1}{2} = \\frac{3}{10}$\n\n"
    "**组合数验证**：$\\frac{C_3^2}{C_5^2} = \\frac{3}{10}$，结果一致。"
)
_BALLS_GPT_REASONING = (
    "**Computing the probability**\n\n"
    "Without replacement: (3/5)·(2/4) = 3/10. Checking with C(3,2)/C(5,2) = 3/10 as well."
)
_BALLS_GPT = "**3/10**（即 0.3）。$P = \\frac{3}{5} \\cdot \\frac{2}{4} = \\frac{3}{10}$。"
_BALLS_GEMINI_REASONING = (
    "**Breaking down the draws**\n\n"
    "I'm treating the two draws as dependent events: after one red ball leaves, the bag holds 2 red of 4.\n\n"
    "**Verifying with counting**\n\n"
    "Counting unordered pairs gives 10 in total and 3 all-red pairs, so the ratio is 3/10."
)
_BALLS_GEMINI = (
    "| 步骤 | 概率 |\n|---|---|\n| 第一次取红球 | 3/5 |\n| 第二次取红球（剩 4 个，2 红） | 2/4 |\n"
    "| 两个都是红球 | 3/5 × 2/4 = **3/10** |\n\n答案：**3/10**（0.3）。"
)

APPLES = "小明有 5 个苹果，吃掉 2 个后，又买了剩下数量 3 倍的苹果。他现在一共有几个苹果？"

_APPLES_REASONING = (
    "先理清顺序。小明原有 5 个苹果，吃掉 2 个，剩下 5 - 2 = 3 个。\n"
    "“又买了剩下数量 3 倍的苹果”：剩下的是 3 个，3 倍就是 3 × 3 = 9 个，这是新买的数量，"
    "不是买完后的总数。\n"
    "现在一共有：剩下的 3 个 + 新买的 9 个 = 12 个。\n"
    "检查一个常见误解：如果把“3 倍”理解成买完后总数是剩下的 3 倍，就会得到 9 个；但题目说的是“买了”"
    "3 倍的苹果，所以买的数量是 9，总数是 12。\n"
    "答案：12 个。"
)
_APPLES_ANSWER = "小明现在一共有 **12** 个苹果：吃掉 2 个后剩 3 个，又买了 3 × 3 = 9 个，3 + 9 = 12。"
_APPLES_QUICK = "小明吃掉 2 个后剩 3 个，买了 3 倍即 9 个，所以现在有 **9** 个苹果。"

TAKES = [
    Take("nb05-balls-qwen-plus-off", "qwen-plus", BALLS, _BALLS_QUICK, enable_thinking=False, first_token_seconds=0.35),
    Take("nb05-balls-qwen-plus-on", "qwen-plus", BALLS, _BALLS_ANSWER, _BALLS_REASONING, enable_thinking=True),
    Take(
        "nb05-balls-deepseek-v3.2-on",
        "deepseek-v3.2",
        BALLS,
        _BALLS_ANSWER,
        _BALLS_LONG_REASONING,
        enable_thinking=True,
        first_token_seconds=0.8,
        reasoning_tokens_per_second=60,
    ),
    Take(
        "nb05-balls-glm-4.7",
        "glm-4.7",
        BALLS,
        _BALLS_TERSE,
        _BALLS_TERSE_REASONING,
        first_token_seconds=0.6,
        reasoning_tokens_per_second=75,
    ),
    Take(
        "nb05-balls-kimi-k2.6-on",
        "kimi-k2.6",
        BALLS,
        _BALLS_LIST,
        _BALLS_REASONING,
        enable_thinking=True,
        first_token_seconds=0.7,
        reasoning_tokens_per_second=70,
    ),
    Take(
        "nb05-balls-minimax-m2.5",
        "MiniMax-M2.5",
        BALLS,
        _BALLS_WRONG,
        _BALLS_WRONG_REASONING,
        first_token_seconds=0.9,
        reasoning_tokens_per_second=55,
    ),
    Take(
        "nb05-balls-claude-opus-4-7-on",
        "claude-opus-4-7",
        BALLS,
        _BALLS_CLAUDE,
        _BALLS_CLAUDE_REASONING,
        enable_thinking=True,
        first_token_seconds=1.1,
        reasoning_tokens_per_second=65,
        answer_tokens_per_second=55,
    ),
    Take(
        "nb05-balls-gpt-5",
        "gpt-5",
        BALLS,
        _BALLS_GPT,
        _BALLS_GPT_REASONING,
        first_token_seconds=2.4,  # a summary arrives after the reasoning it summarizes
        reasoning_tokens_per_second=120,
        answer_tokens_per_second=80,
    ),
    Take(
        "nb05-balls-gemini-2.5-flash",
        "gemini-2.5-flash",
        BALLS,
        _BALLS_GEMINI,
        _BALLS_GEMINI_REASONING,
        first_token_seconds=0.5,
        reasoning_tokens_per_second=140,
        answer_tokens_per_second=110,
    ),
    Take(
        "nb05-apples-qwen3.6-plus-off",
        "qwen3.6-plus",
        APPLES,
        _APPLES_QUICK,
        enable_thinking=False,
        first_token_seconds=0.4,
    ),
    Take(
        "nb05-apples-qwen3.6-plus-budget60",
        "qwen3.6-plus",
        APPLES,
        _APPLES_ANSWER,
        _APPLES_REASONING,
        thinking_budget=60,
    ),
    Take("nb05-apples-qwen3.6-plus", "qwen3.6-plus", APPLES, _APPLES_ANSWER, _APPLES_REASONING),
]
