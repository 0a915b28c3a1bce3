"""``/health`` in the operators' chat: how the running bot is doing right now — whether the
database takes writes, whether ticket cards get posted, what waits in the durable queues.

With replicas, only the replica holding the bot's ``desk:<bot>`` lease posts cards and knows
whether the operators' chat refuses them; another replica answering ``/health`` says which
replica that is (or that none does right now) instead of vouching for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.card_worker import CardWorker
from bots.cards import chat_refusal_reason
from bots.jobs import desk_job
from bots.topic import Topic
from escalation.backlog import backlog_of
from escalation.inbox import StorageHealth
from escalation.leadership import Leases


@dataclass
class LiveStatus:
    sessions: async_sessionmaker[AsyncSession]
    worker: CardWorker
    clock: Callable[[], datetime]
    storage: StorageHealth | None = None  # None: updates are not stored (console chat)
    leases: Leases | None = None  # who runs each bot's card worker (None: this process)

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
        lines.append(await self._cards(topic))
        backlog = await backlog_of(self.sessions, bot=topic.name, bot_id=bot_id,
                                   now=self.clock())
        oldest = self._local(topic, backlog.oldest_update) if backlog.oldest_update else "—"
        lines.append(texts.op_health_backlog.format(
            updates=backlog.updates_waiting, oldest=oldest, messages=backlog.messages_waiting,
            given_up=backlog.messages_given_up))
        return texts.op_health.format(topic=texts.topic, lines="\n".join(lines))

    async def _cards(self, topic: Topic) -> str:
        texts = topic.texts
        if self.leases is not None:
            holder = await self.leases.holder(desk_job(topic.name))
            if holder is None or holder.expires_at <= self.clock():
                return texts.op_health_cards_nobody
            if holder.owner != self.leases.owner:
                return texts.op_health_cards_elsewhere.format(replica=holder.owner)
        blocked = self.worker.card_alerts.get(topic.name)
        if blocked:
            return texts.op_health_cards_blocked.format(reason=chat_refusal_reason(blocked))
        return texts.op_health_cards_ok
