"""Every request to Telegram passes the pacer, retries included (issue 11, item 8).

Against the emulator, with the group limit scaled down (5 messages in 0.3 s). The emulator
records every request with the time it arrived and the time it was answered; the test computes
every sliding window itself from those times, over every request to the group (failed ones
too), and checks each message individually.
"""

from __future__ import annotations

import asyncio

from aiogram import Bot

from escalation.delivery import Delivery, RetryPolicy
from escalation.pacing import Limits, Pacer
from tests.bots.conftest import TOKEN
from tests.emulator import Emulator

GROUP_LIMIT = 5
GROUP_WINDOW = 0.3
MESSAGES = 15
LIMITS = Limits(group_messages=GROUP_LIMIT, group_window=GROUP_WINDOW)
FAST = RetryPolicy(base_delay=0.005, max_delay=0.02, horizon=30.0)


def crowded_windows(times: list[float], limit: int, window: float) -> list[list[float]]:
    """Every run of ``limit + 1`` consecutive times that fits in less than ``window``."""
    ordered = sorted(times)
    return [ordered[i:i + limit + 1] for i in range(len(ordered) - limit)
            if ordered[i + limit] - ordered[i] < window]


async def burst(emu: Emulator, bot: Bot, chat_id: int) -> None:
    """``MESSAGES`` escalations at once, each checked to arrive exactly once."""
    delivery = Delivery(policy=FAST, pacer=Pacer(LIMITS))
    texts = [f"Обращение № {n}" for n in range(MESSAGES)]
    await asyncio.gather(*(delivery.send_text(bot, chat_id, text) for text in texts))
    received = [m.get("text") for m in emu.messages(chat_id)]
    for text in texts:
        assert received.count(text) == 1, text


def requests_to(emu: Emulator, chat_id: int) -> tuple[list[float], list[float]]:
    """When each sendMessage to ``chat_id`` arrived, and when it was answered."""
    calls = [c for c in emu.calls(method="sendMessage") if c.params.get("chat_id") == chat_id]
    assert all(c.finished is not None for c in calls)
    return [c.started for c in calls], [c.finished for c in calls if c.finished is not None]


async def test_retries_after_server_errors_wait_for_their_turn(emu: Emulator, bot: Bot) -> None:
    operators = emu.add_group()
    # The first requests fail and are retried at once: without pacing, into a full window.
    errors = emu.inject_fault("sendMessage", chat_id=operators.id, status=502, times=8)

    await burst(emu, bot, operators.id)

    assert errors.hits == 8
    arrived, answered = requests_to(emu, operators.id)
    assert len(arrived) == MESSAGES + 8
    assert crowded_windows(arrived, GROUP_LIMIT, GROUP_WINDOW) == []
    assert crowded_windows(answered, GROUP_LIMIT, GROUP_WINDOW) == []


async def test_a_request_counts_when_telegram_handles_it_not_when_its_turn_came(
        emu: Emulator, bot: Bot) -> None:
    operators = emu.add_group()
    # The first requests are held up before Telegram handles them (a slow link, a busy
    # server): handled late, they must still leave the next ones a full window.
    slow = emu.inject_fault("sendMessage", chat_id=operators.id, delay=0.4, times=GROUP_LIMIT)

    await burst(emu, bot, operators.id)

    assert slow.hits == GROUP_LIMIT
    arrived, answered = requests_to(emu, operators.id)
    assert len(arrived) == MESSAGES
    assert crowded_windows(arrived, GROUP_LIMIT, GROUP_WINDOW) == []
    assert crowded_windows(answered, GROUP_LIMIT, GROUP_WINDOW) == []


async def test_flood_control_retries_wait_for_their_turn_in_a_private_chat(
        emu: Emulator, bot: Bot) -> None:
    citizen = emu.add_user(started=[emu.bot(TOKEN)])
    # A 429 for every request for a while (slow mode, Telegram's own view of the chat).
    emu.inject_fault("sendMessage", chat_id=citizen.id, retry_after=1, times=2)
    limits = Limits(private_rate=20.0, private_burst=2)
    delivery = Delivery(policy=FAST, pacer=Pacer(limits), sleep=lambda _: asyncio.sleep(0))
    texts = [f"Ответ {n}" for n in range(6)]

    await asyncio.gather(*(delivery.send_text(bot, citizen.id, text) for text in texts))

    received = [m.get("text") for m in emu.messages(citizen)]
    for text in texts:
        assert received.count(text) == 1, text
    arrived, answered = requests_to(emu, citizen.id)
    assert len(arrived) == len(texts) + 2
    # Bucket of 2, refilled 20 a second: any 2 + k requests span at least k / 20 s.
    for times in (sorted(arrived), sorted(answered)):
        for i in range(len(times)):
            for j in range(i + 2, len(times)):
                assert times[j] - times[i] >= (j - i - 1) / 20.0 - 1e-3, (i, j, times)
