"""The operators' side of a topic bot: replies, notes, buttons and commands in its operators' chat.

Dependencies arrive by name: ``topic``, ``desk`` (:class:`bots.desk.Desk`: its ``chat`` posts
notices, its ``answers`` deliver answers), ``gate``
(:class:`bots.access.OperatorGate`), ``tickets`` and ``delivery``. Only the configured
operators' chat of the bot that received the update is served; everything else in groups is
ignored. Who may act is decided by the gate.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bots.access import OperatorGate, Refusal
from bots.cards import FaqAnswer, TicketAction, TicketButton, ToFaq, queue_text, stats_text
from bots.desk import Desk
from bots.live_status import LiveStatus
from bots.report.post import ReportPoster
from bots.topic import Topic
from escalation.delivery import Delivery
from escalation.tickets import Actor, ClaimResult, Operator, Tickets, TicketView
from handlers.common import stale_button

NOTE_PREFIX = "//"
DEFAULT_STATS_DAYS = 30
DEFAULT_REPORT_DAYS = 7
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


async def _say(message: Message, bot: Bot, desk: Desk, text: str, *,
               ticket: TicketView | None = None, reply: bool = False) -> None:
    """A notice where ``message`` was written (its forum topic), as a reply to it if
    ``reply``; paired with ``ticket`` when given."""
    thread = message.message_thread_id if message.is_topic_message else None
    await desk.chat.notice(bot, ticket, message.chat.id, text,
                           reply_to=message.message_id if reply else None, thread_id=thread)


async def _operator(message: Message, bot: Bot, topic: Topic, gate: OperatorGate,
                    desk: Desk) -> Operator | None:
    """The operator who wrote ``message``, or None after telling them why not."""
    who = await gate.check(bot, topic, message.from_user, message.sender_chat)
    if isinstance(who, Operator):
        return who
    if who is not Refusal.IGNORED:
        text = topic.texts.op_anonymous if who is Refusal.ANONYMOUS else topic.texts.op_not_allowed
        await _say(message, bot, desk, text, reply=True)
    return None


def _is_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts «²» and «①», which ``int`` refuses."""
    return text.isascii() and text.isdigit()


def _days(command: CommandObject, default: int) -> int:
    """``/stats 7`` → 7; no number (or «²», «неделя») → ``default``."""
    args = (command.args or "").strip()
    return int(args) if _is_number(args) else default


async def _ticket_from_command(message: Message, command: CommandObject, topic: Topic,
                               desk: Desk, tickets: Tickets) -> tuple[TicketView | None, str]:
    """``/ban 12 reason`` or ``/ban reason`` as a reply inside a ticket: (ticket, rest)."""
    args = (command.args or "").strip()
    first, _, rest = args.partition(" ")
    number = first.lstrip("№#")
    if _is_number(number):
        return topic.own(await tickets.get(int(number))), rest.strip()
    return await desk.answers.ticket_of(topic, message), args


async def queue(message: Message, bot: Bot, topic: Topic, gate: OperatorGate, desk: Desk,
                tickets: Tickets) -> None:
    if await _operator(message, bot, topic, gate, desk) is None:
        return
    text = queue_text(topic, await tickets.queue(topic.name), now=tickets.now(),
                      working_seconds=functools.partial(tickets.working_seconds, topic.name))
    await _say(message, bot, desk, text)


async def stats(message: Message, command: CommandObject, bot: Bot, topic: Topic,
                gate: OperatorGate, desk: Desk, tickets: Tickets) -> None:
    if await _operator(message, bot, topic, gate, desk) is None:
        return
    days = min(max(_days(command, DEFAULT_STATS_DAYS), 1), MAX_STATS_DAYS)
    figures = await tickets.stats(topic.name, since=tickets.now() - timedelta(days=days))
    await _say(message, bot, desk, stats_text(topic, figures, days))


async def report(message: Message, command: CommandObject, bot: Bot, topic: Topic,
                 gate: OperatorGate, desk: Desk, poster: ReportPoster) -> None:
    """``/report [days]``: the supervisors' charts and summary, here."""
    if await _operator(message, bot, topic, gate, desk) is None:
        return
    thread = message.message_thread_id if message.is_topic_message else None
    await poster.on_demand(bot, topic, message.chat.id,
                           days=_days(command, DEFAULT_REPORT_DAYS), thread_id=thread)


async def health(message: Message, bot: Bot, topic: Topic, gate: OperatorGate, desk: Desk,
                 status: LiveStatus) -> None:
    """``/health``: the database, the cards, the durable queues, right now."""
    if await _operator(message, bot, topic, gate, desk) is None:
        return
    await _say(message, bot, desk, await status.text(topic, bot.id))


async def ban(message: Message, command: CommandObject, bot: Bot, topic: Topic,
              gate: OperatorGate, desk: Desk, tickets: Tickets) -> None:
    operator = await _operator(message, bot, topic, gate, desk)
    if operator is None:
        return
    texts = topic.texts
    ticket, reason = await _ticket_from_command(message, command, topic, desk, tickets)
    if ticket is None or (command.command == "ban" and not reason):
        await _say(message, bot, desk, texts.op_ban_usage, reply=True)
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
                await desk.chat.refresh(bot, topic, closed)
    else:
        done = await tickets.unban(topic.name, ticket.tg_user_id)
        text = (texts.op_unbanned if done else texts.op_not_banned).format(ticket=ticket.id)
        if done:
            await tickets.note_event(ticket.id, "unban", operator=operator)
    await _say(message, bot, desk, text, ticket=ticket, reply=True)


async def help_(message: Message, bot: Bot, topic: Topic, gate: OperatorGate,
                desk: Desk) -> None:
    if await _operator(message, bot, topic, gate, desk) is None:
        return
    await _say(message, bot, desk, topic.texts.op_help)


async def reply(message: Message, bot: Bot, topic: Topic, gate: OperatorGate,
                desk: Desk) -> None:
    """A reply to a ticket (or any message in a ticket's forum topic)."""
    if message.from_user is not None and message.from_user.id == bot.id:
        return
    ticket = await desk.answers.ticket_of(topic, message)
    if ticket is None:
        replied = message.reply_to_message
        to_bot = (replied is not None and replied.from_user is not None
                  and replied.from_user.id == bot.id and replied.forum_topic_created is None)
        if to_bot and await _operator(message, bot, topic, gate, desk) is not None:
            await _say(message, bot, desk, topic.texts.op_not_a_ticket, reply=True)
        return
    operator = await _operator(message, bot, topic, gate, desk)
    if operator is None:
        return
    text = message.text or message.caption or ""
    if text.lstrip().startswith(NOTE_PREFIX):
        await desk.answers.note(topic, ticket, message, operator)
        await _say(message, bot, desk, topic.texts.op_note_saved.format(ticket=ticket.id),
                   ticket=ticket, reply=True)
        return
    await desk.answers.answer(bot, topic, ticket, message, operator)


async def _query_operator(query: CallbackQuery, bot: Bot, topic: Topic,
                          gate: OperatorGate, delivery: Delivery) -> Operator | None:
    # Button presses always carry the real user, even for anonymous admins.
    who = await gate.check(bot, topic, query.from_user)
    if isinstance(who, Operator):
        return who
    text = topic.texts.op_anonymous if who is Refusal.ANONYMOUS else topic.texts.op_not_allowed
    await delivery.answer_callback(bot, query.id, _toast(text), alert=True)
    return None


async def ticket_button(query: CallbackQuery, callback_data: TicketButton, bot: Bot,
                        topic: Topic, gate: OperatorGate, desk: Desk, tickets: Tickets,
                        delivery: Delivery) -> None:
    operator = await _query_operator(query, bot, topic, gate, delivery)
    if operator is None:
        return
    texts = topic.texts
    ticket = topic.own(await tickets.get(callback_data.t))
    if ticket is None:
        await stale_button(query, bot, topic, delivery)
        return
    if callback_data.action is TicketAction.CLAIM:
        result, claimed = await tickets.claim(ticket.id, operator)
        if claimed is None:
            await stale_button(query, bot, topic, delivery)
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
        await desk.chat.refresh(bot, topic, claimed)
        return
    closed = await tickets.close(ticket.id, Actor.OPERATOR, operator=operator)
    if closed is None:
        await delivery.answer_callback(
            bot, query.id, _toast(texts.op_ticket_closed.format(ticket=ticket.id)))
        return
    await delivery.answer_callback(
        bot, query.id, _toast(texts.op_closed.format(ticket=ticket.id, owner=operator.name)))
    await desk.chat.refresh(bot, topic, closed)


async def faq_answer(query: CallbackQuery, callback_data: FaqAnswer, bot: Bot, topic: Topic,
                     gate: OperatorGate, desk: Desk, delivery: Delivery) -> None:
    operator = await _query_operator(query, bot, topic, gate, delivery)
    if operator is None:
        return
    toast = await desk.answers.answer_with_entry(bot, topic, callback_data.t,
                                                 callback_data.i, operator)
    await delivery.answer_callback(bot, query.id, _toast(toast))


async def to_faq(query: CallbackQuery, callback_data: ToFaq, bot: Bot, topic: Topic,
                 gate: OperatorGate, desk: Desk, delivery: Delivery) -> None:
    operator = await _query_operator(query, bot, topic, gate, delivery)
    if operator is None:
        return
    toast = await desk.answers.to_faq(topic, callback_data.t, callback_data.m, operator)
    await delivery.answer_callback(bot, query.id, _toast(toast))


async def member_changed(update: ChatMemberUpdated, topic: Topic, gate: OperatorGate) -> None:
    """Someone joined, left, was muted or promoted in the operators' chat: effective at once
    (the membership answers are cached for a minute otherwise)."""
    if topic.operators_chat_id is not None and update.chat.id == topic.operators_chat_id:
        gate.membership_changed(update.chat.id, update.new_chat_member.user.id)


def operator_router() -> Router:
    """Only the bot's own operators' chat is served; the catch-alls come last."""
    router = Router(name="operator")
    router.message.filter(in_operators_chat)
    router.callback_query.filter(in_operators_chat)
    router.message.register(queue, Command("queue"))
    router.message.register(stats, Command("stats"))
    router.message.register(report, Command("report"))
    router.message.register(health, Command("health"))
    router.message.register(ban, Command("ban", "unban"))
    router.message.register(help_, Command("help", "start"))
    router.message.register(reply)  # catch-all for messages: last
    router.chat_member.register(member_changed)
    router.callback_query.register(ticket_button, TicketButton.filter())
    router.callback_query.register(faq_answer, FaqAnswer.filter())
    router.callback_query.register(to_faq, ToFaq.filter())
    # Catch-all for buttons: forged, foreign or outdated callback data.
    router.callback_query.register(stale_button)
    return router
