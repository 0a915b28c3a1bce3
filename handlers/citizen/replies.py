"""What the citizen sees for an :class:`~bots.conversation.Outcome`, and the FAQ browser."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup

from bots.cards import local_time
from bots.conversation import Outcome, OutcomeKind
from bots.desk import Desk
from bots.render import answer_text
from bots.texts import BotTexts
from bots.topic import Topic
from escalation.delivery import Delivery
from escalation.privacy import has_personal_numbers
from escalation.tickets import TicketView
from handlers import keyboards
from handlers.common import edit_or_send

Reply = tuple[str, InlineKeyboardMarkup | None]


def ticket_opened_text(topic: Topic, desk: Desk, ticket: TicketView) -> str:
    policy = desk.tickets.policy(topic.name)
    hours = f"{policy.first_response.total_seconds() / 3600:g}"
    now = desk.tickets.now()
    if policy.schedule.is_working_time(now):
        return topic.texts.ticket_opened.format(ticket=ticket.id, hours=hours)
    opens = local_time(policy, policy.schedule.next_opening(now))
    return topic.texts.ticket_opened_off_hours.format(ticket=ticket.id, hours=hours,
                                                      opens=opens)


def with_elsewhere(texts: BotTexts, outcome: Outcome, text: str) -> str:
    """An off-topic question's reply: the bot could not answer it, what became of it (``text``:
    a ticket, or recorded) and where such questions usually go."""
    if outcome.elsewhere is None:
        return text
    where = texts.offtopic_where.format(where=outcome.elsewhere.where)
    if outcome.kind is OutcomeKind.BANNED:
        return f"{text}\n\n{where}"
    if outcome.kind is OutcomeKind.ESCALATE:
        text = texts.offtopic_recorded.format(question_id=outcome.question_id)
    return f"{texts.offtopic_intro.format(topic=texts.topic)}\n{text}\n\n{where}"


def menu_view(topic: Topic, category: str | None) -> Reply:
    """What a bare topic word opens: the questions of ``category``, else the sections."""
    loaded, texts = topic.faq.current, topic.texts
    if not loaded.categories:
        return texts.no_categories, None
    if category in loaded.categories:
        index = loaded.categories.index(category)
        return (texts.menu_category.format(category=category),
                keyboards.category(texts, loaded.in_category(category), index, 0))
    return (texts.menu_topic.format(example=texts.example),
            keyboards.categories(texts, loaded, 0))


async def show_categories(bot: Bot, chat_id: int, message_id: int | None, topic: Topic,
                          delivery: Delivery, *, page: int) -> None:
    loaded = topic.faq.current
    if not loaded.categories:
        await delivery.send_text(bot, chat_id, topic.texts.no_categories)
        return
    markup = keyboards.categories(topic.texts, loaded, page)
    await edit_or_send(bot, chat_id, message_id, topic.texts.categories_title, markup, delivery)


def _plain_reply(topic: Topic, outcome: Outcome) -> Reply:
    """The reply to every outcome but a ticket: nothing to send anywhere else."""
    texts = topic.texts
    match outcome.kind:
        case OutcomeKind.ANSWER:
            assert outcome.entry is not None
            return (answer_text(texts, outcome.entry),
                    keyboards.feedback(texts, outcome.question_id))
        case OutcomeKind.CLARIFY:
            return texts.clarify_prompt, keyboards.clarify(texts, outcome.question_id,
                                                           outcome.options)
        case OutcomeKind.REDIRECT:
            assert outcome.redirect_to is not None
            username = outcome.redirect_to.username or ""
            return (texts.redirect.format(topic=outcome.redirect_to.texts.topic,
                                          username=username),
                    keyboards.open_bot(texts, username))
        case OutcomeKind.MENU:
            return menu_view(topic, outcome.category)
        case OutcomeKind.ESCALATE:
            return texts.escalate.format(question_id=outcome.question_id), None
    fixed = {
        OutcomeKind.BANNED: texts.banned_reply,
        OutcomeKind.NO_OPERATORS: texts.person_no_operators,
        OutcomeKind.GREETING: texts.greeting_reply,
        OutcomeKind.THANKS: texts.thanks_reply,
        OutcomeKind.FAREWELL: texts.farewell_reply,
        OutcomeKind.ACKNOWLEDGE: texts.acknowledge_reply,
        OutcomeKind.ABUSE: texts.abuse_reply,
        OutcomeKind.EMPTY: texts.empty_reply,
    }
    return fixed[outcome.kind], None


async def _ticket_reply(outcome: Outcome, topic: Topic, bot: Bot, desk: Desk, *,
                        message_id: int | None, citizen_text: str | None, media: bool) -> str:
    """A new ticket wakes the card worker; a follow-up is relayed to the operators' chat."""
    ticket = outcome.ticket
    assert ticket is not None
    if outcome.created:
        text = ticket_opened_text(topic, desk, ticket)
        desk.worker.wake(topic)
        return text
    if message_id is not None:
        await desk.chat.relay_in(bot, topic, ticket, message_id=message_id, text=citizen_text,
                                 media=media)
    await desk.chat.refresh(bot, topic, ticket)
    return topic.texts.follow_up.format(ticket=ticket.id)


async def render(outcome: Outcome, topic: Topic, bot: Bot, chat_id: int,
                 delivery: Delivery, desk: Desk, *, message_id: int | None = None,
                 citizen_text: str | None = None, media: bool = False) -> None:
    """Send what the citizen should see for ``outcome`` (and tell operators, for tickets).

    ``citizen_text`` (the message's text or caption) and ``media`` let a follow-up with
    personal numbers reach operators masked (see :meth:`OperatorsChat.relay_in`); the citizen
    is warned not to send them.
    """
    warn = citizen_text is not None and has_personal_numbers(citizen_text)
    if outcome.kind in (OutcomeKind.TICKET, OutcomeKind.FOLLOW_UP):
        text, markup = await _ticket_reply(outcome, topic, bot, desk, message_id=message_id,
                                           citizen_text=citizen_text, media=media), None
    else:
        text, markup = _plain_reply(topic, outcome)
    text = with_elsewhere(topic.texts, outcome, text)
    await delivery.send_text(bot, chat_id, text, reply_markup=markup)
    if warn:
        await delivery.send_text(bot, chat_id, topic.texts.pii_warning)
