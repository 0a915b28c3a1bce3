"""Values of the operator queue: a ticket as callers see it, who acts, and a bot's rules.

:class:`TicketView` is a plain frozen copy of a ticket row with its citizen, so callers never
hold a session or a mapped object (see :mod:`escalation.tickets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from escalation.models import Citizen, Ticket
from escalation.states import OPEN_STATES, TicketState
from escalation.worktime import WorkSchedule

_MAX_ID: Final = 2**31 - 1
#: States in which a citizen's new message joins the ticket instead of opening another one.
ACTIVE_STATES: Final = frozenset({TicketState.NEW, TicketState.IN_WORK, TicketState.ANSWERED})


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """A bot's response-time rules: working hours, first-response target, quiet period."""

    schedule: WorkSchedule = field(default_factory=WorkSchedule)
    first_response: timedelta = timedelta(hours=3)  # working time
    autoclose_after: timedelta = timedelta(hours=72)  # calendar time after the last answer


class Actor(StrEnum):
    CITIZEN = "citizen"
    OPERATOR = "operator"
    SYSTEM = "system"


class Direction(StrEnum):
    IN = "in"  # citizen → operators' chat
    OUT = "out"  # operator → citizen
    CARD = "card"  # the ticket card in the operators' chat
    NOTE = "note"  # an operator's internal note, never sent to the citizen
    NOTICE = "notice"  # what the bot told operators about the ticket


class ClaimResult(StrEnum):
    CLAIMED = "claimed"  # the ticket is now this operator's
    ALREADY_YOURS = "already_yours"
    TAKEN = "taken"  # another operator has it
    CLOSED = "closed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Operator:
    tg_id: int
    name: str


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    bot: str
    citizen_id: int
    tg_user_id: int
    display_name: str | None
    username: str | None
    chat_id: int
    question_id: int | None
    text: str
    media_message_id: int | None
    reason: str
    candidates: tuple[tuple[str, float], ...]
    bot_answer_entry: str | None
    state: TicketState
    owner_tg_id: int | None
    owner_name: str | None
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    last_citizen_at: datetime
    overdue_announced_at: datetime | None
    operators_chat_id: int | None
    card_message_id: int | None
    thread_id: int | None
    resolved: bool | None
    rating: int | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES



def valid_id(value: int) -> bool:
    """A ticket number the database can hold (buttons and commands carry any number)."""
    return 0 < value <= _MAX_ID


def view(ticket: Ticket, citizen: Citizen) -> TicketView:
    """The plain value of ``ticket`` and its ``citizen``."""
    return TicketView(
        id=ticket.id,
        bot=ticket.bot,
        citizen_id=ticket.citizen_id,
        tg_user_id=citizen.tg_user_id,
        display_name=citizen.display_name,
        username=citizen.username,
        chat_id=ticket.chat_id,
        question_id=ticket.question_id,
        text=ticket.text,
        media_message_id=ticket.media_message_id,
        reason=ticket.reason,
        candidates=tuple(
            (str(c["entry_id"]), float(c["score"])) for c in ticket.candidates or ()
        ),
        bot_answer_entry=ticket.bot_answer_entry,
        state=TicketState(ticket.state),
        owner_tg_id=ticket.owner_tg_id,
        owner_name=ticket.owner_name,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        deadline_at=ticket.deadline_at,
        first_response_at=ticket.first_response_at,
        closed_at=ticket.closed_at,
        last_citizen_at=ticket.last_citizen_at,
        overdue_announced_at=ticket.overdue_announced_at,
        operators_chat_id=ticket.operators_chat_id,
        card_message_id=ticket.card_message_id,
        thread_id=ticket.thread_id,
        resolved=ticket.resolved,
        rating=ticket.rating,
    )
