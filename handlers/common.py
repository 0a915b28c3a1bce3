"""What the citizen's and the operators' routers share: the answer to a stale button, and
editing a message in place when there is one."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from bots.topic import Topic
from escalation.delivery import Delivery


async def stale_button(query: CallbackQuery, bot: Bot, topic: Topic, delivery: Delivery) -> None:
    """A button whose data is forged, foreign or outdated: say so in an alert."""
    await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)


async def edit_or_send(bot: Bot, chat_id: int, message_id: int | None, text: str,
                       markup: InlineKeyboardMarkup | None, delivery: Delivery) -> None:
    """Replace the text (and keyboard) of ``message_id``, or send a new message without one."""
    if message_id is None:
        await delivery.send_text(bot, chat_id, text, reply_markup=markup)
    else:
        await delivery.edit_text(bot, chat_id, message_id, text, reply_markup=markup)
