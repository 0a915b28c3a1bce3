"""``/health`` with replicas: the card line comes from the replica that posts the cards; any
other replica says which one that is, or that none does right now."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.card_worker import CardWorker
from bots.live_status import LiveStatus
from bots.loading import load_topic
from bots.operators_chat import OperatorsChat
from bots.settings import Settings
from bots.topic import Topic
from escalation.leadership import Leases
from escalation.records import utc_now

BOTS = Path(__file__).resolve().parents[2] / "bots"


@pytest.fixture(scope="module")
def topic() -> Topic:
    loaded = load_topic(Settings(faq_encoder="off"), BOTS, "payments")
    assert loaded is not None
    return loaded


def _replica(sessions: async_sessionmaker[AsyncSession], name: str) -> LiveStatus:
    # Only the worker's card alerts are read here: it needs no operators' chat.
    worker = CardWorker(chat=cast(OperatorsChat, None))
    return LiveStatus(sessions, worker, utc_now, leases=Leases(sessions, owner=name, ttl=10))


async def test_the_card_line_comes_from_the_replica_posting_the_cards(
        sessions: async_sessionmaker[AsyncSession], topic: Topic) -> None:
    a, b = _replica(sessions, "replica-a"), _replica(sessions, "replica-b")
    texts = topic.texts
    assert texts.op_health_cards_nobody in await b.text(topic, bot_id=1)

    assert a.leases is not None
    assert await a.leases.acquire("desk:payments")
    a.worker.card_alerts["payments"] = "Forbidden: bot was kicked from the supergroup chat"
    on_a = await a.text(topic, bot_id=1)
    on_b = await b.text(topic, bot_id=1)
    assert texts.op_health_cards_ok not in on_a
    assert "❌" in on_a
    assert texts.op_health_cards_elsewhere.format(replica="replica-a") in on_b
    assert texts.op_health_cards_ok not in on_b  # b does not vouch for a's cards

    a.worker.card_alerts.clear()
    assert texts.op_health_cards_ok in await a.text(topic, bot_id=1)
