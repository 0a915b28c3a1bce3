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
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from escalation.models import Ban, Citizen, CitizenThread, Ticket, TicketEvent, TicketMessage
from escalation.privacy import mask
from escalation.states import OPEN_STATES, TicketAction, TicketState, TransitionError, next_state
from escalation.stats import TicketStats, ticket_stats
from escalation.ticket_reads import TicketReads, with_citizen
from escalation.ticket_views import (
    ACTIVE_STATES,
    Actor,
    ClaimResult,
    Direction,
    Operator,
    QueuePolicy,
    TicketView,
    valid_id,
    view,
)

__all__ = [
    "ACTIVE_STATES",
    "Actor",
    "ClaimResult",
    "Direction",
    "Operator",
    "QueuePolicy",
    "TicketStats",
    "TicketView",
    "Tickets",
]

log = logging.getLogger(__name__)


class Tickets(TicketReads):
    """Repository and service of the operator queue (one transaction per method); the reading
    methods are :class:`escalation.ticket_reads.TicketReads`'."""

    # --- writing -------------------------------------------------------------------------------

    @staticmethod
    def _event(ticket: Ticket, action: str, actor: Actor, *, operator: Operator | None = None,
               before: str | None = None, detail: str | None = None,
               now: datetime) -> TicketEvent:
        return TicketEvent(
            ticket_id=ticket.id, action=action, actor=actor.value,
            actor_tg_id=operator.tg_id if operator else None,
            actor_name=operator.name if operator else None,
            state_before=before, state_after=ticket.state, detail=detail, created_at=now,
        )

    async def open(self, *, bot: str, tg_user_id: int, chat_id: int, text: str, reason: str,
                   question_id: int | None = None, candidates: Iterable[tuple[str, float]] = (),
                   bot_answer_entry: str | None = None,
                   media_message_id: int | None = None) -> tuple[TicketView, bool]:
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
            opened = view(ticket, citizen)
        log.info("ticket %d opened for bot %s (%s)", opened.id, bot, reason)
        return opened, True

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
                with_citizen()
                .where(Ticket.id == ticket_id)
                .with_for_update(of=Ticket)
            )
        ).one_or_none()
        if row is None:
            msg = f"no ticket {ticket_id}"
            raise LookupError(msg)
        return row[0], row[1]

    async def _locked_if_any(self, session: AsyncSession,
                             ticket_id: int) -> tuple[Ticket, Citizen] | None:
        """:meth:`_locked`, or None for a number no ticket has (buttons carry any number)."""
        if not valid_id(ticket_id):
            return None
        try:
            return await self._locked(session, ticket_id)
        except LookupError:
            return None

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
            return view(ticket, citizen)

    async def claim(self, ticket_id: int, operator: Operator) -> tuple[ClaimResult,
                                                                       TicketView | None]:
        """Take the ticket; the first operator wins, later ones learn who has it."""
        if not valid_id(ticket_id):
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
                    with_citizen()
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
                return ClaimResult.CLAIMED, view(ticket, citizen)
            if ticket.state == TicketState.CLOSED:
                return ClaimResult.CLOSED, view(ticket, citizen)
            if ticket.owner_tg_id == operator.tg_id:
                return ClaimResult.ALREADY_YOURS, view(ticket, citizen)
            return ClaimResult.TAKEN, view(ticket, citizen)

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
            return view(ticket, citizen)

    async def close(self, ticket_id: int, actor: Actor, *, operator: Operator | None = None,
                    detail: str | None = None) -> TicketView | None:
        """Close the ticket; None when it was closed already (or does not exist)."""
        return await self._move(ticket_id, TicketAction.CLOSE, actor, operator, detail)

    async def reopen(self, ticket_id: int, actor: Actor, *,
                     detail: str | None = None) -> TicketView | None:
        """Reopen an answered or closed ticket; None when it is open already."""
        return await self._move(ticket_id, TicketAction.REOPEN, actor, None, detail)

    async def _move(self, ticket_id: int, action: TicketAction, actor: Actor,
                    operator: Operator | None, detail: str | None) -> TicketView | None:
        """One transition in its own transaction; None where the state machine refuses it."""
        now = self._clock()
        async with self._sessions.begin() as session:
            found = await self._locked_if_any(session, ticket_id)
            if found is None:
                return None
            ticket, citizen = found
            try:
                await self._transition(session, ticket, action, actor, operator=operator,
                                       detail=detail, now=now)
            except TransitionError:
                return None
            return view(ticket, citizen)

    async def citizen_feedback(self, ticket_id: int, tg_user_id: int, *,
                               resolved: bool | None = None,
                               rating: int | None = None) -> TicketView | None:
        """"Вопрос решён?" and the 1–5 rating; only the ticket's own citizen may give them.

        "No" reopens the ticket; "yes" closes it. Returns None for someone else's ticket.
        """
        now = self._clock()
        async with self._sessions.begin() as session:
            found = await self._locked_if_any(session, ticket_id)
            if found is None or found[1].tg_user_id != tg_user_id:
                return None
            ticket, citizen = found
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
            return view(ticket, citizen)

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

    async def close_quiet(self, bot: str) -> list[TicketView]:
        """Close answered tickets with no word from the citizen for the quiet period."""
        now = self._clock()
        cutoff = now - self.policy(bot).autoclose_after
        async with self._sessions.begin() as session:
            rows = (
                await session.execute(
                    with_citizen()
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
                closed.append(view(ticket, citizen))
            return closed


    async def stats(self, bot: str, *, since: datetime) -> TicketStats:
        """The bot's figures since ``since`` (:func:`escalation.stats.ticket_stats`)."""
        return await ticket_stats(self._sessions, bot, since=since, now=self._clock(),
                                  schedule=self.policy(bot).schedule)

    # --- bans ----------------------------------------------------------------------------------

    @staticmethod
    async def _ban_of(session: AsyncSession, bot: str, tg_user_id: int) -> Ban | None:
        return (
            await session.execute(
                select(Ban).where(and_(Ban.bot == bot, Ban.tg_user_id == tg_user_id))
            )
        ).scalar_one_or_none()

    async def ban(self, bot: str, tg_user_id: int, *, reason: str,
                  by: Operator | None) -> bool:
        """Bar a citizen from escalating; False if they were banned already."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if await self._ban_of(session, bot, tg_user_id) is not None:
                return False
            session.add(Ban(bot=bot, tg_user_id=tg_user_id, reason=reason,
                            by_tg_id=by.tg_id if by else None, by_name=by.name if by else None,
                            created_at=now))
        log.info("citizen banned in bot %s", bot)
        return True

    async def unban(self, bot: str, tg_user_id: int) -> bool:
        async with self._sessions.begin() as session:
            existing = await self._ban_of(session, bot, tg_user_id)
            if existing is None:
                return False
            await session.delete(existing)
        return True

    async def is_banned(self, bot: str, tg_user_id: int) -> bool:
        async with self._sessions.begin() as session:
            return await self._ban_of(session, bot, tg_user_id) is not None
