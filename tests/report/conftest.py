"""A database with a known history of questions and tickets, written through the real services
(:class:`Records`, :class:`Tickets`) on a fake clock, for the supervisors' report tests.

Moscow, working hours 9:00–18:00 Monday to Friday, first answer due in 3 working hours. The
period is Monday 10 – Wednesday 12 March 2025; the report is made on Thursday 13 March 10:00.

    Fri 07.03 10:00  T0 opened (before the period), never answered
    Mon 10.03 09:00  Q1 answered by the bot, 👍        09:10  Q2 answered, 👎
              09:20  small talk (not a question)
              10:00  T1 opened; 11:00 answered (1 h); 11:30 "решён" → closed; rated 5
              10:00  T2 opened; 14:00 answered (4 h, late); 15:00 "не решён" → reopened
              17:00  T3 opened (due Tue 11:00)
              12:00  vaccination: one question answered by the bot
    Tue 11.03 10:00  T3 answered (2 h); 11:00 "решён" → closed; rated 2
              12:00  Q7 opened from the menu (browse, answered)
              12:00  T2 answered again
              13:00  T4 opened (due 16:00), never answered
    Wed 12.03 10:00  T2: the citizen writes again → reopened
              12:00  T4 closed by an operator without an answer (late)
              17:30  T5 opened by "позовите специалиста" (due Thu 11:30)
    Thu 13.03 09:00  a question after the period
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.figures import Period
from escalation.records import Records
from escalation.tickets import Actor, Operator, QueuePolicy, Tickets
from escalation.worktime import WorkSchedule
from tests.browser.fixtures import chromium  # noqa: F401 (a fixture for the browser test)
from tests.fakes import FakeClock

MOSCOW = ZoneInfo("Europe/Moscow")
SCHEDULE = WorkSchedule(tz=MOSCOW, start=time(9), end=time(18), weekdays=frozenset(range(5)))
POLICY = QueuePolicy(schedule=SCHEDULE, first_response=timedelta(hours=3))
PERIOD = Period(date(2025, 3, 10), date(2025, 3, 12), MOSCOW)
IVAN = Operator(tg_id=501, name="Иван")


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=MOSCOW)


NOW = msk(13, 10)


@dataclass
class History:
    sessions: async_sessionmaker[AsyncSession]
    records: Records
    tickets: Tickets
    clock: FakeClock
    ids: dict[str, int]  # "T0".."T5" → ticket id


class Writer:
    def __init__(self, history: History) -> None:
        self.h = history

    def at(self, day: int, hour: int, minute: int = 0) -> Writer:
        self.h.clock.set(msk(day, hour, minute))
        return self

    async def ask(self, user: int, *, bot: str = "payments", **fields: Any) -> int:
        values: dict[str, Any] = {"display_name": "Гражданин", "username": None,
                                  "chat_id": user, "tg_message_id": None, "source": "text",
                                  "kind": "faq", "decision": "escalate",
                                  "outcome": "escalated"} | fields
        return await self.h.records.record_question(
            bot=bot, tg_user_id=user, text=f"вопрос {user} про выплату пособия", **values)

    async def answered_by_bot(self, user: int, *, bot: str = "payments", **fields: Any) -> int:
        values = {"decision": "answer", "entry_id": "amount", "outcome": "answered"} | fields
        return await self.ask(user, bot=bot, **values)

    async def ticket(self, name: str, user: int, *, kind: str = "faq") -> int:
        question = await self.ask(user, kind=kind)
        view, created = await self.h.tickets.open(
            bot="payments", tg_user_id=user, chat_id=user, text="почему нет выплаты",
            reason="escalated", question_id=question)
        assert created
        self.h.ids[name] = view.id
        return view.id


async def write_history(w: Writer) -> None:
    tickets, records, ids = w.h.tickets, w.h.records, w.h.ids
    await w.at(7, 10).ticket("T0", 99)
    q1 = await w.at(10, 9).answered_by_bot(101)
    await records.record_event(question_id=q1, kind="feedback_up", outcome="helpful")
    q2 = await w.at(10, 9, 10).answered_by_bot(102)
    await records.record_event(question_id=q2, kind="feedback_down", outcome="not_helpful")
    await w.at(10, 9, 20).ask(103, kind="smalltalk", decision=None, outcome="greeting")
    await w.at(10, 10).ticket("T1", 104)
    await w.ticket("T2", 105)
    await w.at(10, 11).h.tickets.answered(ids["T1"], IVAN)
    await w.at(10, 11, 30).h.tickets.citizen_feedback(ids["T1"], 104, resolved=True)
    await tickets.citizen_feedback(ids["T1"], 104, rating=5)
    await w.at(10, 12).answered_by_bot(201, bot="vaccination")
    await w.at(10, 14).h.tickets.answered(ids["T2"], IVAN)
    await w.at(10, 15).h.tickets.citizen_feedback(ids["T2"], 105, resolved=False)
    await w.at(10, 17).ticket("T3", 106)
    await w.at(11, 10).h.tickets.answered(ids["T3"], IVAN)
    await w.at(11, 11).h.tickets.citizen_feedback(ids["T3"], 106, resolved=True)
    await tickets.citizen_feedback(ids["T3"], 106, rating=2)
    await w.at(11, 12).answered_by_bot(107, kind="browse", decision=None, source="button")
    await tickets.answered(ids["T2"], IVAN)
    await w.at(11, 13).ticket("T4", 108)
    await w.at(12, 10).h.tickets.follow_up(ids["T2"], "так и не пришло")
    await w.at(12, 12).h.tickets.close(ids["T4"], Actor.OPERATOR, operator=IVAN)
    await w.at(12, 17, 30).ticket("T5", 109, kind="person")
    await w.at(13, 9).answered_by_bot(110)


@pytest.fixture
async def history(sessions: async_sessionmaker[AsyncSession]) -> History:
    clock = FakeClock(msk(7, 9))
    records = Records(sessions, clock=clock)
    tickets = Tickets(sessions, policies={"payments": POLICY}, clock=clock)
    history = History(sessions, records, tickets, clock, {})
    await write_history(Writer(history))
    return history
