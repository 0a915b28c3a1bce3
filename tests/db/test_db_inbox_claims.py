"""Replicas sharing the inbox (SQLite and PostgreSQL): a chat's updates are claimed one at a
time in order, by one replica, and taken over when the replica holding one dies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.inbox import Inbox, chat_of
from tests.fakes import FakeClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
BOT = "payments"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def inbox(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Inbox:
    return Inbox(sessions, clock=clock)


def message(update_id: int, chat: int) -> tuple[int, dict[str, object]]:
    return update_id, {"update_id": update_id,
                       "message": {"chat": {"id": chat}, "text": f"вопрос {update_id}"}}


def test_the_chat_of_a_message_a_button_and_a_member_change() -> None:
    assert chat_of(message(1, 7)[1]) == 7
    assert chat_of({"update_id": 2, "callback_query": {
        "from": {"id": 5}, "message": {"chat": {"id": 7}}}}) == 7
    assert chat_of({"update_id": 3, "chat_member": {"chat": {"id": -100}}}) == -100
    assert chat_of({"update_id": 4, "inline_query": {"from": {"id": 5}}}) == 5


async def test_a_chats_updates_are_claimed_one_at_a_time_in_order(inbox: Inbox) -> None:
    # update 3 reached the database first (another replica stored it)
    await inbox.store(BOT, [message(3, 7)])
    await inbox.store(BOT, [message(2, 7), message(4, 8)])
    first = await inbox.claim(BOT, 7, owner="a", lease=LEASE)
    assert first is not None
    assert (first.update_id, first.attempts) == (2, 1)
    # the chat is busy: nobody else gets update 3 while update 2 is handled
    assert await inbox.claim(BOT, 7, owner="b", lease=LEASE) is None
    other_chat = await inbox.claim(BOT, 8, owner="b", lease=LEASE)
    assert other_chat is not None
    assert other_chat.update_id == 4
    await inbox.done(first.id)
    second = await inbox.claim(BOT, 7, owner="b", lease=LEASE)
    assert second is not None
    assert second.update_id == 3
    assert await inbox.claim(BOT, 7, owner="a", lease=LEASE) is None


async def test_an_update_whose_replica_died_is_taken_over_after_its_lease(
        inbox: Inbox, clock: FakeClock) -> None:
    await inbox.store(BOT, [message(1, 7), message(2, 7)])
    held = await inbox.claim(BOT, 7, owner="dead", lease=LEASE)
    assert held is not None
    clock.now += LEASE / 2
    assert await inbox.due_chats(BOT) == []  # still held: nobody takes it over
    clock.now += LEASE
    assert await inbox.due_chats(BOT) == [7]
    again = await inbox.claim(BOT, 7, owner="alive", lease=LEASE)
    assert again is not None
    assert (again.update_id, again.attempts) == (1, 2)


async def test_a_running_replica_keeps_its_claim_by_renewing_it(
        inbox: Inbox, clock: FakeClock) -> None:
    await inbox.store(BOT, [message(1, 7)])
    held = await inbox.claim(BOT, 7, owner="a", lease=LEASE)
    assert held is not None
    for _ in range(4):
        clock.now += LEASE * 0.6
        assert await inbox.renew("a", [held.id], lease=LEASE) == {held.id}
        assert await inbox.claim(BOT, 7, owner="b", lease=LEASE) is None
    assert await inbox.renew("b", [held.id], lease=LEASE) == set()  # not b's to renew


async def test_an_update_waiting_for_its_retry_does_not_hold_its_chat_back(
        inbox: Inbox, clock: FakeClock) -> None:
    await inbox.store(BOT, [message(1, 7), message(2, 7)])
    failing = await inbox.claim(BOT, 7, owner="a", lease=LEASE)
    assert failing is not None
    assert await inbox.failed(failing.id, "boom") is True
    nxt = await inbox.claim(BOT, 7, owner="a", lease=LEASE)
    assert nxt is not None
    assert nxt.update_id == 2
    await inbox.done(nxt.id)
    clock.now += timedelta(minutes=10)
    retried = await inbox.claim(BOT, 7, owner="b", lease=LEASE)
    assert retried is not None
    assert (retried.update_id, retried.attempts) == (1, 2)


async def test_replicas_claiming_at_once_get_each_update_once(inbox: Inbox) -> None:
    chats = range(1, 11)
    await inbox.store(BOT, [message(100 * chat + n, chat) for chat in chats for n in range(3)])
    handled: list[tuple[str, int]] = []

    async def replica(name: str) -> None:
        for _ in range(6):
            for chat in chats:
                row = await inbox.claim(BOT, chat, owner=name, lease=LEASE)
                if row is not None:
                    handled.append((name, row.update_id))
                    await inbox.done(row.id)

    await asyncio.gather(*(replica(name) for name in "abc"))
    ids = sorted(update_id for _, update_id in handled)
    assert ids == sorted(100 * chat + n for chat in chats for n in range(3))
    for chat in chats:  # and in order within each chat
        order = [u for _, u in handled if u // 100 == chat]
        assert order == sorted(order)
