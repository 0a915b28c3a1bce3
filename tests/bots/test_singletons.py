"""Singleton jobs (bots/singletons.py): two replicas share one database and one job; it runs on
exactly one of them at any moment, and moves to the other when the first stops or loses its
database, never overlapping."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.singletons import replica_name, run_as_leader
from escalation.leadership import Leases

JOB = "cards:payments"
TTL = 1.0
BEAT = TTL / 3
#: What a step may take beyond its nominal time (database round trips, a busy test machine).
SLACK = 0.4


@dataclass
class Run:
    owner: str
    start: float
    stop: float | None = None


@dataclass
class Timeline:
    """What the job did on which replica: each run's owner, start and stop (loop time)."""

    runs: list[Run] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def job(self, owner: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def work() -> None:
            run = Run(owner, asyncio.get_running_loop().time())
            self.runs.append(run)
            self.changed.set()
            try:
                await asyncio.Event().wait()  # a worker runs until cancelled
            finally:
                run.stop = asyncio.get_running_loop().time()
                self.changed.set()
        return work

    def running(self) -> list[str]:
        return [run.owner for run in self.runs if run.stop is None]

    def first_run_of(self, owner: str) -> Run | None:
        return next((run for run in self.runs if run.owner == owner), None)

    async def until(self, predicate: Callable[[], bool], *, within: float) -> None:
        """Wait for the job to start or stop until ``predicate()`` holds."""
        async with asyncio.timeout(within):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def assert_one_at_a_time(self) -> None:
        runs = sorted(self.runs, key=lambda run: run.start)
        for before, after in itertools.pairwise(runs):
            overlap = f"{before.owner}'s run overlaps {after.owner}'s: {runs}"
            assert before.stop is not None, overlap
            assert before.stop <= after.start, overlap


class Unplugged(Leases):
    """A replica whose database can be made to fail or to hang, as for a replica cut off from
    the network (it can neither renew nor give its lease up)."""

    mode: Literal["works", "fails", "hangs"] = "works"

    async def acquire(self, name: str) -> bool:
        await self._reach_database()
        return await super().acquire(name)

    async def release(self, name: str) -> None:
        await self._reach_database()
        await super().release(name)

    async def _reach_database(self) -> None:
        if self.mode == "fails":
            raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))
        if self.mode == "hangs":
            await asyncio.Event().wait()


@pytest.fixture
async def loops() -> AsyncIterator[Callable[..., asyncio.Task[None]]]:
    """Starts ``run_as_leader`` loops; stops those still running at the end."""
    started: list[asyncio.Task[None]] = []

    def start(leases: Leases, job: Callable[[], Coroutine[Any, Any, None]],
              **options: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(run_as_leader(leases, JOB, job, renew_every=BEAT, **options))
        started.append(task)
        return task

    yield start
    for task in started:
        await stop(task)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_the_job_runs_on_one_replica_and_stays_there_while_it_renews(
        sessions: async_sessionmaker[AsyncSession],
        loops: Callable[..., asyncio.Task[None]]) -> None:
    timeline = Timeline()
    a, b = (Leases(sessions, owner=owner, ttl=TTL) for owner in ("a", "b"))
    changes: list[bool] = []
    loop_a = loops(a, timeline.job("a"), on_change=changes.append)
    loop_b = loops(b, timeline.job("b"))

    await timeline.until(lambda: bool(timeline.running()), within=BEAT + SLACK)
    # Two leases' worth of renewals (nothing to wait for: nothing may happen meanwhile).
    await asyncio.sleep(2 * TTL)

    assert len(timeline.runs) == 1
    assert timeline.running() in (["a"], ["b"])
    leader = timeline.running()[0]
    holder = await a.holder(JOB)
    assert holder is not None
    assert holder.owner == leader

    await stop(loop_a)
    await stop(loop_b)
    assert timeline.running() == []
    assert await a.holder(JOB) is None, "a clean stop gives the lease up"
    assert changes == ([True, False] if leader == "a" else [])


async def test_a_clean_stop_hands_the_job_over_within_a_beat(
        sessions: async_sessionmaker[AsyncSession],
        loops: Callable[..., asyncio.Task[None]]) -> None:
    timeline = Timeline()
    loop_a = loops(Leases(sessions, owner="a", ttl=TTL), timeline.job("a"))
    await timeline.until(lambda: timeline.running() == ["a"], within=BEAT + SLACK)
    loops(Leases(sessions, owner="b", ttl=TTL), timeline.job("b"))

    await stop(loop_a)
    stopped = asyncio.get_running_loop().time()
    await timeline.until(lambda: timeline.running() == ["b"], within=BEAT + SLACK)

    b_run = timeline.first_run_of("b")
    assert b_run is not None
    assert b_run.start - stopped <= BEAT + SLACK
    timeline.assert_one_at_a_time()


@pytest.mark.parametrize("outage", ["fails", "hangs"])
async def test_a_replica_cut_off_from_the_database_stops_before_another_takes_over(
        sessions: async_sessionmaker[AsyncSession],
        loops: Callable[..., asyncio.Task[None]],
        outage: Literal["fails", "hangs"]) -> None:
    timeline = Timeline()
    a = Unplugged(sessions, owner="a", ttl=TTL)
    loops(a, timeline.job("a"))
    await timeline.until(lambda: timeline.running() == ["a"], within=BEAT + SLACK)
    loops(Leases(sessions, owner="b", ttl=TTL), timeline.job("b"))
    await asyncio.sleep(BEAT)  # B has tried at least once and found the lease taken

    a.mode = outage
    cut_off = asyncio.get_running_loop().time()
    await timeline.until(lambda: timeline.running() == ["b"], within=TTL + BEAT + SLACK)

    a_run, b_run = timeline.first_run_of("a"), timeline.first_run_of("b")
    assert a_run is not None
    assert a_run.stop is not None
    assert b_run is not None
    assert a_run.stop < b_run.start, "A's job stopped before B's started"
    assert a_run.stop - cut_off <= TTL, "A gave up within one lease of its last renewal"
    assert b_run.start - cut_off <= TTL + BEAT + SLACK
    timeline.assert_one_at_a_time()
    assert len(timeline.runs) == 2


async def test_a_job_that_ends_or_fails_runs_again_while_its_replica_leads(
        sessions: async_sessionmaker[AsyncSession],
        loops: Callable[..., asyncio.Task[None]]) -> None:
    runs = 0
    third_run = asyncio.Event()

    async def job() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("the first run breaks")
        if runs == 3:
            third_run.set()
            await asyncio.Event().wait()

    loops(Leases(sessions, owner="a", ttl=TTL), job, restart_after=0.05)

    async with asyncio.timeout(BEAT + 2 * 0.05 + SLACK):
        await third_run.wait()
    assert runs == 3


def test_a_replica_is_named_by_its_setting_or_by_host_and_process() -> None:
    assert replica_name("web-2") == "web-2"
    default = replica_name(None)
    assert default.endswith(f"-{os.getpid()}")
    assert len(default) <= 64
    assert default.startswith(socket.gethostname()[:8])
    with pytest.raises(ValueError, match="REPLICA_ID"):
        replica_name("x" * 65)
