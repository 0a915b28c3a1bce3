"""The report in the operators' chat: ``/report [days]`` on demand and the weekly digest.

Both send the summary as plain text and each chart as a picture through the one delivery
path. The digest is sent once per bot and week: its messages have fixed outbox keys, so a
restart at the digest moment does not send it twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.report.collect import last_days
from bots.report.digest import DigestTime, OperatorsReport, operators_report, weekly_digest
from bots.settings import Settings
from bots.topic import Topic
from escalation.delivery import Delivery, Undeliverable

log = logging.getLogger(__name__)

MAX_DAYS = 366


@dataclass
class ReportPoster:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    delivery: Delivery
    clock: Callable[[], datetime]

    async def post(self, bot: Bot, chat_id: int, report: OperatorsReport, *,
                   thread_id: int | None = None, key: str | None = None) -> None:
        """The summary, then every chart; ``key``: the messages' outbox keys start with it."""
        await self.delivery.send_text(bot, chat_id, report.text, message_thread_id=thread_id,
                                      key=f"{key}:text" if key else None)
        for number, chart in enumerate(report.charts, start=1):
            await self.delivery.send_photo(
                bot, chat_id, chart.png, filename=f"chart-{number}.png",
                message_thread_id=thread_id, key=f"{key}:chart{number}" if key else None)

    async def on_demand(self, bot: Bot, topic: Topic, chat_id: int, *, days: int,
                        thread_id: int | None) -> None:
        """``/report [days]``: the last ``days`` days up to today."""
        now = self.clock()
        period = last_days(now, topic.queue.schedule.tz, min(max(days, 1), MAX_DAYS))
        report = await operators_report(self.sessions, self.settings, topic.name, period,
                                        now=now)
        await self.post(bot, chat_id, report, thread_id=thread_id)

    async def weekly(self, bot: Bot, topic: Topic, schedule: DigestTime) -> None:
        """Send the digest to the bot's operators' chat at every ``schedule`` moment."""
        tz = topic.queue.schedule.tz
        while True:
            moment = schedule.next_after(self.clock(), tz)
            await asyncio.sleep(max(0.0, (moment - self.clock()).total_seconds()))
            chat_id = topic.operators_chat_id
            if chat_id is None:
                continue
            try:
                report = await weekly_digest(self.sessions, self.settings, topic.name,
                                             now=self.clock())
                await self.post(bot, chat_id, report,
                                key=f"digest:{topic.name}:{moment.date().isoformat()}")
            except Undeliverable as error:
                log.error("bot %s: weekly digest not delivered: %s", topic.name, error.reason)
