"""Three webhook replicas on PostgreSQL and Redis, with faults: the whole deployment as a
citizen and Telegram see it.

Telegram (the emulator) POSTs every update to a load balancer that spreads them over three
``bot.py`` processes and sends every fourth update to a second replica as well (Telegram
redelivers when an answer is lost). Mid-stream one replica is killed with SIGKILL and started
again, and Redis (the shared flood limiter) is killed and restarted empty. Checked per message:
every update handled once, every reply sent once and in order in its chat (an extra copy only
where the outbox marked it ``maybe_duplicate``), every ticket opened once with one card, and
Telegram's limits kept in every window, computed here from the times the emulator recorded.

``pytest -m replicas`` runs these alone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from escalation.db import upgrade_database
from tests.conftest import _execute, _run_in_thread
from tests.e2e.conftest import PAYMENTS_TOKEN, base_env, copy_bot_content
from tests.e2e.helpers import PAYMENTS_ANSWERED, answer_start, payments_with_operators
from tests.emulator import Emulator
from tests.rates import assert_rate
from tests.replicas.harness import SECRET, LoadBalancer, RedisServer, Replicas

pytestmark = [pytest.mark.replicas, pytest.mark.postgres]

CITIZENS = 24
PERSON = "Позовите оператора"
#: Scaled-down limits, so that three replicas would break them without the shared limiter.
GROUP_LIMIT, GROUP_WINDOW = 6, 3.0
BOT_PER_SECOND = 8
PRIVATE_BURST, PRIVATE_WINDOW = 3, 3.0  # Telegram's 1/s with a burst of 3, as the pacer keeps it
READY = "serves webhooks on"


@dataclass
class Citizen:
    user: Any
    questions: list[str]
    sent: list[dict[str, Any]]  # the messages as the bot sees them


def _rows(url: str, sql: str, **params: Any) -> list[Any]:
    async def query() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql), params)).all())
        finally:
            await engine.dispose()
    return _run_in_thread(query())


@pytest.fixture
def database(postgres_database: str) -> str:
    _run_in_thread(_execute(postgres_database, "DROP SCHEMA public CASCADE",
                            "CREATE SCHEMA public"))
    _run_in_thread(upgrade_database(postgres_database))
    return postgres_database


def _wait(condition: Callable[[], bool], what: str, timeout: float) -> None:
    """Until ``condition()`` (the emulator's state, which has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.05)


@pytest.fixture
def deployment(database: str, tmp_path: Path) -> Iterator[tuple[Emulator, Any, Any,
                                                                 Replicas, RedisServer,
                                                                 LoadBalancer]]:
    if not RedisServer.available():
        pytest.skip("redis-server is not installed")
    emu = Emulator(webhook_retry=(0.1, 1.0)).start()
    bot, _operator, group = payments_with_operators(emu)
    redis = RedisServer(tmp_path)
    redis.start()
    env = base_env(emu, tmp_path, copy_bot_content(tmp_path / "bots")) | {
        "PAYMENTS_BOT_TOKEN": PAYMENTS_TOKEN,
        "PAYMENTS_OPERATORS_CHAT_ID": str(group.id),
        "DATABASE_URL": database,
        "FAQ_ENCODER": "off",
        "FLOOD_MESSAGES": "50",
        "GROUP_MESSAGES_PER_MINUTE": str(GROUP_LIMIT),
        "GROUP_RATE_WINDOW": str(GROUP_WINDOW),
        "BOT_MESSAGES_PER_SECOND": str(BOT_PER_SECOND),
        # Cards come from wake-ups across replicas, not from the worker's slow pass.
        "QUEUE_CHECK_INTERVAL": "60",
        "INBOX_LEASE_SECONDS": "3",
        "LEADER_LEASE_SECONDS": "3",
    }
    replicas = Replicas(env, redis.url)
    balancer = LoadBalancer(replicas.urls)
    balancer.start()
    try:
        replicas.start_all(READY)
        emu.set_webhook(bot, f"{balancer.url}/telegram/payments", secret_token=SECRET)
        yield emu, bot, group, replicas, redis, balancer
    finally:
        results = replicas.stop_all()
        balancer.stop()
        redis.kill()
        emu.stop()
    for code, output in results:
        assert code == 0, output[-3000:]
        assert PAYMENTS_TOKEN not in output, "a token was written to the log"
        assert SECRET not in output, "the webhook secret was written to the log"


def _expected(citizen: Citizen) -> list[str]:
    """What each of the citizen's messages is answered with (a needle in the reply)."""
    return [answer_start(q) for q in citizen.questions] + ["№"]


def _check_chat(emu: Emulator, bot: Any, citizen: Citizen, maybe_twice: int) -> int:
    """One reply per message, in the order asked; an extra copy only where marked."""
    expected = _expected(citizen)
    got = [m.get("text") or "" for m in emu.messages(citizen.user.id, bot=bot)]
    indexes = []
    for reply in got:
        match = [i for i, needle in enumerate(expected) if needle in reply]
        assert match, f"unexpected reply to citizen {citizen.user.id}: {reply[:80]!r}"
        indexes.append(match[0])
    assert sorted(set(indexes)) == list(range(len(expected))), (citizen.user.id, got)
    assert indexes == sorted(indexes), f"replies out of order: {indexes}"
    extra = len(indexes) - len(set(indexes))
    assert extra <= maybe_twice, f"{extra} copies but {maybe_twice} marked maybe_duplicate"
    return extra


def test_three_replicas_answer_every_message_once_through_a_kill_and_a_redis_restart(
        deployment: tuple[Emulator, Any, Any, Replicas, RedisServer, LoadBalancer],
        database: str) -> None:
    emu, bot, group, replicas, redis, balancer = deployment
    citizens = []
    for n in range(CITIZENS):
        questions = [PAYMENTS_ANSWERED[(3 * n + k) % len(PAYMENTS_ANSWERED)] for k in range(3)]
        citizens.append(Citizen(emu.add_user(first_name=f"Гражданин{n}"), questions, []))
    expected_replies = CITIZENS * 4

    def replies() -> int:
        return sum(len(emu.messages(c.user.id, bot=bot)) for c in citizens)

    # Everyone writes at once: three questions, then asks for a person.
    started = time.monotonic()
    for citizen in citizens:
        for question in [*citizen.questions, PERSON]:
            citizen.sent.append(emu.send_text(bot, citizen.user, question))

    _wait(lambda: replies() >= expected_replies // 4, "a quarter answered", 60)
    killed_output = replicas.kill(0)  # mid-stream, no goodbye
    assert READY in killed_output
    time.sleep(1.0)  # the replica is away for a second, then back with the same name
    replicas.start(0).wait_for_output(READY, timeout=60)

    _wait(lambda: replies() >= expected_replies * 3 // 5, "three fifths answered", 90)
    redis.restart(down_for=0.5)

    _wait(lambda: replies() >= expected_replies, "every message answered", 120)
    tickets = {c.user.id: c for c in citizens}
    _wait(lambda: len([m for m in emu.messages(group.id, bot=bot) if "№" in (m.get("text") or "")])
          >= CITIZENS, "a card for every ticket", 45)
    time.sleep(1.0)  # late copies, if any, would arrive now

    # Every update stored once and handled (settled) once.
    inbox = _rows(database, "SELECT update_id, status, attempts FROM inbox")
    sent_ids = [m["message_id"] for c in citizens for m in c.sent]
    assert len(inbox) == len({row.update_id for row in inbox}) == len(sent_ids)
    assert {row.status for row in inbox} == {"done"}, "an update was not handled"
    # One question record per citizen's message: no update was acted on twice.
    recorded = _rows(database, "SELECT chat_id, tg_message_id, count(*) AS n FROM questions "
                               "GROUP BY chat_id, tg_message_id")
    per_message = {(row.chat_id, row.tg_message_id): row.n for row in recorded}
    for citizen in citizens:
        for message in citizen.sent:
            assert per_message.get((citizen.user.id, message["message_id"])) == 1, (
                citizen.user.id, message["text"])

    # Replies: once each, in order, per chat; copies only where the outbox says maybe.
    marked = {row.chat_id: row.n for row in _rows(
        database, "SELECT chat_id, count(*) AS n FROM outbox WHERE maybe_duplicate "
                  "GROUP BY chat_id")}
    copies = sum(_check_chat(emu, bot, citizen, marked.get(citizen.user.id, 0))
                 for citizen in citizens)

    # Tickets: one per citizen, its number the one the citizen was told, one card each.
    opened = _rows(database, "SELECT t.id, c.tg_user_id FROM tickets t "
                             "JOIN citizens c ON c.id = t.citizen_id")
    assert sorted(row.tg_user_id for row in opened) == sorted(tickets)
    cards = [m.get("text") or "" for m in emu.messages(group.id, bot=bot)]
    for row in opened:
        told = emu.messages(row.tg_user_id, bot=bot)[-1]["text"]
        assert re.search(rf"№ {row.id}\b", told), told
        posted = sum(bool(re.search(rf"№ {row.id}\b", card)) for card in cards)
        assert posted == 1 or (posted == 2 and marked.get(group.id, 0) > 0), (row.id, cards)

    # Telegram's limits, for the whole deployment, in every window.
    assert_rate(emu, bot=bot, chat_id=group.id, limit=GROUP_LIMIT, window=GROUP_WINDOW)
    assert_rate(emu, bot=bot, limit=BOT_PER_SECOND, window=1.0)
    for citizen in citizens:
        assert_rate(emu, bot=bot, chat_id=citizen.user.id, limit=PRIVATE_BURST,
                    window=PRIVATE_WINDOW)

    # Telegram's redeliveries reached other replicas, were accepted and changed nothing.
    again = balancer.redelivered()
    assert again, "the load balancer redelivered nothing"
    assert {f.status for f in again} <= {200, 0}
    emu.assert_no_violations()
    handled_again = sum(row.attempts > 1 for row in inbox)
    print(f"\nreplicas: {len(sent_ids)} updates from {CITIZENS} citizens, "
          f"{len(again)} redelivered to another replica, {handled_again} handled again after "
          f"the kill, {sum(marked.values())} marked maybe_duplicate of which {copies} reached a "
          f"citizen twice, {len(opened)} tickets, "
          f"all answered {time.monotonic() - started:.1f} s after the first message")
