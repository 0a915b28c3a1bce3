"""Engine, sessions and schema migrations.

One database serves every bot of the suite: SQLite for a single-host install (the default,
``sqlite+aiosqlite:///data/bots.sqlite3``, relative to the working directory) and PostgreSQL
(``postgresql+asyncpg://...``) in production. The schema is owned by Alembic; call
:func:`upgrade_database` at startup before serving.

On an SQLite file the engine keeps one connection per process (transactions take turns; see
:func:`_build_engine`), in WAL mode with ``synchronous=NORMAL``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Table, event, make_url, pool
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL: Final = "sqlite+aiosqlite:///data/bots.sqlite3"

#: How long an SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS: Final = 15_000

#: How long a transaction waits for the one SQLite connection of the process (see
#: :func:`_build_engine`) before failing with ``sqlalchemy.exc.TimeoutError``.
SQLITE_POOL_TIMEOUT_S: Final = 30.0

_PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
ALEMBIC_INI: Final = _PROJECT_ROOT / "alembic.ini"
MIGRATIONS_DIR: Final = _PROJECT_ROOT / "migrations"


def create_engine(url: str) -> AsyncEngine:
    """An engine for ``url``; on SQLite with WAL, foreign keys and a busy timeout."""
    return _build_engine(url, foreign_keys=True)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (services return plain values)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> Path | None:
    """The database file of an SQLite URL; None for an in-memory or URI database, and for
    any other database."""
    if not _is_sqlite(url):
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def prepare_sqlite_directory(url: str) -> None:
    """Create the directory of an SQLite database file (SQLite creates only the file)."""
    parsed = make_url(url)
    path = sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def _build_engine(
    url: str, *, foreign_keys: bool, poolclass: type[pool.Pool] | None = None
) -> AsyncEngine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if poolclass is not None:
        kwargs["poolclass"] = poolclass
    if not _is_sqlite(parsed):
        return _create_async_engine(parsed, pool_pre_ping=True, **kwargs)

    prepare_sqlite_directory(url)
    path = sqlite_file(parsed)
    single = path is not None and poolclass is None
    if single:
        # One connection per process for a database file. SQLite has one writer at a time:
        # with a pool of several connections, concurrent handlers' transactions wait for each
        # other's lock inside SQLite's busy handler, which polls with sleeps of up to 100 ms
        # (200 questions at once took ~1 s to record). With one connection, transactions queue
        # in the pool (FIFO, without sleeping) and run one after another. That also isolates
        # read-then-write transactions, which several connections do not: pysqlite sends
        # BEGIN only before the first write, so the reads before it see no lock.
        # Consequence: code must never wait for a second session while it holds one (e.g.
        # call a service from inside ``async with sessions.begin()``): it would wait
        # SQLITE_POOL_TIMEOUT_S and fail. Services open one session per method.
        kwargs.update(
            poolclass=pool.AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=SQLITE_POOL_TIMEOUT_S,
            # Replaced by _rollback_if_in_transaction below.
            pool_reset_on_return=None,
        )
    engine = _create_async_engine(parsed, **kwargs)
    # Python's sqlite3 driver waits 5 s for a lock by default; say explicitly how long.
    pragmas = [
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}",
    ]

    @event.listens_for(engine.sync_engine, "connect")
    def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
                if str(cursor.fetchone()[0]).lower() == "wal":
                    # Durability: in WAL mode, NORMAL does not fsync the WAL on every commit,
                    # only at checkpoints. A committed transaction survives a crash or kill of
                    # the process; a power loss or an OS crash may lose the last transactions
                    # since the latest checkpoint, but never corrupts the database
                    # (https://www.sqlite.org/pragma.html#pragma_synchronous). Not set with a
                    # rollback journal, where NORMAL is less safe.
                    cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    if single:

        @event.listens_for(engine.sync_engine, "reset")
        def _rollback_if_in_transaction(
            dbapi_connection: Any, _record: Any, reset_state: pool.PoolResetState
        ) -> None:
            """Roll back what a connection returned to the pool left open, as the default
            reset does, but skip the no-op ROLLBACK after a COMMIT: each statement is a round
            trip to aiosqlite's thread, while ``in_transaction`` is read here."""
            if reset_state.asyncio_safe and _in_transaction(dbapi_connection):
                dbapi_connection.rollback()

    return engine


def _in_transaction(dbapi_connection: Any) -> bool:
    try:
        return bool(dbapi_connection.driver_connection.in_transaction)
    except (AttributeError, ValueError):  # closed or not aiosqlite: roll back to be safe
        return True


@functools.cache
def insert_into(dialect: str) -> Callable[..., postgresql.Insert | sqlite.Insert]:
    """The ``INSERT`` constructor of ``dialect`` (both know ``ON CONFLICT``)."""
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    msg = f"unsupported database {dialect!r}: use PostgreSQL or SQLite"
    raise NotImplementedError(msg)


def insert_if_new(table: Table, dialect: str, keys: tuple[str, ...]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING RETURNING id, keys…`` for ``dialect``, built
    once: executed with many rows, the rows returned are the new ones, named by their keys."""
    return (insert_into(dialect)(table).on_conflict_do_nothing(index_elements=list(keys))
            .returning(table.c.id, *(table.c[key] for key in keys)))


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration of this project, independent of the working directory.

    ``url``, when given, is handed to ``migrations/env.py`` as the ``database_url`` attribute
    and wins over ``DATABASE_URL`` from the environment.
    """
    if not ALEMBIC_INI.is_file():
        msg = (
            f"Alembic configuration not found at {ALEMBIC_INI}: run the bots from a source "
            "checkout or an editable install (pip install -e .)"
        )
        raise FileNotFoundError(msg)
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py must not replace the application's logging setup with alembic.ini's.
    config.attributes["configure_logger"] = False
    if url is not None:
        config.attributes["database_url"] = url
    return config


#: PostgreSQL advisory lock key taken while migrating (any constant unique to this project).
MIGRATION_LOCK = 7_212_301_914


async def run_alembic(url: str, action: Callable[[Config], None]) -> None:
    """Run an Alembic command (``action(config)``) against ``url`` from async code.

    The command runs on a connection of an engine created here, through
    ``AsyncConnection.run_sync``, so it works inside a running event loop. SQLite foreign keys
    are off while migrating: batch mode recreates tables, and with foreign keys on, dropping a
    parent table would cascade into its children.
    """
    engine = _build_engine(url, foreign_keys=False, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            config = alembic_config(url)

            def run(sync_connection: Connection) -> None:
                if sync_connection.dialect.name == "postgresql":
                    # Replicas starting together migrate one after another (the lock is held
                    # until the commit below); the later ones find the schema at head.
                    sync_connection.exec_driver_sql(
                        f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                config.attributes["connection"] = sync_connection
                action(config)

            await connection.run_sync(run)
            await connection.commit()
    finally:
        await engine.dispose()


async def upgrade_database(url: str) -> None:
    """Bring the schema at ``url`` to the newest revision (``alembic upgrade head``)."""
    await run_alembic(url, lambda config: command.upgrade(config, "head"))
    log.info("Database schema is at revision %s", head_revision())


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; None if it has never been migrated."""
    parsed = make_url(url)
    path = sqlite_file(parsed)
    if path is not None and not path.exists():
        return None  # do not create an empty database file just to look
    engine = _build_engine(url, foreign_keys=False, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync_connection: MigrationContext.configure(
                    sync_connection
                ).get_current_revision()
            )
    finally:
        await engine.dispose()


def head_revision() -> str:
    """The newest revision among the migration scripts."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        msg = f"No migration scripts found in {MIGRATIONS_DIR / 'versions'}"
        raise RuntimeError(msg)
    return head
