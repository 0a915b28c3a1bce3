"""Operators answer: a reply (or any message in a ticket's forum topic) goes to the citizen,
``//`` keeps an internal note, a card button sends an FAQ entry, and an answer can be kept as
an FAQ candidate. Which ticket a message of the operators' chat belongs to is decided here.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import Message

from bots.candidates import CandidateStore
from bots.cards import ENTRY_PREVIEW, refusal_reason, resolved_markup, to_faq_markup
from bots.operators_chat import OperatorsChat
from bots.render import answer_text, one_line
from bots.topic import Topic
from escalation.delivery import Undeliverable
from escalation.states import TicketState
from escalation.tickets import ClaimResult, Direction, Operator, Tickets, TicketView

log = logging.getLogger(__name__)

@dataclass
class Answers:
    """What operators send to citizens through the desk, and what it does to the ticket."""

    chat: OperatorsChat
    candidates: CandidateStore

    @property
    def tickets(self) -> Tickets:
        return self.chat.tickets

    async def ticket_of(self, topic: Topic, message: Message) -> TicketView | None:
        """The ticket a message of the operators' chat answers: by the message it replies to
        (a card, a relayed message, a notice), else by the forum topic it is in."""
        chat_id = message.chat.id
        replied = message.reply_to_message
        if replied is not None and replied.forum_topic_created is None:
            # Taken before the lookup: a pairing may commit while the lookup runs.
            busy = self.chat.pairing_pending(chat_id)
            found = await self.tickets.by_operators_message(chat_id, replied.message_id)
            if found is None and busy:
                await self.chat.settled(chat_id)
                found = await self.tickets.by_operators_message(chat_id, replied.message_id)
            if found is not None:
                return found
        if message.is_topic_message and message.message_thread_id:
            return await self.tickets.by_thread(chat_id, message.message_thread_id)
        return None

    async def _undeliverable(self, bot: Bot, topic: Topic, ticket: TicketView,
                             operator: Operator, error: Undeliverable, chat_id: int | None, *,
                             reply_to: int | None = None, thread_id: int | None) -> str:
        """The citizen could not get the answer: recorded, and operators told why."""
        text = topic.texts.op_undeliverable.format(ticket=ticket.id,
                                                   reason=refusal_reason(error.reason))
        await self.tickets.note_event(ticket.id, "undeliverable", operator=operator,
                                      detail=error.reason)
        if chat_id is not None:
            await self.chat.notice(bot, ticket, chat_id, text, reply_to=reply_to,
                                   thread_id=thread_id)
        return text

    async def _ask_resolved(self, bot: Bot, topic: Topic, ticket: TicketView) -> None:
        with contextlib.suppress(Undeliverable):
            await self.chat.delivery.send_text(
                bot, ticket.chat_id, topic.texts.resolved_prompt.format(ticket=ticket.id),
                reply_markup=resolved_markup(topic, ticket.id))

    async def answer(self, bot: Bot, topic: Topic, ticket: TicketView, message: Message,
                     operator: Operator) -> None:
        """An operator's message meant for the citizen of ``ticket``."""
        chat_id, reply_to = message.chat.id, message.message_id
        thread = message.message_thread_id if message.is_topic_message else None
        texts = topic.texts
        if ticket.state is TicketState.CLOSED:
            await self.chat.notice(bot, ticket, chat_id, texts.op_ticket_closed.format(
                ticket=ticket.id), reply_to=reply_to, thread_id=thread)
            return
        result, claimed = await self.tickets.claim(ticket.id, operator)
        if result is ClaimResult.TAKEN and claimed is not None:
            await self.tickets.note_event(ticket.id, "answer_refused", operator=operator,
                                          detail=f"owned by {claimed.owner_name}")
            await self.chat.notice(bot, ticket, chat_id, texts.op_taken.format(
                ticket=ticket.id, owner=claimed.owner_name), reply_to=reply_to,
                thread_id=thread)
            return
        try:
            await self.chat.delivery.copy(bot, from_chat_id=chat_id, message_id=reply_to,
                                          chat_id=ticket.chat_id)
        except Undeliverable as error:
            await self._undeliverable(bot, topic, ticket, operator, error, chat_id,
                                      reply_to=reply_to, thread_id=thread)
            if result is ClaimResult.CLAIMED and claimed is not None:
                await self.chat.refresh(bot, topic, claimed)
            return
        await self.tickets.add_message(
            ticket.id, Direction.OUT, operators_chat_id=chat_id, operators_message_id=reply_to,
            operator_tg_id=operator.tg_id, text=message.text or message.caption)
        answered = await self.tickets.answered(ticket.id, operator)
        await self._ask_resolved(bot, topic, answered)
        await self.chat.notice(bot, answered, chat_id, texts.op_delivered.format(
            ticket=ticket.id), reply_to=reply_to, thread_id=thread,
            markup=to_faq_markup(topic, ticket.id, reply_to))
        await self.chat.refresh(bot, topic, answered)

    async def note(self, topic: Topic, ticket: TicketView, message: Message,
                   operator: Operator) -> None:
        """``//`` — an internal note: stored with the ticket, never sent to the citizen."""
        await self.tickets.add_message(
            ticket.id, Direction.NOTE, operators_chat_id=message.chat.id,
            operators_message_id=message.message_id, operator_tg_id=operator.tg_id,
            text=message.text or message.caption)
        await self.tickets.note_event(ticket.id, "note", operator=operator)

    async def answer_with_entry(self, bot: Bot, topic: Topic, ticket_id: int, index: int,
                                operator: Operator) -> str:
        """Answer the ticket with the FAQ entry the matcher ranked ``index``-th; a toast."""
        texts = topic.texts
        ticket = topic.own(await self.tickets.get(ticket_id))
        if ticket is None or not 0 <= index < len(ticket.candidates):
            return texts.stale_button
        entry = topic.faq.current.entries.get(ticket.candidates[index][0])
        if entry is None:
            return texts.stale_button
        if ticket.state is TicketState.CLOSED:
            return texts.op_ticket_closed.format(ticket=ticket.id)
        result, claimed = await self.tickets.claim(ticket.id, operator)
        if result is ClaimResult.TAKEN and claimed is not None:
            return texts.op_taken.format(ticket=ticket.id, owner=claimed.owner_name)
        chat_id = ticket.operators_chat_id or topic.operators_chat_id
        try:
            await self.chat.delivery.send_text(bot, ticket.chat_id, answer_text(texts, entry))
        except Undeliverable as error:
            return await self._undeliverable(bot, topic, ticket, operator, error, chat_id,
                                             thread_id=ticket.thread_id)
        await self.tickets.add_message(ticket.id, Direction.OUT, operator_tg_id=operator.tg_id,
                                       text=f"[FAQ {entry.id}]")
        answered = await self.tickets.answered(ticket.id, operator, detail=f"faq:{entry.id}")
        await self._ask_resolved(bot, topic, answered)
        if chat_id is not None:
            await self.chat.notice(bot, answered, chat_id, texts.op_faq_sent.format(
                entry=one_line(entry.question, ENTRY_PREVIEW), ticket=ticket.id,
                owner=operator.name), thread_id=answered.thread_id)
        await self.chat.refresh(bot, topic, answered)
        return texts.op_delivered.format(ticket=ticket.id)

    async def to_faq(self, topic: Topic, ticket_id: int, message_id: int,
                     operator: Operator) -> str:
        """Keep the ticket's question and the operator's answer as an FAQ candidate."""
        ticket = topic.own(await self.tickets.get(ticket_id))
        if ticket is None:
            return topic.texts.stale_button
        answer = next((m for m in await self.tickets.messages(ticket_id)
                       if m.direction == Direction.OUT and m.operators_message_id == message_id),
                      None)
        if answer is None or not answer.text:
            return topic.texts.stale_button
        self.candidates.add(topic.name, ticket=ticket.id, question=ticket.text,
                            answer=answer.text, operator=operator.name,
                            at=self.tickets.now())
        await self.tickets.note_event(ticket_id, "to_faq", operator=operator)
        return topic.texts.op_to_faq_saved.format(ticket=ticket.id)
