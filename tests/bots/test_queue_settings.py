"""A bot's queue.yaml: working hours, holidays and response targets, and errors that name the
file and the field."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bots.queue_settings import QUEUE_FILE, QueueSettingsError, load_queue_settings
from escalation.tickets import QueuePolicy
from escalation.worktime import WorkSchedule

ROOT = Path(__file__).resolve().parents[2]

FULL = """\
timezone: Asia/Yekaterinburg
working_hours: "08:30-17:15"
working_days: [1, 2, 3, 4, 5, 6]
holidays: [2026-01-01, 2026-01-02]
extra_workdays: [2026-01-11]
first_response_hours: 1.5
autoclose_hours: 24
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / QUEUE_FILE).write_text(text, encoding="utf-8")
    return tmp_path


def test_no_queue_file_means_the_moscow_working_week(tmp_path: Path) -> None:
    policy = load_queue_settings(tmp_path).policy()

    assert policy == QueuePolicy()
    assert policy.schedule == WorkSchedule(
        tz=ZoneInfo("Europe/Moscow"),
        start=time(9, 0),
        end=time(18, 0),
        weekdays=frozenset({0, 1, 2, 3, 4}),
    )
    assert policy.first_response == timedelta(hours=3)
    assert policy.autoclose_after == timedelta(hours=72)


def test_empty_queue_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_queue_settings(write(tmp_path, "# nothing yet\n")).policy() == QueuePolicy()


def test_full_file_makes_the_policy(tmp_path: Path) -> None:
    policy = load_queue_settings(write(tmp_path, FULL)).policy()

    assert policy == QueuePolicy(
        schedule=WorkSchedule(
            tz=ZoneInfo("Asia/Yekaterinburg"),
            start=time(8, 30),
            end=time(17, 15),
            weekdays=frozenset({0, 1, 2, 3, 4, 5}),
            holidays=frozenset({date(2026, 1, 1), date(2026, 1, 2)}),
            extra_workdays=frozenset({date(2026, 1, 11)}),
        ),
        first_response=timedelta(hours=1.5),
        autoclose_after=timedelta(hours=24),
    )


def test_schedule_from_the_file_sets_the_deadlines(tmp_path: Path) -> None:
    schedule = load_queue_settings(write(tmp_path, FULL)).policy().schedule
    ekb = ZoneInfo("Asia/Yekaterinburg")

    # Wednesday 31 December 2025, 16:45 local: 30 minutes today; 1–2 January are holidays,
    # Saturday 3 January works (six-day week), Sunday 11 January is a transferred workday.
    due = schedule.add_working(datetime(2025, 12, 31, 16, 45, tzinfo=ekb), 1.5 * 3600)

    assert due == datetime(2026, 1, 3, 9, 30, tzinfo=ekb)
    assert schedule.is_working_time(datetime(2026, 1, 11, 12, 0, tzinfo=ekb))
    assert not schedule.is_working_time(datetime(2026, 1, 2, 12, 0, tzinfo=ekb))
    assert not schedule.is_working_time(datetime(2026, 1, 5, 17, 15, tzinfo=ekb))


def test_round_the_clock_hours(tmp_path: Path) -> None:
    text = 'working_hours: "00:00-24:00"\nworking_days: [1, 2, 3, 4, 5, 6, 7]\n'
    schedule = load_queue_settings(write(tmp_path, text)).policy().schedule

    moscow = ZoneInfo("Europe/Moscow")
    sunday = datetime(2026, 1, 4, tzinfo=moscow)

    for moment in (sunday, sunday.replace(hour=3), sunday.replace(hour=23, minute=59)):
        assert schedule.is_working_time(moment), moment
    assert schedule.working_seconds(sunday, sunday + timedelta(hours=30)) == pytest.approx(
        30 * 3600, abs=1
    )


@pytest.mark.parametrize("bot", ["payments", "vaccination"])
def test_shipped_queue_files_load(bot: str) -> None:
    policy = load_queue_settings(ROOT / "bots" / bot).policy()

    assert policy.first_response > timedelta(0)


@pytest.mark.parametrize(
    ("text", "field", "hint"),
    [
        pytest.param("timezone: Europe/Moskva\n", "timezone", "Europe/Moskva", id="timezone"),
        pytest.param('working_hours: "9-18"\n', "working_hours", "9-18", id="hours-9-18"),
        pytest.param(
            'working_hours: "18:00-09:00"\n', "working_hours", "18:00-09:00", id="hours-reversed"
        ),
        pytest.param("working_days: [1, 2, 8]\n", "working_days", "от 1", id="day-8"),
        pytest.param("working_days: [0, 1]\n", "working_days", "от 1", id="day-0"),
        pytest.param("working_days: []\n", "working_days", "от 1", id="no-days"),
        pytest.param("holidays: [31.12.2026]\n", "holidays", "date", id="date-format"),
        pytest.param("first_response_hours: 0\n", "first_response_hours", "0", id="zero-target"),
        pytest.param("autoclose_hours: -1\n", "autoclose_hours", "0", id="negative-autoclose"),
        pytest.param("first_response: 3\n", "first_response", "xtra", id="unknown-key"),
    ],
)
def test_bad_value_names_the_file_and_the_field(
    tmp_path: Path, text: str, field: str, hint: str
) -> None:
    path = tmp_path / QUEUE_FILE
    write(tmp_path, text)

    with pytest.raises(QueueSettingsError) as caught:
        load_queue_settings(tmp_path)

    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert re.match(rf"{re.escape(field)}[.:]", message.removeprefix(f"{path}: "))
    assert hint in message


def test_impossible_holiday_date_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "holidays: [2026-02-30]\n")

    with pytest.raises(QueueSettingsError, match=str(tmp_path / QUEUE_FILE)):
        load_queue_settings(tmp_path)


def test_several_bad_fields_are_all_named(tmp_path: Path) -> None:
    write(tmp_path, 'timezone: Mars/Olympus\nworking_hours: "9-18"\nworking_days: [8]\n')

    with pytest.raises(QueueSettingsError) as caught:
        load_queue_settings(tmp_path)

    message = str(caught.value)
    for field in ("timezone", "working_hours", "working_days"):
        assert field in message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- 09:00-18:00\n", id="a-list"),
        pytest.param("timezone: [unclosed\n", id="broken-yaml"),
        pytest.param("just words\n", id="a-string"),
    ],
)
def test_unreadable_file_names_the_file(tmp_path: Path, text: str) -> None:
    write(tmp_path, text)

    with pytest.raises(QueueSettingsError, match=str(tmp_path / QUEUE_FILE)):
        load_queue_settings(tmp_path)


def test_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    (tmp_path / QUEUE_FILE).write_bytes("timezone: Москва\n".encode("cp1251"))

    with pytest.raises(QueueSettingsError, match=str(tmp_path / QUEUE_FILE)):
        load_queue_settings(tmp_path)
