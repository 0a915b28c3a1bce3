"""Erase old personal texts while the bots run (see :mod:`escalation.retention`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Final

from sqlalchemy.exc import SQLAlchemyError

from bots.settings import Settings
from escalation.inbox import storage_reason
from escalation.retention import Retention
from escalation.tickets import Tickets

log = logging.getLogger(__name__)

#: Seconds between retention runs (the first one runs at start).
RETENTION_INTERVAL: Final = 3600.0


async def erase_periodically(retention: Retention, older_than: timedelta, *,
                             interval: float = RETENTION_INTERVAL,
                             deliveries_older_than: timedelta | None = None) -> None:
    """Run :meth:`Retention.run` (and, given ``deliveries_older_than``,
    :meth:`Retention.prune`) now and then every ``interval`` seconds, until cancelled.

    A failed run is logged and retried at the next interval; cancelling mid-run rolls back
    only the batch in progress (each batch is its own transaction).
    """
    while True:
        try:
            await retention.run(older_than)
            if deliveries_older_than is not None:
                await retention.prune(deliveries_older_than)
        except SQLAlchemyError as error:  # the poller's STORAGE line says why, once
            log.warning("retention: not run now, the database failed (%s)",
                        storage_reason(error))
        except Exception:
            log.exception("retention: erasing old personal texts failed")
        await asyncio.sleep(interval)


async def retention_job(settings: Settings, tickets: Tickets, *,
                        interval: float = RETENTION_INTERVAL) -> None:
    """Erase texts older than ``RETENTION_DAYS`` and delete settled inbox/outbox rows older
    than ``INBOX_OUTBOX_RETENTION_HOURS`` in the queue's database, every ``interval`` seconds
    (on one replica at a time: :mod:`bots.jobs`)."""
    retention = Retention(tickets.sessions, clock=tickets.now)
    await erase_periodically(
        retention, timedelta(days=settings.retention_days), interval=interval,
        deliveries_older_than=timedelta(hours=settings.inbox_outbox_retention_hours))
