"""Reading the operator queue: tickets by number, citizen, place in the operators' chat, and
the tickets due for attention. One transaction per method; plain :class:`TicketView` values.

:class:`escalation.tickets.Tickets` adds the writing side to :class:`TicketReads`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import Citizen, CitizenThread, Ticket, TicketEvent, TicketMessage
from escalation.records import utc_now
from escalation.states import OPEN_STATES, TicketState
from escalation.ticket_views import ACTIVE_STATES, QueuePolicy, TicketView, valid_id, view

_Row = TypeVar("_Row", TicketMessage, TicketEvent)


def with_citizen() -> Select[Ticket, Citizen]:
    """Tickets joined with their citizens (what :func:`view` needs)."""
    return select(Ticket, Citizen).join(Citizen, Citizen.id == Ticket.citizen_id)


class TicketReads:
    """The reading side of the operator queue (one transaction per method)."""

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
                with_citizen()
                .where(*conditions)
                .order_by(Ticket.id.desc())
                .limit(1)
            )
        ).one_or_none()
        return None if row is None else view(*row)

    async def _many(self, session: AsyncSession, *conditions: Any,
                    newest_first: bool = False, limit: int | None = None) -> list[TicketView]:
        order = Ticket.id.desc() if newest_first else Ticket.id
        statement = (
            with_citizen()
            .where(*conditions)
            .order_by(order)
        )
        if limit is not None:
            statement = statement.limit(limit)
        return [view(*row) for row in (await session.execute(statement)).all()]

    async def get(self, ticket_id: int) -> TicketView | None:
        if not valid_id(ticket_id):
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
        """What was relayed, answered, noted and told about the ticket, oldest first."""
        return await self._of_ticket(TicketMessage, ticket_id)

    async def events(self, ticket_id: int) -> list[TicketEvent]:
        """The ticket's history: who did what and when, oldest first."""
        return await self._of_ticket(TicketEvent, ticket_id)

    async def _of_ticket(self, model: type[_Row], ticket_id: int) -> list[_Row]:
        async with self._sessions.begin() as session:
            rows = await session.execute(
                select(model).where(model.ticket_id == ticket_id).order_by(model.id)
            )
            return list(rows.scalars())

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

    def working_seconds(self, bot: str, since: datetime, until: datetime) -> float:
        return self.policy(bot).schedule.working_seconds(since, until)
