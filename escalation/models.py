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
    __table_args__ = (Index("ix_questions_bot_created_at", "bot", "created_at"),)

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
