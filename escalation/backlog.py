"""What is waiting in the durable queues of one bot: updates not yet handled, messages not yet
sent, messages given up lately. Read by the operators' ``/health``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation import inbox, outbox
from escalation.models import InboxUpdate, OutboxMessage


@dataclass(frozen=True)
class Backlog:
    updates_waiting: int  # stored, not handled yet (or to be handled again)
    oldest_update: datetime | None
    messages_waiting: int  # reserved, not sent yet (retried)
    messages_given_up: int  # refused for good or given up, in the last ``since`` window


async def backlog_of(sessions: async_sessionmaker[AsyncSession], *, bot: str, bot_id: int,
                     now: datetime, window: timedelta = timedelta(days=1)) -> Backlog:
    """The backlog of ``bot`` (inbox rows are keyed by name, outbox rows by the bot's id)."""
    async with sessions() as session:
        updates, oldest = (await session.execute(
            select(func.count(), func.min(InboxUpdate.received_at))
            .where(InboxUpdate.bot == bot, InboxUpdate.status == inbox.PENDING))).one()
        waiting = await session.scalar(
            select(func.count()).where(OutboxMessage.bot == str(bot_id),
                                       OutboxMessage.status == outbox.PENDING))
        given_up = await session.scalar(
            select(func.count()).where(OutboxMessage.bot == str(bot_id),
                                       OutboxMessage.status == outbox.FAILED,
                                       OutboxMessage.created_at >= now - window))
    return Backlog(int(updates), oldest, int(waiting or 0), int(given_up or 0))
