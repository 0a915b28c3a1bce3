"""Engine setup and the portable UTC datetime type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.db import create_engine
from escalation.models import Citizen, Question, UTCDateTime

MSK = timezone(timedelta(hours=3))


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'bots.sqlite3'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()
    assert (journal, foreign_keys) == ("wal", 1)
    assert busy >= 5000
    assert (tmp_path / "nested" / "bots.sqlite3").is_file()


async def test_foreign_keys_enforced(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Question(
                    bot="payments",
                    citizen_id=12345,
                    chat_id=1,
                    text="?",
                    source="text",
                    created_at=now,
                    kind="faq",
                    candidates=[],
                )
            )


def test_utc_datetime_refuses_naive() -> None:
    column_type = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2025, 1, 1), sqlite.dialect())


async def test_datetimes_come_back_aware_utc(sessions: async_sessionmaker[AsyncSession]) -> None:
    moscow_noon = datetime(2025, 3, 8, 12, 0, 0, 123456, tzinfo=MSK)
    async with sessions.begin() as session:
        citizen = Citizen(
            bot="payments", tg_user_id=1, first_seen_at=moscow_noon, last_seen_at=moscow_noon
        )
        session.add(citizen)
    async with sessions() as session:
        stored = await session.scalar(select(Citizen.first_seen_at))
        later = await session.scalar(
            select(func.count()).where(Citizen.last_seen_at > moscow_noon - timedelta(seconds=1))
        )
    assert stored == moscow_noon
    assert stored is not None
    assert stored.tzinfo is UTC
    assert stored.hour == 9
    assert later == 1
