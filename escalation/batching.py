"""Group commit: the small writes of concurrent handlers share one transaction.

Every handled update writes a few rows: its question, its outbox reservation and outcome, its
inbox settlement. In a transaction of its own each such write costs 0.5–1 ms of CPU (session,
``BEGIN``, ``COMMIT``, a round trip to the database per statement): more than the statement
itself, and under load more than everything else the bot does for a question.

A write submitted here waits for the batch in progress, if any, and is then carried out
together with every write submitted meanwhile: one transaction for the batch, and for each kind
of write (an *operation*) one call that handles all its items at once (``executemany``, a
multi-row ``INSERT``). The caller's ``await`` returns after the ``COMMIT`` that holds its write,
so a write is exactly as durable as in its own transaction. When no batch is running a write
starts at once: an idle bot waits for nothing.

When a batch fails it is rolled back and each write is retried alone, so a bad write (or a
bug in one operation) fails only its own caller; when the database itself failed (connection
lost, file locked) every write of the batch fails at once.

One rule for callers: never submit while holding a session or connection of the same engine.
On an SQLite file the process has one connection (:mod:`escalation.db`); the batch needs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")

#: Writes carried out in one transaction at most; the rest wait for the next one.
MAX_BATCH: Final = 500


@dataclass(frozen=True, eq=False)
class Operation(Generic[P, R]):
    """A kind of write: ``run(connection, items)`` returns one result per item, in order.

    ``run`` is called inside the batch's transaction and must not commit.
    """

    name: str
    run: Callable[[AsyncConnection, Sequence[P]], Awaitable[Sequence[R]]]


@dataclass(eq=False)
class _Write:
    operation: Operation[Any, Any]
    item: Any
    future: asyncio.Future[Any]


class GroupCommit:
    """Carries out submitted writes in shared transactions on ``engine``."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[_Write] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for tests and diagnostics

    async def submit(self, operation: Operation[P, R], item: P) -> R:
        """Carry out ``item`` with ``operation``; returns its result once committed.

        If the caller is cancelled while waiting, the write may still be committed (as a
        ``COMMIT`` in flight would be).
        """
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append(_Write(operation, item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="group-commit")
        return await future

    async def _work(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:self._max_batch]
                del self._pending[:self._max_batch]
                await self._carry_out(batch)
        except BaseException as error:  # cancelled with the loop: no caller may hang
            for write in self._pending:
                _fail(write, error)
            self._pending.clear()
            raise

    async def _carry_out(self, batch: list[_Write]) -> None:
        try:
            results = await self._transaction(batch)
        except Exception as error:
            if len(batch) == 1 or _database_unavailable(error):
                for write in batch:
                    _fail(write, error)
                return
            log.warning("a batch of %d writes failed (%s: %s); retrying each alone",
                        len(batch), type(error).__name__, error)
            for write in batch:
                await self._carry_out([write])
            return
        except BaseException as error:
            for write in batch:
                _fail(write, error)
            raise
        for write, result in zip(batch, results, strict=True):
            if not write.future.done():
                write.future.set_result(result)

    async def _transaction(self, batch: list[_Write]) -> list[Any]:
        groups: dict[Operation[Any, Any], list[int]] = {}
        for index, write in enumerate(batch):
            groups.setdefault(write.operation, []).append(index)
        results: list[Any] = [None] * len(batch)
        async with self._engine.begin() as connection:
            for operation, indexes in groups.items():
                out = await operation.run(connection, [batch[i].item for i in indexes])
                if len(out) != len(indexes):
                    msg = (f"operation {operation.name} returned {len(out)} results for "
                           f"{len(indexes)} items")
                    raise RuntimeError(msg)
                for index, result in zip(indexes, out, strict=True):
                    results[index] = result
        self.batches += 1
        return results


def _database_unavailable(error: Exception) -> bool:
    """A failure of the database, not of a write: retrying each write alone would only
    repeat it (a lost connection, a locked SQLite file, a full pool) as many times."""
    return isinstance(error, (OperationalError, InterfaceError, PoolTimeout, OSError))


def _fail(write: _Write, error: BaseException) -> None:
    if write.future.done():
        return
    if isinstance(error, asyncio.CancelledError):
        write.future.cancel()
    else:
        write.future.set_exception(error)


def group_commit_of(sessions: async_sessionmaker[AsyncSession]) -> GroupCommit:
    """A group commit on the engine ``sessions`` are bound to (for a service built without
    one; the composition root passes one shared by all services)."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        msg = "the session factory is not bound to an AsyncEngine"
        raise TypeError(msg)
    return GroupCommit(engine)
