"""The operators' chat report (charts as PNG and a summary) and ``REPORT_DIGEST``."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from pydantic import ValidationError

from bots.report.digest import (
    DigestSettings,
    DigestTime,
    operators_report,
    parse_digest,
    weekly_digest,
)
from bots.settings import Settings
from tests.report.conftest import MOSCOW, NOW, PERIOD, History, msk

SETTINGS = Settings(faq_encoder="off")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("value", "expected"), [
    ("mon 09:00", DigestTime(0, time(9))),
    (" FRI 17:30 ", DigestTime(4, time(17, 30))),
    ("off", None),
])
def test_digest_schedule_is_read(value: str, expected: DigestTime | None) -> None:
    assert parse_digest(value) == expected


@pytest.mark.parametrize("value", ["monday 09:00", "mon", "mon 25:00", "пн 09:00", ""])
def test_a_wrong_digest_schedule_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("REPORT_DIGEST", value)

    with pytest.raises(ValidationError, match="REPORT_DIGEST"):
        DigestSettings(_env_file=None)


def test_digest_schedule_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DigestSettings(_env_file=None).schedule == DigestTime(0, time(9))
    monkeypatch.setenv("REPORT_DIGEST", "off")
    assert DigestSettings(_env_file=None).schedule is None


@pytest.mark.parametrize(("now", "expected"), [
    (msk(13, 10), msk(17, 9)),  # Thursday → next Monday
    (msk(10, 8, 59), msk(10, 9)),  # Monday before nine → the same morning
    (msk(10, 9), msk(17, 9)),  # exactly then: the next week's
])
def test_next_digest_moment(now: datetime, expected: datetime) -> None:
    assert DigestTime(0, time(9)).next_after(now, MOSCOW) == expected


async def test_operators_report_of_a_known_history(history: History) -> None:
    report = await operators_report(history.sessions, SETTINGS, "payments", PERIOD, now=NOW)

    assert report.text == (
        "📊 Отчёт «payments» за 10.03.2025 — 12.03.2025\n"
        "Вопросов: 8, бот ответил сам: 25 %\n"
        "Передано специалистам: 5; первый ответ: медиана 2,0 ч, 90% — 3,6 ч (цель 3,0 ч)\n"
        "Ответ позже срока: 2; открыто сейчас: 3, из них просрочено: 1\n"
        "Переоткрыто: 1; «помогло»: 50 %; оценки 4–5: 50 %")
    assert [chart.name for chart in report.charts] == [
        "questions", "response", "backlog", "problems", "satisfaction"]
    assert all(png.startswith(PNG) and len(png) > 5000 for png in report.pngs)


async def test_weekly_digest_covers_the_seven_days_before(history: History) -> None:
    monday = datetime(2025, 3, 17, 9, tzinfo=MOSCOW)

    report = await weekly_digest(history.sessions, SETTINGS, "payments", now=monday)

    assert report.text.startswith("📊 Отчёт «payments» за 10.03.2025 — 16.03.2025\n")
    assert len(report.pngs) == 5


async def test_nothing_to_report(sessions) -> None:
    report = await operators_report(sessions, SETTINGS, "vaccination", PERIOD, now=NOW)

    assert report.text == ("📊 Отчёт «vaccination» за 10.03.2025 — 12.03.2025: "
                           "нет данных за период.")
    assert report.pngs == []
