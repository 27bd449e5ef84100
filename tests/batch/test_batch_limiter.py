"""The adaptive limiter: one halving per window of rate limits, slow growth, Retry-After pauses."""

from __future__ import annotations

import asyncio

from thinkbook.batch.limiter import AdaptiveLimiter


def test_a_burst_of_429s_halves_once_and_successes_raise_slowly() -> None:
    async def scenario() -> None:
        limiter = AdaptiveLimiter(16)
        slots = [await limiter.acquire() for _ in range(16)]
        assert limiter.active == 16 == limiter.peak
        for slot in slots:  # the whole burst comes back throttled
            limiter.release(slot, "throttled")
        assert limiter.limit == 8 and limiter.decreases == 1
        slot = await limiter.acquire()
        limiter.release(slot, "throttled")  # started after the halving: halves again
        assert limiter.limit == 4 and limiter.decreases == 2
        for _ in range(4):
            limiter.release(await limiter.acquire(), "ok")
        assert limiter.limit == 4  # 4.93: about one more place per `limit` successes
        limiter.release(await limiter.acquire(), "ok")
        assert limiter.limit == 5
        for _ in range(200):
            limiter.release(await limiter.acquire(), "ok")
        assert limiter.limit == 16  # never above the maximum
        for _ in range(10):
            limiter.release(await limiter.acquire(), "throttled")
        assert limiter.limit == 1  # never below one

    asyncio.run(scenario())


def test_retry_after_pauses_new_starts_and_a_full_limiter_waits() -> None:
    async def scenario() -> None:
        limiter = AdaptiveLimiter(2)
        first, second = await limiter.acquire(), await limiter.acquire()
        waiter = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0.02)
        assert not waiter.done()  # both places taken
        loop = asyncio.get_running_loop()
        started = loop.time()
        limiter.release(first, "throttled", retry_after=0.1)
        limiter.release(second, "ok")
        assert limiter.paused_for > 0.05 and limiter.active == 0
        await asyncio.wait_for(waiter, 2)
        assert loop.time() - started >= 0.08  # a free place, but the server's Retry-After came first

    asyncio.run(scenario())
