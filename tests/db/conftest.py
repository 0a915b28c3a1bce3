"""What the database tests share: the question records (on each module's ``clock``) and a
citizen's question written the way the bot writes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.inbox import Inbox, StoredUpdate
from escalation.records import Records
from tests.fakes import FakeClock


@pytest.fixture
def records(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Records:
    return Records(sessions, clock=clock)


async def record_question(records: Records, text: str, *, bot: str = "payments",
                          user: int = 100, **fields: Any) -> int:
    """``text`` from ``user`` (Иван Петров, @ivan, in a private chat) to ``bot``, recorded;
    ``fields`` override what the bot would record with it."""
    values: dict[str, Any] = {
        "display_name": "Иван Петров",
        "username": "ivan",
        "chat_id": user,
        "tg_message_id": None,
        "source": "text",
        "kind": "faq",
    } | fields
    return await records.record_question(bot=bot, tg_user_id=user, text=text, **values)


async def claim_due(inbox: Inbox, bot: str) -> list[StoredUpdate]:
    """What a replica looking for work would claim now: the head of every chat with an update
    that is due (its attempt counted)."""
    claimed = []
    for chat_id in await inbox.due_chats(bot, grace=timedelta(0)):
        row = await inbox.claim(bot, chat_id, owner="-", lease=inbox.rule.ceiling)
        if row is not None:
            claimed.append(row)
    return claimed
