"""Long polling, one loop per bot, so that one bot's trouble never stops another.

aiogram's ``start_polling(bot1, bot2)`` stops every bot when one token is rejected; here each
bot has its own loop: a rejected token stops that bot only, a conflict (another process polls
the same token) is reported loudly, and network trouble is retried with backoff.

Each batch of updates is stored by the :class:`~bots.intake.Intake` before the offset moves
past it (confirming it to Telegram), then handled by the intake: in order per chat, different
chats concurrently, again after a crash, once when delivered twice.

While the database refuses writes (read-only, disk full), updates are not stored, so the
offset does not move past them: Telegram keeps them. ``inbox.storage`` logs it once and keeps
the state for ``/health``; polling retries every few seconds and carries on by itself once
writes work again.
"""

from __future__ import annotations

import asyncio
import logging
import random

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


class BotPoller:
    def __init__(self, bot: Bot, dispatcher: Dispatcher, *, name: str, timeout: int,
                 intake: Intake) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.name = name
        self.timeout = timeout
        self.intake = intake
        self.offset: int | None = None

    async def _accept(self, updates: list[Update]) -> None:
        """Store the batch, then move the offset past it (the intake handles it)."""
        await self.intake.receive(self.name, updates)
        self.offset = max(u.update_id for u in updates) + 1

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

    async def confirm(self) -> None:
        """Tell Telegram that what was received is stored (on stop: not handed out again)."""
        if self.offset is None:
            return
        try:
            await self.bot(GetUpdates(offset=self.offset, timeout=0, limit=1))
        except Exception as error:
            log.info("bot %s: could not confirm stored updates: %s", self.name,
                     type(error).__name__)
