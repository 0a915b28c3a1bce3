"""Leases of singleton jobs: which replica runs a job, until when (table ``job_leases``).

Several replicas of the bots share one database. A job that must run on exactly one of them
(the ticket-card worker, the response-time watcher, retention, the weekly digest) is run by
whoever holds its lease; the holder renews it well before ``expires_at``, and once a holder
dies without a word its lease expires and another replica takes it over. The loop that does
this is :func:`bots.singletons.run_as_leader`; this module only reads and writes the rows.

Every change is one statement, so two replicas never both believe they took the same lease:
``INSERT … ON CONFLICT (name) DO UPDATE … WHERE expires_at < now OR owner = me RETURNING
owner``. On PostgreSQL the conflicting row is locked and the ``WHERE`` is evaluated on its
newest version, so of many replicas racing for an expired lease exactly one gets a row back;
on SQLite writers take turns anyway.

Times come from ``clock`` (the replica's wall clock, UTC), so replicas' clocks must agree to
well within a lease's length (``LEADER_LEASE_SECONDS``, 10 s by default): a replica whose clock
runs ahead sees others' leases expire early. NTP keeps them within milliseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, case, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.db import insert_into
from escalation.models import JobLease
from escalation.records import utc_now

_LEASES: Final = cast(Table, JobLease.__table__)


@functools.cache
def _take_or_renew(dialect: str) -> Any:
    """The one statement of :meth:`Leases.acquire` for ``dialect``, built once: the row comes
    back (with our name) only when the lease was free, expired or already ours."""
    table = _LEASES
    moment = table.c.expires_at.type
    me = bindparam("me", type_=table.c.owner.type)
    now = bindparam("now", type_=moment)
    take = insert_into(dialect)(table).values(
        name=bindparam("lease", type_=table.c.name.type), owner=me,
        expires_at=bindparam("until", type_=moment), acquired_at=now)
    renewing = and_(table.c.owner == me, table.c.expires_at >= now)
    return take.on_conflict_do_update(
        index_elements=[table.c.name],
        set_={
            "owner": take.excluded.owner,
            "expires_at": take.excluded.expires_at,
            # Since when this owner runs the job: kept while it renews without a gap.
            "acquired_at": case((renewing, table.c.acquired_at),
                                else_=take.excluded.acquired_at),
        },
        where=or_(table.c.expires_at < now, table.c.owner == me),
    ).returning(table.c.owner)


class Holder(NamedTuple):
    """Who holds a lease and until when (read by ``/health`` and tests)."""

    owner: str
    expires_at: datetime


class Leases:
    """The leases one replica (``owner``, e.g. ``replica_id`` or host-pid) takes, each for
    ``ttl`` seconds from the moment it is taken or renewed.

    Example: ``Leases(sessions, owner=replica_name(settings.replica_id),
    ttl=settings.leader_lease_seconds)``.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, owner: str, ttl: float,
                 clock: Callable[[], datetime] = utc_now) -> None:
        if not owner:
            msg = "a lease owner needs a name"
            raise ValueError(msg)
        if ttl <= 0:
            msg = f"a lease must last some time, not {ttl} s"
            raise ValueError(msg)
        self.sessions = sessions
        self.owner = owner
        self.ttl = ttl
        self.clock = clock

    async def acquire(self, name: str) -> bool:
        """Take the lease ``name`` for ``ttl`` seconds from now, or renew it if it is ours.

        True when we hold it afterwards: it was free, expired, or already ours. False when
        another owner holds it and it has not expired. ``acquired_at`` stays as it was while
        the same owner renews without a gap, so it tells since when the holder runs the job.
        Database errors propagate: the caller decides whether it still holds the lease.
        """
        now = self.clock()
        async with self.sessions.begin() as session:
            owner = (await session.execute(
                _take_or_renew(session.get_bind().dialect.name),
                {"lease": name, "me": self.owner, "now": now,
                 "until": now + timedelta(seconds=self.ttl)},
            )).scalar_one_or_none()
        return owner == self.owner

    async def release(self, name: str) -> None:
        """Give the lease ``name`` up if it is ours, so another replica may take it at once
        (a clean stop); somebody else's lease is left alone."""
        async with self.sessions.begin() as session:
            await session.execute(
                delete(JobLease).where(JobLease.name == name, JobLease.owner == self.owner))

    async def forget_all(self) -> None:
        """Drop every lease: the one process that uses this database starts (long polling),
        so whoever held a lease before is gone and need not be waited for."""
        async with self.sessions.begin() as session:
            await session.execute(delete(JobLease))

    async def holder(self, name: str) -> Holder | None:
        """Who holds ``name`` and until when; None when nobody ever took it or it was
        released. An expired lease is still returned (compare ``expires_at`` with now)."""
        async with self.sessions() as session:
            row = (await session.execute(
                select(JobLease.owner, JobLease.expires_at).where(JobLease.name == name)
            )).one_or_none()
        return None if row is None else Holder(row.owner, row.expires_at)
