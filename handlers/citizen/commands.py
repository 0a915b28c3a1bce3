"""The citizen's commands: /start, /my, /help, /forget (and operators' commands refused)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from bots.cards import local_time, state_name
from bots.forget import confirm_markup
from bots.render import shorten
from bots.topic import Topic
from escalation.delivery import Delivery
from escalation.tickets import Tickets
from handlers import keyboards

OPERATOR_COMMANDS = ("queue", "stats", "ban", "unban")
QUESTION_PREVIEW = 80


async def start(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
    await delivery.send_text(bot, message.chat.id, topic.texts.start,
                             reply_markup=keyboards.main_menu(topic.texts))


async def my(message: Message, bot: Bot, topic: Topic, tickets: Tickets,
             delivery: Delivery) -> None:
    """The citizen's own tickets, newest first."""
    assert message.from_user is not None
    mine = await tickets.of_citizen(topic.name, message.from_user.id)
    if not mine:
        await delivery.send_text(bot, message.chat.id, topic.texts.my_empty)
        return
    policy = tickets.policy(topic.name)
    lines = [topic.texts.my_title] + [
        topic.texts.my_line.format(ticket=t.id, date=local_time(policy, t.created_at),
                                   state=state_name(topic, t.state),
                                   question=shorten(t.text, QUESTION_PREVIEW))
        for t in mine
    ]
    await delivery.send_text(bot, message.chat.id, "\n".join(lines))


async def operator_command(message: Message, bot: Bot, topic: Topic,
                           delivery: Delivery) -> None:
    await delivery.send_text(bot, message.chat.id, topic.texts.op_not_allowed)


async def help_(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
    text = topic.texts.help.format(example=topic.texts.example)
    await delivery.send_text(bot, message.chat.id, text)


async def forget(message: Message, bot: Bot, topic: Topic, delivery: Delivery) -> None:
    await delivery.send_text(bot, message.chat.id, topic.texts.forget_confirm,
                             reply_markup=confirm_markup(topic.texts))


def commands_router() -> Router:
    router = Router(name="citizen.commands")
    router.message.register(start, CommandStart())
    router.message.register(my, Command("my"))
    router.message.register(operator_command, Command(*OPERATOR_COMMANDS))
    router.message.register(help_, Command("help"))
    router.message.register(forget, Command("forget"))
    return router
