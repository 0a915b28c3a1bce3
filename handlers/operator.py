"""The operators' side of a topic bot: replies, notes, buttons and commands in its operators' chat.

Dependencies arrive by name: ``topic``, ``desk`` (:class:`bots.desk.Desk`), ``gate``
(:class:`bots.access.OperatorGate`), ``tickets`` and ``delivery``. Only the configured
operators' chat of the bot that received the update is served; everything else in groups is
ignored. Who may act is decided by the gate.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bots.access import OperatorGate, Refusal
from bots.desk import Desk
from bots.topic import Topic
from escalation.delivery import Delivery
from escalation.tickets import Actor, ClaimResult, Operator, Tickets, TicketView
from handlers.callbacks import FaqAnswer, TicketAction, TicketButton, ToFaq

NOTE_PREFIX = "//"
DEFAULT_STATS_DAYS = 30
MAX_STATS_DAYS = 3660
CALLBACK_TEXT_LIMIT = 200


async def in_operators_chat(event: Message | CallbackQuery, topic: Topic) -> bool:
    """A coroutine: aiogram runs plain-function filters in a thread."""
    chat = event.chat if isinstance(event, Message) else (
        event.message.chat if event.message else None)
    return chat is not None and topic.operators_chat_id is not None and (
        chat.id == topic.operators_chat_id)


def _toast(text: str) -> str:
    return text if len(text) <= CALLBACK_TEXT_LIMIT else text[: CALLBACK_TEXT_LIMIT - 1] + "…"


def _thread(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


async def _operator(message: Message, bot: Bot, topic: Topic, gate: OperatorGate,
                    desk: Desk) -> Operator | None:
    """The operator who wrote ``message``, or None after telling them why not."""
    who = await gate.check(bot, topic, message.from_user, message.sender_chat)
    if isinstance(who, Operator):
        return who
    if who is not Refusal.IGNORED:
        text = topic.texts.op_anonymous if who is Refusal.ANONYMOUS else topic.texts.op_not_allowed
        await desk.notice(bot, None, message.chat.id, text, reply_to=message.message_id,
                          thread_id=_thread(message))
    return None


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts «²» and «①», which ``int`` refuses."""
    return text.isascii() and text.isdigit()


async def _ticket_from_command(message: Message, command: CommandObject, topic: Topic,
                               desk: Desk, tickets: Tickets) -> tuple[TicketView | None, str]:
    """``/ban 12 reason`` or ``/ban reason`` as a reply inside a ticket: (ticket, rest)."""
    args = (command.args or "").strip()
    first, _, rest = args.partition(" ")
    number = first.lstrip("№#")
    if _is_number(number):
        ticket = await tickets.get(int(number))
        if ticket is not None and ticket.bot == topic.name:
            return ticket, rest.strip()
        return None, rest.strip()
    return await desk.ticket_of(topic, message), args


def operator_router() -> Router:
    router = Router(name="operator")
    router.message.filter(in_operators_chat)
    router.callback_query.filter(in_operators_chat)

    @router.message(Command("queue"))
    async def queue(message: Message, bot: Bot, topic: Topic, gate: OperatorGate, desk: Desk,
                    tickets: Tickets) -> None:
        if await _operator(message, bot, topic, gate, desk) is None:
            return
        text = desk.queue_text(topic, await tickets.queue(topic.name))
        await desk.notice(bot, None, message.chat.id, text, thread_id=_thread(message))

    @router.message(Command("stats"))
    async def stats(message: Message, command: CommandObject, bot: Bot, topic: Topic,
                    gate: OperatorGate, desk: Desk, tickets: Tickets) -> None:
        if await _operator(message, bot, topic, gate, desk) is None:
            return
        args = (command.args or "").strip()
        days = int(args) if _is_number(args) else DEFAULT_STATS_DAYS
        days = min(max(days, 1), MAX_STATS_DAYS)
        figures = await tickets.stats(topic.name, since=tickets.now() - timedelta(days=days))
        await desk.notice(bot, None, message.chat.id, desk.stats_text(topic, figures, days),
                          thread_id=_thread(message))

    @router.message(Command("ban", "unban"))
    async def ban(message: Message, command: CommandObject, bot: Bot, topic: Topic,
                  gate: OperatorGate, desk: Desk, tickets: Tickets) -> None:
        operator = await _operator(message, bot, topic, gate, desk)
        if operator is None:
            return
        texts = topic.texts
        ticket, reason = await _ticket_from_command(message, command, topic, desk, tickets)
        if ticket is None or (command.command == "ban" and not reason):
            await desk.notice(bot, None, message.chat.id, texts.op_ban_usage,
                              reply_to=message.message_id, thread_id=_thread(message))
            return
        if command.command == "ban":
            done = await tickets.ban(topic.name, ticket.tg_user_id, reason=reason, by=operator)
            text = (texts.op_banned.format(ticket=ticket.id, reason=reason) if done
                    else texts.op_already_banned.format(ticket=ticket.id))
            if done:
                await tickets.note_event(ticket.id, "ban", operator=operator, detail=reason)
                closed = await tickets.close(ticket.id, Actor.OPERATOR, operator=operator,
                                             detail="banned")
                if closed is not None:
                    await desk.refresh(bot, topic, closed)
        else:
            done = await tickets.unban(topic.name, ticket.tg_user_id)
            text = (texts.op_unbanned if done else texts.op_not_banned).format(ticket=ticket.id)
            if done:
                await tickets.note_event(ticket.id, "unban", operator=operator)
        await desk.notice(bot, ticket, message.chat.id, text, reply_to=message.message_id,
                          thread_id=_thread(message))

    @router.message(Command("help", "start"))
    async def help_(message: Message, bot: Bot, topic: Topic, gate: OperatorGate,
                    desk: Desk) -> None:
        if await _operator(message, bot, topic, gate, desk) is None:
            return
        await desk.notice(bot, None, message.chat.id, topic.texts.op_help,
                          thread_id=_thread(message))

    @router.message()
    async def reply(message: Message, bot: Bot, topic: Topic, gate: OperatorGate,
                    desk: Desk) -> None:
        """A reply to a ticket (or any message in a ticket's forum topic)."""
        if message.from_user is not None and message.from_user.id == bot.id:
            return
        ticket = await desk.ticket_of(topic, message)
        if ticket is None:
            replied = message.reply_to_message
            to_bot = (replied is not None and replied.from_user is not None
                      and replied.from_user.id == bot.id and replied.forum_topic_created is None)
            if to_bot and await _operator(message, bot, topic, gate, desk) is not None:
                await desk.notice(bot, None, message.chat.id, topic.texts.op_not_a_ticket,
                                  reply_to=message.message_id, thread_id=_thread(message))
            return
        operator = await _operator(message, bot, topic, gate, desk)
        if operator is None:
            return
        text = message.text or message.caption or ""
        if text.lstrip().startswith(NOTE_PREFIX):
            await desk.note(bot, topic, ticket, message, operator)
            await desk.notice(bot, ticket, message.chat.id,
                              topic.texts.op_note_saved.format(ticket=ticket.id),
                              reply_to=message.message_id, thread_id=_thread(message))
            return
        await desk.answer(bot, topic, ticket, message, operator)

    async def _query_operator(query: CallbackQuery, bot: Bot, topic: Topic,
                              gate: OperatorGate, delivery: Delivery) -> Operator | None:
        # Button presses always carry the real user, even for anonymous admins.
        who = await gate.check(bot, topic, query.from_user)
        if isinstance(who, Operator):
            return who
        text = topic.texts.op_anonymous if who is Refusal.ANONYMOUS else topic.texts.op_not_allowed
        await delivery.answer_callback(bot, query.id, _toast(text), alert=True)
        return None

    @router.callback_query(TicketButton.filter())
    async def ticket_button(query: CallbackQuery, callback_data: TicketButton, bot: Bot,
                            topic: Topic, gate: OperatorGate, desk: Desk, tickets: Tickets,
                            delivery: Delivery) -> None:
        operator = await _query_operator(query, bot, topic, gate, delivery)
        if operator is None:
            return
        texts = topic.texts
        ticket = await tickets.get(callback_data.t)
        if ticket is None or ticket.bot != topic.name:
            await delivery.answer_callback(bot, query.id, texts.stale_button, alert=True)
            return
        if callback_data.action is TicketAction.CLAIM:
            result, claimed = await tickets.claim(ticket.id, operator)
            if claimed is None:
                await delivery.answer_callback(bot, query.id, texts.stale_button, alert=True)
                return
            toast = {
                ClaimResult.CLAIMED: texts.op_claimed,
                ClaimResult.ALREADY_YOURS: texts.op_claimed,
                ClaimResult.TAKEN: texts.op_taken,
                ClaimResult.CLOSED: texts.op_ticket_closed,
            }.get(result, texts.stale_button)
            await delivery.answer_callback(
                bot, query.id, _toast(toast.format(ticket=ticket.id, owner=claimed.owner_name)),
                alert=result is ClaimResult.TAKEN)
            await desk.refresh(bot, topic, claimed)
            return
        closed = await tickets.close(ticket.id, Actor.OPERATOR, operator=operator)
        if closed is None:
            await delivery.answer_callback(
                bot, query.id, _toast(texts.op_ticket_closed.format(ticket=ticket.id)))
            return
        await delivery.answer_callback(
            bot, query.id, _toast(texts.op_closed.format(ticket=ticket.id, owner=operator.name)))
        await desk.refresh(bot, topic, closed)

    @router.callback_query(FaqAnswer.filter())
    async def faq_answer(query: CallbackQuery, callback_data: FaqAnswer, bot: Bot, topic: Topic,
                         gate: OperatorGate, desk: Desk, delivery: Delivery) -> None:
        operator = await _query_operator(query, bot, topic, gate, delivery)
        if operator is None:
            return
        toast = await desk.answer_with_entry(bot, topic, callback_data.t, callback_data.i,
                                             operator)
        await delivery.answer_callback(bot, query.id, _toast(toast))

    @router.callback_query(ToFaq.filter())
    async def to_faq(query: CallbackQuery, callback_data: ToFaq, bot: Bot, topic: Topic,
                     gate: OperatorGate, desk: Desk, delivery: Delivery) -> None:
        operator = await _query_operator(query, bot, topic, gate, delivery)
        if operator is None:
            return
        toast = await desk.to_faq(topic, callback_data.t, callback_data.m, operator)
        await delivery.answer_callback(bot, query.id, _toast(toast))

    @router.callback_query()
    async def stale(query: CallbackQuery, bot: Bot, topic: Topic, delivery: Delivery) -> None:
        await delivery.answer_callback(bot, query.id, topic.texts.stale_button, alert=True)

    return router
