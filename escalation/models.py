"""Database tables.

Names are plural nouns; every row that belongs to one bot of the suite carries that bot's name
in ``bot``. The schema is created by Alembic (``migrations/``), never by ``create_all``: after
changing this module, add a revision (``alembic revision --autogenerate --rev-id 000N -m ...``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are fixed so that migrations (and SQLite batch mode) can address them.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BOT_NAME_LEN: Final = 64
ENTRY_ID_LEN: Final = 255
LABEL_LEN: Final = 32
OUTCOME_LEN: Final = 128
REPLICA_LEN: Final = 64


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always read back as an aware UTC ``datetime``.

    PostgreSQL keeps ``timestamp with time zone``; SQLite keeps naive UTC text of a fixed
    format, which also makes comparisons in SQL correct. Naive datetimes are refused: their
    time zone is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            msg = f"naive datetime {value.isoformat()} given; pass an aware one (tz=UTC)"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Citizen(Base):
    """A Telegram user as seen by one bot."""

    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("bot", "tg_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(String(BOT_NAME_LEN))
    tg_user_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Question(Base):
    """One incoming message (or button press standing for a question) and what became of it.

    ``kind`` says how the message was handled (``faq`` when the matcher decided, ``smalltalk``,
    ``abuse``, ``redirect``, ``media``, ``flood``...); ``decision`` is the matcher's
    (``answer``/``clarify``/``escalate``); ``outcome`` is the last known result and is moved on
    by :class:`QuestionEvent` rows.
    """

    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_bot_created_at", "bot", "created_at"),
        Index("ix_questions_chat_message", "chat_id", "tg_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(String(BOT_NAME_LEN))
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    tg_message_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(LABEL_LEN))
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(LABEL_LEN))
    decision: Mapped[str | None] = mapped_column(String(LABEL_LEN))
    entry_id: Mapped[str | None] = mapped_column(String(ENTRY_ID_LEN))
    score: Mapped[float | None] = mapped_column(Float)
    # [{"entry_id": "amount", "score": 87.5}, ...], best first
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(OUTCOME_LEN))
    entry_shown: Mapped[str | None] = mapped_column(String(ENTRY_ID_LEN))


class QuestionEvent(Base):
    """Something the citizen did about a question later: a clarify pick, 👍/👎, "ask a person"."""

    __tablename__ = "question_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(LABEL_LEN))
    entry_id: Mapped[str | None] = mapped_column(String(ENTRY_ID_LEN))
    created_at: Mapped[datetime]


class Ticket(Base):
    """A question handed to people: the operator queue's unit of work.

    ``id`` is the number citizens and operators see («обращение № 12»). ``state`` follows
    :mod:`escalation.states`; every change is a :class:`TicketEvent`. Times: ``deadline_at``
    is when the first response is due (working hours only); ``first_response_at`` is the first
    operator answer delivered to the citizen.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_bot_state", "bot", "state"),
        Index("ix_tickets_bot_created_at", "bot", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(String(BOT_NAME_LEN))
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    # The citizen's message to copy under the card (it carries a photo or a document).
    media_message_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(LABEL_LEN))
    # [{"entry_id": "amount", "score": 87.5}, ...]: what the matcher considered, best first
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    bot_answer_entry: Mapped[str | None] = mapped_column(String(ENTRY_ID_LEN))
    state: Mapped[str] = mapped_column(String(LABEL_LEN))
    owner_tg_id: Mapped[int | None] = mapped_column(BigInteger)
    owner_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_citizen_at: Mapped[datetime]
    overdue_announced_at: Mapped[datetime | None]
    operators_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    resolved: Mapped[bool | None]
    rating: Mapped[int | None]


class TicketEvent(Base):
    """One step in a ticket's life: who did what and when (the audit trail)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(LABEL_LEN))
    actor: Mapped[str] = mapped_column(String(LABEL_LEN))  # citizen | operator | system
    actor_tg_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(String(255))
    state_before: Mapped[str | None] = mapped_column(String(LABEL_LEN))
    state_after: Mapped[str | None] = mapped_column(String(LABEL_LEN))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class TicketMessage(Base):
    """A message of a ticket's conversation, paired with its copy on the other side.

    ``direction``: ``in`` (citizen → operators' chat), ``out`` (operator → citizen), ``card``
    (the ticket card), ``note`` (an operator's internal note), ``notice`` (what the bot told
    operators). Replies in the operators' chat find their ticket through
    ``operators_message_id``.
    """

    __tablename__ = "ticket_messages"
    __table_args__ = (
        Index("ix_ticket_messages_operators", "operators_chat_id", "operators_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(LABEL_LEN))
    citizen_message_id: Mapped[int | None] = mapped_column(BigInteger)
    operators_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    operators_message_id: Mapped[int | None] = mapped_column(BigInteger)
    operator_tg_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class CitizenThread(Base):
    """The forum topic that holds one citizen's conversation in a bot's operators' chat."""

    __tablename__ = "citizen_threads"
    __table_args__ = (UniqueConstraint("operators_chat_id", "citizen_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    operators_chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class Ban(Base):
    """A citizen barred from escalating to operators (abuse); their messages are still kept."""

    __tablename__ = "bans"
    __table_args__ = (UniqueConstraint("bot", "tg_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(String(BOT_NAME_LEN))
    tg_user_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    by_tg_id: Mapped[int | None] = mapped_column(BigInteger)
    by_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class InboxUpdate(Base):
    """An incoming update, stored before it is handled (the inbox).

    ``(bot, update_id)`` is unique, so an update delivered twice is handled once. ``status`` is
    ``pending`` until its handler finishes (``done``), or ``failed`` after the last attempt;
    pending updates are handled again after a crash or restart.

    ``owner`` is the replica handling the update, until ``next_attempt_at`` (its lease, renewed
    while it runs); a chat's updates are claimed one at a time, oldest first
    (:mod:`escalation.inbox`), so they are handled in order whichever replica received them.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("bot", "update_id"),
        Index("ix_inbox_bot_status", "bot", "status"),
        Index("ix_inbox_bot_chat_status", "bot", "chat_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(String(BOT_NAME_LEN))
    update_id: Mapped[int] = mapped_column(BigInteger)
    #: The chat whose updates are handled in order (the update id for an update with no chat).
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    owner: Mapped[str | None] = mapped_column(String(REPLICA_LEN))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(LABEL_LEN))
    attempts: Mapped[int]
    received_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A message to send (the outbox): stored before the request, settled after it.

    ``key`` identifies the message within its bot (``u<update_id>:<n>`` for the n-th message
    sent while handling an update, ``card:<ticket>``...): handling an update again after a
    crash finds the messages it already sent and does not send them twice. ``status``:
    ``pending`` → ``sent`` (``message_ids`` known) or ``failed`` (``error``: Telegram's final
    refusal). ``attempts`` counts requests made; a pending row with attempts whose outcome is
    unknown (a timeout, a crash mid-request) is sent again with ``maybe_duplicate`` set.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("bot", "key"),
        Index("ix_outbox_bot_status", "bot", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bot: Mapped[str] = mapped_column(String(BOT_NAME_LEN))
    key: Mapped[str] = mapped_column(String(200))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(LABEL_LEN))
    status: Mapped[str] = mapped_column(String(LABEL_LEN))
    attempts: Mapped[int]
    maybe_duplicate: Mapped[bool]
    message_ids: Mapped[list[int] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ChatMigration(Base):
    """A group that became a supergroup: messages to ``old_chat_id`` go to ``new_chat_id``."""

    __tablename__ = "chat_migrations"

    old_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    new_chat_id: Mapped[int] = mapped_column(BigInteger)
    migrated_at: Mapped[datetime]


class JobLease(Base):
    """Which replica runs a singleton job (ticket cards, alerts, retention, digests), until
    when: renewed while it runs, taken over by another replica once it expires."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(BOT_NAME_LEN * 2), primary_key=True)
    owner: Mapped[str] = mapped_column(String(REPLICA_LEN))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime]
