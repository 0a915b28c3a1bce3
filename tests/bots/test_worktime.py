from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from escalation.worktime import WorkSchedule

MSK = ZoneInfo("Europe/Moscow")


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


@pytest.fixture
def schedule() -> WorkSchedule:
    # 2026-11-04 (Wednesday) is a public holiday; Saturday 2026-11-07 is a transferred workday.
    return WorkSchedule(holidays=frozenset({date(2026, 11, 4)}),
                        extra_workdays=frozenset({date(2026, 11, 7)}))


def test_question_asked_in_the_evening_is_due_next_morning(schedule):
    asked = msk(2026, 11, 2, 17, 0)  # Monday 17:00, one working hour left today
    due = schedule.add_working(asked, 3 * 3600)
    assert due == msk(2026, 11, 3, 11, 0)
    assert due.tzinfo is UTC


def test_night_and_weekend_do_not_count(schedule):
    friday_evening = msk(2026, 11, 13, 17, 30)
    monday_morning = msk(2026, 11, 16, 9, 30)
    assert schedule.working_seconds(friday_evening, monday_morning) == 3600


def test_holiday_is_skipped_and_transferred_saturday_counts(schedule):
    tuesday_noon = msk(2026, 11, 3, 12, 0)
    assert schedule.add_working(tuesday_noon, 8 * 3600) == msk(2026, 11, 5, 11, 0)
    assert schedule.is_working_time(msk(2026, 11, 7, 10, 0))
    assert not schedule.is_working_time(msk(2026, 11, 4, 10, 0))


def test_time_zone_is_the_centres_not_utc(schedule):
    # 06:30 UTC is 09:30 in Moscow: working time.
    assert schedule.is_working_time(datetime(2026, 11, 2, 6, 30, tzinfo=UTC))
    assert schedule.next_opening(msk(2026, 11, 2, 20, 0)) == msk(2026, 11, 3, 9, 0)


def test_reversed_interval_is_zero_and_bad_hours_are_rejected(schedule):
    assert schedule.working_seconds(msk(2026, 11, 3, 12, 0), msk(2026, 11, 3, 10, 0)) == 0
    with pytest.raises(ValueError, match="start before"):
        WorkSchedule(start=time(18, 0), end=time(9, 0))
