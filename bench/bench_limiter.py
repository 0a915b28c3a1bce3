"""Flood limiter benchmark: ``python -m bench.bench_limiter [redis://127.0.0.1:6379/0]``
(a few seconds).

What a turn costs: grants per second of the in-process :class:`Pacer` next to the Redis-backed
:class:`SharedPacer` (one script to enter, one to leave), with limits so high that no request
ever waits, so the table shows the limiter's own overhead: one chat asking in a row (the
latency of a turn), many chats at once in one process, and three replicas (three clients) at
once. Keys live under a prefix of the run's own and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from escalation.pacing import Limits, Pacer, Pacing  # noqa: E402
from escalation.redis_link import connect  # noqa: E402
from escalation.shared_pacing import SharedPacer  # noqa: E402

BOT = 1
UNLIMITED = Limits(group_messages=10**9, group_window=60.0, private_rate=1e9,
                   private_burst=10**9, bot_per_second=10**9)
PER_CHAT = 200
SCENARIOS = (("one chat in a row", 1, 1), ("100 chats, one process", 1, 100),
             ("100 chats, 3 replicas", 3, 100))


async def run(pacers: Sequence[Pacing], chats: int) -> tuple[float, float]:
    """(grants per second, median ms per turn) with every pacer sending ``PER_CHAT`` requests
    to each of ``chats`` chats (half groups, half private)."""
    turns: list[float] = []

    async def chat(pacer: Pacing, chat_id: int) -> None:
        for _ in range(PER_CHAT):
            asked = time.perf_counter()
            async with pacer.slot(BOT, chat_id):
                turns.append(time.perf_counter() - asked)

    started = time.perf_counter()
    await asyncio.gather(*(chat(pacer, n if n % 2 else -n - 1)
                           for pacer in pacers for n in range(chats)))
    elapsed = time.perf_counter() - started
    return len(turns) / elapsed, statistics.median(turns) * 1000


async def main(url: str) -> None:
    prefix = f"bench-pace:{uuid.uuid4().hex}:"
    print(f"{'scenario':<24} {'Pacer/s':>10} {'ms':>7} {'SharedPacer/s':>14} {'ms':>7}")
    for name, replicas, chats in SCENARIOS:
        local = await run([Pacer(UNLIMITED) for _ in range(replicas)], chats)
        shared_pacers = [SharedPacer(connect(url), UNLIMITED, prefix=prefix)
                         for _ in range(replicas)]
        await shared_pacers[0].client.set(f"{prefix}epoch", 0)  # no quiet period of a start
        try:
            shared = await run(shared_pacers, chats)
        finally:
            client = shared_pacers[0].client
            keys = [key async for key in client.scan_iter(f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            for pacer in shared_pacers:
                await pacer.close()
        print(f"{name:<24} {local[0]:>10.0f} {local[1]:>7.3f} {shared[0]:>14.0f} "
              f"{shared[1]:>7.3f}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"))
