"""A citizen's follow-up that Telegram will not take into the operators' chat for the whole
retry horizon (issue 11 item 5): given up only then, and never silently — the citizen is asked
to send it again and operators see that a message was lost, each exactly once.

The horizon (24 h in production) is shortened with ``DELIVERY_RETRY_HOURS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import PAYMENTS_TOKEN, base_env, copy_bot_content
from tests.e2e.process import BotProcess
from tests.emulator import Emulator

pytestmark = pytest.mark.e2e

HORIZON_HOURS = 0.001  # 3.6 s


@pytest.fixture
def setup(tmp_path: Any) -> Iterator[tuple[Emulator, BotProcess, Any, Any]]:
    emu = Emulator().start()
    bots_dir = copy_bot_content(tmp_path / "bots")
    bot = emu.add_bot(token=PAYMENTS_TOKEN, username="payments_test_bot")
    operator = emu.add_user(first_name="Оператор")
    operators = emu.add_group("Операторы", members={operator.id: "administrator"}, bots=[bot])
    env = base_env(emu, tmp_path, bots_dir) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN,
        "PAYMENTS_OPERATORS_CHAT_ID": str(operators.id),
        "DELIVERY_RETRY_HOURS": str(HORIZON_HOURS),
        "DELIVERY_RETRY_CAP": "0.5",
        "POLLING_TIMEOUT": "1",
    }
    proc = BotProcess(env)
    try:
        proc.wait_for_output("bot payments runs as @payments_test_bot")
        yield emu, proc, bot, operators
        emu.assert_no_violations()
    finally:
        code = proc.stop()
        emu.stop()
    assert code == 0, proc.output


def texts(emu: Emulator, chat: int, bot: Any) -> list[str]:
    return [m.get("text") or "" for m in emu.messages(chat, bot=bot)]


def test_a_follow_up_given_up_is_told_to_both_sides_once(
        setup: tuple[Emulator, BotProcess, Any, Any]) -> None:
    emu, proc, bot, operators = setup
    citizen = emu.add_user(first_name="Житель")
    emu.send_text(bot, citizen, "Позовите оператора")
    emu.wait_for(lambda: [t for t in texts(emu, operators.id, bot) if "Обращение №" in t],
                 timeout=30)
    ticket = re.search(r"№ (\d+)", next(t for t in texts(emu, citizen.id, bot)
                                       if "№" in t)).group(1)  # type: ignore[union-attr]

    fault = emu.inject_fault("copyMessage", bot=bot, chat_id=operators.id, status=502,
                             description="Bad Gateway", times=None)
    emu.send_text(bot, citizen, "Дополнение: заявление подавала в марте")
    asked_again = emu.wait_for(
        lambda: [t for t in texts(emu, citizen.id, bot) if "отправьте его ещё раз" in t],
        timeout=60)
    lost = emu.wait_for(
        lambda: [t for t in texts(emu, operators.id, bot) if "не доставлено сюда" in t],
        timeout=30)
    fault.cancel()
    assert fault.hits >= 3, "the follow-up was given up without retrying"
    proc.wait_for_output("GAVE UP")

    assert len(asked_again) == 1
    assert f"№ {ticket}" in asked_again[0]
    assert len(lost) == 1
    assert f"№ {ticket}" in lost[0]
    # Nothing of the follow-up reached the operators' chat after all.
    assert not [t for t in texts(emu, operators.id, bot) if "заявление подавала" in t]
