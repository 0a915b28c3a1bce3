"""Operator rights across replicas: a membership change seen by one replica is obeyed by all.

Each replica's gate caches Telegram's "is a member of the operators' chat" for a minute; the
``chat_member`` update reaches one replica only. The gates talk to the Bot API emulator (the
number of getChatMember calls is what Telegram was asked) and to the shared Redis on 6379
under a prefix of the test's own.
"""

from __future__ import annotations

import logging

import pytest
from aiogram import Bot
from aiogram.types import User

from bots.access import OperatorGate, Refusal
from bots.topic import Topic
from escalation.delivery import Delivery
from escalation.redis_link import connect
from escalation.tickets import Operator
from tests.bots.conftest import BOTS, TOKEN
from tests.emulator import Emulator
from tests.emulator.model import GroupChat, UserAccount
from tests.services import free_port

SHARED_REDIS = "redis://127.0.0.1:6379/0"


class Desk:
    """An operators' chat with one operator, and what Telegram was asked about her."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.account = emu.bot(TOKEN)
        self.operator: UserAccount = emu.add_user("Ольга")
        self.group: GroupChat = emu.add_group(members={self.operator.id: "member"})
        self.topic = Topic.load(BOTS, "payments", operators_chat_id=self.group.id)
        self.user = User(id=self.operator.id, is_bot=False, first_name="Ольга")

    def asked(self) -> int:
        return len(self.emu.calls(self.account, "getChatMember"))

    def remove(self) -> None:
        self.emu.set_member(self.group, self.operator, "left")


@pytest.fixture
def desk(emu: Emulator, bot: Bot) -> Desk:
    """Made once the ``bot`` is in the emulator, so that it sits in the operators' chat."""
    return Desk(emu)


async def test_removed_on_one_replica_means_removed_on_all(desk: Desk, bot: Bot,
                                                           prefix: str) -> None:
    a, b = (OperatorGate(Delivery(), redis=connect(SHARED_REDIS), prefix=prefix)
            for _ in range(2))
    try:
        for gate in (a, b, a, b):
            assert isinstance(await gate.check(bot, desk.topic, desk.user), Operator)
        assert desk.asked() == 2  # each replica asked once, then trusted its answer

        desk.remove()
        changed = a.membership_changed(desk.group.id, desk.operator.id)  # A got the update
        assert changed is not None
        await changed

        assert await b.check(bot, desk.topic, desk.user) is Refusal.NOT_OPERATOR
        assert await a.check(bot, desk.topic, desk.user) is Refusal.NOT_OPERATOR
        assert desk.asked() == 4
    finally:
        for gate in (a, b):
            assert gate.redis is not None
            await gate.redis.aclose()


async def test_without_redis_the_other_replica_keeps_its_answer(desk: Desk, bot: Bot) -> None:
    """One process's gate (no Redis) works as before, and shows why replicas need Redis."""
    a, b = OperatorGate(Delivery()), OperatorGate(Delivery())
    for gate in (a, b):
        assert isinstance(await gate.check(bot, desk.topic, desk.user), Operator)
    desk.remove()
    assert a.membership_changed(desk.group.id, desk.operator.id) is None

    assert await a.check(bot, desk.topic, desk.user) is Refusal.NOT_OPERATOR
    assert isinstance(await b.check(bot, desk.topic, desk.user), Operator)  # stale, 60 s
    assert desk.asked() == 3


async def test_redis_unreachable_means_asking_telegram_every_time(
        desk: Desk, bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bots.access")
    gate = OperatorGate(Delivery(), redis=connect(f"redis://127.0.0.1:{free_port()}/0"))
    try:
        for _ in range(2):
            assert isinstance(await gate.check(bot, desk.topic, desk.user), Operator)
        assert desk.asked() == 2
        desk.remove()  # the update went to another replica: this one was not told
        assert await gate.check(bot, desk.topic, desk.user) is Refusal.NOT_OPERATOR
    finally:
        assert gate.redis is not None
        await gate.redis.aclose()

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("GATE Redis unreachable")
