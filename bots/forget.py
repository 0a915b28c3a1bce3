"""``/forget``: a citizen erases their own data in one bot.

Their open tickets are closed first (the queue records who closed them and why), operators
are told, and then every text and the name of the citizen in that bot are erased at once
(:meth:`escalation.retention.Retention.forget`). The cards in the operators' chat are edited to
show the erased texts. What stays: the anonymous figures (counts, decisions, times, ratings),
the citizen's Telegram id (so that a ban still holds, and the bot can answer them again) and
bans with their reasons.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bots.desk import Desk
from bots.render import button, keyboard
from bots.texts import BotTexts
from bots.topic import Topic
from escalation.retention import Retention, RetentionReport
from escalation.tickets import Actor, TicketView

log = logging.getLogger(__name__)

#: A citizen has at most one active ticket per bot; this bounds a loop that expects one.
MAX_ACTIVE: Final = 10
#: How many of the citizen's newest tickets get their card edited.
MAX_CARDS: Final = 50
#: The ``close`` event's detail when the citizen erased their data.
FORGOTTEN: Final = "forgotten"


class Forget(CallbackData, prefix="fg"):
    """The citizen confirms (or cancels) /forget: erase their data in this bot."""

    yes: bool


@dataclass(frozen=True)
class Forgotten:
    erased: RetentionReport
    closed: list[int] = field(default_factory=list)


def confirm_markup(texts: BotTexts) -> InlineKeyboardMarkup:
    return keyboard([button(texts.btn_forget_yes, Forget(yes=True)),
                     button(texts.btn_forget_no, Forget(yes=False))])


def done_text(texts: BotTexts, forgotten: Forgotten) -> str:
    erased = forgotten.erased
    if not erased.total and not forgotten.closed:
        return texts.forget_nothing
    closed = texts.forget_closed.format(
        tickets=", ".join(f"№ {number}" for number in forgotten.closed)
    ) if forgotten.closed else ""
    return texts.forget_done.format(questions=erased.questions, tickets=erased.tickets,
                                    closed=closed)


async def forget_citizen(bot: Bot, topic: Topic, desk: Desk, tg_user_id: int) -> Forgotten:
    """Close the citizen's open tickets, erase their data in ``topic``'s bot, tell operators."""
    tickets = desk.tickets
    closed: list[TicketView] = []
    for _ in range(MAX_ACTIVE):
        active = await tickets.active_of(topic.name, tg_user_id)
        if active is None:
            break
        done = await tickets.close(active.id, Actor.CITIZEN, detail=FORGOTTEN)
        if done is None:
            break
        closed.append(done)
    erased = await Retention(tickets.sessions, clock=tickets.now).forget(
        topic.name, tg_user_id, bot_id=bot.id)
    for ticket in closed:
        chat_id = ticket.operators_chat_id or topic.operators_chat_id
        if chat_id is not None:
            await desk.chat.notice(bot, ticket, chat_id,
                                   topic.texts.op_citizen_forgot.format(ticket=ticket.id),
                                   reply_to=None if ticket.thread_id else ticket.card_message_id,
                                   thread_id=ticket.thread_id)
    # The cards (and forum topic titles) showed the question and the name: show them erased.
    for ticket in await tickets.of_citizen(topic.name, tg_user_id, limit=MAX_CARDS):
        if ticket.card_message_id is not None:
            await desk.chat.refresh(bot, topic, ticket)
    return Forgotten(erased, [ticket.id for ticket in closed])
