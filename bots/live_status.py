"""``/health`` in the operators' chat: how the running bot is doing right now — whether the
database takes writes, whether ticket cards get posted, what waits in the durable queues."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.card_worker import CardWorker
from bots.cards import chat_refusal_reason
from bots.topic import Topic
from escalation.backlog import backlog_of
from escalation.inbox import StorageHealth


@dataclass
class LiveStatus:
    sessions: async_sessionmaker[AsyncSession]
    worker: CardWorker
    clock: Callable[[], datetime]
    storage: StorageHealth | None = None  # None: updates are not stored (console chat)

    def _local(self, topic: Topic, moment: datetime) -> str:
        return f"{moment.astimezone(topic.queue.schedule.tz):%d.%m %H:%M}"

    async def text(self, topic: Topic, bot_id: int) -> str:
        """The status lines of ``topic``'s bot, in the bot's texts."""
        texts = topic.texts
        lines = []
        if self.storage is not None and not self.storage.ok:
            since = self.storage.failing_since or self.clock()
            lines.append(texts.op_health_storage_failing.format(
                since=self._local(topic, since), reason=self.storage.reason or ""))
        else:
            lines.append(texts.op_health_storage_ok)
        blocked = self.worker.card_alerts.get(topic.name)
        lines.append(texts.op_health_cards_blocked.format(reason=chat_refusal_reason(blocked))
                     if blocked
                     else texts.op_health_cards_ok)
        backlog = await backlog_of(self.sessions, bot=topic.name, bot_id=bot_id,
                                   now=self.clock())
        oldest = self._local(topic, backlog.oldest_update) if backlog.oldest_update else "—"
        lines.append(texts.op_health_backlog.format(
            updates=backlog.updates_waiting, oldest=oldest, messages=backlog.messages_waiting,
            given_up=backlog.messages_given_up))
        return texts.op_health.format(topic=texts.topic, lines="\n".join(lines))
