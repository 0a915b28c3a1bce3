"""Two replicas' intakes on one inbox: an update is handled by one of them at a time, a claim
that cannot be renewed is let go before another replica may take it over, and one whose
replica is gone is handled again elsewhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Message, Update
from sqlalchemy.exc import OperationalError

from bots.intake import Intake
from escalation.db import create_engine, make_session_factory, upgrade_database
from escalation.inbox import Inbox

LEASE = timedelta(seconds=0.6)


def _update(update_id: int, chat_id: int, text: str) -> Update:
    return Update.model_validate({"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_700_000_000, "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Гражданин"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Гражданин"}}})


@pytest.fixture
async def inbox(tmp_path: Path) -> AsyncIterator[Inbox]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bots.sqlite3'}"
    await upgrade_database(url)
    engine = create_engine(url)
    yield Inbox(make_session_factory(engine))
    await engine.dispose()


class Replica:
    """An intake whose handler records what it handled and can be held mid-update."""

    def __init__(self, name: str, inbox: Inbox) -> None:
        self.handled: list[tuple[str, bool]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        dispatcher = Dispatcher()

        @dispatcher.message()
        async def handle(message: Message) -> None:
            self.started.set()
            try:
                if message.text == "долгий":
                    await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled_at = time.monotonic()
                self.cancelled.set()
                raise
            self.handled.append((message.text or "", name == "b"))

        self.intake = Intake(dispatcher, inbox, owner=name, lease=LEASE, resume_interval=0.1,
                             grace=timedelta(0))
        self.intake.add_bot("payments", Bot("1:test"))


async def test_a_claim_that_cannot_be_renewed_is_let_go_before_its_lease_ends(
        inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    a = Replica("a", inbox)
    await a.intake.start()
    await a.intake.receive("payments", [_update(1, 100, "долгий")])
    await asyncio.wait_for(a.started.wait(), 5)
    claimed_at = time.monotonic()

    async def refused(*_: object, **__: object) -> set[int]:
        raise OperationalError("UPDATE inbox", {}, Exception("database is locked"))

    monkeypatch.setattr(inbox, "renew", refused)  # cut off from the database
    await asyncio.wait_for(a.cancelled.wait(), 5)
    assert a.cancelled_at - claimed_at < LEASE.total_seconds()
    await a.intake.stop(1)


async def test_a_renewed_claim_is_not_taken_by_another_replica_then_a_dead_ones_is(
        inbox: Inbox) -> None:
    a, b = Replica("a", inbox), Replica("b", inbox)
    await a.intake.start()
    await b.intake.start()
    await a.intake.receive("payments", [_update(1, 100, "долгий")])
    await asyncio.wait_for(a.started.wait(), 5)
    # Three leases long, a keeps renewing: b never handles the update (nothing to wait on
    # for something that must not happen but time itself).
    await asyncio.sleep(LEASE.total_seconds() * 3)
    assert not b.started.is_set()
    # a dies: its loops stop with no goodbye (no renewal, no release).
    for loop in a.intake._loops:
        loop.cancel()
    for task in list(a.intake._chats.values()):
        task.cancel()
    await asyncio.wait_for(b.started.wait(), 5)  # taken over once the lease ended
    b.release.set()
    assert await b.intake.wait_idle(5)
    assert b.handled == [("долгий", True)]
    assert await inbox.counts("payments") == {"done": 1}
    await b.intake.stop(1)
