"""Delivery through an outage (issue 11, item 5) against the emulator, on a real outbox.

A message is retried, with a capped backoff, until the retry horizon counted from its first
reservation (24 h in production, a fraction of a second here); only then is it given up, and
the outbox row keeps why. Outages are switched on and off by the emulator (a closed port, or
an injected fault that answers every request with an error) instead of lasting minutes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.delivery import GAVE_UP, Delivery, GaveUp, RetryPolicy, Undeliverable
from escalation.models import OutboxMessage
from escalation.outbox import FAILED, SENT, Outbox
from tests.bots.conftest import TOKEN
from tests.emulator import Emulator
from tests.fakes import FakeClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Far more attempts than the old fixed budget (6) before the outage ends.
OUTAGE_ATTEMPTS = 12
CAP = 0.05
FAST = RetryPolicy(base_delay=0.005, max_delay=CAP, horizon=60.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def outbox(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Outbox:
    return Outbox(sessions, clock=clock)


class CountingSleep:
    """The delivery's backoff sleep (real, short), noting each delay; ``reached`` is set once
    ``count`` retries have been waited for."""

    def __init__(self, count: int) -> None:
        self.delays: list[float] = []
        self.count = count
        self.reached = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if len(self.delays) >= self.count:
            self.reached.set()
        await asyncio.sleep(delay)


async def row(sessions: async_sessionmaker[AsyncSession], key: str) -> OutboxMessage:
    async with sessions() as session:
        return (await session.execute(
            select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one()


async def test_a_follow_up_is_relayed_once_after_an_outage_longer_than_any_fixed_budget(
        emu: Emulator, bot: Bot, outbox: Outbox,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    account = emu.bot(TOKEN)
    citizen = emu.add_user()
    operators = emu.add_group()
    follow_up = emu.send_text(account, citizen, "Дополнение: номер заявления 12-345")
    sleep = CountingSleep(OUTAGE_ATTEMPTS)
    delivery = Delivery(policy=FAST, sleep=sleep, outbox=outbox)

    emu.pause()  # Telegram unreachable: every connection refused
    try:
        relay = asyncio.create_task(delivery.copy(
            bot, from_chat_id=citizen.id, message_id=follow_up["message_id"],
            chat_id=operators.id, key="u7:0"))
        reached = asyncio.create_task(sleep.reached.wait())
        await asyncio.wait({relay, reached}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert reached.done(), "the outage did not reach the retries it should last"
        assert not relay.done(), "gave up during the outage"
    finally:
        emu.resume()
    copied_id = await asyncio.wait_for(relay, timeout=10)

    copies = [m for m in emu.messages(operators)
              if m.get("text") == "Дополнение: номер заявления 12-345"]
    assert [m["message_id"] for m in copies] == [copied_id]
    assert len(sleep.delays) >= OUTAGE_ATTEMPTS
    assert max(sleep.delays) <= CAP  # the backoff is capped
    stored = await row(sessions, "u7:0")
    assert (stored.status, stored.message_ids, stored.error) == (SENT, [copied_id], None)


async def test_a_message_is_given_up_after_the_horizon_and_the_row_keeps_why(
        emu: Emulator, bot: Bot, outbox: Outbox,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    operators = emu.add_group()
    outage = emu.inject_fault("sendMessage", chat_id=operators.id, status=502, times=None)
    policy = RetryPolicy(base_delay=0.005, max_delay=CAP, horizon=0.3)
    delivery = Delivery(policy=policy, outbox=outbox)

    with pytest.raises(GaveUp) as raised:
        await delivery.send_text(bot, operators.id, "Новое обращение № 5", key="card:5:0")

    assert raised.value.reason.startswith(GAVE_UP)
    assert "TelegramServerError" in raised.value.reason
    assert outage.hits > policy.max_attempts  # retried past the old fixed budget
    stored = await row(sessions, "card:5:0")
    assert (stored.status, stored.error) == (FAILED, raised.value.reason)
    # Given up for good: asking again sends nothing and says why.
    outage.cancel()
    with pytest.raises(Undeliverable) as again:
        await delivery.send_text(bot, operators.id, "Новое обращение № 5", key="card:5:0")
    assert again.value.reason == raised.value.reason
    assert emu.messages(operators) == []


async def test_the_horizon_counts_from_the_first_reservation_even_after_a_restart(
        emu: Emulator, bot: Bot, outbox: Outbox, clock: FakeClock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    citizen = emu.add_user(started=[emu.bot(TOKEN)])
    # An earlier run reserved the message and stopped between two failed attempts.
    earlier = await outbox.reserve(str(bot.id), "u9:0", chat_id=citizen.id,
                                   method="sendMessage")
    await outbox.not_sent(earlier.id)
    clock.advance(timedelta(hours=25))
    outage = emu.inject_fault("sendMessage", chat_id=citizen.id, status=500, times=None)
    delivery = Delivery(policy=RetryPolicy(base_delay=0.005, max_delay=CAP), outbox=outbox)

    with pytest.raises(GaveUp):
        await delivery.send_text(bot, citizen.id, "Ответ на ваш вопрос", key="u9:0")

    assert outage.hits == 1  # one last attempt, no day of retries
    assert (await row(sessions, "u9:0")).status == FAILED
