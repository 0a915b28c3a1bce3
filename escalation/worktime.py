"""Working hours: deadlines and response times counted in working time only.

A situation centre answers on working days within working hours, in its own time zone;
public holidays are days off and a transferred working day (a Saturday before a long weekend)
is a working day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MAX_DAYS_SCANNED = 3660


@dataclass(frozen=True)
class WorkSchedule:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset(range(5))  # Monday=0 … Friday=4
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.start >= self.end:
            msg = f"working hours must start before they end: {self.start}–{self.end}"
            raise ValueError(msg)

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() in self.weekdays and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.start, self.tz),
                datetime.combine(day, self.end, self.tz))

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        if not self.is_workday(local.date()):
            return False
        opens, closes = self._window(local.date())
        return opens <= local < closes

    def working_seconds(self, since: datetime, until: datetime) -> float:
        """Working time between two moments, in seconds (0 if ``until`` is earlier)."""
        if until <= since:
            return 0.0
        day = since.astimezone(self.tz).date()
        last = until.astimezone(self.tz).date()
        total = 0.0
        while day <= last:
            if self.is_workday(day):
                opens, closes = self._window(day)
                lo, hi = max(opens, since), min(closes, until)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add_working(self, since: datetime, seconds: float) -> datetime:
        """The moment when ``seconds`` of working time have passed after ``since``."""
        remaining = seconds
        day = since.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS_SCANNED):
            if self.is_workday(day):
                opens, closes = self._window(day)
                lo = max(opens, since)
                if closes > lo:
                    available = (closes - lo).total_seconds()
                    if remaining <= available:
                        return (lo + timedelta(seconds=remaining)).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
        msg = "no working time in the next ten years: check the schedule"
        raise ValueError(msg)

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself if it is working time, else when work starts next."""
        return self.add_working(moment, 0)
