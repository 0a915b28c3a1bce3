"""Ticket life cycle: new → in work → answered → closed, and back when reopened.

Pure rules, no storage: the repository records every transition with who and when.
"""

from __future__ import annotations

from enum import StrEnum


class TicketState(StrEnum):
    NEW = "new"
    IN_WORK = "in_work"
    ANSWERED = "answered"
    CLOSED = "closed"


class TicketAction(StrEnum):
    CLAIM = "claim"  # an operator takes the ticket
    ANSWER = "answer"  # an operator's reply was delivered
    CLOSE = "close"  # an operator closes it, or it closes itself after a quiet period
    REOPEN = "reopen"  # the citizen writes again or says the answer did not help


class TransitionError(Exception):
    """The action makes no sense in the ticket's current state."""


OPEN_STATES = frozenset({TicketState.NEW, TicketState.IN_WORK})


def next_state(state: TicketState, action: TicketAction, *, has_owner: bool) -> TicketState:
    """The state after ``action``; raises :class:`TransitionError` when it is not allowed."""
    match action, state:
        case TicketAction.CLAIM, TicketState.NEW | TicketState.IN_WORK:
            return TicketState.IN_WORK
        case TicketAction.ANSWER, TicketState.NEW | TicketState.IN_WORK | TicketState.ANSWERED:
            return TicketState.ANSWERED
        case TicketAction.CLOSE, TicketState.NEW | TicketState.IN_WORK | TicketState.ANSWERED:
            return TicketState.CLOSED
        case TicketAction.REOPEN, TicketState.ANSWERED | TicketState.CLOSED:
            return TicketState.IN_WORK if has_owner else TicketState.NEW
    msg = f"cannot {action.value} a ticket that is {state.value}"
    raise TransitionError(msg)
