"""A message waiting for its turn under Telegram's limits is not "in flight": a crash while it
waits must not make its resend look like a possible duplicate (only a request that was really
made can have an unknown outcome)."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.delivery import Delivery
from escalation.models import OutboxMessage
from escalation.outbox import SENT, Outbox
from escalation.pacing import Limits, Pacer
from tests.emulator import Emulator


async def _row(sessions: async_sessionmaker[AsyncSession], key: str) -> OutboxMessage | None:
    async with sessions() as session:
        return (await session.execute(
            select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one_or_none()


async def test_a_message_waiting_for_its_turn_is_not_in_flight_until_it_is_sent(
        emu: Emulator, bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> None:
    group = emu.add_group("Операторы", bots=[emu.bot(bot.token)])
    # One message per 1.5 s to the group: the second one waits for its turn.
    pacer = Pacer(Limits(group_messages=1, group_window=1.5, safety=0.0))
    delivery = Delivery(pacer=pacer, outbox=Outbox(sessions))
    await delivery.send_text(bot, group.id, "первая карточка", key="card:1")
    second = asyncio.create_task(delivery.send_text(bot, group.id, "вторая", key="card:2"))
    try:
        async with asyncio.timeout(5):
            while (waiting := await _row(sessions, "card:2")) is None \
                    or waiting.attempts != 0:  # noqa: ASYNC110 - the row has no event to wait on
                await asyncio.sleep(0.02)
        # A crash now: the row says no request was made, so a resend is not marked.
        assert waiting.status != SENT
        assert not waiting.maybe_duplicate
        await second
    finally:
        second.cancel()
    sent = await _row(sessions, "card:2")
    assert sent is not None
    assert (sent.status, sent.attempts, sent.maybe_duplicate) == (SENT, 1, False)
    assert [m["text"] for m in emu.messages(group.id)] == ["первая карточка", "вторая"]
