"""Fixtures shared by all tests.

Database fixtures run every test that uses them twice: on SQLite (a file in ``tmp_path``) and on
PostgreSQL (one scratch database per test session, emptied before each test). PostgreSQL is
found through ``TEST_POSTGRES_URL`` (default: user postgres on 127.0.0.1:5432, database
``test``, used only to create and drop the scratch database); when it is not reachable those
tests are skipped with the reason. ``pytest -m "not postgres"`` leaves them out.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import NullPool, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from escalation.db import create_engine, make_session_factory, upgrade_database

T = TypeVar("T")

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on its own loop (session fixtures are sync)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _execute(url: str, *statements: str) -> None:
    engine = create_async_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"timeout": 5}
    )
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a PostgreSQL database created for this test session and dropped after it."""
    name = f"cur_faq_test_{uuid.uuid4().hex[:12]}"
    where = make_url(POSTGRES_ADMIN_URL).render_as_string(hide_password=True)
    try:
        _run_in_thread(_execute(POSTGRES_ADMIN_URL, f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, DBAPIError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {where}: {exc!r}")
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_in_thread(
            _execute(POSTGRES_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest) -> str:
    """URL of an empty database (nothing migrated yet), SQLite or PostgreSQL."""
    if request.param == "sqlite":
        tmp_path = request.getfixturevalue("tmp_path")
        return f"sqlite+aiosqlite:///{tmp_path / 'bots.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database")
    await _execute(url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")
    return url


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head."""
    await upgrade_database(db_url)
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory on a database migrated to head."""
    return make_session_factory(db_engine)
