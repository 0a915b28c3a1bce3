"""The operators' desk: tickets in the operators' Telegram chat, and answers back to citizens.

Two modes per operators' chat, detected on first use: a **forum** supergroup gets one topic per
citizen (its title shows the ticket number and state) holding the whole conversation; a
**plain** group gets a ticket card per ticket, answered by replying to the card or to any
relayed message of the ticket. When the bot may not create topics it falls back to plain mode.

Cards are posted by one worker per bot, paced under the group limit, from the database: a ticket
whose card is not posted yet (a burst, a restart, an operators' chat that was unreachable) is
posted later, never lost. All sending goes through :class:`escalation.delivery.Delivery`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import CreateForumTopic, EditForumTopic, GetChat
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bots.candidates import CandidateStore
from bots.topic import Topic
from escalation import privacy
from escalation.delivery import TRANSIENT, Delivery, Undeliverable
from escalation.states import TicketState
from escalation.tickets import (
    ClaimResult,
    Direction,
    Operator,
    Tickets,
    TicketStats,
    TicketView,
)
from handlers.callbacks import (
    FaqAnswer,
    Rate,
    Resolved,
    TicketAction,
    TicketButton,
    ToFaq,
)
from handlers.render import answer_text, shorten

log = logging.getLogger(__name__)

STATE_EMOJI = {
    TicketState.NEW: "🆕",
    TicketState.IN_WORK: "🛠",
    TicketState.ANSWERED: "💬",
    TicketState.CLOSED: "✅",
}
MAX_CANDIDATE_BUTTONS = 3
BUTTON_CHARS = 40
TOPIC_TITLE_CHARS = 128
QUESTION_PREVIEW = 80

REFUSALS = {
    "blocked by the user": "гражданин заблокировал бота",
    "user is deactivated": "аккаунт гражданина удалён",
    "chat not found": "чат с гражданином не найден",
    "can't initiate conversation": "гражданин не начинал диалог с ботом",
    "message is too long": "сообщение слишком длинное",
    "message text is empty": "пустое сообщение",
}


# Refusals of the operators' chat itself (not of one card): every card waits for the chat.
CHAT_REFUSALS = ("forbidden", "chat not found", "not enough rights", "have no rights",
                 "need administrator rights", "chat_write_forbidden", "not a member",
                 "was kicked", "group chat was deactivated")
CARD_RETRY_FIRST = 1.0
TRANSIENT_CARD_ERRORS = (*TRANSIENT, TelegramRetryAfter)


class OperatorsChatUnreachable(Exception):
    """The operators' chat refuses every card now (e.g. the bot was removed from it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def chat_refusal(reason: str) -> bool:
    """Whether Telegram's refusal is about the operators' chat rather than one card."""
    lowered = reason.lower()
    return any(needle in lowered for needle in CHAT_REFUSALS)


def refusal_reason(reason: str) -> str:
    """Telegram's refusal in words an operator understands."""
    lowered = reason.lower()
    for needle, words in REFUSALS.items():
        if needle in lowered:
            return words
    return reason


def _short(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters (previews of citizens' texts)."""
    return shorten(" ".join(text.split()), limit)


def _fenced(text: str) -> str:
    """A citizen's multi-line text inside a card: every line after the first is marked, so
    that a line the citizen typed ("Статус: закрыто") cannot pass for a line of the card."""
    first, *rest = text.splitlines() or [""]
    return "\n".join([first, *(f"» {line}" for line in rest)])


def state_name(topic: Topic, state: TicketState) -> str:
    texts = topic.texts
    return {
        TicketState.NEW: texts.state_new,
        TicketState.IN_WORK: texts.state_in_work,
        TicketState.ANSWERED: texts.state_answered,
        TicketState.CLOSED: texts.state_closed,
    }[state]


def citizen_name(ticket: TicketView) -> str:
    name = ticket.display_name or f"id {ticket.tg_user_id}"
    return f"{name} (@{ticket.username})" if ticket.username else name


def hours_text(value: float) -> str:
    return f"{value:g}"


def working_hours_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} ч {rest // 60:02d} мин"


@dataclass
class Desk:
    """Everything the bot does in, and from, the operators' chats."""

    tickets: Tickets
    delivery: Delivery
    candidates: CandidateStore
    _forum: dict[int, bool] = field(default_factory=dict)
    _wakeups: dict[str, asyncio.Event] = field(default_factory=dict)
    # Messages sent to an operators' chat but not yet paired with their ticket: a reply to
    # one of them waits for the pairing instead of being told "not a ticket".
    _unpaired: dict[int, int] = field(default_factory=dict)
    _paired: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Per bot: why its operators' chat refuses ticket cards now (cleared by a posted card).
    card_alerts: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Ask the workers to stop after the step they are on."""
        self._stopping.set()
        for event in self._wakeups.values():
            event.set()

    @contextlib.asynccontextmanager
    async def _pairing(self, chat_id: int) -> AsyncIterator[None]:
        self._unpaired[chat_id] = self._unpaired.get(chat_id, 0) + 1
        try:
            yield
        finally:
            self._unpaired[chat_id] -= 1
            async with self._paired:
                self._paired.notify_all()

    async def _settled(self, chat_id: int, wait: float = 10.0) -> None:
        """Wait until every message being sent to ``chat_id`` is paired with its ticket."""
        async with self._paired:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._paired.wait_for(lambda: not self._unpaired.get(chat_id)), wait)

    # --- rendering ---------------------------------------------------------------------------

    def local(self, topic: Topic, moment: datetime) -> str:
        tz = self.tickets.policy(topic.name).schedule.tz
        return moment.astimezone(tz).strftime("%d.%m %H:%M")

    def card_text(self, topic: Topic, ticket: TicketView, earlier: Sequence[TicketView]) -> str:
        texts = topic.texts
        policy = self.tickets.policy(topic.name)
        reasons = {"escalated": texts.reason_escalated, "ask_person": texts.reason_ask_person,
                   "not_helpful": texts.reason_not_helpful}
        bot_answer = ""
        entry = topic.faq.current.entries.get(ticket.bot_answer_entry or "")
        if entry is not None:
            feedback = texts.feedback_not_helpful if ticket.reason == "not_helpful" else "—"
            bot_answer = texts.card_bot_answer.format(entry=_short(entry.question, 100),
                                                      feedback=feedback)
        earlier_text = ""
        if earlier:
            items = ", ".join(f"№ {t.id} ({state_name(topic, t.state)})" for t in earlier)
            earlier_text = texts.card_earlier.format(earlier=items)
        owner = texts.card_owner.format(owner=ticket.owner_name) if ticket.owner_name else ""
        state = state_name(topic, ticket.state)
        if ticket.rating is not None:
            state += f", ⭐ {ticket.rating}"
        return texts.card.format(
            emoji=STATE_EMOJI[ticket.state], ticket=ticket.id, topic=texts.topic,
            name=citizen_name(ticket), reason=reasons.get(ticket.reason, ticket.reason),
            question=_fenced(ticket.text), bot_answer=bot_answer, earlier=earlier_text,
            created=self.local(topic, ticket.created_at),
            deadline=self.local(topic, ticket.deadline_at),
            hours=hours_text(policy.first_response.total_seconds() / 3600),
            state=state, owner=owner,
        )

    def card_markup(self, topic: Topic, ticket: TicketView) -> InlineKeyboardMarkup | None:
        if ticket.state is TicketState.CLOSED:
            return None
        builder = InlineKeyboardBuilder()
        row = 0
        if ticket.owner_tg_id is None:
            builder.button(text=topic.texts.btn_claim,
                           callback_data=TicketButton(t=ticket.id, action=TicketAction.CLAIM))
            row += 1
        builder.button(text=topic.texts.btn_close,
                       callback_data=TicketButton(t=ticket.id, action=TicketAction.CLOSE))
        row += 1
        entries = topic.faq.current.entries
        shown = 0
        for index, (entry_id, _score) in enumerate(ticket.candidates):
            entry = entries.get(entry_id)
            if entry is None or shown >= MAX_CANDIDATE_BUTTONS:
                continue
            builder.button(
                text=topic.texts.btn_faq_answer.format(entry=_short(entry.question,
                                                                    BUTTON_CHARS)),
                callback_data=FaqAnswer(t=ticket.id, i=index),
            )
            shown += 1
        builder.adjust(row, *([1] * shown))
        return builder.as_markup()

    def topic_title(self, topic: Topic, ticket: TicketView) -> str:
        title = topic.texts.topic_title.format(emoji=STATE_EMOJI[ticket.state], ticket=ticket.id,
                                               name=citizen_name(ticket))
        return _short(title, TOPIC_TITLE_CHARS)

    # --- the operators' chat -----------------------------------------------------------------

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
                bot, CreateForumTopic(chat_id=chat_id, name=self.topic_title(topic, ticket)))
        except Undeliverable as error:
            if "forbidden" in error.reason.lower():  # not in the chat: not a lack of rights
                raise OperatorsChatUnreachable(error.reason) from error
            log.warning("cannot create forum topics in %s (%s): plain mode", chat_id,
                        error.reason)
            self._forum[chat_id] = False
            return None
        await self.tickets.save_thread(ticket.citizen_id, chat_id, created.message_thread_id)
        return created.message_thread_id

    async def post_card(self, bot: Bot, topic: Topic, ticket: TicketView) -> bool:
        """Post the ticket's card (in the citizen's topic in forum mode); False if this card
        could not be posted (tried again later). Raises :class:`OperatorsChatUnreachable`
        when no card can be posted to the chat now (the bot was removed, lost its rights)."""
        chat_id = topic.operators_chat_id
        if chat_id is None:
            return False
        earlier = await self.tickets.earlier(ticket)
        thread = await self._thread(bot, topic, ticket, chat_id)
        text = self.card_text(topic, ticket, earlier)
        key = f"card:{ticket.id}:{thread or 0}"
        if self.delivery.outbox is not None:
            # A refusal is not final for a card: the bot may be back in the chat by now.
            await self.delivery.outbox.retry_failed(str(bot.id), key)
        async with self._pairing(chat_id):
            try:
                # One card per ticket, even when posting is retried after a crash.
                sent = await self.delivery.send_text(
                    bot, chat_id, text, reply_markup=self.card_markup(topic, ticket),
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

    async def _retitle(self, bot: Bot, topic: Topic, ticket: TicketView, chat_id: int,
                       thread: int) -> None:
        try:
            await self.delivery.call(bot, EditForumTopic(
                chat_id=chat_id, message_thread_id=thread, name=self.topic_title(topic, ticket)))
        except Undeliverable as error:
            if "not modified" not in error.reason.lower():
                log.info("ticket %d: topic title not changed: %s", ticket.id, error.reason)

    async def refresh(self, bot: Bot, topic: Topic, ticket: TicketView) -> None:
        """Show the ticket's current state on its card (and in its topic title)."""
        if ticket.card_message_id is None:
            # The card may be being posted right now, or have been posted since ``ticket``
            # was read: edit it once it is paired.
            if topic.operators_chat_id is not None and self._unpaired.get(
                    topic.operators_chat_id):
                await self._settled(topic.operators_chat_id)
            ticket = await self.tickets.get(ticket.id) or ticket
        if ticket.operators_chat_id is None or ticket.card_message_id is None:
            return
        earlier = await self.tickets.earlier(ticket)
        with contextlib.suppress(Undeliverable):
            await self.delivery.edit_text(
                bot, ticket.operators_chat_id, ticket.card_message_id,
                self.card_text(topic, ticket, earlier),
                reply_markup=self.card_markup(topic, ticket), new_message_fallback=False)
        if ticket.thread_id:
            await self._retitle(bot, topic, ticket, ticket.operators_chat_id, ticket.thread_id)

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
                await self.tickets.add_message(
                    ticket.id, Direction.NOTICE,
                    operators_chat_id=self.delivery.current_chat(chat_id),
                    operators_message_id=sent[-1])
        return sent[-1]

    # --- from citizens -----------------------------------------------------------------------

    def wake(self, topic: Topic) -> None:
        """Ask the card worker of ``topic`` to post cards now."""
        self._wakeups.setdefault(topic.name, asyncio.Event()).set()

    async def _post_cards(self, bot: Bot, topic: Topic) -> int:
        """One pass over the tickets without a card, oldest first; how many still wait.

        A card refused for itself is skipped (the others are not held up by it); when the
        chat refuses every card, the pass stops there, so that cards are posted in order."""
        missing = await self.tickets.without_card(topic.name)
        for index, ticket in enumerate(missing):
            if self._stopping.is_set():
                return 0
            try:
                posted = await self.post_card(bot, topic, ticket)
            except (OperatorsChatUnreachable, *TRANSIENT_CARD_ERRORS) as error:
                reason = (error.reason if isinstance(error, OperatorsChatUnreachable)
                          else f"{type(error).__name__}: {error}")
                self._cards_blocked(topic, reason, waiting=len(missing) - index)
                return len(missing) - index
            if posted and self.card_alerts.pop(topic.name, None) is not None:
                log.warning("bot %s: operators' chat %s accepts cards again; posting the "
                            "%d waiting", topic.name, topic.operators_chat_id,
                            len(missing) - index)
        return len(await self.tickets.without_card(topic.name))

    def _cards_blocked(self, topic: Topic, reason: str, *, waiting: int) -> None:
        """The alert: logged when the operators' chat stops taking cards (and again when the
        reason changes), kept in :attr:`card_alerts` until a card is posted."""
        if self.card_alerts.get(topic.name) != reason:
            log.error("ALERT bot %s: ticket cards cannot be posted to the operators' chat %s "
                      "(%s); %d waiting, retried until it works — check that the bot is a "
                      "member of the chat and may post there", topic.name,
                      topic.operators_chat_id, reason, waiting)
        self.card_alerts[topic.name] = reason

    async def card_worker(self, bot: Bot, topic: Topic, *, interval: float = 30.0) -> None:
        """Post missing cards, oldest first, until cancelled (restart-safe: reads the DB).

        Cards that cannot be posted are tried again with a backoff capped at ``interval``."""
        event = self._wakeups.setdefault(topic.name, asyncio.Event())
        delay = 0.0
        while not self._stopping.is_set():
            event.clear()
            waiting = 0
            try:
                waiting = await self._post_cards(bot, topic)
            except Exception:
                log.exception("bot %s: posting ticket cards failed", topic.name)
                waiting = 1
            delay = min(interval, max(CARD_RETRY_FIRST, delay * 2)) if waiting else 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=delay or interval)

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
        async with self._pairing(chat_id):
            try:
                if withheld:
                    body = topic.texts.op_relay_masked.format(text=masked)
                    if media:
                        body += "\n" + topic.texts.op_attachment_withheld
                    relayed = await self.delivery.send_text(
                        bot, chat_id, body, message_thread_id=thread or None,
                        reply_to_message_id=None if thread else ticket.card_message_id)
                else:
                    relayed = [await self.delivery.copy(
                        bot, from_chat_id=ticket.chat_id, message_id=message_id,
                        chat_id=chat_id, message_thread_id=thread or None,
                        reply_to_message_id=None if thread else ticket.card_message_id)]
            except Undeliverable as error:
                log.error("ticket %d: citizen's message not relayed: %s", ticket.id,
                          error.reason)
                await self.tickets.note_event(ticket.id, "relay_failed", operator=None,
                                              detail=error.reason)
                return
            for copied in relayed:
                await self.tickets.add_message(
                    ticket.id, Direction.IN, citizen_message_id=message_id,
                    operators_chat_id=self.delivery.current_chat(chat_id),
                    operators_message_id=copied)

    # --- from operators ----------------------------------------------------------------------

    async def ticket_of(self, topic: Topic, message: Message) -> TicketView | None:
        chat_id = message.chat.id
        replied = message.reply_to_message
        if replied is not None and replied.forum_topic_created is None:
            # Taken before the lookup: a pairing may commit while the lookup runs.
            busy = bool(self._unpaired.get(chat_id))
            found = await self.tickets.by_operators_message(chat_id, replied.message_id)
            if found is None and busy:
                await self._settled(chat_id)
                found = await self.tickets.by_operators_message(chat_id, replied.message_id)
            if found is not None:
                return found
        if message.is_topic_message and message.message_thread_id:
            return await self.tickets.by_thread(chat_id, message.message_thread_id)
        return None

    async def answer(self, bot: Bot, topic: Topic, ticket: TicketView, message: Message,
                     operator: Operator) -> None:
        """An operator's message meant for the citizen of ``ticket``."""
        chat_id = message.chat.id
        thread = message.message_thread_id if message.is_topic_message else None
        texts = topic.texts
        if ticket.state is TicketState.CLOSED:
            await self.notice(bot, ticket, chat_id, texts.op_ticket_closed.format(
                ticket=ticket.id), reply_to=message.message_id, thread_id=thread)
            return
        result, claimed = await self.tickets.claim(ticket.id, operator)
        if result is ClaimResult.TAKEN and claimed is not None:
            await self.tickets.note_event(ticket.id, "answer_refused", operator=operator,
                                          detail=f"owned by {claimed.owner_name}")
            await self.notice(bot, ticket, chat_id, texts.op_taken.format(
                ticket=ticket.id, owner=claimed.owner_name), reply_to=message.message_id,
                thread_id=thread)
            return
        try:
            await self.delivery.copy(bot, from_chat_id=chat_id, message_id=message.message_id,
                                     chat_id=ticket.chat_id)
        except Undeliverable as error:
            reason = refusal_reason(error.reason)
            await self.tickets.note_event(ticket.id, "undeliverable", operator=operator,
                                          detail=error.reason)
            await self.notice(bot, ticket, chat_id, texts.op_undeliverable.format(
                ticket=ticket.id, reason=reason), reply_to=message.message_id, thread_id=thread)
            if result is ClaimResult.CLAIMED and claimed is not None:
                await self.refresh(bot, topic, claimed)
            return
        await self.tickets.add_message(
            ticket.id, Direction.OUT, operators_chat_id=chat_id,
            operators_message_id=message.message_id, operator_tg_id=operator.tg_id,
            text=message.text or message.caption)
        answered = await self.tickets.answered(ticket.id, operator)
        await self._ask_resolved(bot, topic, answered)
        builder = InlineKeyboardBuilder()
        builder.button(text=texts.btn_to_faq, callback_data=ToFaq(t=ticket.id,
                                                                  m=message.message_id))
        await self.notice(bot, answered, chat_id, texts.op_delivered.format(ticket=ticket.id),
                          reply_to=message.message_id, thread_id=thread,
                          markup=builder.as_markup())
        await self.refresh(bot, topic, answered)

    async def _ask_resolved(self, bot: Bot, topic: Topic, ticket: TicketView) -> None:
        builder = InlineKeyboardBuilder()
        builder.button(text=topic.texts.btn_resolved_yes, callback_data=Resolved(t=ticket.id,
                                                                                 yes=True))
        builder.button(text=topic.texts.btn_resolved_no, callback_data=Resolved(t=ticket.id,
                                                                                yes=False))
        with contextlib.suppress(Undeliverable):
            await self.delivery.send_text(bot, ticket.chat_id,
                                          topic.texts.resolved_prompt.format(ticket=ticket.id),
                                          reply_markup=builder.as_markup())

    def rating_markup(self, ticket_id: int) -> InlineKeyboardMarkup:
        builder = InlineKeyboardBuilder()
        for stars in range(1, 6):
            builder.button(text="⭐" * stars if stars == 1 else f"{stars} ⭐",
                           callback_data=Rate(t=ticket_id, stars=stars))
        builder.adjust(5)
        return builder.as_markup()

    async def note(self, bot: Bot, topic: Topic, ticket: TicketView, message: Message,
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
        ticket = await self.tickets.get(ticket_id)
        if ticket is None or ticket.bot != topic.name or not 0 <= index < len(
                ticket.candidates):
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
            await self.delivery.send_text(bot, ticket.chat_id, answer_text(texts, entry))
        except Undeliverable as error:
            reason = refusal_reason(error.reason)
            await self.tickets.note_event(ticket.id, "undeliverable", operator=operator,
                                          detail=error.reason)
            if chat_id is not None:
                await self.notice(bot, ticket, chat_id, texts.op_undeliverable.format(
                    ticket=ticket.id, reason=reason), thread_id=ticket.thread_id)
            return texts.op_undeliverable.format(ticket=ticket.id, reason=reason)
        await self.tickets.add_message(ticket.id, Direction.OUT, operator_tg_id=operator.tg_id,
                                       text=f"[FAQ {entry.id}]")
        answered = await self.tickets.answered(ticket.id, operator, detail=f"faq:{entry.id}")
        await self._ask_resolved(bot, topic, answered)
        if chat_id is not None:
            await self.notice(bot, answered, chat_id, texts.op_faq_sent.format(
                entry=_short(entry.question, 100), ticket=ticket.id, owner=operator.name),
                thread_id=answered.thread_id)
        await self.refresh(bot, topic, answered)
        return texts.op_delivered.format(ticket=ticket.id)

    async def to_faq(self, topic: Topic, ticket_id: int, message_id: int,
                     operator: Operator) -> str:
        """Keep the ticket's question and the operator's answer as an FAQ candidate."""
        ticket = await self.tickets.get(ticket_id)
        if ticket is None or ticket.bot != topic.name:
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

    # --- response times ----------------------------------------------------------------------

    def queue_text(self, topic: Topic, tickets: Sequence[TicketView]) -> str:
        texts = topic.texts
        if not tickets:
            return texts.op_queue_empty
        now = self.tickets.now()
        lines = [texts.op_queue_title.format(count=len(tickets))]
        for ticket in tickets:
            age = self.tickets.working_seconds(topic.name, ticket.created_at, now)
            overdue = " ⏰" if ticket.first_response_at is None and ticket.deadline_at <= now \
                else ""
            owner = texts.card_owner.format(owner=ticket.owner_name) if ticket.owner_name else ""
            lines.append(texts.op_queue_line.format(
                ticket=ticket.id, age=working_hours_text(age) + overdue,
                state=state_name(topic, ticket.state), owner=owner,
                question=_short(ticket.text, QUESTION_PREVIEW)))
        return "\n".join(lines)

    def stats_text(self, topic: Topic, stats: TicketStats, days: int) -> str:
        ratings = ", ".join(f"{k}⭐ — {v}" for k, v in stats.ratings.items()) or "—"
        if stats.mean_rating is not None:
            ratings += f" (средняя {stats.mean_rating:.1f})"
        return topic.texts.op_stats.format(
            days=days, questions=stats.questions,
            bot_share=f"{stats.answered_by_bot} ({stats.bot_share:.0%})",
            escalations=stats.escalations, open=stats.open_now,
            median=working_hours_text(stats.median_first_response),
            p90=working_hours_text(stats.p90_first_response), responses=stats.first_responses,
            overdue=stats.overdue, resolved_yes=stats.resolved_yes,
            resolved_no=stats.resolved_no, ratings=ratings)

    def _overdue_lines(self, topic: Topic, tickets: Sequence[TicketView]) -> str:
        texts = topic.texts
        return "\n".join(
            texts.op_queue_line.format(
                ticket=t.id, age=self.local(topic, t.deadline_at),
                state=state_name(topic, t.state),
                owner=texts.card_owner.format(owner=t.owner_name) if t.owner_name else "",
                question=_short(t.text, QUESTION_PREVIEW))
            for t in tickets)

    async def check(self, bot: Bot, topic: Topic, *, digest_due: bool) -> None:
        """Close quiet tickets; announce newly overdue ones (one message) and, when
        ``digest_due``, every ticket still overdue (one more message)."""
        chat_id = topic.operators_chat_id
        for ticket in await self.tickets.close_quiet(topic.name):
            await self.refresh(bot, topic, ticket)
        if chat_id is None:
            return
        texts = topic.texts
        fresh = await self.tickets.newly_overdue(topic.name)
        if fresh:
            await self.notice(bot, None, chat_id, texts.op_overdue.format(
                count=len(fresh), lines=self._overdue_lines(topic, fresh)))
        if digest_due:
            late = [t for t in await self.tickets.overdue(topic.name)
                    if t.id not in {f.id for f in fresh}]
            if late:
                await self.notice(bot, None, chat_id, texts.op_overdue_digest.format(
                    count=len(late), lines=self._overdue_lines(topic, late)))

    async def watch(self, bot: Bot, topic: Topic, *, interval: float,
                    digest_every: timedelta) -> None:
        """Run :meth:`check` every ``interval`` seconds until cancelled."""
        last_digest = self.tickets.now()
        while not self._stopping.is_set():
            now = self.tickets.now()
            digest_due = now - last_digest >= digest_every
            if digest_due:
                last_digest = now
            try:
                await self.check(bot, topic, digest_due=digest_due)
            except Exception:
                log.exception("bot %s: queue check failed", topic.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
