"""Issue 11, item 2: the bot removed from the operators' chat must not stop the queue for good.

Real ``python bot.py`` (payments bot) against the emulator. While the bot is out of the
operators' chat every card is refused with 403 like Telegram does; citizens are still told their
question was passed on. Once the bot is back (in one variant after a restart while it was still
out), every waiting card is posted exactly once, in ticket order, and operators can answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import copy_bot_content, sqlite_rows
from tests.e2e.helpers import (
    PAYMENTS_STARTED,
    bot_lifetime,
    payments_env,
    payments_with_operators,
    ticket_number,
)
from tests.e2e.process import BotProcess
from tests.e2e.test_operators import OFF_TOPIC, escalating
from tests.emulator import Emulator

pytestmark = pytest.mark.e2e

QUESTIONS = escalating(OFF_TOPIC)
CARD = "Обращение № "


@dataclass
class Run:
    emu: Emulator
    env: dict[str, str]
    proc: BotProcess
    bot: Any
    group: Any
    operator: Any
    users: Iterator[int]

    def citizen(self) -> Any:
        return self.emu.add_user(first_name=f"Гражданин {next(self.users)}")

    def restart(self) -> None:
        assert self.proc.stop() == 0, self.proc.output
        self.proc = BotProcess(self.env)
        self.proc.wait_for_output(PAYMENTS_STARTED)

    def private(self, user: Any) -> list[dict[str, Any]]:
        return self.emu.messages(user.id, bot=self.bot)

    def cards(self) -> list[dict[str, Any]]:
        return [m for m in self.emu.messages(self.group, bot=self.bot)
                if CARD in (m.get("text") or "")]

    def card_attempts(self) -> int:
        """Requests about the operators' chat (a card, or finding out the chat's kind)."""
        return sum(1 for c in self.emu.calls(self.bot)
                   if str(c.params.get("chat_id")) == str(self.group.id))


def first_reply(run: Run, citizen: Any) -> dict[str, Any] | None:
    replies = run.private(citizen)
    return replies[0] if replies else None


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    emu = Emulator().start()
    bots_dir = copy_bot_content(tmp_path / "bots")
    bot, operator, group = payments_with_operators(emu)
    env = payments_env(emu, tmp_path, bots_dir, group) | {
        # The card worker's backoff is capped at this interval: retries come quickly here.
        "QUEUE_CHECK_INTERVAL": "0.5",
    }
    proc = BotProcess(env)
    state = Run(emu, env, proc, bot, group, operator, itertools.count(1))
    with bot_lifetime(emu, state):
        proc.wait_for_output(PAYMENTS_STARTED)
        yield state


@pytest.mark.parametrize("restart", [False, True], ids=["re-added", "restarted-then-re-added"])
def test_cards_wait_while_the_bot_is_out_of_the_operators_chat(run: Run, restart: bool) -> None:
    emu = run.emu
    emu.set_bot_membership(run.bot, run.group, "left")

    citizens, numbers = [], []
    for _ in range(3):
        citizen = run.citizen()
        emu.send_text(run.bot, citizen, next(QUESTIONS))
        confirmation = emu.wait_for(partial(first_reply, run, citizen), timeout=15)
        assert "передан специалисту" in confirmation["text"], confirmation["text"]
        citizens.append(citizen)
        numbers.append(ticket_number(confirmation))
    assert numbers == sorted(numbers)

    # The cards were tried, refused (403), and are tried again: not given up after one refusal.
    attempts = emu.wait_for(lambda: run.card_attempts() >= 2 or None, timeout=10)
    assert attempts
    run.proc.wait_for_output("ALERT bot payments", timeout=10)
    assert run.cards() == []

    if restart:
        run.restart()
        # Still out of the chat after the restart: the cards keep waiting, none is lost.
        run.proc.wait_for_output("ALERT bot payments", timeout=10)
        assert run.cards() == []

    emu.set_bot_membership(run.bot, run.group, "administrator")
    emu.wait_for(lambda: len(run.cards()) >= 3 or None, timeout=15)

    cards = run.cards()
    for number in numbers:
        posted = [m for m in cards if f"{CARD}{number} " in m["text"]]
        assert len(posted) == 1, (number, [m["text"][:40] for m in cards])
    order = [next(m["message_id"] for m in cards if f"{CARD}{number} " in m["text"])
             for number in numbers]
    assert order == sorted(order), "cards were not posted in ticket order"
    assert len(cards) == 3

    # An operator's answer to one of the late cards reaches its citizen.
    citizen, card = citizens[1], next(m for m in cards
                                      if f"{CARD}{numbers[1]} " in m["text"])
    before = len(run.private(citizen))
    emu.send_text(run.bot, run.operator, "Ответ на карточку после возвращения бота",
                  chat=run.group, reply_to=card)
    emu.wait_for(lambda: len(run.private(citizen)) > before or None, timeout=15)
    assert run.private(citizen)[before]["text"] == "Ответ на карточку после возвращения бота"
    run.proc.wait_for_output("accepts cards again", timeout=5)
    assert len(run.cards()) == 3
    # Each card's outbox row ends sent once, none marked as a possible duplicate.
    expected = [(f"card:{n}:0", "sent", 0) for n in sorted(numbers)]
    emu.wait_for(lambda: sqlite_rows(
        run.env["DATABASE_URL"], "SELECT key, status, maybe_duplicate FROM outbox "
        "WHERE key LIKE 'card:%' ORDER BY key") == expected or None, timeout=10)
