"""Leases of singleton jobs (escalation/leadership.py) on SQLite and PostgreSQL: one holder at
a time, taken over only once expired, renewed by its holder, given up on a clean stop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.leadership import Holder, Leases
from tests.fakes import FakeClock

JOB = "cards:payments"
TTL = 10.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))


def replica(sessions: async_sessionmaker[AsyncSession], owner: str, clock: FakeClock) -> Leases:
    return Leases(sessions, owner=owner, ttl=TTL, clock=clock)


async def test_a_free_lease_is_taken_and_shown_with_its_expiry(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    leases = replica(sessions, "host-a-1", clock)

    assert await leases.holder(JOB) is None
    assert await leases.acquire(JOB)

    assert await leases.holder(JOB) == Holder("host-a-1", clock.now + timedelta(seconds=TTL))


async def test_only_one_of_two_replicas_holds_a_lease(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    a, b = replica(sessions, "a", clock), replica(sessions, "b", clock)

    assert await a.acquire(JOB)
    clock.advance(seconds=TTL - 1)
    assert not await b.acquire(JOB)

    holder = await b.holder(JOB)
    assert holder is not None
    assert holder.owner == "a"
    # Another job's lease is a separate matter.
    assert await b.acquire("retention")


async def test_an_expired_lease_is_taken_over(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    a, b = replica(sessions, "a", clock), replica(sessions, "b", clock)
    assert await a.acquire(JOB)

    clock.advance(seconds=TTL)
    assert not await b.acquire(JOB), "still A's at the very moment it expires"
    clock.advance(seconds=0.001)
    assert await b.acquire(JOB)

    assert await b.holder(JOB) == Holder("b", clock.now + timedelta(seconds=TTL))
    assert not await a.acquire(JOB), "A, come back, does not get it back while B renews"


async def test_renewing_keeps_the_lease_past_its_first_expiry(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    a, b = replica(sessions, "a", clock), replica(sessions, "b", clock)
    assert await a.acquire(JOB)

    for _ in range(4):  # 4 renewals, 40 s in all: longer than one lease
        clock.advance(seconds=TTL * 0.7)
        assert await a.acquire(JOB)
        assert not await b.acquire(JOB)

    assert await a.holder(JOB) == Holder("a", clock.now + timedelta(seconds=TTL))


async def test_a_released_lease_is_free_at_once_and_only_its_holder_releases_it(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    a, b = replica(sessions, "a", clock), replica(sessions, "b", clock)
    assert await a.acquire(JOB)

    await b.release(JOB)  # not B's: nothing happens
    assert not await b.acquire(JOB)

    await a.release(JOB)
    assert await a.holder(JOB) is None
    assert await b.acquire(JOB)
    await a.release(JOB)  # B's now: A cannot give it away
    holder = await a.holder(JOB)
    assert holder is not None
    assert holder.owner == "b"


async def test_of_ten_replicas_racing_for_one_lease_exactly_one_wins(
        sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    replicas = [replica(sessions, f"replica-{n}", clock) for n in range(10)]

    won = await asyncio.gather(*(leases.acquire(JOB) for leases in replicas))

    assert won.count(True) == 1
    holder = await replicas[0].holder(JOB)
    assert holder is not None
    assert holder.owner == f"replica-{won.index(True)}"

    # Once it has expired, a second race: again one winner, and not the old holder.
    clock.advance(seconds=TTL + 1)
    challengers = [leases for n, leases in enumerate(replicas) if not won[n]]
    won_again = await asyncio.gather(*(leases.acquire(JOB) for leases in challengers))
    assert won_again.count(True) == 1
