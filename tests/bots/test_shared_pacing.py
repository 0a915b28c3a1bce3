"""The flood limiter shared by the replicas (escalation.shared_pacing.SharedPacer), on a real
Redis with windows scaled down to a second.

Every request records when it started and finished; the test then slides every window over the
finish times itself (the time Telegram counts a request by) and looks for more requests in one
window than the limit allows. Three local pacers side by side do exceed it, so the check can
fail. The faults (Redis killed and started empty, Redis not there yet) use a redis-server of
the test's own; the shared one on 6379 is only written under a prefix of the test's own.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest

from escalation.pacing import Limits, Pacer, Pacing
from escalation.redis_link import connect
from escalation.shared_pacing import SharedPacer, make_pacer
from tests.services import OwnRedis

SHARED_REDIS = "redis://127.0.0.1:6379/0"
BOT = 7
GROUP = -100500
PRIVATE = 42
OTHERS = (43, 44)
# Telegram's minute scaled to a second; safety 0: the test checks the limits themselves
LIMITS = Limits(group_messages=5, group_window=1.0, private_rate=5.0, private_burst=2,
                bot_per_second=10, safety=0.0)
PRIVATE_WINDOW = LIMITS.private_burst / LIMITS.private_rate
LOGGER = "escalation.shared_pacing"
UNREACHABLE = "LIMITER Redis unreachable"
WORKS_AGAIN = "LIMITER Redis works again"


@dataclass(frozen=True)
class Request:
    replica: int
    chat: int
    order: int
    start: float
    finish: float


@dataclass
class Traffic:
    """The requests made, and an event per number of requests finished."""

    requests: list[Request] = field(default_factory=list)
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, pacer: Pacing, replica: int, chat: int, order: int) -> None:
        async with pacer.slot(BOT, chat):
            start = time.time()  # Redis dates requests by its TIME: the same wall clock
            await asyncio.sleep(random.uniform(0.0, 0.015))  # the request in flight
            finish = time.time()
        self.requests.append(Request(replica, chat, order, start, finish))
        self.progress.set()

    async def finished(self, count: int) -> None:
        while len(self.requests) < count:
            self.progress.clear()
            await self.progress.wait()


def workload(traffic: Traffic, pacers: Sequence[Pacing], *,
             group: int, private: int) -> list[asyncio.Task[None]]:
    """Every replica at once: ``group`` requests to the group, ``private`` to one citizen and
    one to each of two more (the bot's overall limit), each chat's in order."""
    jobs = []
    for replica, pacer in enumerate(pacers):
        plan = [(GROUP, n) for n in range(group)] + [(PRIVATE, n) for n in range(private)]
        plan += [(other, 0) for other in OTHERS]
        jobs += [asyncio.create_task(traffic.send(pacer, replica, chat, order))
                 for chat, order in plan]
    return jobs


def crowded(finishes: list[float], limit: int, window: float) -> list[tuple[float, float]]:
    """Every stretch shorter than ``window`` holding more than ``limit`` requests."""
    times = sorted(finishes)
    return [(times[i], times[i + limit]) for i in range(len(times) - limit)
            if times[i + limit] - times[i] < window]


def over_limits(requests: list[Request]) -> dict[str, list[tuple[float, float]]]:
    by_chat: defaultdict[int, list[float]] = defaultdict(list)
    for request in requests:
        by_chat[request.chat].append(request.finish)
    found = {"bot": crowded([r.finish for r in requests], LIMITS.bot_per_second, 1.0)}
    for chat, finishes in by_chat.items():
        found[f"chat {chat}"] = (
            crowded(finishes, LIMITS.group_messages, LIMITS.group_window) if chat < 0
            else crowded(finishes, LIMITS.private_burst, PRIVATE_WINDOW))
    return {name: stretches for name, stretches in found.items() if stretches}


def in_order(requests: list[Request]) -> bool:
    """Whether each replica's requests to a chat started in the order they were asked."""
    starts: defaultdict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    for request in requests:
        starts[request.replica, request.chat].append((request.start, request.order))
    return all([order for _, order in sorted(seq)] == sorted(order for _, order in seq)
               for seq in starts.values())


class Heard(logging.Handler):
    """The limiter's log lines, with a wait for one to be said."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[int, str]] = []
        self.said = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage()))
        self.said.set()

    def count(self, start: str, level: int) -> int:
        return sum(1 for lv, line in self.lines if lv == level and line.startswith(start))

    async def until(self, start: str, level: int, times: int = 1) -> None:
        while self.count(start, level) < times:
            self.said.clear()
            await self.said.wait()


@pytest.fixture
def heard() -> Iterator[Heard]:
    handler = Heard()
    logger = logging.getLogger(LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def replicas(url: str, prefix: str, count: int, *, old_history: bool) -> list[SharedPacer]:
    """``count`` pacers with clients of their own; ``old_history``: Redis has been keeping
    the windows for long (no quiet period of a Redis that just started)."""
    pacers = [SharedPacer(connect(url), LIMITS, prefix=prefix) for _ in range(count)]
    if old_history:
        await pacers[0].client.set(f"{prefix}epoch", 0)
    return pacers


async def test_three_replicas_keep_the_limits_together(prefix: str) -> None:
    pacers = await replicas(SHARED_REDIS, prefix, 3, old_history=True)
    traffic = Traffic()
    try:
        await asyncio.wait_for(asyncio.gather(*workload(traffic, pacers, group=4, private=3)),
                               timeout=10)
    finally:
        for pacer in pacers:
            await pacer.close()

    assert len(traffic.requests) == 3 * (4 + 3 + len(OTHERS))
    assert over_limits(traffic.requests) == {}
    assert in_order(traffic.requests)


async def test_three_local_pacers_exceed_the_limits() -> None:
    """The same traffic through three pacers that do not share: the check above can fail."""
    traffic = Traffic()
    await asyncio.wait_for(asyncio.gather(*workload(
        traffic, [Pacer(LIMITS) for _ in range(3)], group=4, private=3)), timeout=10)

    assert {"bot", f"chat {GROUP}", f"chat {PRIVATE}"} <= set(over_limits(traffic.requests))


async def test_redis_restarted_empty_holds_every_message_and_the_limits(
        own_redis: OwnRedis, heard: Heard) -> None:
    await own_redis.start()
    pacers = await replicas(own_redis.url, "pace:", 2, old_history=True)
    traffic = Traffic()
    jobs = workload(traffic, pacers, group=6, private=3)
    try:
        await asyncio.wait_for(traffic.finished(LIMITS.group_messages), timeout=5)
        await own_redis.kill()
        await asyncio.wait_for(heard.until(UNREACHABLE, logging.WARNING, times=2), timeout=5)
        assert not all(job.done() for job in jobs), "the outage must fall while requests flow"
        restarted_at = time.time()
        await own_redis.start()
        await asyncio.wait_for(asyncio.gather(*jobs), timeout=10)
    finally:
        for pacer in pacers:
            await pacer.close()

    assert len(traffic.requests) == 2 * (6 + 3 + len(OTHERS))  # nothing lost
    # Redis forgot the last second: nothing goes out until a whole window has passed
    assert not [r for r in traffic.requests if restarted_at <= r.start < restarted_at + 1.0]
    assert over_limits(traffic.requests) == {}
    assert in_order(traffic.requests)
    # once per replica, each of which saw the outage
    assert heard.count(UNREACHABLE, logging.WARNING) == 2
    assert heard.count(WORKS_AGAIN, logging.INFO) == 2


async def test_a_turn_waits_for_redis_to_come_up(own_redis: OwnRedis, heard: Heard) -> None:
    pacer = make_pacer(LIMITS, own_redis.url, prefix="pace:")
    assert isinstance(pacer, SharedPacer)
    try:
        turn = asyncio.create_task(pacer.wait(BOT, PRIVATE))
        await asyncio.wait_for(heard.until(UNREACHABLE, logging.WARNING), timeout=5)
        assert not turn.done()
        await own_redis.start()
        await asyncio.wait_for(turn, timeout=5)
    finally:
        await pacer.close()

    assert heard.count(UNREACHABLE, logging.WARNING) == 1
    assert heard.count(WORKS_AGAIN, logging.INFO) == 1


def test_without_redis_the_pacer_is_local() -> None:
    assert isinstance(make_pacer(LIMITS, None), Pacer)
