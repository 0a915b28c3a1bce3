"""Group commit on SQLite and PostgreSQL: concurrent writes share transactions, each caller gets
its own result, a bad write fails alone, and what was acknowledged is committed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from escalation.batching import GroupCommit, Operation
from escalation.inbox import Inbox
from escalation.models import Citizen, OutboxMessage, Question
from escalation.outbox import Outbox
from escalation.records import Records
from escalation.scope import update_scope


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_concurrent_reservations_share_transactions_and_get_their_own_rows(
        db_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    writes = GroupCommit(db_engine)
    outbox = Outbox(sessions, writes=writes)
    reservations = await asyncio.gather(*(
        outbox.reserve("1", f"u{n}:1", chat_id=1000 + n, method="sendMessage")
        for n in range(50)))
    # 50 writes, but far fewer transactions: all but the first waited for one batch.
    assert writes.batches <= 3
    assert len({r.id for r in reservations}) == 50
    async with sessions() as session:
        rows = dict((await session.execute(
            select(OutboxMessage.id, OutboxMessage.chat_id))).all())
    # Each caller got the id of its own row, not a neighbour's.
    assert all(rows[r.id] == 1000 + n for n, r in enumerate(reservations))
    await asyncio.gather(*(outbox.sent(r.id, [n]) for n, r in enumerate(reservations)))
    again = await outbox.reserve("1", "u7:1", chat_id=1007, method="sendMessage")
    assert again.sent
    assert again.message_ids == (7,)


async def test_a_bad_write_fails_alone(db_engine: AsyncEngine,
                                       sessions: async_sessionmaker[AsyncSession]) -> None:
    writes = GroupCommit(db_engine)
    inbox = Inbox(sessions, writes=writes)

    async def insert_citizen(connection: AsyncConnection, users: Sequence[int]) -> list[int]:
        for user in users:
            await connection.execute(
                text("INSERT INTO citizens (bot, tg_user_id, first_seen_at, last_seen_at) "
                     "VALUES ('payments', :user, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"user": user})
        return list(users)

    insert = Operation("insert citizen", insert_citizen)
    stored = await inbox.store("payments", [(n, {"update_id": n}) for n in range(1, 4)])
    # User 5 twice: the second insert breaks the unique (bot, tg_user_id) of the batch.
    results: list[object] = list(await asyncio.gather(
        writes.submit(insert, 5), writes.submit(insert, 6), writes.submit(insert, 5),
        *(inbox.done(s.id) for s in stored), return_exceptions=True))
    assert isinstance(results[2], IntegrityError)
    assert results[:2] == [5, 6]
    assert results[3:] == [None, None, None]
    assert await _count(sessions, Citizen) == 2
    assert await inbox.counts("payments") == {"done": 3}


async def test_when_the_database_fails_every_write_fails_at_once(
        db_engine: AsyncEngine) -> None:
    writes = GroupCommit(db_engine)
    attempts: list[int] = []

    async def unreachable(connection: AsyncConnection, items: Sequence[int]) -> list[int]:
        attempts.append(len(items))
        raise OperationalError("INSERT ...", {}, ConnectionResetError("connection lost"))

    lost = Operation("lost", unreachable)
    results = await asyncio.gather(*(writes.submit(lost, n) for n in range(30)),
                                   return_exceptions=True)
    assert all(isinstance(result, OperationalError) for result in results)
    assert attempts == [30]  # one try for the batch, not thirty more one by one


async def test_questions_are_looked_up_only_when_the_update_may_be_handled_again(
        db_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    records = Records(sessions, writes=GroupCommit(db_engine))

    async def record(message_id: int, name: str) -> int:
        return await records.record_question(
            bot="payments", tg_user_id=42, display_name=name, username=None, chat_id=42,
            tg_message_id=message_id, text=f"вопрос {message_id}", source="text", kind="faq")

    with update_scope("u1", replay=False):
        first = await record(1, "Анна")
    with update_scope("u1", replay=True):  # the same update handled again
        assert await record(1, "Анна") == first
    # Several messages of one citizen in one batch: one citizen row, the last name kept.
    with update_scope("u2", replay=False):
        ids = await asyncio.gather(record(2, "Анна"), record(3, "Анна Петровна"))
    assert len(set(ids) | {first}) == 3
    assert await _count(sessions, Question) == 3
    async with sessions() as session:
        names = (await session.execute(select(Citizen.display_name))).scalars().all()
    assert names == ["Анна Петровна"]


async def test_each_caller_gets_the_id_of_its_own_question(
        db_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    writes = GroupCommit(db_engine)
    records = Records(sessions, writes=writes)

    async def ask(user: int) -> int:
        with update_scope(f"u{user}", replay=False):
            return await records.record_question(
                bot="payments", tg_user_id=user, display_name=None, username=None,
                chat_id=user, tg_message_id=1, text=f"вопрос гражданина {user}", source="text",
                kind="faq")

    ids = await asyncio.gather(*(ask(user) for user in range(100, 160)))
    assert writes.batches <= 3
    async with sessions() as session:
        texts = dict((await session.execute(select(Question.id, Question.text))).all())
    assert [texts[question_id] for question_id in ids] == [
        f"вопрос гражданина {user}" for user in range(100, 160)]


@pytest.mark.parametrize("size", [1, 7])
async def test_batches_are_capped(db_engine: AsyncEngine, size: int) -> None:
    writes = GroupCommit(db_engine, max_batch=size)
    seen: list[int] = []

    async def note(connection: AsyncConnection, items: Sequence[int]) -> list[int]:
        seen.append(len(items))
        return [item * 2 for item in items]

    results = await asyncio.gather(*(writes.submit(Operation("note", note), n)
                                     for n in range(20)))
    assert results == [n * 2 for n in range(20)]
    assert max(seen) <= size
    assert sum(seen) == 20
