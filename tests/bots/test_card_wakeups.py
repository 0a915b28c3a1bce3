"""A ticket opened on one replica wakes the card worker of another at once (Redis pub/sub)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from bots.card_wakeups import CardWakeups
from bots.card_worker import CardWorker
from bots.operators_chat import OperatorsChat
from bots.topic import Topic


def _worker() -> CardWorker:
    # Waking needs no operators' chat: only the workers' events are looked at here.
    return CardWorker(chat=cast(OperatorsChat, None))


@pytest.fixture
async def redis() -> Any:
    client = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        await client.ping()
    except OSError as error:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {error!r}")
    yield client
    await client.aclose()


async def test_a_wake_up_on_one_replica_reaches_the_worker_on_another(redis: Redis) -> None:
    channel = f"test:{uuid.uuid4().hex}"
    here, there = _worker(), _worker()
    CardWakeups(redis, here, channel=channel)
    listener = CardWakeups(redis, there, channel=channel)
    subscribed = asyncio.Event()
    task = asyncio.create_task(listener.listen(subscribed=subscribed))
    try:
        await asyncio.wait_for(subscribed.wait(), 5)
        there_event = there._wakeups.setdefault("payments", asyncio.Event())
        other_bot = there._wakeups.setdefault("vaccination", asyncio.Event())
        here.wake(cast(Topic, SimpleNamespace(name="payments")))  # a ticket opened here
        await asyncio.wait_for(there_event.wait(), 5)
        assert not other_bot.is_set()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
