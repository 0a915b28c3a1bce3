"""Webhook delivery: updates of a bot with a webhook URL are POSTed to it, like Telegram does.

Runs on the server's event loop. Each update is POSTed as JSON with the bot's
``X-Telegram-Bot-Api-Secret-Token`` (setWebhook's ``secret_token``); a 2xx answer confirms it
(it leaves the queue), anything else (another status, a refused connection, a timeout) is
recorded as the bot's ``last_error_*`` (getWebhookInfo) and retried after a backoff that
doubles from ``first_retry`` up to ``max_retry``.

Up to ``max_connections`` POSTs per bot are in flight at once, but only one per chat: the next
update of a chat goes out only after the previous one was answered 2xx. That is the emulator's
assumption about Telegram (which documents neither way, and in practice keeps a chat's updates
in order); the bots must not rely on more than "in order per chat". Updates that belong to no
chat (e.g. an inline query) are keyed by their sender.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Final

import aiohttp

from tests.emulator.model import BotAccount, QueuedUpdate, WebhookDelivery
from tests.emulator.world import World

log = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
#: Longest wait between two looks at the queues when nothing notifies (a backoff expiring).
IDLE_CHECK: Final = 1.0


def chat_key(update: dict[str, Any]) -> tuple[str, int] | None:
    """The chat an update belongs to (its per-chat order), or its sender's id; None: neither."""
    for key, body in update.items():
        if key == "update_id" or not isinstance(body, dict):
            continue
        chat = body.get("chat")
        if chat is None and isinstance(body.get("message"), dict):
            chat = body["message"].get("chat")  # callback_query
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return "chat", chat["id"]
        sender = body.get("from") or body.get("user")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return "user", sender["id"]
    return None


class WebhookPusher:
    def __init__(self, world: World, *, first_retry: float = 0.2, max_retry: float = 2.0,
                 timeout: float = 10.0) -> None:
        self.world = world
        self.first_retry = first_retry
        self.max_retry = max_retry
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._settled = 0  # POSTs finished: a failure sets a new backoff to wait for

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._loop_task = asyncio.create_task(self._run(), name="emulator-webhooks")

    async def stop(self) -> None:
        # A flag as well as cancel(): Python 3.11's wait_for may swallow a cancellation that
        # races with the notifier's wake-up.
        self._stopping = True
        tasks = [t for t in (self._loop_task, *self._posts) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=IDLE_CHECK * 2)
        if self._session is not None:
            await self._session.close()
        self._loop_task, self._session = None, None

    # --- choosing what to push (under the world's lock) ------------------------------------------

    def _due(self, *, take: bool) -> list[tuple[BotAccount, QueuedUpdate]]:
        """Updates to POST now: the oldest unconfirmed one of each chat, when none of that chat
        is in flight, its backoff is over and the bot has a free connection. ``take``: mark
        them as in flight."""
        now = time.monotonic()
        due = []
        with self.world.lock:
            if self.world.closing:
                return []
            for bot in self.world.bots.values():
                if not bot.webhook_url:
                    continue
                items = [i for i in self.world.queue(bot.id).items
                         if not (i.forced and i.handed_out)]
                busy = sum(i.pushing for i in items)
                seen: set[tuple[str, int]] = set()
                for item in items:
                    if busy >= bot.webhook_max_connections:
                        break
                    key = chat_key(item.payload)
                    if key is not None:
                        if key in seen:
                            continue  # an older update of this chat goes first
                        seen.add(key)
                    if item.pushing or item.next_push > now:
                        continue
                    busy += 1
                    due.append((bot, item))
                    if take:
                        item.pushing = True
        return due

    def _next_due(self) -> float:
        """Seconds until the earliest backoff ends (at most :data:`IDLE_CHECK`)."""
        now = time.monotonic()
        with self.world.lock:
            waits = [item.next_push - now for bot in self.world.bots.values()
                     if bot.webhook_url for item in self.world.queue(bot.id).items
                     if not item.pushing and item.next_push > now]
        return max(0.01, min([IDLE_CHECK, *waits]))

    async def _run(self) -> None:
        while not self._stopping:
            for bot, item in self._due(take=True):
                task = asyncio.create_task(self._post(bot, item))
                self._posts.add(task)
                task.add_done_callback(self._posts.discard)
            await self.world.notifier.wait_async(self._changed(self._settled), self._next_due())

    def _changed(self, settled: int) -> Callable[[], bool]:
        """Something to push now, or a POST finished since (its backoff may end sooner)."""
        return lambda: (self._stopping or bool(self._due(take=False))
                        or self._settled != settled)

    # --- one POST --------------------------------------------------------------------------------

    async def _post(self, bot: BotAccount, item: QueuedUpdate) -> None:
        assert self._session is not None
        with self.world.lock:
            url, secret = bot.webhook_url, bot.webhook_secret
            body = json.dumps(copy.deepcopy(item.payload), ensure_ascii=False)
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        started = time.monotonic()
        status: int | None = None
        try:
            async with self._session.post(url, data=body.encode(), headers=headers) as response:
                status = response.status
                await response.read()
            error = None if 200 <= status < 300 else (
                f"Wrong response from the webhook: {status} {response.reason or ''}".strip())
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection failed: {type(exc).__name__}"
        except asyncio.CancelledError:
            with self.world.changing():
                item.pushing = False
            raise
        self._settle(bot, item, WebhookDelivery(bot.id, item.update_id, url, status, error,
                                                started, time.monotonic()))

    def _settle(self, bot: BotAccount, item: QueuedUpdate, delivery: WebhookDelivery) -> None:
        with self.world.changing():
            self._settled += 1
            self.world.deliveries.append(delivery)
            item.pushing = False
            if delivery.ok:
                queue = self.world.queue(bot.id)
                queue.items = [i for i in queue.items if i is not item]
                return
            item.push_attempts += 1
            delay = min(self.max_retry, self.first_retry * 2 ** (item.push_attempts - 1))
            item.next_push = time.monotonic() + delay
            bot.webhook_last_error_date = int(time.time())
            bot.webhook_last_error_message = delivery.error
        log.debug("webhook push of update %d to bot %d failed: %s", item.update_id, bot.id,
                  delivery.error)
