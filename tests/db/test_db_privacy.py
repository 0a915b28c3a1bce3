"""Personal data in the database (152-FZ), on SQLite and PostgreSQL: masked numbers, erasure
after the retention period (escalation.retention.Retention.run) and on request (forget).

Time comes from a fake clock that only moves when a test moves it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.retention_task import retention_job
from bots.settings import Settings
from escalation.models import Citizen, Question, Ticket, TicketEvent, TicketMessage
from escalation.records import Records
from escalation.retention import ERASED, Retention, RetentionReport
from escalation.tickets import Actor, Direction, Operator, Tickets, TicketView
from tests.db.conftest import record_question
from tests.fakes import FakeClock

START = datetime(2025, 3, 10, 7, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PERIOD = timedelta(days=90)
IVAN = Operator(tg_id=501, name="Иван")
CARD = "4111 1111 1111 1111"
PASSPORT = "паспорт 4512 345678"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def tickets(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Tickets:
    return Tickets(sessions, clock=clock)


@pytest.fixture
def retention(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Retention:
    return Retention(sessions, clock=clock, batch=2)  # small batches: several per run


async def ask(records: Records, user: int, text: str, **kwargs: Any) -> int:
    fields: dict[str, Any] = {
        "display_name": f"Гражданин {user}", "username": f"user{user}", "decision": "escalate",
        "outcome": "escalated",
    } | kwargs
    return await record_question(records, text, user=user, **fields)


async def escalate(records: Records, tickets: Tickets, user: int, text: str) -> TicketView:
    question_id = await ask(records, user, text)
    ticket, created = await tickets.open(bot="payments", tg_user_id=user, chat_id=user,
                                         text=text, reason="escalated", question_id=question_id)
    assert created
    return ticket


async def follow_up(records: Records, tickets: Tickets, ticket: TicketView, text: str) -> None:
    await ask(records, ticket.tg_user_id, text, kind="follow_up", decision=None,
              outcome=f"ticket:{ticket.id}")
    await tickets.follow_up(ticket.id, text)


async def answer(tickets: Tickets, ticket: TicketView, text: str) -> None:
    await tickets.claim(ticket.id, IVAN)
    await tickets.add_message(ticket.id, Direction.OUT, operators_chat_id=-100,
                              operators_message_id=ticket.id * 10, operator_tg_id=IVAN.tg_id,
                              text=text)
    await tickets.add_message(ticket.id, Direction.NOTE, operators_chat_id=-100,
                              operators_message_id=ticket.id * 10 + 1, text="// заметка")
    await tickets.answered(ticket.id, IVAN)


async def rows(sessions: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(select(model).where(*where))).scalars())


async def question_texts(sessions: async_sessionmaker[AsyncSession], user: int) -> list[str]:
    return [q.text for q in await rows(
        sessions, Question, Question.citizen_id == Citizen.id, Citizen.tg_user_id == user)]


async def citizen(sessions: async_sessionmaker[AsyncSession], user: int) -> Citizen:
    found: Citizen = (await rows(sessions, Citizen, Citizen.tg_user_id == user))[0]
    return found


async def ticket_texts(sessions: async_sessionmaker[AsyncSession],
                       ticket_id: int) -> dict[str, Any]:
    return {
        "text": (await rows(sessions, Ticket, Ticket.id == ticket_id))[0].text,
        "messages": [m.text for m in await rows(sessions, TicketMessage,
                                                TicketMessage.ticket_id == ticket_id)],
        "events": [(e.action, e.detail) for e in await rows(sessions, TicketEvent,
                                                            TicketEvent.ticket_id == ticket_id)],
    }


# --- masking on the way in ---------------------------------------------------------------------

async def test_stored_texts_are_masked(records: Records, tickets: Tickets,
                                       sessions: async_sessionmaker[AsyncSession]) -> None:
    ticket = await escalate(records, tickets, 1, f"Списали с карты {CARD}, почему?")
    assert ticket.text == "Списали с карты [карта •••• 1111], почему?"
    await follow_up(records, tickets, ticket, f"Вот мой {PASSPORT}")
    assert await question_texts(sessions, 1) == [
        "Списали с карты [карта •••• 1111], почему?", "Вот мой паспорт [паспорт скрыт]"]
    stored = await ticket_texts(sessions, ticket.id)
    assert stored["text"] == ticket.text
    assert ("message", "Вот мой паспорт [паспорт скрыт]") in stored["events"]
    assert not any("4111" in str(value) or "345678" in str(value) for value in stored.values())


# --- retention ---------------------------------------------------------------------------------

async def test_retention_erases_old_closed_tickets_only(
        records: Records, tickets: Tickets, retention: Retention, clock: FakeClock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    # 1: a ticket still open after all this time; 2: answered, rated and closed long ago;
    # 3: only FAQ questions, long ago; 4: a ticket closed recently.
    still_open = await escalate(records, tickets, 1, "Почему нет выплаты? СНИЛС 112-233-445 95")
    await follow_up(records, tickets, still_open, "Жду ответа")
    old = await escalate(records, tickets, 2, f"Верните деньги на карту {CARD}")
    await follow_up(records, tickets, old, "Добавлю подробности")
    await answer(tickets, old, "Ответ оператора с подробностями")
    await tickets.citizen_feedback(old.id, 2, resolved=True)
    await tickets.citizen_feedback(old.id, 2, rating=4)
    await ask(records, 3, "сколько платят на ребёнка", decision="answer", entry_id="amount",
              outcome="answered")
    clock.advance(95 * DAY)
    recent = await escalate(records, tickets, 4, "Недавний вопрос")
    await answer(tickets, recent, "Недавний ответ")
    await tickets.close(recent.id, Actor.OPERATOR, operator=IVAN)
    clock.advance(5 * DAY)

    since = START - DAY
    stats_before = await tickets.stats("payments", since=since)
    counts_before = await records.stats(bot="payments", since=since)
    unanswered_before = len(await records.unanswered(bot="payments", since=since))
    open_before = await ticket_texts(sessions, still_open.id)
    recent_before = await ticket_texts(sessions, recent.id)

    report = await retention.run(PERIOD)

    assert report == RetentionReport(questions=3, tickets=1, ticket_messages=2,
                                     ticket_events=1, citizens=2)
    # The open ticket, its citizen and their questions are untouched; so is the recent one.
    assert await ticket_texts(sessions, still_open.id) == open_before
    assert ERASED not in await question_texts(sessions, 1)
    assert (await citizen(sessions, 1)).display_name == "Гражданин 1"
    assert await ticket_texts(sessions, recent.id) == recent_before
    assert await question_texts(sessions, 4) == ["Недавний вопрос"]
    assert (await citizen(sessions, 4)).username == "user4"
    # The old closed ticket: texts gone, the trail of coded events kept.
    erased = await ticket_texts(sessions, old.id)
    assert erased["text"] == ERASED
    assert erased["messages"] == [ERASED, ERASED]
    assert ("message", ERASED) in erased["events"]
    assert ("open", "escalated") in erased["events"]
    assert ("rating", "4") in erased["events"]
    assert ("close", "resolved") in erased["events"]
    assert await question_texts(sessions, 2) == [ERASED, ERASED]
    assert await question_texts(sessions, 3) == [ERASED]
    for user in (2, 3):
        gone = await citizen(sessions, user)
        assert (gone.display_name, gone.username) == (None, None)
    closed = (await rows(sessions, Ticket, Ticket.id == old.id))[0]
    assert (closed.rating, closed.resolved, closed.state) == (4, True, "closed")

    # Anonymous figures are the same.
    assert await tickets.stats("payments", since=since) == stats_before
    assert await records.stats(bot="payments", since=since) == counts_before
    assert len(await records.unanswered(bot="payments", since=since)) == unanswered_before

    # Idempotent: nothing left to erase.
    assert await retention.run(PERIOD) == RetentionReport()


async def test_question_of_an_erased_ticket_reopened_later_is_kept(
        records: Records, tickets: Tickets, retention: Retention, clock: FakeClock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    ticket = await escalate(records, tickets, 7, "Старый вопрос")
    await tickets.close(ticket.id, Actor.OPERATOR, operator=IVAN)
    clock.advance(100 * DAY)
    # "Нет, не решён" on an old prompt reopens the ticket: it is open again, nothing erased.
    await tickets.citizen_feedback(ticket.id, 7, resolved=False)
    assert await retention.run(PERIOD) == RetentionReport()
    assert await question_texts(sessions, 7) == ["Старый вопрос"]
    await tickets.close(ticket.id, Actor.OPERATOR, operator=IVAN)
    clock.advance(91 * DAY)
    report = await retention.run(PERIOD)
    assert (report.tickets, report.questions, report.citizens) == (1, 1, 1)


async def test_period_is_measured_from_closing(
        records: Records, tickets: Tickets, retention: Retention, clock: FakeClock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    ticket = await escalate(records, tickets, 8, "Долгий вопрос")
    clock.advance(80 * DAY)
    await tickets.close(ticket.id, Actor.OPERATOR, operator=IVAN)
    clock.advance(20 * DAY)  # asked 100 days ago, closed 20 days ago
    assert await retention.run(PERIOD) == RetentionReport()
    assert (await ticket_texts(sessions, ticket.id))["text"] == "Долгий вопрос"


async def test_periodic_task_erases_until_cancelled(
        records: Records, tickets: Tickets, clock: FakeClock,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    await ask(records, 9, "давний вопрос", decision="answer", outcome="answered")
    clock.advance(DAY)
    await ask(records, 10, "вопрос посвежее", decision="answer", outcome="answered")
    clock.advance(90 * DAY)
    # What bots/jobs.py runs: RETENTION_DAYS from the settings, the queue's database.
    task = asyncio.create_task(retention_job(Settings(retention_days=91), tickets,
                                             interval=0.01))
    try:
        for _ in range(500):
            if await question_texts(sessions, 9) == [ERASED]:
                break
            await asyncio.sleep(0.01)
        assert await question_texts(sessions, 9) == [ERASED]
        assert await question_texts(sessions, 10) == ["вопрос посвежее"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# --- forget ------------------------------------------------------------------------------------

async def test_forget_erases_one_citizen_in_one_bot(
        records: Records, tickets: Tickets, retention: Retention,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    first = await escalate(records, tickets, 5, "Первый вопрос")
    await answer(tickets, first, "Ответ")
    await tickets.close(first.id, Actor.OPERATOR, operator=IVAN)
    second = await escalate(records, tickets, 5, f"Второй вопрос, {PASSPORT}")
    await follow_up(records, tickets, second, "Дополнение")
    other = await escalate(records, tickets, 6, "Чужой вопрос")
    await records.record_question(bot="vaccination", tg_user_id=5, display_name="Гражданин 5",
                                  username="user5", chat_id=5, tg_message_id=None,
                                  text="Вопрос другому боту", source="text", kind="faq")
    closed = await tickets.close(second.id, Actor.CITIZEN, detail="forgotten")
    assert closed is not None

    report = await retention.forget("payments", 5)

    assert report == RetentionReport(questions=3, tickets=2, ticket_messages=2,
                                     ticket_events=1, citizens=1)
    for ticket in (first, second):
        assert (await ticket_texts(sessions, ticket.id))["text"] == ERASED
    assert ("close", "forgotten") in (await ticket_texts(sessions, second.id))["events"]
    gone = (await rows(sessions, Citizen, Citizen.tg_user_id == 5, Citizen.bot == "payments"))[0]
    assert (gone.display_name, gone.username) == (None, None)
    # Another citizen, and the same person in another bot, keep their data.
    assert (await ticket_texts(sessions, other.id))["text"] == "Чужой вопрос"
    elsewhere = (await rows(sessions, Citizen, Citizen.tg_user_id == 5,
                            Citizen.bot == "vaccination"))[0]
    assert elsewhere.display_name == "Гражданин 5"
    assert "Вопрос другому боту" in await question_texts(sessions, 5)

    assert await retention.forget("payments", 5) == RetentionReport()
    assert await retention.forget("payments", 404) == RetentionReport()
