"""A bot's operator-queue settings: working hours, holidays, response target, quiet period.

Kept in ``bots/<name>/queue.yaml`` next to the bot's FAQ and texts, so a ministry changes its
hours without touching code. Every key is optional; the defaults are a Moscow working week,
9:00–18:00, a first response within 3 working hours and auto-closing 72 hours after an answer
the citizen did not reply to.

.. code-block:: yaml

    timezone: Europe/Moscow
    working_hours: "09:00-18:00"
    working_days: [1, 2, 3, 4, 5]        # 1 = Monday … 7 = Sunday
    holidays: [2026-01-01, 2026-01-02]   # days off
    extra_workdays: []                   # transferred working Saturdays
    first_response_hours: 3              # working hours
    autoclose_hours: 72                  # calendar hours after the last answer
"""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bots.yaml_files import problems, read_mapping
from escalation.tickets import QueuePolicy
from escalation.worktime import WorkSchedule

QUEUE_FILE = "queue.yaml"


class QueueSettingsError(ValueError):
    """``queue.yaml`` is unreadable or invalid; the message names the file and the field."""


class QueueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Europe/Moscow"
    working_hours: str = "09:00-18:00"
    working_days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)
    first_response_hours: float = Field(default=3.0, gt=0)
    autoclose_hours: float = Field(default=72.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"неизвестный часовой пояс {value!r} (пример: Europe/Moscow)"
            raise ValueError(msg) from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        parse_hours(value)
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if not value or any(d < 1 or d > 7 for d in value):
            msg = "дни недели — числа от 1 (понедельник) до 7 (воскресенье)"
            raise ValueError(msg)
        return value

    def policy(self) -> QueuePolicy:
        start, end = parse_hours(self.working_hours)
        schedule = WorkSchedule(
            tz=ZoneInfo(self.timezone), start=start, end=end,
            weekdays=frozenset(d - 1 for d in self.working_days),
            holidays=frozenset(self.holidays), extra_workdays=frozenset(self.extra_workdays),
        )
        return QueuePolicy(
            schedule=schedule,
            first_response=timedelta(hours=self.first_response_hours),
            autoclose_after=timedelta(hours=self.autoclose_hours),
        )


def parse_hours(value: str) -> tuple[time, time]:
    """``"09:00-18:00"`` → (09:00, 18:00); ``24:00`` means the end of the day."""
    try:
        start_text, end_text = (part.strip() for part in value.split("-"))
        start = time.fromisoformat(start_text)
        end = time.max if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError:
        msg = f"рабочие часы пишутся как \"09:00-18:00\", а не {value!r}"
        raise ValueError(msg) from None
    if start >= end:
        msg = f"рабочий день должен начинаться раньше, чем заканчивается: {value!r}"
        raise ValueError(msg)
    return start, end


def load_queue_settings(bot_dir: Path) -> QueueSettings:
    """The bot's ``queue.yaml``, or the defaults when there is none."""
    path = bot_dir / QUEUE_FILE
    if not path.is_file():
        return QueueSettings()
    data = read_mapping(path, QueueSettingsError)
    try:
        return QueueSettings.model_validate(data)
    except ValidationError as error:
        msg = f"{path}: {problems(error, 'queue')}"
        raise QueueSettingsError(msg) from None
