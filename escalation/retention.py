"""Erasing citizens' personal texts (152-FZ): after a retention period, and on request.

What is erased is what a citizen wrote or what identifies them: ``questions.text``,
``tickets.text``, ``ticket_messages.text``, the free-text ``ticket_events.detail`` (a
follow-up's words, a ban reason, a Telegram error…) become :data:`ERASED`; ``citizens``'
``display_name`` and ``username`` become NULL. Everything the figures are made of stays:
rows and their counts, kinds, decisions, outcomes, entry ids, candidates, states, times,
ratings, and the coded details of state changes (:data:`CODED_DETAILS`: the escalation reason,
``resolved``, ``faq:<entry>``, ``quiet period``…). Anonymous statistics
(:meth:`escalation.tickets.Tickets.stats`, :meth:`escalation.records.Records.stats`) are the
same before and after.

:meth:`Retention.run` erases, once they are older than the period:

- closed tickets (closed before the cut-off): their text, messages and event details;
- questions asked before the cut-off, unless they belong to a ticket that is kept (still
  open, or closed after the cut-off) — as its first question (``tickets.question_id``) or as a
  follow-up (``outcome`` ``ticket:<id>``);
- the names of citizens last seen before the cut-off who have no ticket that is kept.

:meth:`Retention.prune` deletes the inbox and outbox rows that are settled (an update handled
or given up, a message sent or refused) once they are older than their own, shorter horizon
(``INBOX_OUTBOX_RETENTION_HOURS``); pending rows stay, and so does every outbox row of an update
still pending (handling it again must find what it sent).

Work is done in batches, one transaction each; a run that is interrupted leaves whole batches
done and the next run carries on. Running again changes nothing (the report counts only rows
that changed). This module and :mod:`escalation.records`/:mod:`escalation.tickets` share the
tables: those two write them, this one only ever erases texts.

:meth:`Retention.forget` erases everything of one citizen in one bot at once, whatever the
age (``/forget``), including their rows in the inbox (found by the user and chat ids in the
stored update) and, given the bot's Telegram id, their settled outbox rows; closing their open
tickets is the queue's job, done before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    delete,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation import inbox, outbox
from escalation.models import (
    Citizen,
    InboxUpdate,
    OutboxMessage,
    Question,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from escalation.records import utc_now
from escalation.states import TicketState

log = logging.getLogger(__name__)

#: What an erased text reads.
ERASED: Final = "[удалено]"
#: Events whose ``detail`` is a code, not words: they are kept.
CODED_DETAILS: Final = frozenset(
    {"open", "claim", "answer", "close", "reopen", "rating", "feedback"}
)
BATCH: Final = 500


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """How many rows had a text (or a name) erased."""

    questions: int = 0
    tickets: int = 0
    ticket_messages: int = 0
    ticket_events: int = 0
    citizens: int = 0
    #: Rows deleted from the inbox and the outbox: delivery records, not in :attr:`total`
    #: (``/forget`` always finds its own button's update there).
    inbox: int = 0
    outbox: int = 0

    @property
    def total(self) -> int:
        """Rows whose text or name was erased."""
        return (self.questions + self.tickets + self.ticket_messages + self.ticket_events
                + self.citizens)

    @property
    def counts(self) -> dict[str, int]:
        return asdict(self)

    def __add__(self, other: RetentionReport) -> RetentionReport:
        return RetentionReport(**{k: v + other.counts[k] for k, v in self.counts.items()})


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)


def _text_left(column: Any) -> ColumnElement[bool]:
    """A text not erased yet (an empty one has nothing to erase)."""
    return and_(column.is_not(None), column.not_in(("", ERASED)))


_EVENT_LEFT: Final = and_(TicketEvent.action.not_in(sorted(CODED_DETAILS)),
                          _text_left(TicketEvent.detail))


#: An outbox row keyed by an update still pending in the inbox (``u<update_id>:...``).
_OF_PENDING_UPDATE: Final = (
    select(InboxUpdate.id)
    .where(InboxUpdate.status == inbox.PENDING,
           OutboxMessage.key.startswith(
               literal("u").concat(cast(InboxUpdate.update_id, String)).concat(":")))
    .exists())
_OUTBOX_SETTLED: Final = and_(OutboxMessage.status.in_((outbox.SENT, outbox.FAILED)),
                              not_(_OF_PENDING_UPDATE))
#: Keys of a stored update that name a person (``from``, ``chat``, ``user``...): their ``id``.
_PERSON_KEYS: Final = frozenset({"from", "chat", "user", "sender_chat", "forward_from"})


def mentions(payload: Any, tg_user_id: int) -> bool:
    """Whether a stored update (its JSON) comes from, or is about, ``tg_user_id``."""
    if isinstance(payload, dict):
        return any(
            (key in _PERSON_KEYS and isinstance(value, dict)
             and value.get("id") == tg_user_id) or mentions(value, tg_user_id)
            for key, value in payload.items())
    if isinstance(payload, list):
        return any(mentions(item, tg_user_id) for item in payload)
    return False


def _ticket_erasable(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Ticket.state == TicketState.CLOSED.value, Ticket.closed_at.is_not(None),
                Ticket.closed_at <= cutoff)


def _ticket_kept(cutoff: datetime) -> ColumnElement[bool]:
    return not_(_ticket_erasable(cutoff))


def _ticket_has_text(ticket_id: Any) -> ColumnElement[bool]:
    """The ticket, its messages or its events still hold something to erase."""
    return or_(
        _text_left(Ticket.text),
        select(TicketMessage.id).where(TicketMessage.ticket_id == ticket_id,
                                       _text_left(TicketMessage.text)).exists(),
        select(TicketEvent.id).where(TicketEvent.ticket_id == ticket_id, _EVENT_LEFT).exists(),
    )


class Retention:
    """Erases personal texts; one transaction per batch, idempotent."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utc_now, batch: int = BATCH) -> None:
        self._sessions = sessions
        self._clock = clock
        self._batch = batch

    async def run(self, older_than: timedelta) -> RetentionReport:
        """Erase what is older than ``older_than`` (see the module's description)."""
        cutoff = self._clock() - older_than
        report = await self._tickets(cutoff) + await self._questions(cutoff)
        report += await self._citizens(cutoff)
        if report.total:
            log.info("retention: erased texts older than %s: %s", older_than, report.counts)
        return report

    async def prune(self, older_than: timedelta) -> RetentionReport:
        """Delete settled inbox and outbox rows older than ``older_than`` (see the module's
        description), a batch (and a transaction) at a time."""
        cutoff = self._clock() - older_than
        report = RetentionReport(
            inbox=await self._delete_in_batches(InboxUpdate.id, (
                InboxUpdate.status.in_((inbox.DONE, inbox.FAILED)),
                InboxUpdate.received_at <= cutoff)),
            outbox=await self._delete_in_batches(OutboxMessage.id, (
                _OUTBOX_SETTLED, OutboxMessage.created_at <= cutoff)))
        if report.inbox or report.outbox:
            log.info("retention: deleted settled inbox/outbox rows older than %s: %s",
                     older_than, {"inbox": report.inbox, "outbox": report.outbox})
        return report

    async def forget(self, bot: str, tg_user_id: int, *,
                     bot_id: int | None = None) -> RetentionReport:
        """Erase every text and the name of one citizen of ``bot`` and delete their inbox
        rows (one transaction); with ``bot_id`` (the bot's Telegram id, what the outbox
        names it by), their settled outbox rows too."""
        async with self._sessions.begin() as session:
            report = await self._forget_deliveries(session, bot, tg_user_id, bot_id)
            citizen_id = (
                await session.execute(select(Citizen.id).where(
                    Citizen.bot == bot, Citizen.tg_user_id == tg_user_id))
            ).scalar_one_or_none()
            if citizen_id is None:
                return report
            ticket_ids = list((await session.execute(
                select(Ticket.id).where(Ticket.citizen_id == citizen_id))).scalars())
            report += await self._erase_tickets(session, ticket_ids)
            questions = await session.execute(
                update(Question)
                .where(Question.citizen_id == citizen_id, _text_left(Question.text))
                .values(text=ERASED).execution_options(synchronize_session=False))
            citizens = await session.execute(
                update(Citizen)
                .where(Citizen.id == citizen_id,
                       or_(Citizen.display_name.is_not(None), Citizen.username.is_not(None)))
                .values(display_name=None, username=None)
                .execution_options(synchronize_session=False))
        report += RetentionReport(questions=_rows(questions), citizens=_rows(citizens))
        log.info("citizen of bot %s erased their data: %s", bot, report.counts)
        return report

    async def _forget_deliveries(self, session: AsyncSession, bot: str, tg_user_id: int,
                                 bot_id: int | None) -> RetentionReport:
        """Delete the citizen's inbox rows that still hold an update (pending or given up:
        a handled one keeps none) and, with ``bot_id``, their settled outbox rows."""
        rows = await session.execute(
            select(InboxUpdate.id, InboxUpdate.payload)
            .where(InboxUpdate.bot == bot, InboxUpdate.status != inbox.DONE))
        ids = [row_id for row_id, payload in rows if mentions(payload, tg_user_id)]
        deleted = RetentionReport()
        if ids:
            result = await session.execute(delete(InboxUpdate).where(InboxUpdate.id.in_(ids)))
            deleted += RetentionReport(inbox=_rows(result))
        if bot_id is not None:
            result = await session.execute(delete(OutboxMessage).where(
                OutboxMessage.bot == str(bot_id), OutboxMessage.chat_id == tg_user_id,
                _OUTBOX_SETTLED))
            deleted += RetentionReport(outbox=_rows(result))
        return deleted

    # --- batches -------------------------------------------------------------------------------

    async def _delete_in_batches(self, column: Any, conditions: tuple[Any, ...]) -> int:
        """Delete the rows matching ``conditions``, a batch (and a transaction) at a time."""
        deleted = 0
        while True:
            async with self._sessions.begin() as session:
                ids = await self._ids(session, column, 0, *conditions)
                if not ids:
                    return deleted
                result = await session.execute(delete(column.table).where(column.in_(ids)))
                deleted += _rows(result)

    async def _ids(self, session: AsyncSession, column: Any, after: int,
                   *conditions: Any) -> list[int]:
        statement = (select(column).where(column > after, *conditions).order_by(column)
                     .limit(self._batch))
        return list((await session.execute(statement)).scalars())

    async def _in_batches(
        self, column: Any, conditions: tuple[Any, ...],
        erase: Callable[[AsyncSession, list[int]], Awaitable[RetentionReport]],
    ) -> RetentionReport:
        """``erase`` the rows matching ``conditions``, a batch (and a transaction) at a time,
        in order of ``column``."""
        report, after = RetentionReport(), 0
        while True:
            async with self._sessions.begin() as session:
                ids = await self._ids(session, column, after, *conditions)
                if not ids:
                    return report
                report += await erase(session, ids)
            after = ids[-1]

    async def _tickets(self, cutoff: datetime) -> RetentionReport:
        return await self._in_batches(
            Ticket.id, (_ticket_erasable(cutoff), _ticket_has_text(Ticket.id)),
            self._erase_tickets)

    async def _erase_tickets(self, session: AsyncSession, ids: list[int]) -> RetentionReport:
        if not ids:
            return RetentionReport()
        tickets = await session.execute(
            update(Ticket).where(Ticket.id.in_(ids), _text_left(Ticket.text))
            .values(text=ERASED).execution_options(synchronize_session=False))
        messages = await session.execute(
            update(TicketMessage)
            .where(TicketMessage.ticket_id.in_(ids), _text_left(TicketMessage.text))
            .values(text=ERASED).execution_options(synchronize_session=False))
        events = await session.execute(
            update(TicketEvent).where(TicketEvent.ticket_id.in_(ids), _EVENT_LEFT)
            .values(detail=ERASED).execution_options(synchronize_session=False))
        return RetentionReport(tickets=_rows(tickets), ticket_messages=_rows(messages),
                               ticket_events=_rows(events))

    async def _questions(self, cutoff: datetime) -> RetentionReport:
        kept = _ticket_kept(cutoff)
        first_of_kept = (select(Ticket.id)
                         .where(Ticket.question_id == Question.id, kept).exists())
        follow_up_of_kept = (
            select(Ticket.id)
            .where(literal("ticket:").concat(cast(Ticket.id, String)) == Question.outcome, kept)
            .exists())
        erasable = (Question.created_at <= cutoff, _text_left(Question.text),
                    not_(first_of_kept),
                    or_(Question.outcome.is_(None), not_(Question.outcome.startswith("ticket:")),
                        not_(follow_up_of_kept)))

        async def erase(session: AsyncSession, ids: list[int]) -> RetentionReport:
            result = await session.execute(
                update(Question).where(Question.id.in_(ids), _text_left(Question.text))
                .values(text=ERASED).execution_options(synchronize_session=False))
            return RetentionReport(questions=_rows(result))

        return await self._in_batches(Question.id, erasable, erase)

    async def _citizens(self, cutoff: datetime) -> RetentionReport:
        has_kept_ticket = (select(Ticket.id)
                           .where(Ticket.citizen_id == Citizen.id, _ticket_kept(cutoff))
                           .exists())
        erasable = (Citizen.last_seen_at <= cutoff,
                    or_(Citizen.display_name.is_not(None), Citizen.username.is_not(None)),
                    not_(has_kept_ticket))

        async def erase(session: AsyncSession, ids: list[int]) -> RetentionReport:
            result = await session.execute(
                update(Citizen).where(Citizen.id.in_(ids))
                .values(display_name=None, username=None)
                .execution_options(synchronize_session=False))
            return RetentionReport(citizens=_rows(result))

        return await self._in_batches(Citizen.id, erasable, erase)
