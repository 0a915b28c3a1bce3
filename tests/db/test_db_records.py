"""Records: questions, their events, unanswered questions and stats on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.models import Citizen, Question, QuestionEvent
from escalation.records import QuestionView, Records, UnansweredItem, UnansweredReason
from tests.db.conftest import record_question
from tests.fakes import FakeClock

MSK = timezone(timedelta(hours=3))
START = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START, step=timedelta(seconds=1))


_MESSAGE_IDS = itertools.count(7)


async def ask(records: Records, text: str = "как оплатить?", **kwargs: Any) -> int:
    # Each call is another message.
    fields: dict[str, Any] = {"tg_message_id": next(_MESSAGE_IDS)} | kwargs
    return await record_question(records, text, **fields)


async def count(sessions: async_sessionmaker[AsyncSession], model: type[Any]) -> int:
    async with sessions() as session:
        return (await session.scalar(select(func.count()).select_from(model))) or 0


async def test_record_question_round_trip(records: Records) -> None:
    question_id = await ask(
        records,
        "Сколько стоит?",
        user=2**40,
        chat_id=2**40,
        tg_message_id=2**33,
        decision="clarify",
        score=71.5,
        candidates=[("amount", 71.5), ("deadline", 64)],
    )

    view = await records.get_question(question_id)

    assert view == QuestionView(
        id=question_id,
        bot="payments",
        citizen_id=view.citizen_id if view else 0,
        tg_user_id=2**40,
        chat_id=2**40,
        tg_message_id=2**33,
        text="Сколько стоит?",
        source="text",
        kind="faq",
        decision="clarify",
        entry_id=None,
        score=71.5,
        candidates=(("amount", 71.5), ("deadline", 64.0)),
        outcome=None,
        entry_shown=None,
        created_at=START,
    )


async def test_answered_question_shows_its_entry(records: Records) -> None:
    question_id = await ask(records, decision="answer", entry_id="amount", outcome="answered")
    view = await records.get_question(question_id)
    assert view is not None
    assert (view.outcome, view.entry_shown) == ("answered", "amount")


async def test_datetimes_are_aware_utc_and_come_from_the_clock(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    moscow = datetime(2025, 3, 10, 15, 30, 0, 250000, tzinfo=MSK)
    records = Records(sessions, clock=lambda: moscow)

    question_id = await ask(records)
    await records.record_event(question_id=question_id, kind="feedback_up", outcome="helpful")

    view = await records.get_question(question_id)
    assert view is not None
    assert view.created_at == moscow
    assert view.created_at.tzinfo is UTC
    assert view.created_at.hour == 12
    async with sessions() as session:
        citizen = await session.scalar(select(Citizen))
        event = await session.scalar(select(QuestionEvent))
    assert citizen is not None
    assert event is not None
    for value in (citizen.first_seen_at, citizen.last_seen_at, event.created_at):
        assert value == moscow
        assert value.tzinfo is UTC


async def test_naive_clock_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    records = Records(sessions, clock=lambda: datetime(2025, 3, 10, 12, 0))
    with pytest.raises(StatementError, match="naive datetime"):
        await ask(records)
    assert await count(sessions, Question) == 0


async def test_touch_citizen_refreshes_names_and_last_seen(
    records: Records, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await records.touch_citizen(
        bot="payments", tg_user_id=5, display_name="Ivan", username="ivan"
    )
    again = await records.touch_citizen(
        bot="payments", tg_user_id=5, display_name="Иван", username=None
    )
    other_bot = await records.touch_citizen(
        bot="vaccination", tg_user_id=5, display_name="Ivan", username="ivan"
    )

    assert first == again != other_bot
    async with sessions() as session:
        citizen = await session.get(Citizen, first)
    assert citizen is not None
    assert (citizen.display_name, citizen.username) == ("Иван", None)
    assert citizen.first_seen_at == START
    assert citizen.last_seen_at == START + timedelta(seconds=1)


async def test_concurrent_first_contact_makes_one_citizen(
    records: Records, sessions: async_sessionmaker[AsyncSession]
) -> None:
    touches = [
        records.touch_citizen(
            bot="payments", tg_user_id=777, display_name=f"name {n}", username=None
        )
        for n in range(10)
    ]
    questions = [ask(records, f"вопрос {n}", user=777) for n in range(10)]

    results = await asyncio.gather(*touches, *questions)

    citizen_ids = set(results[:10])
    async with sessions() as session:
        question_citizens = set(await session.scalars(select(Question.citizen_id)))
    assert len(citizen_ids) == 1
    assert question_citizens == citizen_ids
    assert len(set(results[10:])) == 10
    assert await count(sessions, Citizen) == 1


async def test_concurrent_writes_do_not_lock_each_other_out(
    records: Records, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Button presses and new questions of many citizens at once (SQLite: one writer)."""
    question_ids = [await ask(records, user=n) for n in range(10)]

    results = await asyncio.gather(
        *(
            records.record_event(question_id=q, kind="feedback_down", outcome="not_helpful")
            for q in question_ids
        ),
        *(ask(records, user=n) for n in range(10, 20)),
    )

    assert results[:10] == [True] * 10
    assert await count(sessions, QuestionEvent) == 10
    assert await count(sessions, Citizen) == 20


async def test_clarify_pick_sets_outcome_and_entry_shown(
    records: Records, sessions: async_sessionmaker[AsyncSession]
) -> None:
    question_id = await ask(records, decision="clarify", candidates=[("a", 70), ("b", 69)])

    assert await records.record_event(
        question_id=question_id, kind="clarify_pick", entry_id="b", outcome="answered"
    )
    assert await records.record_event(
        question_id=question_id, kind="feedback_up", outcome="helpful"
    )

    view = await records.get_question(question_id)
    assert view is not None
    assert (view.outcome, view.entry_shown) == ("helpful", "b")
    async with sessions() as session:
        events = (
            await session.execute(
                select(
                    QuestionEvent.kind, QuestionEvent.entry_id, QuestionEvent.created_at
                ).order_by(QuestionEvent.id)
            )
        ).all()
    assert [tuple(row) for row in events] == [
        ("clarify_pick", "b", START + timedelta(seconds=1)),
        ("feedback_up", None, START + timedelta(seconds=2)),
    ]


async def test_event_without_outcome_keeps_outcome(records: Records) -> None:
    question_id = await ask(records, decision="answer", entry_id="a", outcome="answered")
    assert await records.record_event(question_id=question_id, kind="browse_open", entry_id="z")
    view = await records.get_question(question_id)
    assert view is not None
    assert (view.outcome, view.entry_shown) == ("answered", "a")


@pytest.mark.parametrize("forged", [0, -1, 999_999, 2**31, 2**40, 2**70])
async def test_forged_question_id(
    records: Records, sessions: async_sessionmaker[AsyncSession], forged: int
) -> None:
    await ask(records)

    assert (
        await records.record_event(question_id=forged, kind="feedback_down", outcome="not_helpful")
        is False
    )
    assert await records.get_question(forged) is None
    assert await count(sessions, QuestionEvent) == 0


async def test_unanswered_lists_exactly_what_the_faq_did_not_settle(
    records: Records, clock: FakeClock
) -> None:
    old = await ask(records, "давний", decision="escalate", outcome="escalated")
    since = clock.now.astimezone(MSK)  # any aware time zone will do
    answered = await ask(records, "ответили", decision="answer", entry_id="a", outcome="answered")
    liked = await ask(records, "понравилось", decision="answer", entry_id="a", outcome="answered")
    await records.record_event(question_id=liked, kind="feedback_up", outcome="helpful")
    disliked = await ask(
        records, "не помогло", decision="answer", entry_id="a", outcome="answered"
    )
    await records.record_event(question_id=disliked, kind="feedback_down", outcome="not_helpful")
    escalated = await ask(records, "непонятно", decision="escalate", outcome="escalated")
    abandoned = await ask(records, "уточни", decision="clarify")
    picked = await ask(records, "выбрал", decision="clarify")
    await records.record_event(
        question_id=picked, kind="clarify_pick", entry_id="b", outcome="answered"
    )
    picked_disliked = await ask(records, "выбрал, не помогло", decision="clarify")
    await records.record_event(
        question_id=picked_disliked, kind="clarify_pick", entry_id="b", outcome="answered"
    )
    await records.record_event(
        question_id=picked_disliked, kind="feedback_down", outcome="not_helpful"
    )
    clarify_person = await ask(records, "позовите человека", decision="clarify")
    await records.record_event(question_id=clarify_person, kind="ask_person", outcome="escalated")
    redirected = await ask(
        records,
        "про прививки",
        kind="redirect",
        decision="escalate",
        outcome="redirected:vaccination",
    )
    await ask(records, "привет", kind="smalltalk", outcome="greeting")
    await ask(records, "", kind="media", source="media")
    await ask(records, "чужой", bot="vaccination", decision="escalate", outcome="escalated")

    items = await records.unanswered(bot="payments", since=since)

    assert [(item.question_id, item.reason) for item in items] == [
        (disliked, UnansweredReason.NOT_HELPFUL),
        (escalated, UnansweredReason.ESCALATED),
        (abandoned, UnansweredReason.CLARIFY_ABANDONED),
        (picked_disliked, UnansweredReason.NOT_HELPFUL),
        (clarify_person, UnansweredReason.ESCALATED),
    ]
    assert not {old, answered, liked, picked, redirected} & {i.question_id for i in items}
    first = items[0]
    assert first == UnansweredItem(
        disliked, "не помогло", UnansweredReason.NOT_HELPFUL, first.created_at
    )
    assert first.reason == "not_helpful"
    assert first.created_at.tzinfo is UTC
    assert first.created_at > since


async def test_stats(records: Records, clock: FakeClock) -> None:
    await ask(records, "вчера", decision="answer", outcome="answered")
    since = clock.now
    a = await ask(records, decision="answer", entry_id="a", outcome="answered")
    await records.record_event(question_id=a, kind="feedback_down", outcome="not_helpful")
    await ask(records, decision="escalate", outcome="escalated")
    c = await ask(records, decision="clarify")
    await records.record_event(
        question_id=c, kind="clarify_pick", entry_id="b", outcome="answered"
    )
    await ask(records, kind="smalltalk", outcome="greeting")
    await ask(records, kind="flood", source="flood")
    await ask(records, bot="vaccination", decision="answer", outcome="answered")

    assert await records.stats(bot="payments", since=since) == {
        "total": 5,
        "kind:faq": 3,
        "kind:smalltalk": 1,
        "kind:flood": 1,
        "decision:answer": 1,
        "decision:escalate": 1,
        "decision:clarify": 1,
        "outcome:not_helpful": 1,
        "outcome:escalated": 1,
        "outcome:answered": 1,
        "outcome:greeting": 1,
        "event:feedback_down": 1,
        "event:clarify_pick": 1,
    }
    assert await records.stats(bot="other", since=since) == {"total": 0}


async def test_the_same_message_handled_again_is_recorded_once(records: Records,
                                                              sessions: Any) -> None:
    first = await ask(records, "сколько платят", tg_message_id=501)
    again = await ask(records, "сколько платят", tg_message_id=501)
    edited = await ask(records, "сколько платят?", tg_message_id=501, source="edited")
    assert again == first
    assert edited != first
    assert await count(sessions, Question) == 2
