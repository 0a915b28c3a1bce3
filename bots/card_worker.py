"""The desk's background work per bot: the card worker and the queue watcher.

Cards are posted by one worker per bot, paced under the group limit, from the database: a ticket
whose card is not posted yet (a burst, a restart, an operators' chat that was unreachable) is
posted later, never lost. The watcher closes quiet tickets and tells operators about overdue
ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bots.cards import overdue_lines
from bots.operators_chat import OperatorsChat, OperatorsChatUnreachable
from bots.topic import Topic
from escalation.delivery import TRANSIENT
from escalation.tickets import Tickets

log = logging.getLogger(__name__)

CARD_RETRY_FIRST = 1.0
TRANSIENT_CARD_ERRORS = (*TRANSIENT, TelegramRetryAfter)


@dataclass
class CardWorker:
    """Posts missing cards and watches the queue, for every bot, until stopped."""

    chat: OperatorsChat
    _wakeups: dict[str, asyncio.Event] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Per bot: why its operators' chat refuses ticket cards now (cleared by a posted card).
    card_alerts: dict[str, str] = field(default_factory=dict)
    #: Told the bot's name when a card is asked for here: with replicas, the card worker of
    #: that bot may run in another process (:mod:`bots.card_wakeups`).
    announce: Callable[[str], None] | None = None

    @property
    def tickets(self) -> Tickets:
        return self.chat.tickets

    def stop(self) -> None:
        """Ask the workers to stop after the step they are on."""
        self._stopping.set()
        for event in self._wakeups.values():
            event.set()

    def wake(self, topic: Topic) -> None:
        """Ask the card worker of ``topic`` to post cards now, wherever it runs."""
        self.wake_here(topic.name)
        if self.announce is not None:
            self.announce(topic.name)

    def wake_here(self, name: str) -> None:
        """Ask this process's card worker of bot ``name`` (if it runs here) to post now."""
        self._wakeups.setdefault(name, asyncio.Event()).set()

    # --- cards -------------------------------------------------------------------------------

    async def _post_cards(self, bot: Bot, topic: Topic) -> int:
        """One pass over the tickets without a card, oldest first; how many still wait.

        A card refused for itself is skipped (the others are not held up by it); when the
        chat refuses every card, the pass stops there, so that cards are posted in order."""
        missing = await self.tickets.without_card(topic.name)
        for index, ticket in enumerate(missing):
            if self._stopping.is_set():
                return 0
            try:
                posted = await self.chat.post_card(bot, topic, ticket)
            except (OperatorsChatUnreachable, *TRANSIENT_CARD_ERRORS) as error:
                reason = (error.reason if isinstance(error, OperatorsChatUnreachable)
                          else f"{type(error).__name__}: {error}")
                self._cards_blocked(topic, reason, waiting=len(missing) - index)
                return len(missing) - index
            if posted and self.card_alerts.pop(topic.name, None) is not None:
                log.warning("bot %s: operators' chat %s accepts cards again; posting the "
                            "%d waiting", topic.name, topic.operators_chat_id,
                            len(missing) - index)
        return len(await self.tickets.without_card(topic.name))

    def _cards_blocked(self, topic: Topic, reason: str, *, waiting: int) -> None:
        """The alert: logged when the operators' chat stops taking cards (and again when the
        reason changes), kept in :attr:`card_alerts` until a card is posted."""
        if self.card_alerts.get(topic.name) != reason:
            log.error("ALERT bot %s: ticket cards cannot be posted to the operators' chat %s "
                      "(%s); %d waiting, retried until it works — check that the bot is a "
                      "member of the chat and may post there", topic.name,
                      topic.operators_chat_id, reason, waiting)
        self.card_alerts[topic.name] = reason

    async def card_worker(self, bot: Bot, topic: Topic, *, interval: float = 30.0) -> None:
        """Post missing cards, oldest first, until cancelled (restart-safe: reads the DB).

        Cards that cannot be posted are tried again with a backoff capped at ``interval``."""
        event = self._wakeups.setdefault(topic.name, asyncio.Event())
        delay = 0.0
        while not self._stopping.is_set():
            event.clear()
            waiting = 0
            try:
                waiting = await self._post_cards(bot, topic)
            except Exception:
                log.exception("bot %s: posting ticket cards failed", topic.name)
                waiting = 1
            delay = min(interval, max(CARD_RETRY_FIRST, delay * 2)) if waiting else 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=delay or interval)

    # --- response times ----------------------------------------------------------------------

    async def check(self, bot: Bot, topic: Topic, *, digest_due: bool) -> None:
        """Close quiet tickets; announce newly overdue ones (one message) and, when
        ``digest_due``, every ticket still overdue (one more message)."""
        chat_id = topic.operators_chat_id
        for ticket in await self.tickets.close_quiet(topic.name):
            await self.chat.refresh(bot, topic, ticket)
        if chat_id is None:
            return
        texts = topic.texts
        policy = self.tickets.policy(topic.name)
        fresh = await self.tickets.newly_overdue(topic.name)
        if fresh:
            await self.chat.notice(bot, None, chat_id, texts.op_overdue.format(
                count=len(fresh), lines=overdue_lines(topic, policy, fresh)))
        if digest_due:
            late = [t for t in await self.tickets.overdue(topic.name)
                    if t.id not in {f.id for f in fresh}]
            if late:
                await self.chat.notice(bot, None, chat_id, texts.op_overdue_digest.format(
                    count=len(late), lines=overdue_lines(topic, policy, late)))

    async def watch(self, bot: Bot, topic: Topic, *, interval: float,
                    digest_every: timedelta) -> None:
        """Run :meth:`check` every ``interval`` seconds until cancelled."""
        last_digest = self.tickets.now()
        while not self._stopping.is_set():
            now = self.tickets.now()
            digest_due = now - last_digest >= digest_every
            if digest_due:
                last_digest = now
            try:
                await self.check(bot, topic, digest_due=digest_due)
            except Exception:
                log.exception("bot %s: queue check failed", topic.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
