"""The operators' chat of a bot as the desk writes to it: ticket cards, forum topics, relayed
messages of citizens and notices, each paired with its ticket so that replies find it.

Two modes per operators' chat, detected on first use: a **forum** supergroup gets one topic per
citizen (its title shows the ticket number and state) holding the whole conversation; a
**plain** group gets a ticket card per ticket, answered by replying to the card or to any
relayed message of the ticket. When the bot may not create topics it falls back to plain mode.
All sending goes through :class:`escalation.delivery.Delivery`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.methods import CreateForumTopic, EditForumTopic, GetChat
from aiogram.types import InlineKeyboardMarkup

from bots.cards import card_markup, card_text, refusal_reason, topic_title
from bots.topic import Topic
from escalation import privacy
from escalation.delivery import Delivery, Undeliverable
from escalation.tickets import Direction, Tickets, TicketView

log = logging.getLogger(__name__)

# Refusals of the operators' chat itself (not of one card): every card waits for the chat.
CHAT_REFUSALS = ("forbidden", "chat not found", "not enough rights", "have no rights",
                 "need administrator rights", "chat_write_forbidden", "not a member",
                 "was kicked", "group chat was deactivated")


class OperatorsChatUnreachable(Exception):
    """The operators' chat refuses every card now (e.g. the bot was removed from it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def chat_refusal(reason: str) -> bool:
    """Whether Telegram's refusal is about the operators' chat rather than one card."""
    lowered = reason.lower()
    return any(needle in lowered for needle in CHAT_REFUSALS)


@dataclass
class OperatorsChat:
    """Posting to the operators' chats, and pairing what was posted with its ticket."""

    tickets: Tickets
    delivery: Delivery
    _forum: dict[int, bool] = field(default_factory=dict)
    # Messages sent to an operators' chat but not yet paired with their ticket: a reply to
    # one of them waits for the pairing instead of being told "not a ticket".
    _unpaired: dict[int, int] = field(default_factory=dict)
    _paired: asyncio.Condition = field(default_factory=asyncio.Condition)

    @contextlib.asynccontextmanager
    async def _pairing(self, chat_id: int) -> AsyncIterator[None]:
        self._unpaired[chat_id] = self._unpaired.get(chat_id, 0) + 1
        try:
            yield
        finally:
            self._unpaired[chat_id] -= 1
            async with self._paired:
                self._paired.notify_all()

    def pairing_pending(self, chat_id: int) -> bool:
        """Whether a message being sent to ``chat_id`` is not paired with its ticket yet."""
        return bool(self._unpaired.get(chat_id))

    async def settled(self, chat_id: int, wait: float = 10.0) -> None:
        """Wait until every message being sent to ``chat_id`` is paired with its ticket."""
        async with self._paired:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._paired.wait_for(lambda: not self._unpaired.get(chat_id)), wait)

    async def _pair(self, ticket_id: int, direction: Direction, chat_id: int,
                    message_ids: list[int], *, citizen_message_id: int | None = None) -> None:
        for message_id in message_ids:
            await self.tickets.add_message(
                ticket_id, direction, citizen_message_id=citizen_message_id,
                operators_chat_id=self.delivery.current_chat(chat_id),
                operators_message_id=message_id)

    # --- forum or plain ----------------------------------------------------------------------

    async def is_forum(self, bot: Bot, chat_id: int, *, for_card: bool = False) -> bool:
        """``for_card``: a chat that refuses the bot raises :class:`OperatorsChatUnreachable`
        (its card waits) instead of being taken for a plain group."""
        known = self._forum.get(chat_id)
        if known is None:
            try:
                chat = await self.delivery.call(bot, GetChat(chat_id=chat_id))
                known = bool(chat.is_forum)
            except Undeliverable as error:
                if for_card and chat_refusal(error.reason):
                    raise OperatorsChatUnreachable(error.reason) from error
                log.warning("operators' chat %s unreachable: %s", chat_id, error.reason)
                return False
            self._forum[chat_id] = known
            log.info("operators' chat %s works in %s mode", chat_id,
                     "forum" if known else "plain")
        return known

    async def _thread(self, bot: Bot, topic: Topic, ticket: TicketView,
                      chat_id: int) -> int | None:
        """The citizen's forum topic (created when missing), or None in plain mode."""
        if not await self.is_forum(bot, chat_id, for_card=True):
            return None
        thread = await self.tickets.thread_of(ticket.citizen_id, chat_id)
        if thread:
            return thread
        try:
            created = await self.delivery.call(
                bot, CreateForumTopic(chat_id=chat_id, name=topic_title(topic, ticket)))
        except Undeliverable as error:
            if "forbidden" in error.reason.lower():  # not in the chat: not a lack of rights
                raise OperatorsChatUnreachable(error.reason) from error
            log.warning("cannot create forum topics in %s (%s): plain mode", chat_id,
                        error.reason)
            self._forum[chat_id] = False
            return None
        await self.tickets.save_thread(ticket.citizen_id, chat_id, created.message_thread_id)
        return created.message_thread_id

    async def _retitle(self, bot: Bot, topic: Topic, ticket: TicketView, chat_id: int,
                       thread: int) -> None:
        try:
            await self.delivery.call(bot, EditForumTopic(
                chat_id=chat_id, message_thread_id=thread, name=topic_title(topic, ticket)))
        except Undeliverable as error:
            if "not modified" not in error.reason.lower():
                log.info("ticket %d: topic title not changed: %s", ticket.id, error.reason)

    # --- cards -------------------------------------------------------------------------------

    async def _card(self, topic: Topic, ticket: TicketView) -> str:
        earlier = await self.tickets.earlier(ticket)
        return card_text(topic, self.tickets.policy(topic.name), ticket, earlier)

    async def post_card(self, bot: Bot, topic: Topic, ticket: TicketView) -> bool:
        """Post the ticket's card (in the citizen's topic in forum mode); False if this card
        could not be posted (tried again later). Raises :class:`OperatorsChatUnreachable`
        when no card can be posted to the chat now (the bot was removed, lost its rights)."""
        chat_id = topic.operators_chat_id
        if chat_id is None:
            return False
        text = await self._card(topic, ticket)
        thread = await self._thread(bot, topic, ticket, chat_id)
        key = f"card:{ticket.id}:{thread or 0}"
        if self.delivery.outbox is not None:
            # A refusal is not final for a card: the bot may be back in the chat by now.
            await self.delivery.outbox.retry_failed(str(bot.id), key)
        async with self._pairing(chat_id):
            try:
                # One card per ticket, even when posting is retried after a crash.
                sent = await self.delivery.send_text(
                    bot, chat_id, text, reply_markup=card_markup(topic, ticket),
                    message_thread_id=thread, key=key)
            except Undeliverable as error:
                if thread is not None and "thread not found" in error.reason.lower():
                    # The topic was deleted by someone: start a new one next time.
                    await self.tickets.save_thread(ticket.citizen_id, chat_id, 0)
                    return False
                if chat_refusal(error.reason):
                    raise OperatorsChatUnreachable(error.reason) from error
                log.error("ticket %d: card not posted to the operators' chat: %s", ticket.id,
                          error.reason)
                return False
            await self.tickets.place(ticket.id,
                                     operators_chat_id=self.delivery.current_chat(chat_id),
                                     card_message_id=sent[-1], thread_id=thread)
        if ticket.media_message_id is not None:
            placed = await self.tickets.get(ticket.id)
            if placed is not None:
                await self.relay_in(bot, topic, placed, message_id=ticket.media_message_id)
        if thread is not None:
            await self._retitle(bot, topic, ticket, chat_id, thread)
        return True

    async def refresh(self, bot: Bot, topic: Topic, ticket: TicketView) -> None:
        """Show the ticket's current state on its card (and in its topic title)."""
        if ticket.card_message_id is None:
            # The card may be being posted right now, or have been posted since ``ticket``
            # was read: edit it once it is paired.
            if topic.operators_chat_id is not None and self.pairing_pending(
                    topic.operators_chat_id):
                await self.settled(topic.operators_chat_id)
            ticket = await self.tickets.get(ticket.id) or ticket
        if ticket.operators_chat_id is None or ticket.card_message_id is None:
            return
        text = await self._card(topic, ticket)
        with contextlib.suppress(Undeliverable):
            await self.delivery.edit_text(
                bot, ticket.operators_chat_id, ticket.card_message_id, text,
                reply_markup=card_markup(topic, ticket), new_message_fallback=False)
        if ticket.thread_id:
            await self._retitle(bot, topic, ticket, ticket.operators_chat_id, ticket.thread_id)

    # --- notices and relayed messages --------------------------------------------------------

    async def notice(self, bot: Bot, ticket: TicketView | None, chat_id: int, text: str, *,
                     reply_to: int | None = None, thread_id: int | None = None,
                     markup: InlineKeyboardMarkup | None = None) -> int | None:
        """Tell operators something; the notice is paired with the ticket for replies."""
        async with self._pairing(chat_id):
            try:
                sent = await self.delivery.send_text(bot, chat_id, text, reply_markup=markup,
                                                     reply_to_message_id=reply_to,
                                                     message_thread_id=thread_id)
            except Undeliverable as error:
                log.error("notice to operators' chat %s failed: %s", chat_id, error.reason)
                return None
            if ticket is not None:
                await self._pair(ticket.id, Direction.NOTICE, chat_id, sent[-1:])
        return sent[-1]

    async def relay_in(self, bot: Bot, topic: Topic, ticket: TicketView, *,
                       message_id: int, text: str | None = None, media: bool = False) -> None:
        """Copy the citizen's message into the ticket's place in the operators' chat.

        A message with personal numbers in ``text`` (its text or caption) is not copied, since
        a copy would show them: operators get its masked text instead, and a note that its
        attachment (``media``) was withheld. The caption that opened the ticket
        (``media_message_id``) is judged by the ticket's own, already masked, text.
        """
        chat_id = ticket.operators_chat_id or topic.operators_chat_id
        if chat_id is None:
            return
        if text is None and message_id == ticket.media_message_id:
            text, media = ticket.text, True
        masked = privacy.mask(text) if text else ""
        withheld = bool(masked) and (masked != text or privacy.is_masked(masked))
        thread = ticket.thread_id
        if thread is None and await self.is_forum(bot, chat_id):
            thread = await self.tickets.thread_of(ticket.citizen_id, chat_id)
        thread_id, reply_to = thread or None, None if thread else ticket.card_message_id
        async with self._pairing(chat_id):
            try:
                if withheld:
                    body = topic.texts.op_relay_masked.format(text=masked)
                    if media:
                        body += "\n" + topic.texts.op_attachment_withheld
                    relayed = await self.delivery.send_text(
                        bot, chat_id, body, message_thread_id=thread_id,
                        reply_to_message_id=reply_to)
                else:
                    relayed = [await self.delivery.copy(
                        bot, from_chat_id=ticket.chat_id, message_id=message_id,
                        chat_id=chat_id, message_thread_id=thread_id,
                        reply_to_message_id=reply_to)]
            except Undeliverable as error:
                log.error("ticket %d: citizen's message not relayed: %s", ticket.id,
                          error.reason)
                await self.tickets.note_event(ticket.id, "relay_failed", operator=None,
                                              detail=error.reason)
                failed: Undeliverable | None = error
            else:
                failed = None
                await self._pair(ticket.id, Direction.IN, chat_id, relayed,
                                 citizen_message_id=message_id)
        if failed is not None:
            await self._relay_failed(bot, topic, ticket, chat_id, failed, thread_id=thread_id,
                                     reply_to=reply_to)

    async def _relay_failed(self, bot: Bot, topic: Topic, ticket: TicketView, chat_id: int,
                            error: Undeliverable, *, thread_id: int | None,
                            reply_to: int | None) -> None:
        """A follow-up given up for good: the citizen is asked to send it again and operators
        see that one was lost (both also when the other side cannot be reached)."""
        with contextlib.suppress(Undeliverable):
            await self.delivery.send_text(
                bot, ticket.chat_id, topic.texts.follow_up_not_relayed.format(ticket=ticket.id))
        await self.notice(bot, ticket, chat_id, topic.texts.op_relay_failed.format(
            ticket=ticket.id, reason=refusal_reason(error.reason)),
            reply_to=reply_to, thread_id=thread_id)
