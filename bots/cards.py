"""What the desk shows: ticket cards, forum topic titles, the queue, the figures, and the
buttons under them with their callback data.

Pure functions of a ticket and the bot's texts; sending is :mod:`bots.operators_chat`'s job.
Callback data prefixes are short because Telegram allows 64 bytes of callback data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bots.render import button, keyboard, one_line
from bots.topic import Topic
from escalation.states import TicketState
from escalation.stats import TicketStats
from escalation.tickets import QueuePolicy, TicketView

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
ENTRY_PREVIEW = 100


# --- callback data -----------------------------------------------------------------------------


class TicketAction(StrEnum):
    CLAIM = "c"
    CLOSE = "x"


class TicketButton(CallbackData, prefix="t"):
    """A button on a ticket card in the operators' chat."""

    t: int
    action: TicketAction


class FaqAnswer(CallbackData, prefix="ta"):
    """Answer ticket ``t`` with the FAQ entry the matcher ranked ``i``-th for it."""

    t: int
    i: int


class ToFaq(CallbackData, prefix="tq"):
    """Save ticket ``t``'s question and the operator's answer ``m`` as an FAQ candidate."""

    t: int
    m: int


class Resolved(CallbackData, prefix="rs"):
    """The citizen's answer to "Вопрос решён?" for ticket ``t``."""

    t: int
    yes: bool


class Rate(CallbackData, prefix="rt"):
    """The citizen rates the operator's answer on ticket ``t`` from 1 to 5."""

    t: int
    stars: int


# --- words -------------------------------------------------------------------------------------


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


def local_time(policy: QueuePolicy, moment: datetime) -> str:
    """``moment`` as the bot's operators read it: day, month and time in their time zone."""
    return moment.astimezone(policy.schedule.tz).strftime("%d.%m %H:%M")


def working_hours_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} ч {rest // 60:02d} мин"


def _owner(topic: Topic, ticket: TicketView) -> str:
    return topic.texts.card_owner.format(owner=ticket.owner_name) if ticket.owner_name else ""


# --- the card ----------------------------------------------------------------------------------


def _bot_answer(topic: Topic, ticket: TicketView) -> str:
    """The line on what the bot answered before the ticket, if it did."""
    texts = topic.texts
    entry = topic.faq.current.entries.get(ticket.bot_answer_entry or "")
    if entry is None:
        return ""
    feedback = texts.feedback_not_helpful if ticket.reason == "not_helpful" else "—"
    return texts.card_bot_answer.format(entry=one_line(entry.question, ENTRY_PREVIEW),
                                        feedback=feedback)


def card_text(topic: Topic, policy: QueuePolicy, ticket: TicketView,
              earlier: Sequence[TicketView]) -> str:
    texts = topic.texts
    reasons = {"escalated": texts.reason_escalated, "ask_person": texts.reason_ask_person,
               "not_helpful": texts.reason_not_helpful}
    earlier_text = ""
    if earlier:
        items = ", ".join(f"№ {t.id} ({state_name(topic, t.state)})" for t in earlier)
        earlier_text = texts.card_earlier.format(earlier=items)
    state = state_name(topic, ticket.state)
    if ticket.rating is not None:
        state += f", ⭐ {ticket.rating}"
    return texts.card.format(
        emoji=STATE_EMOJI[ticket.state], ticket=ticket.id, topic=texts.topic,
        name=citizen_name(ticket), reason=reasons.get(ticket.reason, ticket.reason),
        question=_fenced(ticket.text), bot_answer=_bot_answer(topic, ticket),
        earlier=earlier_text, created=local_time(policy, ticket.created_at),
        deadline=local_time(policy, ticket.deadline_at),
        hours=f"{policy.first_response.total_seconds() / 3600:g}",
        state=state, owner=_owner(topic, ticket),
    )


def card_markup(topic: Topic, ticket: TicketView) -> InlineKeyboardMarkup | None:
    """Claim (while nobody has it) and close side by side; then up to three FAQ answers the
    matcher proposed, one per row. None for a closed ticket."""
    if ticket.state is TicketState.CLOSED:
        return None
    texts = topic.texts
    actions = [button(texts.btn_close, TicketButton(t=ticket.id, action=TicketAction.CLOSE))]
    if ticket.owner_tg_id is None:
        actions.insert(0, button(texts.btn_claim,
                                 TicketButton(t=ticket.id, action=TicketAction.CLAIM)))
    entries = topic.faq.current.entries
    answers = [
        [button(texts.btn_faq_answer.format(entry=one_line(entry.question, BUTTON_CHARS)),
                FaqAnswer(t=ticket.id, i=index))]
        for index, (entry_id, _score) in enumerate(ticket.candidates)
        if (entry := entries.get(entry_id)) is not None
    ]
    return keyboard(actions, *answers[:MAX_CANDIDATE_BUTTONS])


def topic_title(topic: Topic, ticket: TicketView) -> str:
    title = topic.texts.topic_title.format(emoji=STATE_EMOJI[ticket.state], ticket=ticket.id,
                                           name=citizen_name(ticket))
    return one_line(title, TOPIC_TITLE_CHARS)


def to_faq_markup(topic: Topic, ticket_id: int, message_id: int) -> InlineKeyboardMarkup:
    """Under "delivered": keep the operator's answer ``message_id`` as an FAQ candidate."""
    return keyboard([button(topic.texts.btn_to_faq, ToFaq(t=ticket_id, m=message_id))])


# --- the citizen's buttons -----------------------------------------------------------------------


def resolved_markup(topic: Topic, ticket_id: int) -> InlineKeyboardMarkup:
    texts = topic.texts
    return keyboard([button(texts.btn_resolved_yes, Resolved(t=ticket_id, yes=True)),
                     button(texts.btn_resolved_no, Resolved(t=ticket_id, yes=False))])


def rating_markup(ticket_id: int) -> InlineKeyboardMarkup:
    return keyboard([
        button("⭐" if stars == 1 else f"{stars} ⭐", Rate(t=ticket_id, stars=stars))
        for stars in range(1, 6)
    ])


# --- the queue and the figures -------------------------------------------------------------------


def queue_text(topic: Topic, tickets: Sequence[TicketView], *, now: datetime,
               working_seconds: Callable[[datetime, datetime], float]) -> str:
    """``/queue``: the open tickets with their age in working time (⏰ past the deadline)."""
    texts = topic.texts
    if not tickets:
        return texts.op_queue_empty
    lines = [texts.op_queue_title.format(count=len(tickets))]
    for ticket in tickets:
        age = working_seconds(ticket.created_at, now)
        overdue = " ⏰" if ticket.first_response_at is None and ticket.deadline_at <= now else ""
        lines.append(texts.op_queue_line.format(
            ticket=ticket.id, age=working_hours_text(age) + overdue,
            state=state_name(topic, ticket.state), owner=_owner(topic, ticket),
            question=one_line(ticket.text, QUESTION_PREVIEW)))
    return "\n".join(lines)


def overdue_lines(topic: Topic, policy: QueuePolicy, tickets: Sequence[TicketView]) -> str:
    """One line per ticket past its deadline (the deadline in place of the age)."""
    return "\n".join(
        topic.texts.op_queue_line.format(
            ticket=t.id, age=local_time(policy, t.deadline_at),
            state=state_name(topic, t.state), owner=_owner(topic, t),
            question=one_line(t.text, QUESTION_PREVIEW))
        for t in tickets)


def stats_text(topic: Topic, stats: TicketStats, days: int) -> str:
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


REFUSALS = {
    "blocked by the user": "гражданин заблокировал бота",
    "user is deactivated": "аккаунт гражданина удалён",
    "chat not found": "чат с гражданином не найден",
    "can't initiate conversation": "гражданин не начинал диалог с ботом",
    "message is too long": "сообщение слишком длинное",
    "message text is empty": "пустое сообщение",
    "gave up retrying": "Telegram долго не принимал сообщение, попытки прекращены",
}


def refusal_reason(reason: str) -> str:
    """Telegram's refusal in words an operator understands."""
    lowered = reason.lower()
    for needle, words in REFUSALS.items():
        if needle in lowered:
            return words
    return reason


#: Why the operators' chat refuses cards, in words a supervisor understands.
CHAT_REFUSAL_WORDS = {
    "was kicked": "бота удалили из чата операторов",
    "not a member": "бот не состоит в чате операторов",
    "chat not found": "чат операторов не найден (проверьте его id)",
    "group chat was deactivated": "чат операторов удалён",
    "not enough rights": "у бота нет прав писать в чат операторов",
    "have no rights": "у бота нет прав писать в чат операторов",
    "need administrator rights": "у бота нет прав администратора в чате операторов",
    "chat_write_forbidden": "у бота нет прав писать в чат операторов",
    "forbidden": "Telegram не разрешает боту писать в чат операторов",
}


def chat_refusal_reason(reason: str) -> str:
    """Why cards cannot be posted, in words; Telegram's own words when not known."""
    lowered = reason.lower()
    return next((words for needle, words in CHAT_REFUSAL_WORDS.items() if needle in lowered),
                reason)
