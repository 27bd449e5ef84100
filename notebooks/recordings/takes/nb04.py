"""Takes for ``04-multi-turn-preserve.ipynb``: a three-turn chat about a flash sale (秒杀), asked to
qwen3.7-plus twice, with ``preserve_thinking`` on and off, to measure what history costs in input tokens.

The notebook's message-queue example (the guide's two turns) replays the recordings shipped inside the
package (``thinkbook/recordings/qwen3.7-plus-mq-*.jsonl``), so it has no take here.

ILLUSTRATIVE: written by the thinkbook developers, not model output. Both branches share turn 1;
from turn 2 on, the ``preserve`` branch's reasoning refers back to the earlier reasoning it was sent,
the ``plain`` branch only sees the earlier answers. The input-token counts are estimates of these
texts (see ``builder.py``); run the notebook with a key to measure.

thinkbook's offline lookup matches model, user turns and thinking options, not ``preserve_thinking``,
so the two branches (same user turns) cannot both be found automatically: the notebook plays each
branch's files by name.
"""

from __future__ import annotations

from .builder import Take

MODEL = "qwen3.7-plus"
QUESTIONS = (
    "秒杀活动中如何防止库存超卖？",
    "如果 Redis 宕机了怎么办？",
    "订单超时未支付，库存怎么回滚？",
)

TURN1 = (
    "用户问秒杀场景下怎么防止超卖。核心矛盾是大量请求同时读到同一个库存值，再各自扣减。可选方案：\n"
    "1. 数据库行锁：UPDATE stock SET n = n - 1 WHERE id = ? AND n > 0，靠条件更新保证库存不为负，"
    "但秒杀峰值下行锁争用严重。\n"
    "2. Redis 预扣：把库存放进 Redis，用 Lua 脚本原子地检查并扣减，扣成功的请求再异步落库下单。\n"
    "3. 消息队列削峰：请求先入队，消费者按顺序处理。\n"
    "我倾向 Redis Lua 预扣 + 数据库条件更新兜底 + 队列异步下单。没选纯数据库方案，是因为峰值 QPS 太高；"
    "Redis 方案最大的风险是 Redis 宕机或主从切换时丢失扣减记录，这一点靠数据库的条件更新兜底。",
    "推荐 **Redis 原子预扣 + 数据库兜底** 的组合：\n\n"
    "1. 活动开始前把库存加载到 Redis；\n"
    "2. 用 Lua 脚本原子地“检查库存 > 0 再扣减”，失败直接返回“已售罄”；\n"
    "3. 扣减成功的请求进入消息队列，异步创建订单；\n"
    "4. 落库时用 `UPDATE ... SET stock = stock - 1 WHERE id = ? AND stock > 0` 做最终校验。\n\n"
    "绝大多数请求在 Redis 层就被挡住，数据库只承受成功的那部分流量。",
)

# (reasoning, answer) of turns 2 and 3 in each branch.
PRESERVE = (
    (
        "用户追问 Redis 宕机。回看我上一轮的思考：我已经把“Redis 宕机或主从切换时丢失扣减记录”列为这个方案"
        "最大的风险，也说过数据库条件更新是兜底。所以回答分两层：宕机期间降级到数据库条件更新并限流；"
        "恢复后以数据库为准重建 Redis 库存。主从切换丢失的扣减由落库时的条件更新挡住，不会超卖，最多少卖。",
        "这正是我上一轮认为最大的风险，分两步处理：\n\n"
        "- **宕机期间**：降级为直接走数据库条件更新，同时在网关限流，只放行数据库扛得住的流量；\n"
        "- **恢复之后**：以数据库里的库存和订单为准重建 Redis 库存，再放开流量。\n\n"
        "主从切换可能丢掉几次扣减，但落库时还有 `stock > 0` 的条件更新，最坏是少卖几件，不会超卖。",
    ),
    (
        "用户问超时未支付的库存回滚。我前两轮的思路是：Redis 预扣、消息队列异步下单、数据库条件更新兜底，"
        "宕机恢复时以数据库为准重建 Redis。回滚要和这个设计一致：用延迟消息在下单 15 分钟后检查支付状态，"
        "未支付就关单，先把数据库库存加回去，再加回 Redis。关单和支付回调可能并发，要用订单状态的条件更新"
        "保证只回滚一次。",
        "沿用前面的设计：\n\n"
        "1. 下单时发送一条 **延迟消息**（例如 15 分钟）；\n"
        "2. 到期检查订单：仍未支付就用 "
        "`UPDATE orders SET status = 'closed' WHERE id = ? AND status = 'unpaid'` 关单；\n"
        "3. 关单成功才回滚库存：先加回数据库库存（它是准绳），再加回 Redis。\n\n"
        "关单和支付回调可能同时发生，靠订单状态的条件更新保证库存只回滚一次。",
    ),
)
PLAIN = (
    (
        "用户问 Redis 宕机怎么办。上一轮我推荐了 Redis 预扣加数据库兜底，但我看不到当时的思考过程，"
        "只能从回答推断方案细节。常见做法：哨兵或集群保证高可用；宕机期间降级到数据库；恢复后重建库存。"
        "还要考虑主从异步复制可能丢数据。",
        "可以从三方面准备：\n\n"
        "1. **高可用**：Redis 用哨兵或集群部署，主节点宕机自动切换；\n"
        "2. **降级**：Redis 不可用时改走数据库条件更新，并在网关限流；\n"
        "3. **恢复**：以数据库为准重建 Redis 库存后再放开流量。\n\n"
        "主从异步复制在切换时可能丢失少量扣减，需要落库时的条件更新兜底。",
    ),
    (
        "用户问订单超时未支付时库存回滚。常见方案是延迟消息或定时任务扫描超时订单，未支付就关闭订单并恢复"
        "库存。要注意关单和支付回调的并发，以及 Redis 和数据库的库存要一起恢复。",
        "常见做法：\n\n"
        "1. 下单后发送 **延迟消息**（或用定时任务扫描超时订单）；\n"
        "2. 到期仍未支付就关闭订单；\n"
        "3. 关单成功后恢复库存：数据库和 Redis 两边都要加回。\n\n"
        "关单要用订单状态做条件更新，避免和支付回调并发时重复回滚。",
    ),
)


def _branch(preserve: bool) -> list[Take]:
    """Turns 2 and 3 of one branch; each take's prompt is the whole message list the Conversation sends."""
    turns = [TURN1, *(PRESERVE if preserve else PLAIN)]
    label = "preserve" if preserve else "plain"
    takes = []
    for index in (1, 2):
        messages: list[dict[str, str]] = []
        for question, (reasoning, answer) in zip(QUESTIONS[:index], turns[:index], strict=True):
            messages.append({"role": "user", "content": question})
            assistant = {"role": "assistant", "content": answer}
            if preserve:
                assistant["reasoning_content"] = reasoning
            messages.append(assistant)
        messages.append({"role": "user", "content": QUESTIONS[index]})
        reasoning, answer = turns[index]
        takes.append(
            Take(
                name=f"nb04-flashsale-turn{index + 1}-{label}",
                model=MODEL,
                prompt=messages,
                reasoning=reasoning,
                answer=answer,
                preserve_thinking=True if preserve else None,
            )
        )
    return takes


TAKES: list[Take] = [
    Take(name="nb04-flashsale-turn1", model=MODEL, prompt=QUESTIONS[0], reasoning=TURN1[0], answer=TURN1[1]),
    *_branch(preserve=True),
    *_branch(preserve=False),
]
