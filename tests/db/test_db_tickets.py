"""The operator queue (escalation.tickets.Tickets) on SQLite and PostgreSQL.

Time comes from a fake clock that only moves when a test moves it; the queue's working hours
are Moscow 9:00–18:00, Monday to Friday, with the November 2025 long weekend: Saturday 1
November worked, Monday 3 and Tuesday 4 November off.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import Ticket, TicketEvent
from escalation.records import Records
from escalation.states import TicketState
from escalation.tickets import (
    Actor,
    ClaimResult,
    Direction,
    Operator,
    QueuePolicy,
    Tickets,
    TicketStats,
    TicketView,
)
from escalation.worktime import WorkSchedule
from tests.db.conftest import record_question
from tests.fakes import FakeClock

MOSCOW = ZoneInfo("Europe/Moscow")
HOUR = 3600.0


def msk(month: int, day: int, hour: int, minute: int = 0, *, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


SCHEDULE = WorkSchedule(
    tz=MOSCOW,
    start=time(9, 0),
    end=time(18, 0),
    weekdays=frozenset(range(5)),
    holidays=frozenset({date(2025, 11, 3), date(2025, 11, 4)}),
    extra_workdays=frozenset({date(2025, 11, 1)}),
)
POLICY = QueuePolicy(
    schedule=SCHEDULE,
    first_response=timedelta(hours=3),
    autoclose_after=timedelta(hours=72),
)
MONDAY = msk(3, 10, 10)  # Monday 10 March 2025, 10:00 MSK: working time
IVAN = Operator(tg_id=501, name="Иван")
OLGA = Operator(tg_id=502, name="Ольга")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
def tickets(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Tickets:
    return Tickets(sessions, policies={"payments": POLICY, "vaccination": POLICY}, clock=clock)


async def ask(records: Records, text: str = "Почему мне не пришла выплата?",
              **kwargs: Any) -> int:
    fields: dict[str, Any] = {
        "tg_message_id": 7, "decision": "escalate", "outcome": "escalated"} | kwargs
    return await record_question(records, text, **fields)


async def escalate(
    records: Records,
    tickets: Tickets,
    text: str = "Почему мне не пришла выплата?",
    *,
    bot: str = "payments",
    user: int = 100,
) -> TicketView:
    """The citizen asks something the FAQ cannot answer and a ticket is opened."""
    question_id = await ask(records, text, bot=bot, user=user)
    view, created = await tickets.open(
        bot=bot,
        tg_user_id=user,
        chat_id=user,
        text=text,
        reason="escalate",
        question_id=question_id,
        candidates=[("payment-late", 61.5), ("amount", 48.0)],
    )
    assert created
    return view


async def answered_ticket(
    records: Records, tickets: Tickets, *, user: int = 100, bot: str = "payments"
) -> TicketView:
    ticket = await escalate(records, tickets, user=user, bot=bot)
    await tickets.claim(ticket.id, IVAN)
    return await tickets.answered(ticket.id, IVAN)


async def ticket_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (await session.scalar(select(func.count()).select_from(Ticket))) or 0


def trail(events: list[TicketEvent]) -> list[tuple[Any, ...]]:
    return [
        (e.action, e.actor, e.actor_tg_id, e.actor_name, e.state_before, e.state_after)
        for e in events
    ]


async def state_of(tickets: Tickets, ticket_id: int) -> TicketState:
    view = await tickets.get(ticket_id)
    assert view is not None
    return view.state


# --- opening -------------------------------------------------------------------------------------


async def test_open_creates_a_new_ticket_with_the_question(
    records: Records, tickets: Tickets
) -> None:
    question_id = await ask(records, "Почему мне не пришла выплата?", user=2**40)

    view, created = await tickets.open(
        bot="payments",
        tg_user_id=2**40,
        chat_id=2**40,
        text="Почему мне не пришла выплата?",
        reason="escalate",
        question_id=question_id,
        candidates=[("payment-late", 61.5)],
        bot_answer_entry=None,
    )

    assert created
    assert view.state is TicketState.NEW
    assert view.is_open
    assert (view.bot, view.tg_user_id, view.chat_id) == ("payments", 2**40, 2**40)
    assert (view.display_name, view.username) == ("Иван Петров", "ivan")
    assert view.question_id == question_id
    assert view.text == "Почему мне не пришла выплата?"
    assert view.candidates == (("payment-late", 61.5),)
    assert (view.owner_tg_id, view.owner_name) == (None, None)
    assert view.created_at == view.last_citizen_at == MONDAY
    assert view.first_response_at is None
    assert view.closed_at is None
    assert await tickets.get(view.id) == view


# (opened, first response due): 3 working hours later; in chronological order.
DEADLINES = [
    (msk(3, 7, 17), msk(3, 10, 11)),  # Friday evening → Monday
    (msk(3, 9, 12), msk(3, 10, 12)),  # Sunday → Monday
    (msk(3, 10, 10), msk(3, 10, 13)),  # Monday morning → the same day
    (msk(3, 10, 20), msk(3, 11, 12)),  # after hours → the next morning
    (msk(10, 31, 17), msk(11, 1, 11)),  # Friday → the transferred working Saturday
    (msk(11, 1, 17), msk(11, 5, 11)),  # Saturday → over Sunday and two holidays → Wednesday
]


async def test_deadline_counts_working_hours_only(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    got = []
    for user, (opened, _) in enumerate(DEADLINES, start=1):
        clock.now = opened
        view = await escalate(records, tickets, user=user)
        got.append((view.created_at, view.deadline_at))

    assert got == DEADLINES


async def test_second_open_returns_the_active_ticket(
    records: Records, tickets: Tickets, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await escalate(records, tickets)

    again, created = await tickets.open(
        bot="payments", tg_user_id=100, chat_id=100, text="алло, ответьте", reason="escalate"
    )

    assert created is False
    assert again.id == first.id
    assert again.text == first.text
    assert await ticket_count(sessions) == 1


async def test_answered_ticket_is_still_the_active_one(
    records: Records, tickets: Tickets, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ticket = await answered_ticket(records, tickets)

    again, created = await tickets.open(
        bot="payments", tg_user_id=100, chat_id=100, text="ещё вопрос", reason="escalate"
    )

    assert (again.id, created) == (ticket.id, False)
    assert await ticket_count(sessions) == 1


async def test_open_after_close_starts_a_new_ticket(
    records: Records, tickets: Tickets
) -> None:
    first = await escalate(records, tickets)
    await tickets.close(first.id, Actor.OPERATOR, operator=IVAN)

    second = await escalate(records, tickets, "А теперь другой вопрос")

    assert second.id != first.id
    assert second.state is TicketState.NEW
    assert (await tickets.active_of("payments", 100)) == second


async def test_same_citizen_in_another_bot_gets_its_own_ticket(
    records: Records, tickets: Tickets
) -> None:
    payments = await escalate(records, tickets, bot="payments")
    vaccination = await escalate(records, tickets, bot="vaccination")

    assert payments.id != vaccination.id
    assert vaccination.bot == "vaccination"


# --- life cycle and its audit trail --------------------------------------------------------------


async def test_every_transition_is_stored_with_actor_and_states(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await escalate(records, tickets)
    clock.advance(minutes=5)
    await tickets.claim(ticket.id, IVAN)
    clock.advance(minutes=5)
    await tickets.answered(ticket.id, IVAN)
    clock.advance(minutes=5)
    await tickets.close(ticket.id, Actor.OPERATOR, operator=IVAN)

    events = await tickets.events(ticket.id)

    assert trail(events) == [
        ("open", "citizen", None, None, None, "new"),
        ("claim", "operator", 501, "Иван", "new", "in_work"),
        ("answer", "operator", 501, "Иван", "in_work", "answered"),
        ("close", "operator", 501, "Иван", "answered", "closed"),
    ]
    assert [e.created_at for e in events] == [
        MONDAY + timedelta(minutes=m) for m in (0, 5, 10, 15)
    ]


async def test_follow_up_reopens_an_answered_ticket_to_its_owner(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await answered_ticket(records, tickets)
    clock.advance(hours=1)

    view = await tickets.follow_up(ticket.id, "Не помогло, деньги так и не пришли")

    assert view.state is TicketState.IN_WORK
    assert view.owner_name == "Иван"
    assert view.last_citizen_at == clock.now
    assert view.first_response_at == MONDAY  # the first answer still counts
    events = await tickets.events(ticket.id)
    assert trail(events)[-2:] == [
        ("reopen", "citizen", None, None, "answered", "in_work"),
        ("message", "citizen", None, None, "in_work", "in_work"),
    ]
    assert events[-1].detail == "Не помогло, деньги так и не пришли"


async def test_follow_up_on_an_answered_ticket_without_owner_makes_it_new(
    records: Records, tickets: Tickets
) -> None:
    ticket = await escalate(records, tickets)
    await tickets.answered(ticket.id, None)  # answered with an FAQ entry, nobody claimed it

    view = await tickets.follow_up(ticket.id, "а подробнее?")

    assert view.state is TicketState.NEW


async def test_follow_up_on_an_open_ticket_only_adds_the_message(
    records: Records, tickets: Tickets
) -> None:
    ticket = await escalate(records, tickets)

    view = await tickets.follow_up(ticket.id, "забыл сказать: ребёнку 3 года")

    assert view.state is TicketState.NEW
    assert trail(await tickets.events(ticket.id)) == [
        ("open", "citizen", None, None, None, "new"),
        ("message", "citizen", None, None, "new", "new"),
    ]


# --- claims --------------------------------------------------------------------------------------


async def test_two_operators_claiming_at_once_only_one_wins(
    records: Records, tickets: Tickets
) -> None:
    ticket = await escalate(records, tickets)

    results = await asyncio.gather(tickets.claim(ticket.id, IVAN), tickets.claim(ticket.id, OLGA))

    outcomes = sorted(result for result, _ in results)
    assert outcomes == [ClaimResult.CLAIMED, ClaimResult.TAKEN]
    winner = IVAN if results[0][0] is ClaimResult.CLAIMED else OLGA
    loser_view = next(view for result, view in results if result is ClaimResult.TAKEN)
    assert loser_view is not None
    assert loser_view.owner_name == winner.name
    stored = await tickets.get(ticket.id)
    assert stored is not None
    assert (stored.state, stored.owner_tg_id, stored.owner_name) == (
        TicketState.IN_WORK,
        winner.tg_id,
        winner.name,
    )
    claims = [e for e in await tickets.events(ticket.id) if e.action == "claim"]
    assert [e.actor_tg_id for e in claims] == [winner.tg_id]


async def test_claim_by_the_owner_again_is_already_yours(
    records: Records, tickets: Tickets
) -> None:
    ticket = await escalate(records, tickets)
    await tickets.claim(ticket.id, IVAN)

    result, view = await tickets.claim(ticket.id, IVAN)

    assert result is ClaimResult.ALREADY_YOURS
    assert view is not None
    assert view.owner_name == "Иван"
    assert [e.action for e in await tickets.events(ticket.id)].count("claim") == 1


async def test_claim_of_a_closed_ticket_is_refused(records: Records, tickets: Tickets) -> None:
    ticket = await escalate(records, tickets)
    await tickets.close(ticket.id, Actor.CITIZEN)

    result, view = await tickets.claim(ticket.id, IVAN)

    assert result is ClaimResult.CLOSED
    assert view is not None
    assert view.owner_tg_id is None
    assert await state_of(tickets, ticket.id) is TicketState.CLOSED


async def test_claim_of_a_missing_or_forged_ticket_is_not_found(
    records: Records, tickets: Tickets
) -> None:
    ticket = await escalate(records, tickets)

    for forged in (0, -1, 999_999, 2**31, 2**40, 2**70):
        assert await tickets.claim(forged, IVAN) == (ClaimResult.NOT_FOUND, None), forged
        assert await tickets.get(forged) is None, forged
        assert await tickets.close(forged, Actor.OPERATOR, operator=IVAN) is None, forged
        assert await tickets.citizen_feedback(forged, 100, resolved=True) is None, forged

    assert await state_of(tickets, ticket.id) is TicketState.NEW
    assert [e.action for e in await tickets.events(ticket.id)] == ["open"]


# --- answers, closing, the citizen's feedback ----------------------------------------------------


async def test_first_response_is_set_only_once(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await escalate(records, tickets)
    await tickets.claim(ticket.id, IVAN)
    clock.advance(minutes=30)
    first = await tickets.answered(ticket.id, IVAN)
    clock.advance(minutes=30)

    second = await tickets.answered(ticket.id, IVAN, detail="уточнение")

    assert first.first_response_at == MONDAY + timedelta(minutes=30)
    assert second.first_response_at == first.first_response_at
    assert second.state is TicketState.ANSWERED
    assert second.updated_at == MONDAY + timedelta(hours=1)


async def test_closing_twice_returns_none_the_second_time(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await escalate(records, tickets)
    closed = await tickets.close(ticket.id, Actor.OPERATOR, operator=IVAN)
    clock.advance(minutes=1)

    again = await tickets.close(ticket.id, Actor.OPERATOR, operator=OLGA)

    assert closed is not None
    assert (closed.state, closed.closed_at) == (TicketState.CLOSED, MONDAY)
    assert again is None
    stored = await tickets.get(ticket.id)
    assert stored is not None
    assert stored.closed_at == MONDAY
    assert [e.action for e in await tickets.events(ticket.id)].count("close") == 1


async def test_feedback_from_another_user_is_ignored(
    records: Records, tickets: Tickets
) -> None:
    ticket = await answered_ticket(records, tickets)

    result = await tickets.citizen_feedback(ticket.id, 999, resolved=True, rating=1)

    assert result is None
    stored = await tickets.get(ticket.id)
    assert stored is not None
    assert (stored.state, stored.resolved, stored.rating) == (TicketState.ANSWERED, None, None)


async def test_not_resolved_reopens_the_ticket_and_keeps_the_rating(
    records: Records, tickets: Tickets
) -> None:
    ticket = await answered_ticket(records, tickets)

    view = await tickets.citizen_feedback(ticket.id, 100, resolved=False, rating=2)

    assert view is not None
    assert (view.state, view.resolved, view.rating) == (TicketState.IN_WORK, False, 2)
    assert await tickets.get(ticket.id) == view
    assert ("reopen", "citizen", None, None, "answered", "in_work") in trail(
        await tickets.events(ticket.id)
    )


async def test_resolved_closes_the_ticket_and_keeps_the_rating(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await answered_ticket(records, tickets)
    clock.advance(minutes=10)

    view = await tickets.citizen_feedback(ticket.id, 100, resolved=True, rating=5)

    assert view is not None
    assert (view.state, view.resolved, view.rating) == (TicketState.CLOSED, True, 5)
    assert view.closed_at == clock.now
    assert await tickets.get(ticket.id) == view
    assert await tickets.active_of("payments", 100) is None


async def test_reopen_of_an_open_ticket_returns_none(
    records: Records, tickets: Tickets
) -> None:
    ticket = await escalate(records, tickets)
    assert await tickets.reopen(ticket.id, Actor.OPERATOR) is None
    await tickets.close(ticket.id, Actor.OPERATOR, operator=IVAN)

    view = await tickets.reopen(ticket.id, Actor.OPERATOR)

    assert view is not None
    assert (view.state, view.closed_at) == (TicketState.NEW, None)


# --- where tickets live in the operators' chat ---------------------------------------------------


async def test_by_operators_message_finds_the_ticket_of_a_card_or_relay(
    records: Records, tickets: Tickets
) -> None:
    ticket = await escalate(records, tickets)
    other = await escalate(records, tickets, user=200)
    await tickets.place(ticket.id, operators_chat_id=-100, card_message_id=900)
    await tickets.add_message(
        ticket.id, Direction.IN, citizen_message_id=7, operators_chat_id=-100,
        operators_message_id=901,
    )
    await tickets.place(other.id, operators_chat_id=-100, card_message_id=902)

    by_card = await tickets.by_operators_message(-100, 900)
    by_relay = await tickets.by_operators_message(-100, 901)
    by_other_card = await tickets.by_operators_message(-100, 902)

    assert by_card is not None
    assert by_relay is not None
    assert by_other_card is not None
    assert (by_card.id, by_relay.id, by_other_card.id) == (ticket.id, ticket.id, other.id)
    assert by_card.card_message_id == 900
    assert by_card.operators_chat_id == -100
    assert await tickets.by_operators_message(-100, 903) is None
    assert await tickets.by_operators_message(-200, 900) is None  # same id, another chat


async def test_by_thread_finds_the_citizens_newest_ticket(
    records: Records, tickets: Tickets
) -> None:
    first = await escalate(records, tickets)
    await tickets.save_thread(first.citizen_id, -100, 77)
    await tickets.place(first.id, operators_chat_id=-100, thread_id=77)
    found_first = await tickets.by_thread(-100, 77)
    await tickets.close(first.id, Actor.OPERATOR, operator=IVAN)
    second = await escalate(records, tickets, "Новый вопрос")
    await tickets.place(second.id, operators_chat_id=-100, thread_id=77)

    found_second = await tickets.by_thread(-100, 77)

    assert found_first is not None
    assert found_first.id == first.id
    assert found_second is not None
    assert found_second.id == second.id
    assert found_second.thread_id == 77
    assert await tickets.thread_of(first.citizen_id, -100) == 77
    assert await tickets.by_thread(-100, 78) is None
    assert await tickets.by_thread(-200, 77) is None


async def test_without_card_lists_cardless_unclosed_tickets_oldest_first(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    with_card = await escalate(records, tickets, user=1)
    await tickets.place(with_card.id, operators_chat_id=-100, card_message_id=900)
    clock.advance(minutes=1)
    older = await escalate(records, tickets, user=2)
    clock.advance(minutes=1)
    closed = await escalate(records, tickets, user=3)
    await tickets.close(closed.id, Actor.OPERATOR, operator=IVAN)
    clock.advance(minutes=1)
    newer = await escalate(records, tickets, user=4)
    await tickets.answered(newer.id, None)
    await escalate(records, tickets, user=5, bot="vaccination")

    missing = await tickets.without_card("payments")

    assert [t.id for t in missing] == [older.id, newer.id]


async def test_queue_lists_new_and_in_work_tickets_oldest_first(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    new = await escalate(records, tickets, user=1)
    clock.advance(minutes=1)
    in_work = await escalate(records, tickets, user=2)
    await tickets.claim(in_work.id, OLGA)
    clock.advance(minutes=1)
    await answered_ticket(records, tickets, user=3)
    closed = await escalate(records, tickets, user=4)
    await tickets.close(closed.id, Actor.OPERATOR, operator=IVAN)

    queue = await tickets.queue("payments")

    assert [(t.id, t.state) for t in queue] == [
        (new.id, TicketState.NEW),
        (in_work.id, TicketState.IN_WORK),
    ]
    assert await tickets.queue("vaccination") == []


# --- response times ------------------------------------------------------------------------------


async def test_newly_overdue_announces_a_ticket_once_after_its_deadline(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await escalate(records, tickets)  # Monday 10:00, due 13:00
    clock.set(msk(3, 10, 12, 59))
    before = await tickets.newly_overdue("payments")
    clock.set(msk(3, 10, 13))

    at_deadline = await tickets.newly_overdue("payments")
    again = await tickets.newly_overdue("payments")

    assert before == []
    assert [t.id for t in at_deadline] == [ticket.id]
    assert again == []
    stored = await tickets.get(ticket.id)
    assert stored is not None
    assert stored.overdue_announced_at == msk(3, 10, 13)


async def test_newly_overdue_skips_answered_and_closed_tickets(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    await answered_ticket(records, tickets, user=1)
    closed = await escalate(records, tickets, user=2)
    await tickets.close(closed.id, Actor.OPERATOR, operator=IVAN)
    clock.set(msk(3, 11, 10))

    assert await tickets.newly_overdue("payments") == []
    assert await tickets.overdue("payments") == []


async def test_overdue_lists_a_ticket_until_its_first_response(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await escalate(records, tickets)  # due Monday 13:00
    clock.set(msk(3, 10, 13))
    await tickets.newly_overdue("payments")
    still = await tickets.overdue("payments")
    await tickets.claim(ticket.id, IVAN)
    claimed = await tickets.overdue("payments")
    clock.advance(minutes=30)
    await tickets.answered(ticket.id, IVAN)
    await tickets.follow_up(ticket.id, "а когда деньги придут?")  # back in work, answered once

    after_answer = await tickets.overdue("payments")

    assert [t.id for t in still] == [ticket.id]
    assert [t.id for t in claimed] == [ticket.id]
    assert after_answer == []


async def test_close_quiet_closes_answered_tickets_after_the_quiet_period_only(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    quiet = await answered_ticket(records, tickets, user=1)  # answered Monday 10:00
    waiting = await escalate(records, tickets, user=2)  # never answered
    clock.advance(hours=1)
    talking = await answered_ticket(records, tickets, user=3)  # answered Monday 11:00
    clock.set(MONDAY + timedelta(hours=72) - timedelta(seconds=1))
    early = await tickets.close_quiet("payments")
    await tickets.follow_up(talking.id, "спасибо, а ещё вопрос")  # reopened: not quiet
    clock.set(MONDAY + timedelta(hours=72))

    closed = await tickets.close_quiet("payments")
    later = await tickets.close_quiet("payments")

    assert early == []
    assert [t.id for t in closed] == [quiet.id]
    assert closed[0].state is TicketState.CLOSED
    assert closed[0].closed_at == MONDAY + timedelta(hours=72)
    assert later == []
    assert await state_of(tickets, waiting.id) is TicketState.NEW
    assert await state_of(tickets, talking.id) is TicketState.IN_WORK
    last = (await tickets.events(quiet.id))[-1]
    assert (last.action, last.actor, last.state_before, last.state_after, last.detail) == (
        "close", "system", "answered", "closed", "quiet period"
    )


# --- figures -------------------------------------------------------------------------------------


async def test_stats_of_a_known_week(records: Records, tickets: Tickets, clock: FakeClock) -> None:
    # Before the period: not counted.
    clock.now = msk(3, 6, 10)  # Thursday
    await ask(records, "давний вопрос", user=90, decision="answer", outcome="answered")
    old = await escalate(records, tickets, user=91)
    await tickets.close(old.id, Actor.OPERATOR, operator=IVAN)
    since = msk(3, 7, 0)

    # Friday 17:00: first response Monday 10:00 → 1 h on Friday + 1 h on Monday = 2 working h.
    clock.set(msk(3, 7, 17))
    t2 = await escalate(records, tickets, user=2)
    # Monday 9:00: four more tickets (due 12:00); the bot answers four questions itself.
    clock.set(msk(3, 10, 9))
    t1 = await escalate(records, tickets, user=1)
    t3 = await escalate(records, tickets, user=3)
    t4 = await escalate(records, tickets, user=4)
    t5 = await escalate(records, tickets, user=5)  # never answered
    for user in (10, 11):
        await ask(records, "сколько платят", user=user, decision="answer", outcome="answered")
    helpful = await ask(records, "когда придут", user=12, decision="answer", outcome="answered")
    await records.record_event(question_id=helpful, kind="feedback_up", outcome="helpful")
    await ask(records, "Выплаты", user=13, kind="browse", decision=None, outcome="answered")
    await ask(records, "привет", user=14, kind="smalltalk", decision=None, outcome="greeting")
    await ask(records, "чужой бот", bot="vaccination", user=15)
    for ticket in (t1, t2, t3, t4):
        await tickets.claim(ticket.id, IVAN)
    clock.set(msk(3, 10, 10))
    await tickets.answered(t1.id, IVAN)  # 1 working hour
    await tickets.answered(t2.id, IVAN)  # 2 working hours
    clock.set(msk(3, 10, 12))
    await tickets.answered(t3.id, IVAN)  # 3 working hours: exactly at the deadline, in time
    clock.set(msk(3, 11, 10))
    await tickets.answered(t4.id, IVAN)  # Monday 9–18 + Tuesday 9–10 = 10 working hours, late
    await tickets.citizen_feedback(t1.id, 1, resolved=True, rating=5)
    await tickets.citizen_feedback(t2.id, 2, resolved=True, rating=4)
    await tickets.citizen_feedback(t3.id, 3, resolved=False, rating=5)

    stats = await tickets.stats("payments", since=since)

    times = sorted([1 * HOUR, 2 * HOUR, 3 * HOUR, 10 * HOUR])
    median = (times[1] + times[2]) / 2  # 2.5 h
    position = 0.9 * (len(times) - 1)  # 2.7: between the 3rd and 4th value
    p90 = times[2] + (times[3] - times[2]) * (position - 2)  # 3 h + 0.7 × 7 h = 7.9 h
    assert median == 2.5 * HOUR
    assert p90 == pytest.approx(7.9 * HOUR)
    assert stats.p90_first_response == pytest.approx(p90)
    assert replace(stats, p90_first_response=None) == TicketStats(
        questions=9,  # 5 escalated + 3 FAQ answers + 1 browse; not small talk
        answered_by_bot=4,
        escalations=5,  # t1–t5
        first_responses=4,
        median_first_response=median,
        p90_first_response=None,  # compared above, up to rounding
        overdue=2,  # t4 answered late, t5 not answered at all
        open_now=2,  # t3 reopened ("not resolved"), t5 new
        ratings={4: 1, 5: 2},
        resolved_yes=2,
        resolved_no=1,
    )
    assert stats.bot_share == pytest.approx(4 / 9)
    assert stats.mean_rating == pytest.approx(14 / 3)
    assert [t.id for t in await tickets.overdue("payments")] == [t5.id]


async def test_stats_of_an_empty_period(tickets: Tickets) -> None:
    stats = await tickets.stats("payments", since=MONDAY - timedelta(days=7))

    assert stats == TicketStats(
        questions=0,
        answered_by_bot=0,
        escalations=0,
        first_responses=0,
        median_first_response=None,
        p90_first_response=None,
        overdue=0,
        open_now=0,
        ratings={},
        resolved_yes=0,
        resolved_no=0,
    )
    assert stats.bot_share == 0.0
    assert stats.mean_rating is None


async def test_stats_do_not_count_a_ticket_closed_in_time_as_overdue(
    records: Records, tickets: Tickets, clock: FakeClock
) -> None:
    ticket = await escalate(records, tickets)  # Monday 10:00, due 13:00
    clock.advance(minutes=20)
    await tickets.close(ticket.id, Actor.OPERATOR, operator=IVAN, detail="дубль")
    clock.set(msk(3, 11, 10))  # the next day

    stats = await tickets.stats("payments", since=MONDAY)

    assert stats.escalations == 1
    assert stats.overdue == 0


# --- bans ----------------------------------------------------------------------------------------


async def test_ban_and_unban_in_one_bot(tickets: Tickets) -> None:
    assert await tickets.is_banned("payments", 100) is False

    assert await tickets.ban("payments", 100, reason="оскорбления", by=IVAN) is True
    assert await tickets.ban("payments", 100, reason="снова", by=OLGA) is False
    assert await tickets.is_banned("payments", 100) is True

    assert await tickets.unban("payments", 100) is True
    assert await tickets.unban("payments", 100) is False
    assert await tickets.is_banned("payments", 100) is False


async def test_ban_in_one_bot_does_not_affect_another(tickets: Tickets) -> None:
    await tickets.ban("payments", 2**40, reason="оскорбления", by=None)

    assert await tickets.is_banned("payments", 2**40) is True
    assert await tickets.is_banned("vaccination", 2**40) is False
    assert await tickets.is_banned("payments", 2**40 + 1) is False
    assert await tickets.unban("vaccination", 2**40) is False
    assert await tickets.is_banned("payments", 2**40) is True
