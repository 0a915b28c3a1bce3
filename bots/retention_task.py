"""Erase old personal texts while the bots run (see :mod:`escalation.retention`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Final

from bots.settings import Settings
from escalation.retention import Retention
from escalation.tickets import Tickets

log = logging.getLogger(__name__)

#: Seconds between retention runs (the first one runs at start).
RETENTION_INTERVAL: Final = 3600.0


async def erase_periodically(retention: Retention, older_than: timedelta, *,
                             interval: float = RETENTION_INTERVAL) -> None:
    """Run :meth:`Retention.run` now and then every ``interval`` seconds, until cancelled.

    A failed run is logged and retried at the next interval; cancelling mid-run rolls back
    only the batch in progress (each batch is its own transaction).
    """
    while True:
        try:
            await retention.run(older_than)
        except Exception:
            log.exception("retention: erasing old personal texts failed")
        await asyncio.sleep(interval)


def retention_task(settings: Settings, tickets: Tickets, *,
                   interval: float = RETENTION_INTERVAL) -> asyncio.Task[None]:
    """The background task erasing texts older than ``RETENTION_DAYS`` in the queue's database."""
    retention = Retention(tickets.sessions, clock=tickets.now)
    return asyncio.create_task(
        erase_periodically(retention, timedelta(days=settings.retention_days), interval=interval),
        name="retention")
