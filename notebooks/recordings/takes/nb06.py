"""Takes for ``06-classroom.ipynb``: the two classroom questions a teacher records once and students
replay offline (a pool-filling problem and a train-on-a-bridge exercise), qwen-plus with thinking on.

ILLUSTRATIVE: written by the thinkbook developers to show the record / ship / replay workflow, not
model output. A teacher with a key replaces them with live recordings (the notebook's
``%%think --record`` cell writes ``recordings/nb06-pool.jsonl``; then drop its take here).
"""

from __future__ import annotations

from .builder import Take

FORMAT = "最后单独一行写“答案：”加结果。"

POOL = "一个水池有甲、乙两根进水管。单开甲管 6 小时注满，单开乙管 3 小时注满。两管同时开，几小时注满？\n" + FORMAT
TRAIN = (
    "一列火车长 200 米，以每秒 20 米的速度通过一座长 600 米的大桥。从车头上桥到车尾离桥，一共需要多少秒？\n" + FORMAT
)

TAKES: list[Take] = [
    Take(
        name="nb06-pool",
        model="qwen-plus",
        prompt=POOL,
        enable_thinking=True,
        reasoning=(
            "这是工程问题，把注满整个水池看作 1。\n"
            "甲管单开 6 小时注满，每小时注 1/6；乙管单开 3 小时注满，每小时注 1/3。\n"
            "两管同时开，每小时注 1/6 + 1/3 = 1/6 + 2/6 = 3/6 = 1/2。\n"
            "注满需要 1 ÷ 1/2 = 2 小时。\n"
            "检查：2 小时里甲注 2/6 = 1/3，乙注 2/3，合起来正好 1，对的。\n"
            "合开应该比任何一根单开都快，2 小时比 3 小时短，也合理。"
        ),
        answer=(
            "把水池的容量看作 1：\n\n"
            "- 甲管每小时注 1/6，乙管每小时注 1/3；\n"
            "- 同时开每小时注 1/6 + 1/3 = 1/2；\n"
            "- 注满需要 1 ÷ 1/2 = **2 小时**。\n\n"
            "答案：2 小时"
        ),
    ),
    Take(
        name="nb06-train",
        model="qwen-plus",
        prompt=TRAIN,
        enable_thinking=True,
        reasoning=(
            "火车过桥问题。关键是从车头上桥到车尾离桥，火车走过的路程不只是桥长。\n"
            "车头上桥时，车尾还在桥前 200 米；车尾离桥时，车头已经在桥后 200 米。\n"
            "所以车头一共走了 桥长 + 车长 = 600 + 200 = 800 米。\n"
            "速度每秒 20 米，时间 = 800 ÷ 20 = 40 秒。\n"
            "常见错误是只算桥长：600 ÷ 20 = 30 秒，那是车头从桥头走到桥尾的时间。\n"
            "答案是 40 秒。"
        ),
        answer=(
            "从车头上桥到车尾离桥，火车走过的路程是 **桥长 + 车长**：\n\n"
            "600 + 200 = 800（米），800 ÷ 20 = 40（秒）。\n\n"
            "（只算桥长得到的 30 秒，是车头从桥头走到桥尾的时间。）\n\n"
            "答案：40 秒"
        ),
    ),
]
