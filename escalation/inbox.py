"""The inbox: every incoming update is stored before it is handled, and settled after.

Telegram forgets an update once ``getUpdates`` is called with a higher offset, and aiogram
confirms updates before their handlers finish. Storing each update first (one transaction per
``getUpdates`` batch) makes the confirmation safe: an update whose handler did not finish — a
crash, ``kill -9``, an exception, a stop — stays ``pending`` and is handled again later. The
unique ``(bot, update_id)`` drops updates delivered twice.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from escalation.batching import GroupCommit, Operation, group_commit_of
from escalation.db import insert_if_new
from escalation.models import InboxUpdate
from escalation.records import utc_now

log = logging.getLogger(__name__)

PENDING: Final = "pending"
DONE: Final = "done"
FAILED: Final = "failed"

_INBOX: Final = cast(Table, InboxUpdate.__table__)
# The payload holds the citizen's text and name: not kept once handled.
_DONE: Final = (update(_INBOX).where(_INBOX.c.id == bindparam("row_id"))
                .values(status=DONE, done_at=bindparam("at"), error=None, payload={}))


async def _settle_done(connection: AsyncConnection,
                       items: Sequence[tuple[int, datetime]]) -> list[None]:
    await connection.execute(_DONE, [{"row_id": row_id, "at": at} for row_id, at in items])
    return [None] * len(items)


_Batch = tuple[str, Sequence[tuple[int, dict[str, Any]]], datetime]


async def _store(connection: AsyncConnection, batches: Sequence[_Batch]) -> list[dict[int, int]]:
    """Each bot's batch of updates; per batch, the new ones: ``{update_id: row id}``."""
    rows = await connection.execute(insert_if_new(
        _INBOX, connection.dialect.name, ("bot", "update_id")), [
        # attempts=1: the first attempt starts right away (a crash counts too).
        {"bot": bot, "update_id": update_id, "payload": payload, "status": PENDING,
         "attempts": 1, "received_at": at, "next_attempt_at": at}
        for bot, updates, at in batches for update_id, payload in updates])
    stored = {(bot, update_id): row_id for row_id, bot, update_id in rows}
    return [{update_id: stored[bot, update_id] for update_id, _ in updates
             if (bot, update_id) in stored} for bot, updates, _ in batches]


_SETTLE_DONE: Final = Operation("inbox done", _settle_done)
_STORE: Final = Operation("inbox store", _store)


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    id: int
    update_id: int
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class RetryRule:
    max_attempts: int = 5
    base: timedelta = timedelta(seconds=2)
    ceiling: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        seconds = min(self.ceiling.total_seconds(), self.base.total_seconds() * 2 ** attempts)
        return timedelta(seconds=random.uniform(seconds / 2, seconds))


class Inbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utc_now, rule: RetryRule | None = None,
                 writes: GroupCommit | None = None) -> None:
        self._sessions = sessions
        self._writes = writes or group_commit_of(sessions)
        self._clock = clock
        self.rule = rule or RetryRule()

    async def store(self, bot: str, updates: Sequence[tuple[int, dict[str, Any]]]
                    ) -> list[StoredUpdate]:
        """Store a batch of ``(update_id, payload)``; returns the ones not seen before.

        Committed with other handlers' writes (group commit)."""
        if not updates:
            return []
        fresh = await self._writes.submit(_STORE, (bot, updates, self._clock()))
        duplicates = len(updates) - len(fresh)
        if duplicates:
            log.info("bot %s: %d update(s) delivered again were dropped", bot, duplicates)
        return [StoredUpdate(fresh[u], u, p, 1) for u, p in updates if u in fresh]

    async def done(self, row_id: int) -> None:
        """Settled: handled. Committed with other handlers' writes (group commit)."""
        await self._writes.submit(_SETTLE_DONE, (row_id, self._clock()))

    async def failed(self, row_id: int, error: str) -> bool:
        """The handler raised; True when the update will be tried again later."""
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.get(InboxUpdate, row_id)
            if row is None:
                return False
            again = row.attempts < self.rule.max_attempts
            row.error = error[:2000]
            if again:
                row.next_attempt_at = now + self.rule.delay(row.attempts)
            else:
                row.status = FAILED
            return again

    async def due(self, bot: str, *, limit: int = 100) -> list[StoredUpdate]:
        """Pending updates whose next attempt is due, oldest first (after a restart: all);
        their attempt is counted now."""
        now = self._clock()
        async with self._sessions.begin() as session:
            rows = list((await session.execute(
                select(InboxUpdate)
                .where(InboxUpdate.bot == bot, InboxUpdate.status == PENDING,
                       InboxUpdate.next_attempt_at <= now)
                .order_by(InboxUpdate.id)
                .limit(limit))).scalars())
            for row in rows:
                row.attempts += 1
                # Not due again while this attempt runs (a failure sets the real time).
                row.next_attempt_at = now + self.rule.ceiling
            return [StoredUpdate(r.id, r.update_id, r.payload, r.attempts) for r in rows]

    async def counts(self, bot: str) -> dict[str, int]:
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(InboxUpdate.status, func.count()).where(InboxUpdate.bot == bot)
                .group_by(InboxUpdate.status))
            return {str(status): int(n) for status, n in rows.all()}
