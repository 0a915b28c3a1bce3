"""Chats that moved: a group upgraded to a supergroup gets a new id (``migrate_to_chat_id``).

The delivery path learns the new id from Telegram's answer and records it here, so that
messages keep going to the new chat after a restart too, even while the settings still name
the old id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import ChatMigration
from escalation.records import utc_now

log = logging.getLogger(__name__)


class ChatMigrations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def save(self, old_chat_id: int, new_chat_id: int) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(ChatMigration, old_chat_id)
            if row is None:
                session.add(ChatMigration(old_chat_id=old_chat_id, new_chat_id=new_chat_id,
                                          migrated_at=self._clock()))
            else:
                row.new_chat_id, row.migrated_at = new_chat_id, self._clock()
        log.warning("chat %s moved to %s: using the new id from now on", old_chat_id,
                    new_chat_id)

    async def all(self) -> dict[int, int]:
        """Old id → current id (following chains of moves)."""
        async with self._sessions.begin() as session:
            rows = (await session.execute(select(ChatMigration))).scalars().all()
        moves = {row.old_chat_id: row.new_chat_id for row in rows}
        resolved = {}
        for old in moves:
            new, seen = moves[old], {old}
            while new in moves and new not in seen:
                seen.add(new)
                new = moves[new]
            resolved[old] = new
        return resolved
