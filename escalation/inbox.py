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
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import InboxUpdate
from escalation.records import utc_now

log = logging.getLogger(__name__)

PENDING: Final = "pending"
DONE: Final = "done"
FAILED: Final = "failed"


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
                 clock: Callable[[], datetime] = utc_now, rule: RetryRule | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self.rule = rule or RetryRule()

    async def store(self, bot: str, updates: Sequence[tuple[int, dict[str, Any]]]
                    ) -> list[StoredUpdate]:
        """Store a batch of ``(update_id, payload)``; returns the ones not seen before."""
        if not updates:
            return []
        now = self._clock()
        async with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = insert(InboxUpdate).values([
                # attempts=1: the first attempt starts right away (a crash counts too).
                {"bot": bot, "update_id": update_id, "payload": payload, "status": PENDING,
                 "attempts": 1, "received_at": now, "next_attempt_at": now}
                for update_id, payload in updates
            ]).on_conflict_do_nothing(index_elements=["bot", "update_id"])
            rows = await session.execute(statement.returning(InboxUpdate.id,
                                                             InboxUpdate.update_id))
            fresh = {update_id: row_id for row_id, update_id in rows}
        duplicates = len(updates) - len(fresh)
        if duplicates:
            log.info("bot %s: %d update(s) delivered again were dropped", bot, duplicates)
        return [StoredUpdate(fresh[u], u, p, 1) for u, p in updates if u in fresh]

    async def done(self, row_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(InboxUpdate).where(InboxUpdate.id == row_id)
                # The payload holds the citizen's text and name: not kept once handled.
                .values(status=DONE, done_at=self._clock(), error=None, payload={}))

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
