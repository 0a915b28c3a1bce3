"""A message's turn under Telegram's limits, and what its outbox row says meanwhile.

A message is reserved in the outbox (one attempt counted) before it asks the pacer for its
turn. When the limits make it wait — seconds for a group at 20 messages a minute — no request
is in flight, but a crash then would leave a row that looks like a request with an unknown
outcome, and the resend would be marked ``maybe_duplicate`` although nothing was sent. So a
message still waiting after ``grace`` is recorded as not in flight, and its attempt is counted
again just before the request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from escalation.outbox import Outbox
from escalation.pacing import Pacing


@contextlib.asynccontextmanager
async def turn(pacer: Pacing, bot_id: int, chat_id: int, *, outbox: Outbox | None,
               row: int | None, grace: float) -> AsyncIterator[None]:
    """The pacer's slot for one request of outbox row ``row`` (None: nothing to record)."""
    if row is None or outbox is None:
        async with pacer.slot(bot_id, chat_id):
            yield
        return
    writing: list[bool] = []

    async def mark_waiting() -> None:
        await asyncio.sleep(grace)
        writing.append(True)
        await outbox.not_sent(row)

    marker = asyncio.create_task(mark_waiting())
    try:
        async with pacer.slot(bot_id, chat_id):
            if writing:  # it waited: the row says "not in flight"; now it will be
                await marker
                await outbox.attempting(row)
            else:
                marker.cancel()
            yield
    finally:
        if not marker.done():
            marker.cancel()
