"""Card wake-ups across replicas: a ticket opened on one replica gets its card at once even
when another replica runs that bot's card worker (:mod:`bots.jobs`).

The replica that opened the ticket publishes the bot's name on a Redis channel; every replica
listens and wakes its own card worker of that bot, if it runs one. A lost wake-up (Redis away)
only delays the card to the worker's next pass (``QUEUE_CHECK_INTERVAL``): nothing depends on
it but speed, so failures are logged at DEBUG and the listener reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bots.card_worker import CardWorker

log = logging.getLogger(__name__)

CHANNEL: Final = "tgcards:wake"
RECONNECT_AFTER: Final = 1.0


class CardWakeups:
    def __init__(self, client: Redis, worker: CardWorker, *, channel: str = CHANNEL) -> None:
        self.client = client
        self.worker = worker
        self.channel = channel
        self._sends: set[asyncio.Task[None]] = set()
        worker.announce = self.announce

    def announce(self, name: str) -> None:
        """Tell every replica that bot ``name`` has a card to post (without waiting)."""
        task = asyncio.create_task(self._publish(name))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _publish(self, name: str) -> None:
        try:
            await self.client.publish(self.channel, name)
        except (RedisError, OSError) as error:
            log.debug("card wake-up for %s not published: %s", name, type(error).__name__)

    async def listen(self, *, subscribed: asyncio.Event | None = None) -> None:
        """Wake this process's card workers when any replica asks, until cancelled."""
        while True:
            try:
                async with self.client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    if subscribed is not None:
                        subscribed.set()
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                           timeout=1.0)
                        if message is not None and message["type"] == "message":
                            self.worker.wake_here(message["data"].decode())
            except (RedisError, OSError) as error:
                log.debug("card wake-ups: Redis unavailable (%s), listening again in %.0f s",
                          type(error).__name__, RECONNECT_AFTER)
                await asyncio.sleep(RECONNECT_AFTER)

    async def close(self) -> None:
        for task in list(self._sends):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._sends, return_exceptions=True)
