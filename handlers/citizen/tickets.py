"""The citizen's buttons about their ticket ("resolved?", the rating) and /forget's
confirmation."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bots.cards import Rate, Resolved, rating_markup
from bots.desk import Desk
from bots.forget import Forget, done_text, forget_citizen
from bots.topic import Topic
from escalation.delivery import Delivery
from escalation.tickets import Tickets, TicketView
from handlers.citizen.filters import citizen_of
from handlers.common import edit_or_send, stale_button


async def _feedback(query: CallbackQuery, bot: Bot, topic: Topic, tickets: Tickets,
                    delivery: Delivery, ticket_id: int, *, resolved: bool | None = None,
                    rating: int | None = None, toast: str | None = None) -> TicketView | None:
    """The citizen's verdict on their ticket, the button answered (with ``toast``); None
    (told "stale") if it is not theirs."""
    ticket = topic.own(await tickets.citizen_feedback(
        ticket_id, citizen_of(query).tg_user_id, resolved=resolved, rating=rating))
    if ticket is None:
        await stale_button(query, bot, topic, delivery)
    else:
        await delivery.answer_callback(bot, query.id, toast)
    return ticket


async def resolved(query: CallbackQuery, callback_data: Resolved, bot: Bot, topic: Topic,
                   tickets: Tickets, delivery: Delivery, desk: Desk) -> None:
    """"Yes" closes the ticket and asks for a rating; "no" reopens it. Operators are told."""
    ticket = await _feedback(query, bot, topic, tickets, delivery, callback_data.t,
                             resolved=callback_data.yes)
    if ticket is None:
        return
    citizen = citizen_of(query)
    texts = topic.texts
    if callback_data.yes:
        text, markup = texts.rate_prompt, rating_markup(ticket.id)
        notice = texts.op_citizen_resolved.format(ticket=ticket.id)
    else:
        text, markup = texts.reopened_reply.format(ticket=ticket.id), None
        notice = texts.op_citizen_reopened.format(ticket=ticket.id)
    message_id = query.message.message_id if query.message else None
    await edit_or_send(bot, citizen.chat_id, message_id, text, markup, delivery)
    if ticket.operators_chat_id is not None:
        await desk.chat.notice(bot, ticket, ticket.operators_chat_id, notice,
                               reply_to=ticket.card_message_id, thread_id=ticket.thread_id)
    await desk.chat.refresh(bot, topic, ticket)


async def rate(query: CallbackQuery, callback_data: Rate, bot: Bot, topic: Topic,
               tickets: Tickets, delivery: Delivery, desk: Desk) -> None:
    ticket = await _feedback(query, bot, topic, tickets, delivery, callback_data.t,
                             rating=callback_data.stars, toast=topic.texts.rated_thanks)
    if ticket is None:
        return
    if query.message is not None:
        await delivery.edit_text(bot, citizen_of(query).chat_id, query.message.message_id,
                                 topic.texts.rated_thanks)
    await desk.chat.refresh(bot, topic, ticket)


async def forget_confirmed(query: CallbackQuery, callback_data: Forget, bot: Bot,
                           topic: Topic, delivery: Delivery, desk: Desk) -> None:
    citizen = citizen_of(query)
    await delivery.answer_callback(bot, query.id)
    text = topic.texts.forget_cancelled
    if callback_data.yes:
        forgotten = await forget_citizen(bot, topic, desk, citizen.tg_user_id)
        text = done_text(topic.texts, forgotten)
    message_id = query.message.message_id if query.message else None
    await edit_or_send(bot, citizen.chat_id, message_id, text, None, delivery)


def tickets_router() -> Router:
    router = Router(name="citizen.tickets")
    router.callback_query.register(resolved, Resolved.filter())
    router.callback_query.register(rate, Rate.filter(F.stars.in_({1, 2, 3, 4, 5})))
    router.callback_query.register(forget_confirmed, Forget.filter())
    return router
