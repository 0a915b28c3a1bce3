"""Every figure of the supervisors' report against a database with a known history
(tests/report/conftest.py tells the story), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bots.encoding import LEXICAL
from bots.loading import load_topic
from bots.report.collect import collect
from bots.reports import group_unanswered
from bots.settings import Settings
from escalation.figures import (
    BucketFigures,
    OpenTicket,
    Period,
    Samples,
    Snapshot,
    compute,
    load_samples,
    load_snapshot,
)
from tests.report.conftest import MOSCOW, NOW, PERIOD, SCHEDULE, History, msk

MONDAY = BucketFigures(
    date(2025, 3, 10), date(2025, 3, 10),
    questions=5, answered_by_bot=1, handed_to_people=3, responses=3,
    response_p50_hours=2.0, response_p90_hours=3.6, over_sla=1, backlog=3,
    answers_shown=2, thumbs_up=1, thumbs_down=1, rating_asked=2, ratings=2, ratings_good=1,
    reopened=1)  # T3 opened on Monday, rated on Tuesday
TUESDAY = BucketFigures(
    date(2025, 3, 11), date(2025, 3, 11),
    questions=2, answered_by_bot=1, handed_to_people=1, responses=0, over_sla=1, backlog=2,
    answers_shown=1)
WEDNESDAY = BucketFigures(
    date(2025, 3, 12), date(2025, 3, 12),
    questions=1, handed_to_people=1, backlog=3, reopened=1)
TOTAL = BucketFigures(
    date(2025, 3, 10), date(2025, 3, 12),
    questions=8, answered_by_bot=2, handed_to_people=5, responses=3,
    response_p50_hours=2.0, response_p90_hours=3.6, over_sla=2, backlog=3,
    answers_shown=3, thumbs_up=1, thumbs_down=1, rating_asked=2, ratings=2, ratings_good=1,
    reopened=1)  # T2, reopened on Monday and again on Wednesday, is one ticket


async def payments_samples(history: History, period: Period = PERIOD) -> Samples:
    return await load_samples(history.sessions, "payments", period, schedule=SCHEDULE,
                              now=NOW)


async def test_every_figure_of_a_known_history(history: History) -> None:
    figures = compute(await payments_samples(history), PERIOD, target_hours=3.0)

    assert figures.buckets == (MONDAY, TUESDAY, WEDNESDAY)
    assert figures.total == TOTAL
    assert figures.has_data
    assert figures.total.bot_resolution_rate == pytest.approx(2 / 8)
    assert figures.total.thumbs_up_share == pytest.approx(0.5)
    assert figures.total.feedback_rate == pytest.approx(2 / 3)
    assert figures.total.ratings_good_share == pytest.approx(0.5)
    assert figures.total.rating_rate == pytest.approx(1.0)
    assert MONDAY.response_p90_hours == pytest.approx(3.6)  # between 2 h and 4 h, 80 % of the way


async def test_the_queue_now_oldest_first(history: History) -> None:
    ids = history.ids

    snapshot = await load_snapshot(history.sessions, "payments", schedule=SCHEDULE, now=NOW)

    assert snapshot == Snapshot(open_now=3, open_over_sla=1, oldest=(
        OpenTicket(ids["T0"], "payments", msk(7, 10), 36.0, True, None),
        OpenTicket(ids["T2"], "payments", msk(10, 10), 27.0, False, None),
        OpenTicket(ids["T5"], "payments", msk(12, 17, 30), 1.5, False, None),
    ))


async def test_a_period_sees_nothing_after_its_end(history: History) -> None:
    """A report on Monday alone does not know T3 was answered (in time) and rated on
    Tuesday."""
    monday = Period(date(2025, 3, 10), date(2025, 3, 10), MOSCOW)

    figures = compute(await payments_samples(history, monday), monday)

    assert figures.total == replace(MONDAY, responses=2, response_p50_hours=2.5,
                                    response_p90_hours=3.7, rating_asked=1, ratings=1)


async def test_long_periods_go_by_week(history: History) -> None:
    long = Period(date(2025, 1, 1), date(2025, 3, 12), MOSCOW)

    figures = compute(await payments_samples(history, long), long)

    assert long.weekly
    assert [(b.first, b.last) for b in figures.buckets[:2]] == [
        (date(2025, 1, 1), date(2025, 1, 5)), (date(2025, 1, 6), date(2025, 1, 12))]
    assert len(figures.buckets) == 11
    friday_week, last_week = figures.buckets[-2:]
    assert (friday_week.first, friday_week.last) == (date(2025, 3, 3), date(2025, 3, 9))
    assert (friday_week.handed_to_people, friday_week.over_sla, friday_week.backlog) == (1, 1, 1)
    assert last_week == replace(TOTAL, first=date(2025, 3, 10))
    assert figures.total.handed_to_people == TOTAL.handed_to_people + 1  # T0


async def test_overall_adds_the_bots_and_groups_the_unanswered(history: History) -> None:
    settings = Settings(faq_encoder="off")

    report = await collect(history.sessions, settings, history.records,
                           ["payments", "vaccination"], PERIOD, now=NOW, semantics=LEXICAL)

    payments, vaccination = report.bots
    assert payments.figures.total == TOTAL
    assert payments.figures.target_hours == 3.0
    assert vaccination.figures.total == BucketFigures(
        PERIOD.first, PERIOD.last, questions=1, answered_by_bot=1, answers_shown=1)
    assert report.overall is not None
    assert report.overall.total == replace(TOTAL, questions=9, answered_by_bot=3,
                                           answers_shown=4)
    assert report.overall.snapshot.open_now == 3
    assert report.overall.target_hours == 3.0
    # The groups are those of `bot.py unanswered`: five escalated questions and Q2 (👎).
    items = await history.records.unanswered(bot="payments", since=PERIOD.start)
    topic = load_topic(settings, settings.bots_dir, "payments")
    assert topic is not None
    expected = group_unanswered([i for i in items if i.created_at < PERIOD.end],
                                topic.faq.current.matcher)
    assert sum(len(g.items) for g in payments.groups) == 6
    assert [len(g.items) for g in payments.groups] == [len(g.items) for g in expected]
    assert payments.lexical
    assert vaccination.groups == []


async def test_an_empty_database_has_no_data(sessions) -> None:
    samples = await load_samples(sessions, "payments", PERIOD, schedule=SCHEDULE, now=NOW)
    snapshot = await load_snapshot(sessions, "payments", schedule=SCHEDULE, now=NOW)

    figures = compute(samples, PERIOD, snapshot=snapshot)

    assert not figures.has_data
    assert figures.total == BucketFigures(PERIOD.first, PERIOD.last)
    assert figures.total.bot_resolution_rate is None
    assert len(figures.buckets) == 3
