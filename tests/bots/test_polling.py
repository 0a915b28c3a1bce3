"""The poller's scheduling: one chat's updates in order, different chats side by side, and no
per-chat state left behind once a chat's updates are handled; while the database refuses
writes, updates stay with Telegram and are handled once each when it accepts them again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update

from bots import polling
from bots.intake import Intake
from bots.polling import BotPoller
from bots.session import JsonSession
from escalation.db import create_engine, make_session_factory, upgrade_database
from escalation.inbox import Inbox
from tests.emulator import running_emulator

TOKEN = "123456:polling-test-token"


def _update(update_id: int, chat_id: int, text: str) -> Update:
    return Update.model_validate({"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000, "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Гражданин"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Гражданин"}}})


async def test_one_chat_in_order_other_chats_meanwhile_and_nothing_kept(
        tmp_path: Path) -> None:
    started: list[str] = []
    finished: list[str] = []
    release = asyncio.Event()
    other_chat_done = asyncio.Event()
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def slow(message: Message) -> None:
        started.append(message.text or "")
        if message.text == "первый":
            await release.wait()  # the first question of chat 1 takes a while
        finished.append(message.text or "")
        if message.text == "другой чат":
            other_chat_done.set()

    url = f"sqlite+aiosqlite:///{tmp_path / 'bots.sqlite3'}"
    await upgrade_database(url)
    engine = create_engine(url)
    intake = Intake(dispatcher, Inbox(make_session_factory(engine)), owner="test")
    bot = Bot("1:test")
    intake.add_bot("payments", bot)
    poller = BotPoller(bot, dispatcher, name="payments", timeout=1, intake=intake)
    await poller._accept([_update(1, 100, "первый"), _update(2, 100, "второй"),
                          _update(3, 200, "другой чат")])
    assert poller.offset == 4  # stored: Telegram may forget them
    await asyncio.wait_for(other_chat_done.wait(), timeout=5)
    other_chat = intake._chats.get(("payments", 200))
    if other_chat is not None:  # settling its update, looking for the next
        await asyncio.wait_for(other_chat, timeout=5)
    # Chat 200 was answered while chat 100's first question is still being handled; chat 100's
    # second question waits for its turn.
    assert finished == ["другой чат"]
    assert "второй" not in started
    assert intake.chats_in_flight == 1
    release.set()
    assert await intake.wait_idle(5)
    assert finished == ["другой чат", "первый", "второй"]
    assert intake.chats_in_flight == 0
    await intake.stop(1)
    await engine.dispose()


# --- the database refuses writes -----------------------------------------------------------------

async def _until(condition: Callable[[], bool], what: str) -> None:
    """Until ``condition()`` holds (it reads plain state that has no event), at most 10 s."""
    try:
        async with asyncio.timeout(10):
            while not condition():  # noqa: ASYNC110 - nothing to wait on but the state itself
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


async def test_updates_wait_with_telegram_while_the_database_refuses_writes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(polling, "RETRY_MIN", 0.05)  # quick retries: the test waits less
    monkeypatch.setattr(polling, "STORAGE_RETRY_MAX", 0.2, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'bots.sqlite3'}"
    await upgrade_database(url)
    engine = create_engine(url)
    inbox = Inbox(make_session_factory(engine))
    handled: Counter[str] = Counter()
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def count(message: Message) -> None:
        handled[message.text or ""] += 1

    async def refuse_writes(refuse: bool) -> None:
        # The process's one SQLite connection (escalation.db) turns read-only: every write
        # fails with SQLite's own "attempt to write a readonly database".
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f"PRAGMA query_only={int(refuse)}")

    caplog.set_level(logging.INFO)
    with running_emulator() as emu:
        account = emu.add_bot(token=TOKEN, username="payments_bot")
        session = JsonSession(api=TelegramAPIServer.from_base(emu.base_url), timeout=5)
        async with Bot(TOKEN, session=session) as bot:
            intake = Intake(dispatcher, inbox, owner="test", resume_interval=0.05)
            intake.add_bot("payments", bot)
            await intake.start(sole=True)
            poller = BotPoller(bot, dispatcher, name="payments", timeout=0, intake=intake)
            await refuse_writes(True)
            citizens = [emu.add_user(), emu.add_user()]
            for n, citizen in enumerate(citizens * 2):
                emu.send_text(account, citizen, f"вопрос {n}")
            task = asyncio.create_task(poller.run())
            try:
                await _until(lambda: inbox.storage.failures >= 5, "5 failed attempts")
                # Not stored, not confirmed: Telegram keeps all 4; nothing was handled.
                assert len(emu.pending_updates(account)) == 4
                assert not handled
                assert not inbox.storage.ok
                assert inbox.storage.reason == (
                    "OperationalError: attempt to write a readonly database")
                assert "storing updates: failing since" in inbox.storage.describe()
                said = [r for r in caplog.records if r.levelno >= logging.WARNING]
                assert len(said) == 1, f"not said once: {[r.getMessage() for r in said]}"
                assert "STORAGE" in said[0].getMessage()
                assert said[0].levelno == logging.ERROR
                assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"

                await refuse_writes(False)  # the disk is writable again
                await _until(lambda: sum(handled.values()) >= 4, "4 questions handled")
                await _until(lambda: not emu.pending_updates(account), "updates confirmed")
                await _until(lambda: not intake.chats_in_flight, "updates settled")
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await intake.stop(1)
    await engine.dispose()
    assert handled == Counter({f"вопрос {n}": 1 for n in range(4)})
    assert inbox.storage.ok
    assert inbox.storage.describe() == "storing updates: ok"
    assert await inbox.counts("payments") == {"done": 4}
    assert [r.levelno for r in caplog.records if "STORAGE" in r.getMessage()] == [
        logging.ERROR, logging.WARNING]
