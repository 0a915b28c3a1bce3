"""Personal data in the inbox and the outbox, on SQLite and PostgreSQL: stored updates are
masked, settled rows are deleted after their horizon (Retention.prune), and ``/forget``
(Retention.forget) leaves none of the citizen's words or ids in any table of the schema.

Time comes from a fake clock that only moves when a test moves it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from escalation.inbox import Inbox, RetryRule
from escalation.models import InboxUpdate, OutboxMessage
from escalation.outbox import Outbox
from escalation.records import Records
from escalation.retention import Retention, RetentionReport
from escalation.tickets import Actor, Direction, Operator, Tickets
from tests.db.conftest import claim_due
from tests.fakes import FakeClock
from tests.traces import traces

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HORIZON = timedelta(hours=48)
BOT, BOT_ID = "payments", 111111
CITIZEN, OTHER = 700_123, 700_456
IVAN = Operator(tg_id=501, name="Иван")
PASSPORT = "паспорт 4512 345678"
NAMES = {CITIZEN: ("Алевтина", "alevtina_k"), OTHER: ("Борис", "boris")}


def message(update_id: int, user: int, text: str) -> tuple[int, dict[str, Any]]:
    name, username = NAMES[user]
    person = {"id": user, "is_bot": False, "first_name": name, "username": username}
    return update_id, {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_772_441_000, "text": text, "from": person,
        "chat": {"id": user, "type": "private", "first_name": name}}}


def button(update_id: int, user: int) -> tuple[int, dict[str, Any]]:
    person = {"id": user, "is_bot": False, "first_name": "Алевтина"}
    return update_id, {"update_id": update_id, "callback_query": {
        "id": "4000000000000002", "from": person, "chat_instance": "1", "data": "fg:1",
        "message": {"message_id": 9, "date": 1_772_441_000, "text": "Удалить мои данные?",
                    "chat": {"id": user, "type": "private", "first_name": "Алевтина"}}}}


def inbox_of(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Inbox:
    return Inbox(sessions, clock=clock, rule=RetryRule(
        max_attempts=2, base=timedelta(seconds=1), ceiling=timedelta(seconds=1)))


async def settle_failed(inbox: Inbox, clock: FakeClock, row_id: int, error: str) -> None:
    """The update's handler raises on every attempt until it is given up."""
    while await inbox.failed(row_id, error):
        clock.advance(seconds=2)
        assert row_id in [s.id for s in await claim_due(inbox, BOT)]


async def inbox_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[int, InboxUpdate]:
    async with sessions() as session:
        return {r.update_id: r for r in (await session.execute(select(InboxUpdate))).scalars()}


async def outbox_keys(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        return set((await session.execute(select(OutboxMessage.key))).scalars())


# --- masking -----------------------------------------------------------------------------------

async def test_a_stored_update_and_its_error_are_masked(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(START)
    inbox = inbox_of(sessions, clock)
    (row,) = await inbox.store(BOT, [message(1, CITIZEN, f"Мой {PASSPORT}, что дальше?")])
    # The handler gets the update as it came (the matcher sees the original text)...
    assert row.payload["message"]["text"] == f"Мой {PASSPORT}, что дальше?"
    await inbox.failed(row.id, f"ValueError('Мой {PASSPORT}')")
    stored = (await inbox_rows(sessions))[1]
    # ...the database holds it masked, like every other text; the button's id is untouched.
    assert stored.payload["message"]["text"] == "Мой паспорт [паспорт скрыт], что дальше?"
    assert stored.error == "ValueError('Мой паспорт [паспорт скрыт]')"
    (pressed,) = await inbox.store(BOT, [button(2, CITIZEN)])
    assert (await inbox_rows(sessions))[2].payload == pressed.payload


# --- pruning after the horizon -----------------------------------------------------------------

async def test_settled_rows_are_deleted_after_the_horizon_pending_ones_kept(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(START)
    inbox, outbox = inbox_of(sessions, clock), Outbox(sessions, clock=clock)
    retention = Retention(sessions, clock=clock, batch=2)  # small batches: several per run
    old_done, old_failed, _ = await inbox.store(
        BOT, [message(1, CITIZEN, "давно"), message(2, CITIZEN, "упало"),
              message(3, CITIZEN, "ещё ждёт")])
    await inbox.done(old_done.id)
    await settle_failed(inbox, clock, old_failed.id, "boom")
    sent = await outbox.reserve(str(BOT_ID), "u1:1", chat_id=CITIZEN, method="sendMessage")
    await outbox.sent(sent.id, [10])
    refused = await outbox.reserve(str(BOT_ID), "card:1", chat_id=-100, method="sendMessage")
    await outbox.failed(refused.id, "Forbidden: bot was kicked")
    await outbox.reserve(str(BOT_ID), "u2:1", chat_id=CITIZEN, method="sendMessage")  # unknown
    of_pending = await outbox.reserve(str(BOT_ID), "u3:1", chat_id=CITIZEN,
                                      method="sendMessage")
    await outbox.sent(of_pending.id, [11])  # update 3 is handled again after a restart
    clock.advance(HORIZON + timedelta(minutes=1))
    (fresh_done,) = await inbox.store(BOT, [message(4, CITIZEN, "свежий")])
    await inbox.done(fresh_done.id)
    fresh = await outbox.reserve(str(BOT_ID), "u4:1", chat_id=CITIZEN, method="sendMessage")
    await outbox.sent(fresh.id, [12])

    report = await retention.prune(HORIZON)

    assert (report.inbox, report.outbox) == (2, 2)
    left = await inbox_rows(sessions)
    assert 1 not in left, "an old handled update is kept"
    assert 2 not in left, "an old given-up update is kept"
    assert left[3].status == "pending", "a pending update was deleted"
    assert left[4].status == "done", "a fresh handled update was deleted"
    keys = await outbox_keys(sessions)
    assert "u1:1" not in keys, "an old sent message is kept"
    assert "card:1" not in keys, "an old refused message is kept"
    assert "u2:1" in keys, "a message with no known outcome was deleted"
    assert "u3:1" in keys, "a message of a pending update was deleted (it would be resent)"
    assert "u4:1" in keys, "a fresh sent message was deleted"
    assert await retention.prune(HORIZON) == RetentionReport()


# --- /forget: no table keeps the citizen's words or ids ----------------------------------------

WORDS = ("Когда придёт выплата на Алевтину", "4512 345678", "упавший вопрос Алевтины",
         "Алевтина", "alevtina_k", "Дополнение к вопросу")


async def test_forget_leaves_no_trace_of_the_citizen_in_any_table(
        db_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(START, step=timedelta(seconds=1))
    records, tickets = Records(sessions, clock=clock), Tickets(sessions, clock=clock)
    inbox, outbox = inbox_of(sessions, clock), Outbox(sessions, clock=clock)
    asked = f"{WORDS[0]}? {PASSPORT}"
    question = await records.record_question(
        bot=BOT, tg_user_id=CITIZEN, display_name="Алевтина", username="alevtina_k",
        chat_id=CITIZEN, tg_message_id=1, text=asked, source="text", kind="faq",
        decision="escalate", outcome="escalated")
    ticket, _ = await tickets.open(bot=BOT, tg_user_id=CITIZEN, chat_id=CITIZEN, text=asked,
                                   reason="escalated", question_id=question)
    await tickets.follow_up(ticket.id, WORDS[5])
    await tickets.claim(ticket.id, IVAN)
    await tickets.add_message(ticket.id, Direction.IN, citizen_message_id=2, text=WORDS[5])
    # The citizen's updates: handled (no payload kept), given up, and the /forget button
    # itself, still being handled; another citizen's update must stay.
    handled, failing, pressed, other = await inbox.store(BOT, [
        message(1, CITIZEN, asked), message(2, CITIZEN, WORDS[2]), button(3, CITIZEN),
        message(4, OTHER, "Чужой вопрос")])
    await inbox.done(handled.id)
    await settle_failed(inbox, clock, failing.id, f"RuntimeError('{WORDS[2]}')")
    sent = await outbox.reserve(str(BOT_ID), "u1:1", chat_id=CITIZEN, method="sendMessage")
    await outbox.sent(sent.id, [10])
    await tickets.close(ticket.id, Actor.CITIZEN, detail="forgotten")

    report = await Retention(sessions, clock=clock).forget(BOT, CITIZEN)

    async with db_engine.connect() as connection:
        leaks = await connection.run_sync(traces, WORDS, (CITIZEN,))
    assert {"inbox", "questions", "tickets", "ticket_events", "ticket_messages",
            "citizens", "outbox"} <= set(leaks), "a table of the schema was not scanned"
    for table, hits in leaks.items():
        assert hits == [], f"table {table} still holds the citizen's data: {hits}"
    assert report.inbox == 2  # the given-up update and the button's
    assert (await inbox_rows(sessions))[4].payload["message"]["text"] == "Чужой вопрос"
    assert pressed.id not in {r.id for r in (await inbox_rows(sessions)).values()}
    assert other.id in {r.id for r in (await inbox_rows(sessions)).values()}


async def test_forget_with_the_bot_id_deletes_the_citizens_settled_outbox_rows(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(START)
    outbox, inbox = Outbox(sessions, clock=clock), inbox_of(sessions, clock)
    await inbox.store(BOT, [message(7, CITIZEN, "ждёт")])
    for key, chat, bot in (("u5:1", CITIZEN, BOT_ID), ("u6:1", OTHER, BOT_ID),
                           ("u5:2", CITIZEN, 222222), ("u7:1", CITIZEN, BOT_ID)):
        row = await outbox.reserve(str(bot), key, chat_id=chat, method="sendMessage")
        await outbox.sent(row.id, [1])
    await Retention(sessions, clock=clock).forget(BOT, CITIZEN, bot_id=BOT_ID)
    # Gone: the citizen's messages from this bot, also one of their update that was pending
    # (/forget deleted it from the inbox: it is not handled again). Kept: another citizen's,
    # and the same person's in another bot.
    assert await outbox_keys(sessions) == {"u6:1", "u5:2"}
