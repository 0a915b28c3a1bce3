"""Long polling, one loop per bot, so that one bot's trouble never stops another.

aiogram's ``start_polling(bot1, bot2)`` stops every bot when one token is rejected; here each
bot has its own loop: a rejected token stops that bot only, a conflict (another process polls
the same token) is reported loudly, and network trouble is retried with backoff. Updates of one
chat are handled in order; different chats are handled concurrently.

With an :class:`~escalation.inbox.Inbox`, each batch of updates is stored before the offset
moves past it (confirming it to Telegram), and each update is settled after its handler: an
update whose handler raised, or was cut off by a crash or a stop, is handled again later; one
delivered twice is handled once. Messages sent while handling update ``N`` get outbox keys
``u<N>:…``, so handling it again does not resend what was already sent.

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

from escalation.inbox import Inbox, StoredUpdate
from escalation.scope import update_scope

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
                 drain_seconds: float = 10.0, inbox: Inbox | None = None,
                 resume_interval: float = 5.0) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.name = name
        self.timeout = timeout
        self.drain_seconds = drain_seconds
        self.inbox = inbox
        self.resume_interval = resume_interval
        # One lock per chat with updates in flight (removed when the last one is done: a bot
        # that met a million citizens must not keep a million locks).
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()
        self.offset: int | None = None

    def _spawn(self, update: Update, stored: StoredUpdate | None = None) -> None:
        task = asyncio.create_task(self._handle(update, stored))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def chats_in_flight(self) -> int:
        """Chats with an update being handled or waiting for its turn."""
        return len(self._locks)

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

    async def _handle(self, update: Update, stored: StoredUpdate | None = None) -> None:
        async with self._chat_turn(_chat_key(update)):
            try:
                # A stored update on its first attempt cannot have been handled before.
                replay = stored is not None and stored.attempts > 1
                with update_scope(f"u{update.update_id}", replay=replay):
                    await self.dispatcher.feed_update(self.bot, update)
            except Exception as error:
                await self._failed(update, stored, error)
            else:
                if stored is not None and self.inbox is not None:
                    # A failure is in inbox.storage: the update stays pending, handled again.
                    with contextlib.suppress(SQLAlchemyError):
                        await self.inbox.done(stored.id)
            finally:
                if stored is not None:
                    self._in_flight.discard(stored.id)

    async def _failed(self, update: Update, stored: StoredUpdate | None,
                      error: Exception) -> None:
        if isinstance(error, SQLAlchemyError) and self.inbox is not None:
            # The database refuses writes: said once by inbox.storage, not once per update.
            self.inbox.storage.failed(error)
            log.info("bot %s: update %d not handled: database unavailable", self.name,
                     update.update_id)
        else:
            log.exception("bot %s: update %d failed", self.name, update.update_id)
        if stored is None or self.inbox is None:
            return
        try:
            again = await self.inbox.failed(stored.id, repr(error))
        except SQLAlchemyError:
            return  # still pending: handled again once the database accepts writes
        log.warning("bot %s: update %d %s", self.name, update.update_id,
                    "will be handled again" if again else "given up")

    def _from_store(self, stored: StoredUpdate) -> Update | None:
        try:
            return Update.model_validate(stored.payload, context={"bot": self.bot})
        except ValueError as error:
            log.error("bot %s: stored update %d cannot be read: %s", self.name,
                      stored.update_id, error)
            return None

    async def resume(self) -> int:
        """Handle stored updates that are due again (all unfinished ones after a restart)."""
        if self.inbox is None:
            return 0
        count = 0
        for stored in await self.inbox.due(self.name):
            if stored.id in self._in_flight:
                continue
            update = self._from_store(stored)
            if update is None:
                await self.inbox.failed(stored.id, "unreadable")
                continue
            self._in_flight.add(stored.id)
            self._spawn(update, stored)
            count += 1
        return count

    async def resume_loop(self) -> None:
        """Every ``resume_interval`` seconds, retry updates whose handling failed."""
        while True:
            await asyncio.sleep(self.resume_interval)
            # A database error is logged once, and shown by /health, by inbox.storage.
            with contextlib.suppress(SQLAlchemyError):
                await self.resume()

    async def _accept(self, updates: list[Update]) -> None:
        """Store the batch (when there is an inbox), move the offset, start the handlers."""
        if self.inbox is None:
            for update in updates:
                self.offset = update.update_id + 1
                self._spawn(update)
            return
        stored = await self.inbox.store(self.name, [
            (u.update_id, u.model_dump(mode="json", exclude_none=True, by_alias=True))
            for u in updates
        ])
        self.offset = max(u.update_id for u in updates) + 1
        by_id = {u.update_id: u for u in updates}
        for row in stored:
            self._in_flight.add(row.id)
            self._spawn(by_id[row.update_id], row)

    async def run(self) -> None:
        """Poll until cancelled or until Telegram rejects the token."""
        delay = RETRY_MIN
        allowed = self.dispatcher.resolve_used_update_types()
        resumed = await self.resume()
        if resumed:
            log.info("bot %s: %d unfinished update(s) from before are handled again", self.name,
                     resumed)
        resumer = asyncio.create_task(self.resume_loop()) if self.inbox is not None else None
        try:
            await self._poll(allowed, delay)
        finally:
            if resumer is not None:
                resumer.cancel()

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
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=seconds)
        return not self._tasks

    async def drain(self) -> None:
        """Let handlers in flight finish, then confirm what was handled."""
        await self.wait_idle(self.drain_seconds)
        if self.offset is not None and not self._tasks:
            try:
                await self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1))
            except Exception as error:
                log.info("bot %s: could not confirm handled updates: %s", self.name,
                         type(error).__name__)
