"""Jobs that must run on exactly one replica at a time, moved to another when it dies.

Several replicas of ``bot.py`` share one database. The ticket-card worker and the
response-time watcher of each bot, retention and the weekly digest must not run twice: two
card workers would post a ticket's card twice. :func:`run_as_leader` runs such a job only
while this replica holds the job's lease (:class:`escalation.leadership.Leases`), renews it
every ``renew_every`` seconds, and otherwise keeps trying to take it over.

Safety comes before liveness: the job is cancelled *before* the lease can expire for the
others, i.e. once ``margin`` seconds are left of the time the last successful renewal bought,
whether the renewal was refused, failed or is still hanging on an unreachable database. A
replica killed without a word stops renewing; its lease expires ``ttl`` seconds after its last
renewal and another replica's loop takes it within ``renew_every`` more. A clean stop
(cancellation) releases the lease, so another replica takes over within ``renew_every``.

Typical wiring (``leader_lease_seconds`` and ``replica_id`` from :mod:`bots.settings`)::

    leases = Leases(sessions, owner=replica_name(settings.replica_id),
                    ttl=settings.leader_lease_seconds)
    asyncio.create_task(run_as_leader(leases, "retention", erase, renew_every=leases.ttl / 3))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from typing import Any, Final

from escalation.inbox import storage_reason
from escalation.leadership import Leases
from escalation.models import REPLICA_LEN

log = logging.getLogger(__name__)

#: How long a clean stop waits for the database to release a lease before leaving it to
#: expire by itself.
RELEASE_TIMEOUT: Final = 2.0

Job = Callable[[], Coroutine[Any, Any, object]]


def replica_name(configured: str | None) -> str:
    """This process's name in leases: ``REPLICA_ID`` when set, else ``<host>-<pid>`` (unique
    among processes that run at the same time, which is all a lease needs)."""
    if configured:
        if len(configured) > REPLICA_LEN:
            msg = f"REPLICA_ID длиннее {REPLICA_LEN} символов: {configured[:REPLICA_LEN]}…"
            raise ValueError(msg)
        return configured
    suffix = f"-{os.getpid()}"
    return f"{socket.gethostname()[:REPLICA_LEN - len(suffix)]}{suffix}"


async def run_as_leader(leases: Leases, name: str, job: Job, *, renew_every: float,
                        on_change: Callable[[bool], None] | None = None,
                        margin: float | None = None, restart_after: float | None = None) -> None:
    """Run ``job()`` while this replica holds the lease ``name``, until cancelled.

    ``renew_every`` (about ``ttl / 3``) is both how often the lease is renewed and how often a
    replica that does not hold it tries to take it. ``margin`` (default ``ttl / 5``) is how
    long before the lease could expire for others the job is stopped when renewals fail; it
    covers the job's own stopping and the replicas' clock difference. ``on_change(True)`` is
    called when this replica starts running the job, ``on_change(False)`` when it stops (for
    ``/health``). A job that returns or raises is run again after ``restart_after`` seconds
    (default ``renew_every``) while the lease is still ours.
    """
    ttl = leases.ttl
    margin = ttl / 5 if margin is None else margin
    if not 0 < renew_every < ttl - margin:
        msg = f"renew every {renew_every} s cannot keep a {ttl} s lease with a {margin} s margin"
        raise ValueError(msg)
    restart_after = renew_every if restart_after is None else restart_after
    loop = asyncio.get_running_loop()
    failing = False
    while True:
        attempt = loop.time()
        try:
            held = await leases.acquire(name)
        except asyncio.CancelledError:  # the attempt may have taken it as it was cancelled
            await _give_up(leases, name)
            raise
        except Exception as error:  # the database: try again later, say so once
            if not failing:
                log.warning("replica %s cannot take %s now: %s", leases.owner, name,
                            storage_reason(error))
            failing, held = True, False
        else:
            failing = False
        if held and loop.time() < attempt + leases.ttl - margin:
            await _lead(leases, name, job, renewed=attempt, renew_every=renew_every,
                        margin=margin, restart_after=restart_after, on_change=on_change)
        await asyncio.sleep(renew_every)


async def _lead(leases: Leases, name: str, job: Job, *, renewed: float, renew_every: float,
                margin: float, restart_after: float,
                on_change: Callable[[bool], None] | None) -> None:
    """Run the job while renewals keep the lease; return once it is lost (job stopped).

    ``renewed`` is the loop time just before the acquisition that succeeded: the lease lasts
    at least ``ttl`` from then for every other replica. On cancellation, stop the job and
    release the lease.
    """
    loop = asyncio.get_running_loop()
    owner = leases.owner
    log.info("replica %s runs %s", owner, name)
    running = asyncio.create_task(_run_repeatedly(job, name, restart_after=restart_after),
                                  name=f"leader:{name}")
    if on_change is not None:
        on_change(True)
    released = False
    renewal: asyncio.Future[bool] | None = None
    try:
        while True:
            deadline = renewed + leases.ttl - margin
            await asyncio.sleep(max(0.0, min(renew_every, deadline - loop.time())))
            if loop.time() >= deadline:
                log.warning("replica %s stops %s: the lease could not be renewed in time",
                            owner, name)
                return
            attempt = loop.time()
            renewal = asyncio.ensure_future(leases.acquire(name))
            done, _ = await asyncio.wait({renewal}, timeout=deadline - attempt)
            if not done:  # hanging: stop the job first, then drop the attempt
                log.warning("replica %s stops %s: the database did not answer in time",
                            owner, name)
                return
            try:
                held = renewal.result()
            except Exception as error:  # retried at the next beat while time remains
                log.warning("replica %s could not renew %s: %s", owner, name,
                            storage_reason(error))
                continue
            if not held:
                log.warning("replica %s stops %s: another replica took it over", owner, name)
                return
            renewed = attempt
    except asyncio.CancelledError:  # a clean stop: let another replica take over at once
        if renewal is not None:
            renewal.cancel()
        await _stop(running)
        released = True
        await _give_up(leases, name)
        raise
    finally:
        await _stop(running)
        if renewal is not None:
            renewal.cancel()
        if not released:
            # A renewal still hanging may yet succeed: give the lease up rather than hold
            # it for a job no longer running. Best effort, not waited for.
            _release_soon(leases, name)
        log.info("replica %s stops %s", owner, name)
        if on_change is not None:
            on_change(False)


async def _run_repeatedly(job: Job, name: str, *, restart_after: float) -> None:
    """Run ``job()`` again and again, ``restart_after`` seconds apart, until cancelled."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed; running it again in %s s", name, restart_after)
        else:
            log.info("%s ended; running it again in %s s", name, restart_after)
        await asyncio.sleep(restart_after)


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has stopped, even if we are cancelled meanwhile (then
    the cancellation is raised once it has stopped): a job must never outlive its lease."""
    cancelled = False
    while not task.done():
        task.cancel()  # again if the job swallowed the previous cancellation
        try:
            await asyncio.wait({task}, timeout=1.0)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


async def _give_up(leases: Leases, name: str) -> None:
    """Release ``name`` on a clean stop, so another replica takes over at once; a database
    that does not answer within :data:`RELEASE_TIMEOUT` leaves the lease to expire."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(leases.release(name)), RELEASE_TIMEOUT)


_releasing: set[asyncio.Task[None]] = set()


def _release_soon(leases: Leases, name: str) -> None:
    """:func:`_give_up` in the background (the task is kept until it ends)."""
    task = asyncio.create_task(_give_up(leases, name))
    _releasing.add(task)
    task.add_done_callback(_releasing.discard)
