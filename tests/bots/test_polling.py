"""The poller's scheduling: one chat's updates in order, different chats side by side, and no
per-chat state left behind once a chat's updates are handled."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update

from bots.polling import BotPoller


def _update(update_id: int, chat_id: int, text: str) -> Update:
    return Update.model_validate({"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000, "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Гражданин"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Гражданин"}}})


async def test_one_chat_in_order_other_chats_meanwhile_and_nothing_kept() -> None:
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

    poller = BotPoller(Bot("1:test"), dispatcher, name="payments", timeout=1)
    await poller._accept([_update(1, 100, "первый"), _update(2, 100, "второй"),
                          _update(3, 200, "другой чат")])
    await asyncio.wait_for(other_chat_done.wait(), timeout=5)
    # Chat 200 was answered while chat 100's first question is still being handled; chat 100's
    # second question waits for its turn.
    assert finished == ["другой чат"]
    assert "второй" not in started
    assert poller.chats_in_flight == 1
    release.set()
    assert await poller.wait_idle(5)
    assert finished == ["другой чат", "первый", "второй"]
    assert poller.chats_in_flight == 0
