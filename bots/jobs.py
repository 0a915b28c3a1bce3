"""The jobs that run on one replica at a time, each under its lease (:mod:`bots.singletons`).

- ``desk:<bot>`` (bots with an operators' chat): posting ticket cards and watching response
  times (:class:`~bots.card_worker.CardWorker`);
- ``digest:<bot>``: the weekly report (``REPORT_DIGEST``), its messages keyed by week, so a
  digest cut off on one replica is finished, not repeated, by the next;
- ``retention``: erasing old personal texts and settled inbox/outbox rows.

With long polling there is one process; the leases cost a write every few seconds and nothing
else. A replica that dies keeps its leases until they expire (``LEADER_LEASE_SECONDS``); then
another replica takes its jobs over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from aiogram import Bot

from bots.desk import Desk
from bots.report.digest import DigestSettings
from bots.report.post import ReportPoster
from bots.retention_task import retention_job
from bots.settings import Settings
from bots.singletons import run_as_leader
from bots.topic import Suite, Topic
from escalation.leadership import Leases

Job = Callable[[], Coroutine[Any, Any, object]]


def desk_job(bot: str) -> str:
    """The lease name of bot ``bot``'s card worker and response-time watcher."""
    return f"desk:{bot}"


async def _desk(desk: Desk, bot: Bot, topic: Topic, settings: Settings) -> None:
    await asyncio.gather(
        desk.worker.card_worker(bot, topic, interval=settings.queue_check_interval),
        desk.worker.watch(bot, topic, interval=settings.queue_check_interval,
                          digest_every=timedelta(hours=settings.overdue_digest_hours)))


def singleton_jobs(settings: Settings, suite: Suite, bots: list[Bot], desk: Desk,
                   poster: ReportPoster | None) -> dict[str, Job]:
    """Every singleton job of this deployment, by lease name."""
    digest = DigestSettings().schedule if poster is not None else None
    jobs: dict[str, Job] = {}
    for bot, topic in zip(bots, suite.topics.values(), strict=True):
        if topic.operators_chat_id is None:
            continue
        jobs[desk_job(topic.name)] = partial(_desk, desk, bot, topic, settings)
        if digest is not None and poster is not None:
            jobs[f"digest:{topic.name}"] = partial(poster.weekly, bot, topic, digest)
    jobs["retention"] = partial(retention_job, settings, desk.tickets)
    return jobs


@dataclass
class Singletons:
    """The leader loops of this process and which of their jobs are running here now."""

    leases: Leases
    running: set[str] = field(default_factory=set)
    _loops: list[asyncio.Task[None]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, jobs: dict[str, Job], *, sole: bool) -> None:
        """``sole``: no other process uses the database (long polling): leases left by a
        process that died are dropped instead of waited for."""
        if sole:
            await self.leases.forget_all()
        for name, job in jobs.items():
            self._loops.append(asyncio.create_task(
                run_as_leader(self.leases, name, partial(self._tracked, name, job),
                              renew_every=self.leases.ttl / 3),
                name=f"lead-{name}"))

    async def _tracked(self, name: str, job: Job) -> None:
        self.running.add(name)
        try:
            await job()
        finally:
            self.running.discard(name)
            self._changed.set()

    async def _until_none_running(self, prefix: str) -> None:
        while any(name.startswith(prefix) for name in self.running):
            self._changed.clear()
            await self._changed.wait()

    async def stop(self, desk: Desk, drain_seconds: float) -> None:
        """The desk finishes the card it is posting (a card and its pairing belong together;
        the rest is posted by whoever leads next); then every job stops and its lease is
        given back, so another replica takes over at once."""
        desk.worker.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain_seconds):
                await self._until_none_running("desk:")
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
