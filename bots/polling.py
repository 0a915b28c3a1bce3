"""Long polling, one loop per bot, so that one bot's trouble never stops another.

aiogram's ``start_polling(bot1, bot2)`` stops every bot when one token is rejected; here each
bot has its own loop: a rejected token stops that bot only, a conflict (another process polls
the same token) is reported loudly, and network trouble is retried with backoff.

With an :class:`~bots.intake.Intake` (as ``bot.py`` runs it), each batch of updates is stored
before the offset moves past it (confirming it to Telegram), then handled by the intake: in
order per chat, different chats concurrently, again after a crash, once when delivered twice.
Without one (tests), updates are handled straight away, in order per chat.

While the database refuses writes (read-only, disk full), updates are not stored, so the
offset does not move past them: Telegram keeps them. ``inbox.storage`` logs it once and keeps
the state for ``/health``; polling retries every few seconds and carries on by itself once
writes work again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update
from sqlalchemy.exc import SQLAlchemyError

from bots.intake import Intake

log = logging.getLogger(__name__)

RETRY_MIN, RETRY_MAX = 1.0, 30.0
#: Longest wait between attempts to store updates while the database refuses writes: how
#: soon after the disk is writable again the waiting updates are handled.
STORAGE_RETRY_MAX = 10.0


def _chat_key(update: Update) -> int:
    event = update.event
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    return chat.id if chat is not None else update.update_id


class BotPoller:
    def __init__(self, bot: Bot, dispatcher: Dispatcher, *, name: str, timeout: int,
                 drain_seconds: float = 10.0, intake: Intake | None = None) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.name = name
        self.timeout = timeout
        self.drain_seconds = drain_seconds
        self.intake = intake
        # Without an intake: one lock per chat with updates in flight (removed when the last
        # one is done: a bot that met a million citizens must not keep a million locks).
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.offset: int | None = None

    @property
    def chats_in_flight(self) -> int:
        """Chats with an update being handled or waiting for its turn."""
        return self.intake.chats_in_flight if self.intake is not None else len(self._locks)

    @contextlib.asynccontextmanager
    async def _chat_turn(self, chat: int) -> AsyncIterator[None]:
        """Updates of one chat are handled one after another, in order of arrival."""
        lock, users = self._locks.get(chat, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[chat] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat]
            if users == 1:
                del self._locks[chat]
            else:
                self._locks[chat] = (lock, users - 1)

    async def _handle(self, update: Update) -> None:
        async with self._chat_turn(_chat_key(update)):
            try:
                await self.dispatcher.feed_update(self.bot, update)
            except Exception:
                log.exception("bot %s: update %d failed", self.name, update.update_id)

    async def _accept(self, updates: list[Update]) -> None:
        """Store the batch (with an intake), move the offset, have the updates handled."""
        if self.intake is not None:
            await self.intake.receive(self.name, updates)
            self.offset = max(u.update_id for u in updates) + 1
            return
        for update in updates:
            self.offset = update.update_id + 1
            task = asyncio.create_task(self._handle(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        """Poll until cancelled or until Telegram rejects the token."""
        await self._poll(self.dispatcher.resolve_used_update_types(), RETRY_MIN)

    async def _poll(self, allowed: list[str], delay: float) -> None:
        while True:
            ceiling = RETRY_MAX
            method = GetUpdates(offset=self.offset, timeout=self.timeout, allowed_updates=allowed)
            try:
                updates = await self.bot(method, request_timeout=self.timeout + 30)
            except TelegramUnauthorizedError:
                log.error("bot %s stopped: Telegram rejected its token (401 Unauthorized)",
                          self.name)
                return
            except TelegramConflictError:
                log.error("bot %s: CONFLICT — another process is polling the same token or a "
                          "webhook is set; retrying in %.0f s", self.name, delay)
            except TelegramRetryAfter as error:
                delay = max(delay, float(error.retry_after))
                log.warning("bot %s: flood control on getUpdates, waiting %.0f s", self.name,
                            delay)
            except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as error:
                log.warning("bot %s: polling failed (%s), retrying in %.0f s", self.name,
                            type(error).__name__, delay)
            else:
                if not updates:
                    delay = RETRY_MIN
                    continue
                try:
                    await self._accept(updates)
                except SQLAlchemyError:
                    # Not stored, so not confirmed: Telegram keeps them for the next poll.
                    # Logged once by inbox.storage (and shown by /health), not every poll.
                    log.debug("bot %s: %d update(s) not stored, retrying in %.0f s",
                              self.name, len(updates), delay)
                    ceiling = STORAGE_RETRY_MAX
                else:
                    delay = RETRY_MIN
                    continue
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(ceiling, delay * 2)

    async def wait_idle(self, seconds: float) -> bool:
        """Until every update in flight is handled (True), or ``seconds`` have passed (False)."""
        if self.intake is not None:
            return await self.intake.wait_idle(seconds)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=seconds)
        return not self._tasks

    async def drain(self) -> None:
        """Let handlers in flight finish, then confirm what was received (stored, with an
        intake: what is not handled yet is handled after the next start)."""
        idle = await self.wait_idle(self.drain_seconds)
        if self.offset is not None and (idle or self.intake is not None):
            try:
                await self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1))
            except Exception as error:
                log.info("bot %s: could not confirm handled updates: %s", self.name,
                         type(error).__name__)
