"""Pacing of outgoing messages (escalation.pacing.Pacer) on virtual time; a request counts
from when it is over (:meth:`Pacer.slot`).

The pacer's clock and sleep are fakes: sleeping registers a wake-up time and the test's driver
moves the clock straight to the earliest one once every task is waiting, so a minute of
Telegram limits takes no real time and the times asserted are exact.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from escalation.pacing import Limits, Pacer

BOT = 1
GROUP = -100123
OTHER_GROUP = -100456
CITIZEN = 42
SAFETY = 0.2
GROUP_WINDOW = 60.0 + SAFETY  # the pacer keeps Telegram's minute a little longer
BOT_WINDOW = 1.0 + SAFETY / 4
SETTLE_ROUNDS = 50
START = 1000.0  # monotonic clocks do not start at zero


@dataclass
class VirtualTime:
    """A clock that jumps from one sleeper's wake-up time to the next."""

    now: float = START
    sleeps: list[float] = field(default_factory=list)
    _sleepers: list[tuple[float, int, asyncio.Future[None]]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        assert delay > 0, "the pacer sleeps only when it has to wait"
        self.sleeps.append(delay)
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + delay, next(self._order), wake))
        await wake

    async def run(self, *jobs: Awaitable[Any]) -> list[Any]:
        """Run ``jobs`` together to the end, moving the clock whenever all of them wait."""
        tasks = [asyncio.ensure_future(job) for job in jobs]
        try:
            while not all(task.done() for task in tasks):
                for _ in range(SETTLE_ROUNDS):
                    await asyncio.sleep(0)
                if all(task.done() for task in tasks):
                    break
                assert self._sleepers, "tasks wait for something other than the pacer's sleep"
                when, _, wake = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                wake.set_result(None)
            return [task.result() for task in tasks]
        finally:
            for task in tasks:
                task.cancel()


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


def pacer_on(time: VirtualTime, limits: Limits | None = None) -> Pacer:
    return Pacer(limits or Limits(), clock=time, sleep=time.sleep)


def sender(
    pacer: Pacer, time: VirtualTime, log: list[tuple[int, int, float]]
) -> Callable[[int, int], Awaitable[None]]:
    """Send message ``n`` to ``chat``: wait for the pacer, then note when it went out."""

    async def send(chat: int, n: int) -> None:
        await pacer.wait(BOT, chat)
        log.append((chat, n, time.now - START))

    return send


def default_sender(
    time: VirtualTime,
) -> tuple[list[tuple[int, int, float]], Callable[[int, int], Awaitable[None]]]:
    """The log of what went out when, and a sender through a pacer with the default limits."""
    log: list[tuple[int, int, float]] = []
    return log, sender(pacer_on(time), time, log)


def sent_at(log: list[tuple[int, int, float]], chat: int) -> list[float]:
    return [at for c, _, at in log if c == chat]


async def sequence(send: Callable[[int, int], Awaitable[None]], chat: int, count: int) -> None:
    for n in range(count):
        await send(chat, n)


async def test_group_gets_20_messages_a_minute_and_the_21st_waits_for_the_window(
    time: VirtualTime,
) -> None:
    log, send = default_sender(time)

    await time.run(sequence(send, GROUP, 25))

    times = sent_at(log, GROUP)
    assert times[:20] == [0.0] * 20
    assert times[20:] == [pytest.approx(GROUP_WINDOW)] * 5
    assert time.sleeps == [pytest.approx(GROUP_WINDOW)]


async def test_group_window_slides_with_the_sends(time: VirtualTime) -> None:
    log, send = default_sender(time)

    async def spread() -> None:
        for n in range(20):  # one message every 2 seconds: 0, 2, … 38
            await send(GROUP, n)
            await time.sleep(2.0)
        for n in range(20, 23):
            await send(GROUP, n)

    await time.run(spread())

    times = sent_at(log, GROUP)
    assert times[:20] == [pytest.approx(2.0 * n) for n in range(20)]
    # At 40 s the window still holds 20 sends; each frees one when it is a minute old.
    assert times[20:] == [pytest.approx(GROUP_WINDOW + 2.0 * n) for n in range(3)]


async def test_no_group_message_goes_out_early_under_any_minute(time: VirtualTime) -> None:
    log, send = default_sender(time)

    await time.run(sequence(send, GROUP, 65))

    times = sent_at(log, GROUP)
    assert len(times) == 65
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 60.0, (i, times[i], times[i + 20])


async def test_private_chat_allows_a_burst_of_3_then_one_a_second(time: VirtualTime) -> None:
    log, send = default_sender(time)

    await time.run(sequence(send, CITIZEN, 7))

    assert sent_at(log, CITIZEN) == [
        0.0, 0.0, 0.0, pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0),
        pytest.approx(4.0),
    ]


async def test_private_burst_refills_after_a_quiet_spell(time: VirtualTime) -> None:
    log, send = default_sender(time)

    async def two_bursts() -> None:
        await sequence(send, CITIZEN, 3)
        await time.sleep(10.0)
        for n in range(3, 7):
            await send(CITIZEN, n)

    await time.run(two_bursts())

    assert sent_at(log, CITIZEN) == [
        0.0, 0.0, 0.0, pytest.approx(10.0), pytest.approx(10.0), pytest.approx(10.0),
        pytest.approx(11.0),
    ]


async def test_bot_wide_cap_holds_messages_to_many_chats(time: VirtualTime) -> None:
    log, send = default_sender(time)

    await time.run(*(send(chat, 0) for chat in range(1, 36)))  # 35 citizens, one message each

    times = [at for _, _, at in log]
    assert times[:30] == [0.0] * 30
    assert times[30:] == [pytest.approx(BOT_WINDOW)] * 5


async def test_bot_wide_cap_counts_each_bot_separately(time: VirtualTime) -> None:
    pacer = pacer_on(time, Limits(bot_per_second=2))
    done: list[tuple[int, float]] = []

    async def send(bot: int, chat: int) -> None:
        await pacer.wait(bot, chat)
        done.append((bot, time.now - START))

    await time.run(send(1, 10), send(1, 11), send(2, 10), send(2, 11), send(1, 12))

    assert sorted(done) == [
        (1, 0.0), (1, 0.0), (1, pytest.approx(BOT_WINDOW)), (2, 0.0), (2, 0.0),
    ]


async def test_messages_to_one_chat_keep_their_order(time: VirtualTime) -> None:
    log, send = default_sender(time)

    await time.run(*(send(CITIZEN, n) for n in range(8)))

    assert [n for _, n, _ in log] == list(range(8))
    assert [at for _, _, at in log] == [0.0, 0.0, 0.0] + [pytest.approx(s) for s in range(1, 6)]


async def test_a_busy_group_does_not_hold_up_a_citizen(time: VirtualTime) -> None:
    log, send = default_sender(time)

    async def citizen_later() -> None:
        await time.sleep(5.0)
        await send(CITIZEN, 0)

    await time.run(sequence(send, GROUP, 22), sequence(send, OTHER_GROUP, 2), citizen_later())

    assert sent_at(log, CITIZEN) == [pytest.approx(5.0)]
    assert sent_at(log, OTHER_GROUP) == [0.0, 0.0]
    assert sent_at(log, GROUP)[-2:] == [pytest.approx(GROUP_WINDOW)] * 2
    order = [(chat, n) for chat, n, _ in log if chat == GROUP]
    assert order == [(GROUP, n) for n in range(22)]


async def test_a_request_counts_from_when_it_is_over(time: VirtualTime) -> None:
    pacer = pacer_on(time, Limits(group_messages=2, group_window=10.0, safety=0.0))
    started: list[float] = []

    async def request(duration: float) -> None:
        async with pacer.slot(BOT, GROUP):
            started.append(time.now - START)
            if duration:
                await time.sleep(duration)

    # The first request takes 5 s (Telegram may count it at any moment of those 5 s).
    await time.run(request(5.0), request(0.0), request(0.0))

    assert started == [0.0, pytest.approx(5.0), pytest.approx(15.0)]


async def test_requests_in_flight_fill_the_bot_wide_window(time: VirtualTime) -> None:
    pacer = pacer_on(time, Limits(bot_per_second=2, safety=0.0))
    started: list[tuple[int, float]] = []

    async def request(chat: int, duration: float) -> None:
        async with pacer.slot(BOT, chat):
            started.append((chat, time.now - START))
            await time.sleep(duration)

    await time.run(request(1, 3.0), request(2, 5.0), request(3, 0.5))

    # Chat 3 waits for a request to end (at 3 s), then for it to be a second old.
    assert started == [(1, 0.0), (2, 0.0), (3, pytest.approx(4.0))]
