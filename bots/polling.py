"""Long polling, one loop per bot, so that one bot's trouble never stops another.

aiogram's ``start_polling(bot1, bot2)`` stops every bot when one token is rejected; here each
bot has its own loop: a rejected token stops that bot only, a conflict (another process polls
the same token) is reported loudly, and network trouble is retried with backoff. Updates of one
chat are handled in order; different chats are handled concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict

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

log = logging.getLogger(__name__)

RETRY_MIN, RETRY_MAX = 1.0, 30.0


def _chat_key(update: Update) -> int:
    event = update.event
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    return chat.id if chat is not None else update.update_id


class BotPoller:
    def __init__(self, bot: Bot, dispatcher: Dispatcher, *, name: str, timeout: int,
                 drain_seconds: float = 10.0) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.name = name
        self.timeout = timeout
        self.drain_seconds = drain_seconds
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[None]] = set()
        self.offset: int | None = None

    async def _handle(self, update: Update) -> None:
        async with self._locks[_chat_key(update)]:
            try:
                await self.dispatcher.feed_update(self.bot, update)
            except Exception:
                log.exception("bot %s: update %d failed", self.name, update.update_id)

    async def run(self) -> None:
        """Poll until cancelled or until Telegram rejects the token."""
        delay = RETRY_MIN
        allowed = self.dispatcher.resolve_used_update_types()
        while True:
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
                delay = RETRY_MIN
                for update in updates:
                    self.offset = update.update_id + 1
                    task = asyncio.create_task(self._handle(update))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                continue
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(RETRY_MAX, delay * 2)

    async def drain(self) -> None:
        """Let handlers in flight finish, then confirm what was handled."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.drain_seconds)
        if self.offset is not None and not self._tasks:
            try:
                await self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1))
            except Exception as error:
                log.info("bot %s: could not confirm handled updates: %s", self.name,
                         type(error).__name__)
