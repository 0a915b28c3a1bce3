"""The report for the operators' chat: the same charts as PNG bytes and a short summary, for a
``/report`` command and for a weekly digest.

When the digest goes out is ``REPORT_DIGEST``: a weekday and a time in the bot's time zone
(``queue.yaml``), ``mon 09:00`` by default, or ``off``. The digest covers the 7 whole days
before the day it is sent. Sending is the operators' handlers' job; this module only makes
the content and says when.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.queue_settings import load_queue_settings
from bots.report.charts import Chart, draw_charts
from bots.report.collect import bot_figures, last_days
from bots.report.texts import ReportTexts, day_text, load_report_texts
from bots.settings import Settings
from escalation.figures import Figures, Period

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFF: Final = "off"


@dataclass(frozen=True, slots=True)
class DigestTime:
    weekday: int  # Monday = 0
    at: time

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first digest moment strictly after ``moment``, aware, in ``tz``."""
        local = moment.astimezone(tz)
        day = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        candidate = datetime.combine(day, self.at, tz)
        return candidate if candidate > local else datetime.combine(
            day + timedelta(days=7), self.at, tz)


def parse_digest(value: str) -> DigestTime | None:
    """``"mon 09:00"`` → Monday 9:00; ``"off"`` → None; anything else raises ValueError."""
    text = value.strip().lower()
    if text == OFF:
        return None
    day, _, clock = text.partition(" ")
    if day not in WEEKDAYS:
        msg = f"REPORT_DIGEST must be '<{'|'.join(WEEKDAYS)}> HH:MM' or 'off', got {value!r}"
        raise ValueError(msg)
    try:
        at = time.fromisoformat(clock.strip())
    except ValueError:
        msg = f"REPORT_DIGEST time must be HH:MM (e.g. 'mon 09:00'), got {value!r}"
        raise ValueError(msg) from None
    return DigestTime(WEEKDAYS.index(day), at)


class DigestSettings(BaseSettings):
    """``REPORT_DIGEST`` from the environment or ``.env``, as :class:`bots.settings.Settings`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    report_digest: str = "mon 09:00"

    @field_validator("report_digest")
    @classmethod
    def _valid(cls, value: str) -> str:
        parse_digest(value)
        return value

    @property
    def schedule(self) -> DigestTime | None:
        """When the weekly digest goes out; None when it is off."""
        return parse_digest(self.report_digest)


@dataclass(frozen=True)
class OperatorsReport:
    text: str  # plain text, no markup: send it without a parse mode (or as entities)
    charts: tuple[Chart, ...]  # none when there is nothing to draw

    @property
    def pngs(self) -> list[bytes]:
        return [chart.png for chart in self.charts]


def summary_text(bot: str, figures: Figures, texts: ReportTexts) -> str:
    """A few lines with the period's main figures."""
    period, total, snap = figures.period, figures.total, figures.snapshot
    dates = {"bot": bot, "first": day_text(period.first), "last": day_text(period.last)}
    if not figures.has_data:
        return texts.digest_no_data.format(**dates)
    return texts.digest.format(
        **dates, questions=total.questions,
        bot_rate=texts.share_text(total.bot_resolution_rate),
        tickets=total.handed_to_people, p50=texts.hours_text(total.response_p50_hours),
        p90=texts.hours_text(total.response_p90_hours),
        target=texts.hours_text(figures.target_hours), over_sla=total.over_sla,
        open_now=snap.open_now, open_over_sla=snap.open_over_sla, reopened=total.reopened,
        thumbs=texts.share_text(total.thumbs_up_share),
        good=texts.share_text(total.ratings_good_share))


async def operators_report(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                           bot: str, period: Period, *, now: datetime) -> OperatorsReport:
    """The charts and summary of ``bot`` for ``period`` (drawing runs off the loop)."""
    texts = load_report_texts()
    figures, _ = await bot_figures(sessions, settings, bot, period, now)
    charts = await asyncio.to_thread(draw_charts, figures, texts)
    return OperatorsReport(summary_text(bot, figures, texts), tuple(charts))


async def weekly_digest(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                        bot: str, *, now: datetime) -> OperatorsReport:
    """The digest sent at ``now``: the 7 whole days before today (the bot's time zone)."""
    tz = load_queue_settings(settings.bots_dir / bot).policy().schedule.tz
    period = last_days(now, tz, include_today=False)
    return await operators_report(sessions, settings, bot, period, now=now)
