"""The operator queue: tickets, their life cycle, their relayed messages, bans and figures.

:class:`Tickets` is the only writer of ``tickets``, ``ticket_events``, ``ticket_messages``,
``citizen_threads`` and ``bans``. Every public method is one transaction (a commit point) and
returns plain :class:`TicketView` values; callers never see a session. Every state change
goes through :func:`escalation.states.next_state` and is stored as a :class:`TicketEvent` with
who and when. Claims are conditional updates, so two operators racing for one ticket cannot
both win. Citizens' texts are stored with personal numbers masked
(:func:`escalation.privacy.mask`); :mod:`escalation.retention` erases them later.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import (
    Ban,
    Citizen,
    CitizenThread,
    Question,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from escalation.privacy import mask
from escalation.records import utc_now
from escalation.states import OPEN_STATES, TicketAction, TicketState, TransitionError, next_state
from escalation.worktime import WorkSchedule

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class TicketStats:
    """Figures of one bot over a period; times are working seconds."""

    questions: int
    answered_by_bot: int
    escalations: int
    first_responses: int
    median_first_response: float | None
    p90_first_response: float | None
    overdue: int
    open_now: int
    ratings: dict[int, int]
    resolved_yes: int
    resolved_no: int

    @property
    def bot_share(self) -> float:
        return self.answered_by_bot / self.questions if self.questions else 0.0

    @property
    def mean_rating(self) -> float | None:
        count = sum(self.ratings.values())
        return sum(k * v for k, v in self.ratings.items()) / count if count else None


def _valid_id(value: int) -> bool:
    return 0 < value <= _MAX_ID


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` quantile (0–1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _view(ticket: Ticket, citizen: Citizen) -> TicketView:
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


class Tickets:
    """Repository and service of the operator queue (one transaction per method)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        policies: Mapping[str, QueuePolicy] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._sessions = sessions
        self._policies = dict(policies or {})
        self._clock = clock

    def policy(self, bot: str) -> QueuePolicy:
        return self._policies.get(bot) or QueuePolicy()

    def set_policy(self, bot: str, policy: QueuePolicy) -> None:
        self._policies[bot] = policy

    def now(self) -> datetime:
        return self._clock()

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The queue's database, for services that share it (:mod:`escalation.retention`)."""
        return self._sessions

    # --- reading -------------------------------------------------------------------------------

    async def _one(self, session: AsyncSession, *conditions: Any) -> TicketView | None:
        row = (
            await session.execute(
                select(Ticket, Citizen)
                .join(Citizen, Citizen.id == Ticket.citizen_id)
                .where(*conditions)
                .order_by(Ticket.id.desc())
                .limit(1)
            )
        ).one_or_none()
        return None if row is None else _view(*row)

    async def _many(self, session: AsyncSession, *conditions: Any,
                    newest_first: bool = False, limit: int | None = None) -> list[TicketView]:
        order = Ticket.id.desc() if newest_first else Ticket.id
        statement = (
            select(Ticket, Citizen)
            .join(Citizen, Citizen.id == Ticket.citizen_id)
            .where(*conditions)
            .order_by(order)
        )
        if limit is not None:
            statement = statement.limit(limit)
        return [_view(*row) for row in (await session.execute(statement)).all()]

    async def get(self, ticket_id: int) -> TicketView | None:
        if not _valid_id(ticket_id):
            return None
        async with self._sessions.begin() as session:
            return await self._one(session, Ticket.id == ticket_id)

    async def active_of(self, bot: str, tg_user_id: int) -> TicketView | None:
        """The citizen's newest ticket that is not closed, if any."""
        async with self._sessions.begin() as session:
            return await self._one(
                session,
                Ticket.bot == bot,
                Citizen.tg_user_id == tg_user_id,
                Ticket.state.in_([s.value for s in ACTIVE_STATES]),
            )

    async def of_citizen(self, bot: str, tg_user_id: int, *, limit: int = 10) -> list[TicketView]:
        """The citizen's tickets, newest first."""
        async with self._sessions.begin() as session:
            return await self._many(
                session, Ticket.bot == bot, Citizen.tg_user_id == tg_user_id,
                newest_first=True, limit=limit,
            )

    async def earlier(self, ticket: TicketView, *, limit: int = 5) -> list[TicketView]:
        """The same citizen's earlier tickets, newest first."""
        async with self._sessions.begin() as session:
            return await self._many(
                session, Ticket.citizen_id == ticket.citizen_id, Ticket.id < ticket.id,
                newest_first=True, limit=limit,
            )

    async def queue(self, bot: str) -> list[TicketView]:
        """Open tickets (new and in work), oldest first."""
        async with self._sessions.begin() as session:
            return await self._many(
                session, Ticket.bot == bot, Ticket.state.in_([s.value for s in OPEN_STATES])
            )

    async def without_card(self, bot: str) -> list[TicketView]:
        """Tickets not closed whose card is not in the operators' chat yet, oldest first."""
        async with self._sessions.begin() as session:
            return await self._many(
                session, Ticket.bot == bot, Ticket.card_message_id.is_(None),
                Ticket.state != TicketState.CLOSED.value,
            )

    async def by_operators_message(self, operators_chat_id: int,
                                   message_id: int) -> TicketView | None:
        """The ticket a message in the operators' chat belongs to (card, relay, notice)."""
        async with self._sessions.begin() as session:
            ticket_id = (
                await session.execute(
                    select(TicketMessage.ticket_id)
                    .where(
                        TicketMessage.operators_chat_id == operators_chat_id,
                        TicketMessage.operators_message_id == message_id,
                    )
                    .order_by(TicketMessage.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            if ticket_id is None:
                return None
            return await self._one(session, Ticket.id == ticket_id)

    async def by_thread(self, operators_chat_id: int, thread_id: int) -> TicketView | None:
        """The newest ticket of the citizen whose forum topic this is."""
        async with self._sessions.begin() as session:
            citizen_id = (
                await session.execute(
                    select(CitizenThread.citizen_id).where(
                        CitizenThread.operators_chat_id == operators_chat_id,
                        CitizenThread.thread_id == thread_id,
                    )
                )
            ).scalar_one_or_none()
            if citizen_id is None:
                return None
            return await self._one(session, Ticket.citizen_id == citizen_id,
                                   Ticket.operators_chat_id == operators_chat_id)

    async def thread_of(self, citizen_id: int, operators_chat_id: int) -> int | None:
        async with self._sessions.begin() as session:
            return (
                await session.execute(
                    select(CitizenThread.thread_id).where(
                        CitizenThread.operators_chat_id == operators_chat_id,
                        CitizenThread.citizen_id == citizen_id,
                    )
                )
            ).scalar_one_or_none()

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(TicketMessage)
                .where(TicketMessage.ticket_id == ticket_id)
                .order_by(TicketMessage.id)
            )
            return list(rows.scalars())

    async def events(self, ticket_id: int) -> list[TicketEvent]:
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.id)
            )
            return list(rows.scalars())

    # --- writing -------------------------------------------------------------------------------

    @staticmethod
    def _event(ticket: Ticket, action: str, actor: Actor, *, operator: Operator | None = None,
               before: str | None = None, detail: str | None = None,
               now: datetime) -> TicketEvent:
        return TicketEvent(
            ticket_id=ticket.id,
            action=action,
            actor=actor.value,
            actor_tg_id=operator.tg_id if operator else None,
            actor_name=operator.name if operator else None,
            state_before=before,
            state_after=ticket.state,
            detail=detail,
            created_at=now,
        )

    async def open(
        self,
        *,
        bot: str,
        tg_user_id: int,
        chat_id: int,
        text: str,
        reason: str,
        question_id: int | None = None,
        candidates: Iterable[tuple[str, float]] = (),
        bot_answer_entry: str | None = None,
        media_message_id: int | None = None,
    ) -> tuple[TicketView, bool]:
        """The citizen's active ticket, or a new one; True when it was created now.

        The citizen must have been recorded (they wrote to the bot). A message that arrives
        while a ticket is active joins it (see :meth:`follow_up`), so a citizen has at most one
        active ticket per bot.
        """
        now = self._clock()
        policy = self.policy(bot)
        async with self._sessions.begin() as session:
            citizen = (
                await session.execute(
                    select(Citizen).where(Citizen.bot == bot, Citizen.tg_user_id == tg_user_id)
                )
            ).scalar_one()
            existing = await self._one(
                session, Ticket.citizen_id == citizen.id,
                Ticket.state.in_([s.value for s in ACTIVE_STATES]),
            )
            if existing is not None:
                return existing, False
            ticket = Ticket(
                bot=bot,
                citizen_id=citizen.id,
                chat_id=chat_id,
                question_id=question_id,
                text=mask(text),
                media_message_id=media_message_id,
                reason=reason,
                candidates=[{"entry_id": e, "score": float(s)} for e, s in candidates],
                bot_answer_entry=bot_answer_entry,
                state=TicketState.NEW.value,
                created_at=now,
                updated_at=now,
                deadline_at=policy.schedule.add_working(
                    now, policy.first_response.total_seconds()
                ),
                last_citizen_at=now,
            )
            session.add(ticket)
            await session.flush()
            session.add(self._event(ticket, "open", Actor.CITIZEN, detail=reason, now=now))
            view = _view(ticket, citizen)
        log.info("ticket %d opened for bot %s (%s)", view.id, bot, reason)
        return view, True

    async def _transition(self, session: AsyncSession, ticket: Ticket, action: TicketAction,
                          actor: Actor, *, operator: Operator | None = None,
                          detail: str | None = None, now: datetime) -> None:
        before = ticket.state
        state = next_state(TicketState(before), action, has_owner=ticket.owner_tg_id is not None)
        ticket.state = state.value
        ticket.updated_at = now
        if state is TicketState.CLOSED:
            ticket.closed_at = now
        elif before == TicketState.CLOSED:
            ticket.closed_at = None
        session.add(self._event(ticket, action.value, actor, operator=operator, before=before,
                                detail=detail, now=now))

    async def _locked(self, session: AsyncSession, ticket_id: int) -> tuple[Ticket, Citizen]:
        row = (
            await session.execute(
                select(Ticket, Citizen)
                .join(Citizen, Citizen.id == Ticket.citizen_id)
                .where(Ticket.id == ticket_id)
                .with_for_update(of=Ticket)
            )
        ).one_or_none()
        if row is None:
            msg = f"no ticket {ticket_id}"
            raise LookupError(msg)
        return row[0], row[1]

    async def follow_up(self, ticket_id: int, text: str) -> TicketView:
        """The citizen wrote again: the message joins the ticket; an answered one reopens."""
        now = self._clock()
        async with self._sessions.begin() as session:
            ticket, citizen = await self._locked(session, ticket_id)
            ticket.last_citizen_at = now
            ticket.updated_at = now
            if ticket.state in (TicketState.ANSWERED, TicketState.CLOSED):
                await self._transition(session, ticket, TicketAction.REOPEN, Actor.CITIZEN,
                                       detail="new message", now=now)
                ticket.resolved = None
            session.add(self._event(ticket, "message", Actor.CITIZEN, before=ticket.state,
                                    detail=mask(text)[:200], now=now))
            return _view(ticket, citizen)

    async def claim(self, ticket_id: int, operator: Operator) -> tuple[ClaimResult,
                                                                       TicketView | None]:
        """Take the ticket; the first operator wins, later ones learn who has it."""
        if not _valid_id(ticket_id):
            return ClaimResult.NOT_FOUND, None
        now = self._clock()
        async with self._sessions.begin() as session:
            # One conditional UPDATE: safe against a concurrent claim on both databases.
            result = await session.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket_id,
                    Ticket.owner_tg_id.is_(None),
                    Ticket.state != TicketState.CLOSED.value,
                )
                .values(owner_tg_id=operator.tg_id, owner_name=operator.name, updated_at=now)
            )
            won = result.rowcount == 1  # type: ignore[attr-defined]
            row = (
                await session.execute(
                    select(Ticket, Citizen)
                    .join(Citizen, Citizen.id == Ticket.citizen_id)
                    .where(Ticket.id == ticket_id)
                )
            ).one_or_none()
            if row is None:
                return ClaimResult.NOT_FOUND, None
            ticket, citizen = row
            await session.refresh(ticket)
            if won:
                if ticket.state == TicketState.NEW:
                    await self._transition(session, ticket, TicketAction.CLAIM,
                                           Actor.OPERATOR, operator=operator, now=now)
                else:
                    session.add(self._event(ticket, "claim", Actor.OPERATOR, operator=operator,
                                            before=ticket.state, now=now))
                return ClaimResult.CLAIMED, _view(ticket, citizen)
            if ticket.state == TicketState.CLOSED:
                return ClaimResult.CLOSED, _view(ticket, citizen)
            if ticket.owner_tg_id == operator.tg_id:
                return ClaimResult.ALREADY_YOURS, _view(ticket, citizen)
            return ClaimResult.TAKEN, _view(ticket, citizen)

    async def answered(self, ticket_id: int, operator: Operator | None, *,
                       detail: str | None = None) -> TicketView:
        """An answer reached the citizen: first response time is set once."""
        now = self._clock()
        async with self._sessions.begin() as session:
            ticket, citizen = await self._locked(session, ticket_id)
            await self._transition(session, ticket, TicketAction.ANSWER, Actor.OPERATOR,
                                   operator=operator, detail=detail, now=now)
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            return _view(ticket, citizen)

    async def close(self, ticket_id: int, actor: Actor, *, operator: Operator | None = None,
                    detail: str | None = None) -> TicketView | None:
        """Close the ticket; None when it was closed already (or does not exist)."""
        if not _valid_id(ticket_id):
            return None
        now = self._clock()
        async with self._sessions.begin() as session:
            try:
                ticket, citizen = await self._locked(session, ticket_id)
                await self._transition(session, ticket, TicketAction.CLOSE, actor,
                                       operator=operator, detail=detail, now=now)
            except (LookupError, TransitionError):
                return None
            return _view(ticket, citizen)

    async def reopen(self, ticket_id: int, actor: Actor, *,
                     detail: str | None = None) -> TicketView | None:
        """Reopen an answered or closed ticket; None when it is open already."""
        now = self._clock()
        async with self._sessions.begin() as session:
            try:
                ticket, citizen = await self._locked(session, ticket_id)
                await self._transition(session, ticket, TicketAction.REOPEN, actor,
                                       detail=detail, now=now)
            except (LookupError, TransitionError):
                return None
            return _view(ticket, citizen)

    async def citizen_feedback(self, ticket_id: int, tg_user_id: int, *,
                               resolved: bool | None = None,
                               rating: int | None = None) -> TicketView | None:
        """"Вопрос решён?" and the 1–5 rating; only the ticket's own citizen may give them.

        "No" reopens the ticket; "yes" closes it. Returns None for someone else's ticket.
        """
        if not _valid_id(ticket_id):
            return None
        now = self._clock()
        async with self._sessions.begin() as session:
            try:
                ticket, citizen = await self._locked(session, ticket_id)
            except LookupError:
                return None
            if citizen.tg_user_id != tg_user_id:
                return None
            if rating is not None:
                ticket.rating = rating
                session.add(self._event(ticket, "rating", Actor.CITIZEN, before=ticket.state,
                                        detail=str(rating), now=now))
            if resolved is not None:
                ticket.resolved = resolved
                action = TicketAction.CLOSE if resolved else TicketAction.REOPEN
                try:
                    await self._transition(session, ticket, action, Actor.CITIZEN,
                                           detail="resolved" if resolved else "not resolved",
                                           now=now)
                except TransitionError:
                    session.add(self._event(ticket, "feedback", Actor.CITIZEN,
                                            before=ticket.state, detail=str(resolved), now=now))
            ticket.updated_at = now
            return _view(ticket, citizen)

    async def place(self, ticket_id: int, *, operators_chat_id: int,
                    card_message_id: int | None = None, thread_id: int | None = None) -> None:
        """Where the ticket lives in the operators' chat (card message, forum topic)."""
        async with self._sessions.begin() as session:
            values: dict[str, Any] = {"operators_chat_id": operators_chat_id}
            if card_message_id is not None:
                values["card_message_id"] = card_message_id
            if thread_id is not None:
                values["thread_id"] = thread_id
            await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))
            if card_message_id is not None:
                session.add(TicketMessage(
                    ticket_id=ticket_id, direction=Direction.CARD.value,
                    operators_chat_id=operators_chat_id, operators_message_id=card_message_id,
                    created_at=self._clock(),
                ))

    async def save_thread(self, citizen_id: int, operators_chat_id: int, thread_id: int) -> None:
        async with self._sessions.begin() as session:
            existing = (
                await session.execute(
                    select(CitizenThread).where(
                        CitizenThread.operators_chat_id == operators_chat_id,
                        CitizenThread.citizen_id == citizen_id,
                    )
                )
            ).scalar_one_or_none()
            if existing is None:
                session.add(CitizenThread(citizen_id=citizen_id,
                                          operators_chat_id=operators_chat_id,
                                          thread_id=thread_id, created_at=self._clock()))
            else:
                existing.thread_id = thread_id

    async def add_message(self, ticket_id: int, direction: Direction, *,
                          citizen_message_id: int | None = None,
                          operators_chat_id: int | None = None,
                          operators_message_id: int | None = None,
                          operator_tg_id: int | None = None, text: str | None = None) -> None:
        """Pair a relayed message with its original (so replies find their ticket)."""
        async with self._sessions.begin() as session:
            session.add(TicketMessage(
                ticket_id=ticket_id, direction=direction.value,
                citizen_message_id=citizen_message_id, operators_chat_id=operators_chat_id,
                operators_message_id=operators_message_id, operator_tg_id=operator_tg_id,
                text=text, created_at=self._clock(),
            ))

    async def note_event(self, ticket_id: int, action: str, *, operator: Operator | None,
                         detail: str | None = None) -> None:
        """An event that changes no state (a refused answer, a delivery failure, a note)."""
        now = self._clock()
        async with self._sessions.begin() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                return
            session.add(self._event(ticket, action, Actor.OPERATOR if operator else Actor.SYSTEM,
                                    operator=operator, before=ticket.state, detail=detail,
                                    now=now))

    # --- response times --------------------------------------------------------------------------

    async def newly_overdue(self, bot: str) -> list[TicketView]:
        """Open tickets past their first-response deadline not announced yet; marks them."""
        now = self._clock()
        async with self._sessions.begin() as session:
            due = await self._many(
                session,
                Ticket.bot == bot,
                Ticket.state.in_([s.value for s in OPEN_STATES]),
                Ticket.first_response_at.is_(None),
                Ticket.deadline_at <= now,
                Ticket.overdue_announced_at.is_(None),
            )
            if not due:
                return []
            await session.execute(
                update(Ticket)
                .where(Ticket.id.in_([t.id for t in due]))
                .values(overdue_announced_at=now)
            )
            return [replace(t, overdue_announced_at=now) for t in due]

    async def overdue(self, bot: str) -> list[TicketView]:
        """Open tickets still waiting for a first response past their deadline, oldest first."""
        now = self._clock()
        async with self._sessions.begin() as session:
            return await self._many(
                session,
                Ticket.bot == bot,
                Ticket.state.in_([s.value for s in OPEN_STATES]),
                Ticket.first_response_at.is_(None),
                Ticket.deadline_at <= now,
            )

    async def close_quiet(self, bot: str) -> list[TicketView]:
        """Close answered tickets with no word from the citizen for the quiet period."""
        now = self._clock()
        cutoff = now - self.policy(bot).autoclose_after
        async with self._sessions.begin() as session:
            rows = (
                await session.execute(
                    select(Ticket, Citizen)
                    .join(Citizen, Citizen.id == Ticket.citizen_id)
                    .where(
                        Ticket.bot == bot,
                        Ticket.state == TicketState.ANSWERED.value,
                        Ticket.updated_at <= cutoff,
                    )
                    .order_by(Ticket.id)
                )
            ).all()
            closed = []
            for ticket, citizen in rows:
                await self._transition(session, ticket, TicketAction.CLOSE, Actor.SYSTEM,
                                       detail="quiet period", now=now)
                closed.append(_view(ticket, citizen))
            return closed

    def working_seconds(self, bot: str, since: datetime, until: datetime) -> float:
        return self.policy(bot).schedule.working_seconds(since, until)

    async def stats(self, bot: str, *, since: datetime) -> TicketStats:
        """Questions, the bot's share, escalations, first-response times, overdue, ratings."""
        now = self._clock()
        schedule = self.policy(bot).schedule
        async with self._sessions.begin() as session:
            questions = (
                await session.execute(
                    select(func.count()).where(Question.bot == bot, Question.created_at >= since,
                                               Question.kind.in_(("faq", "browse", "redirect")))
                )
            ).scalar_one()
            answered_by_bot = (
                await session.execute(
                    select(func.count()).where(
                        Question.bot == bot, Question.created_at >= since,
                        Question.outcome.in_(("answered", "helpful")),
                    )
                )
            ).scalar_one()
            tickets = list(
                (
                    await session.execute(
                        select(Ticket).where(Ticket.bot == bot, Ticket.created_at >= since)
                    )
                ).scalars()
            )
            open_now = (
                await session.execute(
                    select(func.count()).where(
                        Ticket.bot == bot, Ticket.state.in_([s.value for s in OPEN_STATES])
                    )
                )
            ).scalar_one()
        times = [
            schedule.working_seconds(t.created_at, t.first_response_at)
            for t in tickets if t.first_response_at is not None
        ]
        overdue = sum(
            1 for t in tickets
            # Late: answered after the deadline, or still unanswered past it (a ticket closed
            # without an answer before its deadline was not late).
            if (t.first_response_at or t.closed_at or now) > t.deadline_at
        )
        ratings: dict[int, int] = {}
        for t in tickets:
            if t.rating is not None:
                ratings[t.rating] = ratings.get(t.rating, 0) + 1
        return TicketStats(
            questions=questions,
            answered_by_bot=answered_by_bot,
            escalations=len(tickets),
            first_responses=len(times),
            median_first_response=percentile(times, 0.5),
            p90_first_response=percentile(times, 0.9),
            overdue=overdue,
            open_now=open_now,
            ratings=dict(sorted(ratings.items())),
            resolved_yes=sum(1 for t in tickets if t.resolved is True),
            resolved_no=sum(1 for t in tickets if t.resolved is False),
        )

    # --- bans ----------------------------------------------------------------------------------

    async def ban(self, bot: str, tg_user_id: int, *, reason: str,
                  by: Operator | None) -> bool:
        """Bar a citizen from escalating; False if they were banned already."""
        now = self._clock()
        async with self._sessions.begin() as session:
            existing = (
                await session.execute(
                    select(Ban).where(Ban.bot == bot, Ban.tg_user_id == tg_user_id)
                )
            ).scalar_one_or_none()
            if existing is not None:
                return False
            session.add(Ban(bot=bot, tg_user_id=tg_user_id, reason=reason,
                            by_tg_id=by.tg_id if by else None, by_name=by.name if by else None,
                            created_at=now))
        log.info("citizen banned in bot %s", bot)
        return True

    async def unban(self, bot: str, tg_user_id: int) -> bool:
        async with self._sessions.begin() as session:
            existing = (
                await session.execute(
                    select(Ban).where(Ban.bot == bot, Ban.tg_user_id == tg_user_id)
                )
            ).scalar_one_or_none()
            if existing is None:
                return False
            await session.delete(existing)
        return True

    async def is_banned(self, bot: str, tg_user_id: int) -> bool:
        async with self._sessions.begin() as session:
            found = (
                await session.execute(
                    select(Ban.id).where(and_(Ban.bot == bot, Ban.tg_user_id == tg_user_id))
                )
            ).scalar_one_or_none()
        return found is not None
