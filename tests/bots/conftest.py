"""Fixtures shared by the bots' unit tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from bots.session import JsonSession
from bots.smalltalk import SmallTalk
from tests.emulator import Emulator, running_emulator
from tests.services import OwnRedis, free_port

BOTS = Path(__file__).resolve().parents[2] / "bots"
#: The token of the ``bot`` fixture's account in the emulator.
TOKEN = "123456:emulated-bot-token"


@pytest.fixture(scope="session")
def smalltalk() -> SmallTalk:
    """The shipped small-talk lists (bots/smalltalk.yaml)."""
    return SmallTalk.from_file(BOTS / "smalltalk.yaml")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A Bot API emulator that fails the test on any request that breaks the spec."""
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    """An aiogram bot talking JSON to the emulator as ``payments_bot``."""
    emu.add_bot(token=TOKEN, username="payments_bot")
    session = JsonSession(api=TelegramAPIServer.from_base(emu.base_url), timeout=5)
    async with Bot(TOKEN, session=session) as bot:
        yield bot


#: The machine's Redis, shared with other tests: each test keeps to its own key prefix.
SHARED_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on the shared Redis, its keys deleted afterwards."""
    name = f"test:{uuid.uuid4().hex}:"
    yield name
    client = redis.asyncio.Redis.from_url(SHARED_REDIS)
    keys = [key async for key in client.scan_iter(f"{name}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    """A redis-server of this test's own (not started yet), killed afterwards."""
    server = OwnRedis(free_port(), tmp_path)
    yield server
    await server.kill()
