"""The inbox: every incoming update is stored before it is handled, and settled after.

Telegram forgets an update once ``getUpdates`` is called with a higher offset, and aiogram
confirms updates before their handlers finish. Storing each update first (one transaction per
``getUpdates`` batch) makes the confirmation safe: an update whose handler did not finish — a
crash, ``kill -9``, an exception, a stop — stays ``pending`` and is handled again later. The
unique ``(bot, update_id)`` drops updates delivered twice.

Personal data: the stored payload has its texts masked like every other stored text
(:func:`escalation.privacy.mask`); a handled update keeps no payload at all. Handled and
given-up rows are deleted after a while, and a citizen's rows on ``/forget``
(:mod:`escalation.retention`).

When the database refuses writes (read-only, disk full, I/O error), :class:`StorageHealth`
says so once in the log and keeps the state for ``/health``; the poller leaves the updates
with Telegram until they can be stored (a webhook answers 503, and Telegram sends them again).

Several replicas share one inbox. An update is handled by the replica that *claims* it
(:meth:`Inbox.claim`): the claim names the replica (``owner``) and holds a lease
(``next_attempt_at``) that the replica renews while the handler runs; an update whose replica
died is claimed again once its lease is over. Only the oldest unsettled update of a chat can be
claimed, and not while another of that chat's updates is held: a chat's updates are handled
one at a time, in ``update_id`` order, whichever replica received them. An update waiting to
be retried after an error does not hold its chat back.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from escalation.batching import GroupCommit, Operation, group_commit_of
from escalation.db import insert_if_new
from escalation.models import InboxUpdate
from escalation.privacy import mask
from escalation.records import utc_now

log = logging.getLogger(__name__)
T = TypeVar("T")

PENDING: Final = "pending"
DONE: Final = "done"
FAILED: Final = "failed"

_INBOX: Final = cast(Table, InboxUpdate.__table__)
# The payload holds the citizen's text and name: not kept once handled.
_DONE: Final = (update(_INBOX).where(_INBOX.c.id == bindparam("row_id"))
                .values(status=DONE, done_at=bindparam("at"), error=None, payload={},
                        owner=None))


async def _settle_done(connection: AsyncConnection,
                       items: Sequence[tuple[int, datetime]]) -> list[None]:
    await connection.execute(_DONE, [{"row_id": row_id, "at": at} for row_id, at in items])
    return [None] * len(items)


_Batch = tuple[str, Sequence[tuple[int, dict[str, Any]]], datetime]
#: Payload fields holding what a person wrote (a message's, a quote's, a reply's...).
_WRITTEN: Final = frozenset({"text", "caption"})


def chat_of(payload: dict[str, Any]) -> int | None:
    """The chat an update belongs to (its message's, its button's message's...), or None."""
    for key, event in payload.items():
        if key == "update_id" or not isinstance(event, dict):
            continue
        chat = event.get("chat") or (event.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
        sender = event.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


def masked_payload(value: Any) -> Any:
    """``value`` (an update's JSON) with personal numbers masked in every ``text`` and
    ``caption``; ids and the rest untouched (a callback query id may look like a card)."""
    if isinstance(value, dict):
        return {key: mask(item) if key in _WRITTEN and isinstance(item, str)
                else masked_payload(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked_payload(item) for item in value]
    return value


async def _store(connection: AsyncConnection, batches: Sequence[_Batch]) -> list[dict[int, int]]:
    """Each bot's batch of updates; per batch, the new ones: ``{update_id: row id}``."""
    rows = await connection.execute(insert_if_new(
        _INBOX, connection.dialect.name, ("bot", "update_id")), [
        # Claimable at once; the claim counts the attempt (a crash counts too).
        {"bot": bot, "update_id": update_id, "chat_id": chat_of(payload),
         "payload": masked_payload(payload), "status": PENDING, "owner": None,
         "attempts": 0, "received_at": at, "next_attempt_at": at}
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
    chat_id: int | None = None


def _same_chat(chat_id: int | None) -> ColumnElement[bool]:
    return _INBOX.c.chat_id.is_(None) if chat_id is None else _INBOX.c.chat_id == chat_id


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
        #: Shared by every bot's poller (one database): what ``/health`` shows.
        self.storage = StorageHealth(clock)

    async def _watched(self, write: Awaitable[T], *, wrote: bool = True) -> T:
        """``write``'s result; a database error is recorded in :attr:`storage` and raised.
        ``wrote=False``: it may have only read (that proves nothing about writes)."""
        try:
            result = await write
        except SQLAlchemyError as error:
            self.storage.failed(error)
            raise
        if wrote:
            self.storage.worked()
        return result

    async def store(self, bot: str, updates: Sequence[tuple[int, dict[str, Any]]]
                    ) -> list[StoredUpdate]:
        """Store a batch of ``(update_id, payload)``; returns the ones not seen before.

        Committed with other handlers' writes (group commit)."""
        if not updates:
            return []
        fresh = await self._watched(self._writes.submit(_STORE, (bot, updates, self._clock())))
        duplicates = len(updates) - len(fresh)
        if duplicates:
            log.info("bot %s: %d update(s) delivered again were dropped", bot, duplicates)
        return [StoredUpdate(fresh[u], u, p, 0, chat_of(p)) for u, p in updates if u in fresh]

    async def done(self, row_id: int) -> None:
        """Settled: handled. Committed with other handlers' writes (group commit)."""
        await self._watched(self._writes.submit(_SETTLE_DONE, (row_id, self._clock())))

    async def failed(self, row_id: int, error: str, *, give_up: bool = False) -> bool:
        """The handler raised (``give_up``: it cannot ever succeed); True when the update will
        be tried again later."""
        return await self._watched(self._failed(row_id, error, give_up))

    async def _failed(self, row_id: int, error: str, give_up: bool) -> bool:
        now = self._clock()
        async with self._sessions.begin() as session:
            row = await session.get(InboxUpdate, row_id)
            if row is None:
                return False
            again = row.attempts < self.rule.max_attempts and not give_up
            row.error = mask(error)[:2000]
            row.owner = None
            if again:
                row.next_attempt_at = now + self.rule.delay(row.attempts)
            else:
                row.status = FAILED
            return again

    async def claim(self, bot: str, chat_id: int | None, *, owner: str,
                    lease: timedelta) -> StoredUpdate | None:
        """The oldest unsettled update of ``chat_id``, now held by ``owner`` for ``lease``
        (its attempt counted); None when there is none, or while another update of the chat
        is held (by any replica) — its holder claims the next one when it is done."""
        claimed = await self._watched(self._claim(bot, chat_id, owner, lease), wrote=False)
        if claimed is not None:
            self.storage.worked()
        return claimed

    async def _claim(self, bot: str, chat_id: int | None, owner: str,
                     lease: timedelta) -> StoredUpdate | None:
        now = self._clock()
        # The chat's head: held (in flight) or claimable, never one waiting for its retry.
        head = (select(_INBOX.c.id)
                .where(_INBOX.c.bot == bot, _same_chat(chat_id), _INBOX.c.status == PENDING,
                       or_(_INBOX.c.owner.is_not(None), _INBOX.c.next_attempt_at <= now))
                .order_by(_INBOX.c.update_id).limit(1).scalar_subquery())
        # Claimable when not held, or held by a replica whose lease is over. On PostgreSQL a
        # replica claiming the same row at once waits for the row's lock, then finds it held.
        statement = (update(_INBOX)
                     .where(_INBOX.c.id == head, _INBOX.c.status == PENDING,
                            _INBOX.c.next_attempt_at <= now)
                     .values(owner=owner, attempts=_INBOX.c.attempts + 1,
                             next_attempt_at=now + lease)
                     .returning(_INBOX.c.id, _INBOX.c.update_id, _INBOX.c.payload,
                                _INBOX.c.attempts, _INBOX.c.chat_id))
        async with self._sessions.begin() as session:
            row = (await session.execute(statement)).first()
        if row is None:
            return None
        return StoredUpdate(row.id, row.update_id, row.payload, row.attempts, row.chat_id)

    async def renew(self, owner: str, row_ids: Sequence[int], *,
                    lease: timedelta) -> set[int]:
        """Extend ``owner``'s hold on the updates it is handling; those it still holds (one
        missing was taken over: its lease had ended)."""
        if not row_ids:
            return set()
        async with self._sessions.begin() as session:
            rows = await session.execute(
                update(_INBOX).where(_INBOX.c.id.in_(row_ids), _INBOX.c.owner == owner,
                                     _INBOX.c.status == PENDING)
                .values(next_attempt_at=self._clock() + lease).returning(_INBOX.c.id))
            return {row.id for row in rows}

    async def release(self, bot: str, *, owner: str | None = None) -> None:
        """Give back the updates ``owner`` holds (every owner's when None: the only process
        sharing the inbox starts, so whoever held them is gone) to be claimed at once."""
        held = [_INBOX.c.bot == bot, _INBOX.c.status == PENDING, _INBOX.c.owner.is_not(None)]
        if owner is not None:
            held.append(_INBOX.c.owner == owner)
        async with self._sessions.begin() as session:
            await session.execute(update(_INBOX).where(*held)
                                  .values(owner=None, next_attempt_at=self._clock()))

    async def due_chats(self, bot: str, *, grace: timedelta = timedelta(seconds=2),
                        limit: int = 100) -> list[int | None]:
        """Chats with an update nobody handles: a retry that is due, an update whose replica
        died (its lease over) or that no replica claimed (``grace`` after it was due, so that
        the replica that received it claims it first, with the text unmasked)."""
        now = self._clock()
        held = _INBOX.alias("held")
        busy = (select(held.c.id).where(
            held.c.bot == bot, held.c.status == PENDING, held.c.owner.is_not(None),
            held.c.next_attempt_at > now,
            or_(held.c.chat_id == _INBOX.c.chat_id,
                and_(held.c.chat_id.is_(None), _INBOX.c.chat_id.is_(None)))).exists())
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(_INBOX.c.chat_id)
                .where(_INBOX.c.bot == bot, _INBOX.c.status == PENDING,
                       _INBOX.c.next_attempt_at <= now - grace, ~busy)
                .group_by(_INBOX.c.chat_id).order_by(func.min(_INBOX.c.id)).limit(limit))
            return [row.chat_id for row in rows]

    async def counts(self, bot: str) -> dict[str, int]:
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(InboxUpdate.status, func.count()).where(InboxUpdate.bot == bot)
                .group_by(InboxUpdate.status))
            return {str(status): int(n) for status, n in rows.all()}


def storage_reason(error: BaseException) -> str:
    """What the database said, in one line, without the SQL and its parameters (they may
    hold a citizen's words): ``database or disk is full``, ``attempt to write a readonly
    database``, ``disk I/O error``..."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else '-'}"[:300]


@dataclass(slots=True)
class StorageHealth:
    """Whether incoming updates can be stored, since when not, and why: logged once when
    it starts failing and once when it works again; read by ``/health``."""

    clock: Callable[[], datetime] = utc_now
    failing_since: datetime | None = None
    reason: str | None = None
    failures: int = 0

    @property
    def ok(self) -> bool:
        return self.failing_since is None

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        reason = storage_reason(error)
        if self.failing_since is None or reason != self.reason:
            if self.failing_since is None:
                self.failing_since = self.clock()
            log.error("STORAGE the database refuses writes (%s): incoming updates are left "
                      "with Telegram and handled once it accepts writes again (free disk "
                      "space, file permissions)", reason)
        self.reason = reason

    def worked(self) -> None:
        if self.failing_since is None:
            return
        log.warning("STORAGE the database accepts writes again after %.0f s (%d failed "
                    "attempts); waiting updates are handled now",
                    (self.clock() - self.failing_since).total_seconds(), self.failures)
        self.failing_since, self.reason, self.failures = None, None, 0

    def describe(self) -> str:
        """One line for ``/health``."""
        if self.failing_since is None:
            return "storing updates: ok"
        return (f"storing updates: failing since {self.failing_since:%Y-%m-%d %H:%M:%S} UTC "
                f"({self.failures} attempts): {self.reason}")
