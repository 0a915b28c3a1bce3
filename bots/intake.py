"""The intake: every update, from long polling or a webhook, is stored, claimed and handled here.

``receive`` stores updates in the inbox (:mod:`escalation.inbox`) and returns once they are
committed: only then is Telegram told (the poller moves its offset, a webhook answers 200), so
Telegram keeps what was not stored. Then the chat is *kicked*: this process claims the chat's
oldest unsettled update and handles it, then the next, until the chat has none left or another
replica holds one of them. A chat's updates are therefore handled one at a time and in order,
by whichever replica gets there first; different chats run concurrently. An update delivered
twice (to this replica or another) is stored once and handled once.

While an update is handled its claim is renewed every third of the lease; if this process dies,
another replica (or this one, restarted) claims it once the lease is over and handles it again.
Messages sent while handling update ``N`` get outbox keys ``u<N>:…``, so handling it again does
not resend what was already sent. Every ``resume_interval`` the intake looks for chats whose
updates nobody handles (a retry that is due, a dead replica's update) and kicks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.exc import SQLAlchemyError

from escalation.inbox import Inbox, StoredUpdate
from escalation.scope import update_scope

log = logging.getLogger(__name__)

_Chat = tuple[str, int | None]


class Intake:
    def __init__(self, dispatcher: Dispatcher, inbox: Inbox, *, owner: str,
                 lease: timedelta = timedelta(seconds=30), resume_interval: float = 5.0,
                 grace: timedelta = timedelta(seconds=2)) -> None:
        self.dispatcher = dispatcher
        self.inbox = inbox
        self.owner = owner
        self.lease = lease
        self.resume_interval = resume_interval
        self.grace = grace
        self.bots: dict[str, Bot] = {}
        # The updates as received, by chat: handled from here when this process claims them
        # (the stored copy has personal numbers masked).
        self._received: dict[_Chat, dict[int, Update]] = {}
        self._chats: dict[_Chat, asyncio.Task[None]] = {}
        self._again: set[_Chat] = set()
        self._held: dict[int, asyncio.Task[None]] = {}  # row id -> the chat task handling it
        self._loops: list[asyncio.Task[None]] = []

    def add_bot(self, name: str, bot: Bot) -> None:
        self.bots[name] = bot

    @property
    def chats_in_flight(self) -> int:
        """Chats this process is handling updates of."""
        return len(self._chats)

    async def receive(self, bot: str, updates: Sequence[Update]) -> int:
        """Store ``updates`` of ``bot`` (committed when this returns; a database error is
        raised and nothing is confirmed), then handle them; how many were new."""
        fresh = await self.inbox.store(bot, [
            (u.update_id, u.model_dump(mode="json", exclude_none=True, by_alias=True))
            for u in updates])
        by_id = {u.update_id: u for u in updates}
        for row in fresh:
            self._received.setdefault((bot, row.chat_id), {})[row.update_id] = by_id[
                row.update_id]
            self.kick(bot, row.chat_id)
        return len(fresh)

    def kick(self, bot: str, chat: int | None) -> None:
        """Handle the chat's waiting updates (again, if it is being handled right now: an
        update may have been stored after its last claim)."""
        key = (bot, chat)
        if key in self._chats:
            self._again.add(key)
            return
        task = asyncio.create_task(self._run_chat(key), name=f"chat-{bot}")
        self._chats[key] = task

    async def _run_chat(self, key: _Chat) -> None:
        try:
            while True:
                self._again.discard(key)
                await self._drain(key)
                if key not in self._again:
                    break
        finally:
            del self._chats[key]
            # What is left was claimed by another replica: it handles it from the store.
            self._received.pop(key, None)

    async def _drain(self, key: _Chat) -> None:
        bot_name, chat = key
        while True:
            try:
                row = await self.inbox.claim(bot_name, chat, owner=self.owner, lease=self.lease)
            except SQLAlchemyError:
                return  # logged once by inbox.storage; the resume loop kicks the chat again
            if row is None:
                return
            self._held[row.id] = self._chats[key]
            try:
                await self._handle(bot_name, row)
            finally:
                self._held.pop(row.id, None)

    async def _handle(self, bot_name: str, row: StoredUpdate) -> None:
        bot = self.bots[bot_name]
        update = self._received.get((bot_name, row.chat_id), {}).pop(row.update_id, None)
        if update is None:
            update = self._from_store(bot, bot_name, row)
            if update is None:
                await self._failed(bot_name, row, ValueError("unreadable"), give_up=True)
                return
        try:
            # Handled before (a crash, a dead replica, an error): sent messages are not resent.
            with update_scope(f"u{row.update_id}", replay=row.attempts > 1):
                await self.dispatcher.feed_update(bot, update)
        except Exception as error:
            await self._failed(bot_name, row, error)
        else:
            # A failure is in inbox.storage: the update stays pending, handled again.
            with contextlib.suppress(SQLAlchemyError):
                await self.inbox.done(row.id)

    def _from_store(self, bot: Bot, bot_name: str, row: StoredUpdate) -> Update | None:
        try:
            return Update.model_validate(row.payload, context={"bot": bot})
        except ValueError as error:
            log.error("bot %s: stored update %d cannot be read: %s", bot_name, row.update_id,
                      error)
            return None

    async def _failed(self, bot_name: str, row: StoredUpdate, error: Exception, *,
                      give_up: bool = False) -> None:
        if isinstance(error, SQLAlchemyError):
            # The database refuses writes: said once by inbox.storage, not once per update.
            self.inbox.storage.failed(error)
            log.info("bot %s: update %d not handled: database unavailable", bot_name,
                     row.update_id)
        elif not give_up:
            log.exception("bot %s: update %d failed", bot_name, row.update_id)
        try:
            again = await self.inbox.failed(row.id, repr(error), give_up=give_up)
        except SQLAlchemyError:
            return  # still pending: handled again once the database accepts writes
        log.warning("bot %s: update %d %s", bot_name, row.update_id,
                    "will be handled again" if again else "given up")

    async def resume(self, *, grace: timedelta | None = None) -> int:
        """Kick every chat with an update nobody handles; how many chats."""
        count = 0
        for name in self.bots:
            for chat in await self.inbox.due_chats(
                    name, grace=self.grace if grace is None else grace):
                if (name, chat) not in self._chats:
                    self.kick(name, chat)
                    count += 1
        return count

    async def _resume_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resume_interval)
            # A database error is logged once, and shown by /health, by inbox.storage.
            with contextlib.suppress(SQLAlchemyError):
                await self.resume()

    async def _renew_loop(self) -> None:
        """Renew the claims of the updates in flight every third of the lease. A claim that
        cannot be renewed in time is let go *before* another replica may take it over: its
        handler is stopped (handled again there; sent messages are not resent), so two
        replicas never handle one update at once, even when this one is cut off from the
        database but not from Telegram."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            held = dict(self._held)
            try:
                kept = await self.inbox.renew(self.owner, sorted(held), lease=self.lease)
            except SQLAlchemyError:
                # After two failed renewals a third of the lease is left: stop in time.
                if time.monotonic() - renewed > self.lease.total_seconds() * 2 / 3:
                    self._let_go(held, "its claims could not be renewed")
                continue
            renewed = time.monotonic()
            self._let_go({row: task for row, task in held.items()
                          if row not in kept and row in self._held}, "another replica took it")

    def _let_go(self, held: dict[int, asyncio.Task[None]], why: str) -> None:
        for row_id, task in held.items():
            log.warning("update row %d stopped: %s", row_id, why)
            task.cancel()

    async def start(self, *, sole: bool = False) -> None:
        """Handle what was left unfinished and start the loops. ``sole``: no other process
        shares the inbox (long polling), so updates held by a process that died are not
        waited for until their lease ends; otherwise only this replica's own (by name: its
        previous run) are not."""
        for name in self.bots:
            # A replica restarted under its REPLICA_ID takes back what it held at once.
            await self.inbox.release(name, owner=None if sole else self.owner)
        resumed = await self.resume(grace=timedelta(0))
        if resumed:
            log.info("%d chat(s) with unfinished updates from before are handled again",
                     resumed)
        self._loops = [asyncio.create_task(self._resume_loop(), name="intake-resume"),
                       asyncio.create_task(self._renew_loop(), name="intake-renew")]

    async def wait_idle(self, seconds: float) -> bool:
        """Until every chat in flight is handled (True), or ``seconds`` have passed (False)."""
        if self._chats:
            await asyncio.wait(list(self._chats.values()), timeout=seconds)
        return not self._chats

    async def stop(self, drain_seconds: float) -> None:
        """Let handlers in flight finish; give back what could not finish, so another replica
        (or the next start) takes it at once."""
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if not await self.wait_idle(drain_seconds):
            for task in list(self._chats.values()):
                task.cancel()
            await asyncio.gather(*self._chats.values(), return_exceptions=True)
        with contextlib.suppress(SQLAlchemyError):
            for name in self.bots:
                await self.inbox.release(name, owner=self.owner)

