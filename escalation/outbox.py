"""The outbox: every message to a citizen or an operators' chat is recorded before it is sent.

A row is reserved under a key before the request and settled after it (``sent`` with the
message ids, or ``failed`` with Telegram's reason). Sending under a key that is already
``sent`` returns the stored ids without a request: handling an update again after a crash
does not send its messages twice. A reserved row with attempts but no outcome (a crash or a
timeout mid-request, when Telegram may have stored the message) is sent again and marked
``maybe_duplicate`` — the only way a citizen can get a message twice, at most once per such
unknowable outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import OutboxMessage
from escalation.records import utc_now

log = logging.getLogger(__name__)

PENDING: Final = "pending"
SENT: Final = "sent"
FAILED: Final = "failed"


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    status: str
    attempts: int
    message_ids: tuple[int, ...]
    error: str | None

    @property
    def sent(self) -> bool:
        return self.status == SENT

    @property
    def failed(self) -> bool:
        return self.status == FAILED


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def reserve(self, bot: str, key: str, *, chat_id: int, method: str) -> Reservation:
        """The row for ``key`` (created now if new); counts one more attempt unless settled."""
        now = self._clock()
        async with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            created = (await session.execute(
                insert(OutboxMessage).values(
                    bot=bot, key=key, chat_id=chat_id, method=method, status=PENDING,
                    attempts=1, maybe_duplicate=False, created_at=now,
                ).on_conflict_do_nothing(index_elements=["bot", "key"])
                .returning(OutboxMessage.id))).scalar_one_or_none()
            if created is not None:  # the usual case: a new message, its first attempt
                return Reservation(created, PENDING, 1, (), None)
            row = (await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.bot == bot, OutboxMessage.key == key)
                .with_for_update())).scalar_one()
            if row.status == PENDING:
                if row.attempts > 0:
                    # An earlier request's outcome is unknown: this one may duplicate it.
                    row.maybe_duplicate = True
                    log.warning("bot %s: resending message %s whose earlier attempt had no "
                                "known outcome (possible duplicate)", bot, row.id)
                row.attempts += 1
            return Reservation(row.id, row.status, row.attempts,
                               tuple(row.message_ids or ()), row.error)

    async def sent(self, row_id: int, message_ids: list[int], *,
                   maybe_duplicate: bool = False) -> None:
        """Settled: sent. ``maybe_duplicate``: a retried request's first try may have been
        carried out too (it timed out after reaching Telegram)."""
        values: dict[str, object] = {"status": SENT, "message_ids": message_ids,
                                     "sent_at": self._clock()}
        if maybe_duplicate:
            values["maybe_duplicate"] = True
            log.warning("message %d sent after a request with unknown outcome: possible "
                        "duplicate", row_id)
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))

    async def not_sent(self, row_id: int) -> None:
        """Every request for the row failed in a way that proves nothing was sent."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(attempts=0))

    async def failed(self, row_id: int, reason: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id)
                .values(status=FAILED, error=reason[:2000]))
