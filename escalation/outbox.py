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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from escalation.batching import GroupCommit, Operation, group_commit_of
from escalation.db import insert_if_new
from escalation.models import OutboxMessage
from escalation.records import utc_now

log = logging.getLogger(__name__)

PENDING: Final = "pending"
SENT: Final = "sent"
FAILED: Final = "failed"

_OUTBOX: Final = cast(Table, OutboxMessage.__table__)
_RESERVE_AGAIN: Final = (
    select(_OUTBOX.c.id, _OUTBOX.c.status, _OUTBOX.c.attempts, _OUTBOX.c.message_ids,
           _OUTBOX.c.error, _OUTBOX.c.created_at)
    .where(_OUTBOX.c.bot == bindparam("bot"), _OUTBOX.c.key == bindparam("key"))
    .with_for_update())
_SENT: Final = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id"))
                .values(status=SENT, message_ids=bindparam("ids"), sent_at=bindparam("at")))
_SENT_MAYBE_TWICE: Final = _SENT.values(maybe_duplicate=True)


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    status: str
    attempts: int
    message_ids: tuple[int, ...]
    error: str | None
    created_at: datetime  # the first reservation: retries are counted from it

    @property
    def sent(self) -> bool:
        return self.status == SENT

    @property
    def failed(self) -> bool:
        return self.status == FAILED


@dataclass(frozen=True, slots=True)
class _Request:
    bot: str
    key: str
    chat_id: int
    method: str
    at: datetime


async def _reserve(connection: AsyncConnection,
                   requests: Sequence[_Request]) -> list[Reservation]:
    # New keys, the usual case: one multi-row INSERT for the whole batch.
    created = {(bot, key): row_id for row_id, bot, key in await connection.execute(
        insert_if_new(_OUTBOX, connection.dialect.name, ("bot", "key")),
        [{"bot": r.bot, "key": r.key, "chat_id": r.chat_id, "method": r.method,
          "status": PENDING, "attempts": 1, "maybe_duplicate": False, "created_at": r.at}
         for r in requests])}
    reservations = []
    for request in requests:
        row_id = created.pop((request.bot, request.key), None)
        if row_id is not None:  # a new message, its first attempt
            reservations.append(Reservation(row_id, PENDING, 1, (), None, request.at))
        else:  # sent again, e.g. after a crash
            reservations.append(await _reserve_again(connection, request))
    return reservations


async def _reserve_again(connection: AsyncConnection, request: _Request) -> Reservation:
    row = (await connection.execute(
        _RESERVE_AGAIN, {"bot": request.bot, "key": request.key})).one()
    attempts = row.attempts
    if row.status == PENDING:
        values: dict[str, Any] = {"attempts": _OUTBOX.c.attempts + 1}
        if attempts > 0:
            # An earlier request's outcome is unknown: this one may duplicate it.
            values["maybe_duplicate"] = True
            log.warning("bot %s: resending message %s whose earlier attempt had no known "
                        "outcome (possible duplicate)", request.bot, row.id)
        await connection.execute(update(_OUTBOX).where(_OUTBOX.c.id == row.id).values(values))
        attempts += 1
    return Reservation(row.id, row.status, attempts, tuple(row.message_ids or ()), row.error,
                       row.created_at)


async def _settle_sent(connection: AsyncConnection,
                       items: Sequence[tuple[int, list[int], datetime, bool]]) -> list[None]:
    for statement, twice in ((_SENT, False), (_SENT_MAYBE_TWICE, True)):
        params = [{"row_id": row_id, "ids": ids, "at": at}
                  for row_id, ids, at, maybe in items if maybe is twice]
        if params:
            await connection.execute(statement, params)
    return [None] * len(items)


_RESERVE: Final = Operation("outbox reserve", _reserve)
_SETTLE_SENT: Final = Operation("outbox sent", _settle_sent)


class Outbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utc_now,
                 writes: GroupCommit | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._writes = writes or group_commit_of(sessions)

    async def reserve(self, bot: str, key: str, *, chat_id: int, method: str) -> Reservation:
        """The row for ``key`` (created now if new); counts one more attempt unless settled.

        Committed with other handlers' writes (group commit)."""
        return await self._writes.submit(
            _RESERVE, _Request(bot, key, chat_id, method, self._clock()))

    def age(self, reservation: Reservation) -> float:
        """Seconds since the reservation's row was first reserved."""
        return (self._clock() - reservation.created_at).total_seconds()

    async def sent(self, row_id: int, message_ids: list[int], *,
                   maybe_duplicate: bool = False) -> None:
        """Settled: sent. ``maybe_duplicate``: a retried request's first try may have been
        carried out too (it timed out after reaching Telegram)."""
        if maybe_duplicate:
            log.warning("message %d sent after a request with unknown outcome: possible "
                        "duplicate", row_id)
        await self._writes.submit(
            _SETTLE_SENT, (row_id, message_ids, self._clock(), maybe_duplicate))

    async def not_sent(self, row_id: int) -> None:
        """Every request for the row failed in a way that proves nothing was sent (or none
        was made yet: the message waits for its turn)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(attempts=0))

    async def attempting(self, row_id: int) -> None:
        """A request for the row is about to be made (after :meth:`not_sent` while it waited
        for its turn): its outcome is unknown until it is settled."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id)
                .values(attempts=OutboxMessage.attempts + 1))

    async def retry_failed(self, bot: str, key: str) -> bool:
        """Let a ``failed`` message (and its parts, ``key/...``) be sent again: for refusals
        that can pass, e.g. a bot removed from a chat and added back. A failed request sent
        nothing, so the row is pending with no attempt. Whether there was such a row."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.bot == bot, OutboxMessage.status == FAILED,
                       or_(OutboxMessage.key == key, OutboxMessage.key.startswith(
                           f"{key}/", autoescape=True)))
                .values(status=PENDING, attempts=0, error=None))
        return bool(cast(CursorResult[Any], result).rowcount)

    async def failed(self, row_id: int, reason: str) -> None:
        """Settled: given up (refused for good, or not delivered within the retry horizon);
        ``reason`` stays on the row for operators."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id)
                .values(status=FAILED, error=reason[:2000]))
