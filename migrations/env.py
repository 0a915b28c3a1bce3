"""Alembic environment: async engines, SQLite batch mode, URL from the caller or environment.

Two ways in:

* the ``alembic`` command line: the URL is ``DATABASE_URL`` (default
  ``sqlite+aiosqlite:///data/bots.sqlite3``) and an engine is created here;
* :func:`escalation.db.run_alembic` (``upgrade_database``, tests): the caller passes an open
  sync connection as the ``connection`` attribute, so migrations run inside its event loop.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from bots.settings import Settings
from escalation import models
from escalation.db import DEFAULT_DATABASE_URL, prepare_sqlite_directory

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = models.Base.metadata


def database_url() -> str:
    """The application's database: given by the caller, else the bots' settings (the
    environment and ``.env``, as ``bot.py`` reads them)."""
    url = config.attributes.get("database_url") or Settings().database_url
    return str(url or DEFAULT_DATABASE_URL)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write portable SQLAlchemy types into revisions instead of the project's decorators."""
    if type_ == "type" and isinstance(obj, models.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without connecting."""
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    url = database_url()
    prepare_sqlite_directory(url)
    connectable = async_engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    try:
        async with connectable.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await connectable.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
