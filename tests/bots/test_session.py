"""The bots' HTTP session against the emulator: JSON bodies, files as forms, same errors."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bots.session import JsonSession
from tests.bots.conftest import TOKEN
from tests.emulator import Emulator

ANSWER = "Выплата назначается на 12 месяцев. Размер — 50 % регионального прожиточного минимума."


async def test_a_message_with_buttons_arrives_intact_as_json(emu: Emulator, bot: Bot) -> None:
    citizen = emu.add_user()
    emu.send_text(emu.bot(TOKEN), citizen, "/start")  # the citizen opened the chat
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="👍 Да", callback_data="fb:1:1"),
        InlineKeyboardButton(text="👎 Нет", callback_data="fb:1:0"),
    ]])
    sent = await bot.send_message(citizen.id, ANSWER, reply_markup=markup,
                                  disable_notification=False)
    received = emu.last_message(citizen, bot=emu.bot(TOKEN))
    assert received is not None
    assert received["text"] == ANSWER
    assert received["reply_markup"] == markup.model_dump(exclude_none=True)
    assert sent.message_id == received["message_id"]
    call = emu.calls(method="sendMessage")[-1]
    # Sent as a JSON body: nested objects and booleans as such, not as form strings.
    assert call.params["reply_markup"]["inline_keyboard"][0][1]["text"] == "👎 Нет"
    assert call.params["disable_notification"] is False


async def test_a_file_still_goes_as_a_form(emu: Emulator, bot: Bot) -> None:
    operators = emu.add_group()
    document = BufferedInputFile("Справка".encode(), "справка.txt")
    await bot.send_document(operators.id, document, caption="Заявление")
    call = emu.calls(method="sendDocument")[-1]
    assert call.ok
    assert list(call.files.values()) == ["справка.txt"]


async def test_telegram_errors_are_raised_as_by_aiogram(emu: Emulator, bot: Bot) -> None:
    citizen = emu.add_user()
    emu.send_text(emu.bot(TOKEN), citizen, "/start")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, ANSWER)
    emu.block_bot(emu.bot(TOKEN), citizen)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(citizen.id, ANSWER)


async def test_an_unreachable_server_is_a_network_error() -> None:
    session = JsonSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9"), timeout=2)
    async with Bot(TOKEN, session=session) as bot:
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(1, ANSWER)
