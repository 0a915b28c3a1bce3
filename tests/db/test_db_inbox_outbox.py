"""Inbox and outbox on SQLite and PostgreSQL: dedupe, retries, idempotent sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.chats import ChatMigrations
from escalation.inbox import Inbox, RetryRule
from escalation.outbox import Outbox
from tests.db.conftest import claim_due
from tests.fakes import FakeClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def inbox(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Inbox:
    rule = RetryRule(max_attempts=2, base=timedelta(seconds=10), ceiling=timedelta(seconds=10))
    return Inbox(sessions, clock=clock, rule=rule)


@pytest.fixture
def outbox(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Outbox:
    return Outbox(sessions, clock=clock)


def update(n: int) -> tuple[int, dict[str, object]]:
    return n, {"update_id": n, "message": {"text": f"вопрос {n}"}}


async def test_an_update_delivered_twice_is_stored_once(inbox: Inbox) -> None:
    first = await inbox.store("payments", [update(1), update(2)])
    again = await inbox.store("payments", [update(2), update(3)])
    other_bot = await inbox.store("vaccination", [update(2)])
    assert [s.update_id for s in first] == [1, 2]
    assert [s.update_id for s in again] == [3]
    assert [s.update_id for s in other_bot] == [2]


async def test_unfinished_updates_are_due_again_and_done_ones_forget_the_text(
        inbox: Inbox) -> None:
    stored = await inbox.store("payments", [update(1), update(2)])
    await inbox.done(stored[0].id)
    # update 2's handler was running when the process died
    due = await claim_due(inbox, "payments")
    assert [s.update_id for s in due] == [2]
    assert due[0].payload["message"] == {"text": "вопрос 2"}
    assert await inbox.counts("payments") == {"done": 1, "pending": 1}


async def test_a_failing_update_is_retried_later_then_given_up(inbox: Inbox,
                                                               clock: FakeClock) -> None:
    (row,) = await inbox.store("payments", [update(5)])
    assert [s.attempts for s in await claim_due(inbox, "payments")] == [1]  # first attempt
    assert await inbox.failed(row.id, "boom") is True
    assert await claim_due(inbox, "payments") == []  # backing off
    clock.now += timedelta(seconds=11)
    retried = await claim_due(inbox, "payments")  # second attempt
    assert [(s.update_id, s.attempts) for s in retried] == [(5, 2)]
    assert await claim_due(inbox, "payments") == []  # not handed out twice while it runs
    assert await inbox.failed(row.id, "boom again") is False
    clock.now += timedelta(hours=1)
    assert await claim_due(inbox, "payments") == []
    assert await inbox.counts("payments") == {"failed": 1}


async def test_a_sent_key_is_not_sent_again(outbox: Outbox) -> None:
    first = await outbox.reserve("111", "u1:1", chat_id=5, method="sendMessage")
    assert (first.sent, first.attempts) == (False, 1)
    await outbox.sent(first.id, [42])
    again = await outbox.reserve("111", "u1:1", chat_id=5, method="sendMessage")
    assert again.sent
    assert again.message_ids == (42,)
    other_bot = await outbox.reserve("222", "u1:1", chat_id=5, method="sendMessage")
    assert not other_bot.sent


async def test_an_unknown_outcome_marks_the_resend_as_possible_duplicate(
        outbox: Outbox, sessions: async_sessionmaker[AsyncSession]) -> None:
    first = await outbox.reserve("111", "u2:1", chat_id=5, method="sendMessage")
    # The process died mid-request: the row stays pending with one attempt.
    second = await outbox.reserve("111", "u2:1", chat_id=5, method="sendMessage")
    assert second.id == first.id
    assert second.attempts == 2
    await outbox.sent(second.id, [43])
    async with sessions() as session:
        from sqlalchemy import text

        flagged = (await session.execute(
            text("SELECT maybe_duplicate FROM outbox WHERE id = :id"), {"id": first.id})
        ).scalar_one()
    assert bool(flagged) is True


async def test_a_certain_failure_does_not_flag_a_duplicate(
        outbox: Outbox, sessions: async_sessionmaker[AsyncSession]) -> None:
    first = await outbox.reserve("111", "u3:1", chat_id=5, method="sendMessage")
    await outbox.not_sent(first.id)  # e.g. 500 from Telegram: nothing was stored
    again = await outbox.reserve("111", "u3:1", chat_id=5, method="sendMessage")
    assert again.attempts == 1
    async with sessions() as session:
        from sqlalchemy import text

        flagged = (await session.execute(
            text("SELECT maybe_duplicate FROM outbox WHERE id = :id"), {"id": first.id})
        ).scalar_one()
    assert bool(flagged) is False


async def test_a_refused_message_stays_refused(outbox: Outbox) -> None:
    row = await outbox.reserve("111", "u4:1", chat_id=5, method="copyMessage")
    await outbox.failed(row.id, "Forbidden: bot was blocked by the user")
    again = await outbox.reserve("111", "u4:1", chat_id=5, method="copyMessage")
    assert again.failed
    assert again.error == "Forbidden: bot was blocked by the user"


async def test_a_message_keeps_the_time_of_its_first_reservation(
        outbox: Outbox, clock: FakeClock) -> None:
    first = await outbox.reserve("111", "u6:1", chat_id=5, method="sendMessage")
    await outbox.not_sent(first.id)
    clock.advance(hours=2)
    again = await outbox.reserve("111", "u6:1", chat_id=5, method="sendMessage")
    assert again.created_at == START
    assert outbox.age(again) == 2 * 3600  # retries are counted from the first reservation


async def test_chat_migrations_follow_chains(sessions: async_sessionmaker[AsyncSession]) -> None:
    chats = ChatMigrations(sessions)
    await chats.save(-1, -100)
    await chats.save(-100, -200)
    assert await chats.all() == {-1: -200, -100: -200}
