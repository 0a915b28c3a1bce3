"""Gather the report: each bot's figures under its own queue settings, the overall figures,
and each bot's most frequent unanswered questions, grouped as ``bot.py unanswered`` groups
them (:func:`bots.reports.group_unanswered`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.encoding import Semantics
from bots.loading import load_topic
from bots.queue_settings import load_queue_settings
from bots.reports import Group, group_unanswered
from bots.settings import Settings
from escalation.figures import (
    Figures,
    Period,
    Samples,
    Snapshot,
    compute,
    load_samples,
    load_snapshot,
)
from escalation.records import Records, UnansweredItem

GROUPS_SHOWN: Final = 10
DEFAULT_DAYS: Final = 7


@dataclass(frozen=True)
class BotReport:
    name: str
    figures: Figures
    groups: list[Group] = field(default_factory=list)  # largest first, at most GROUPS_SHOWN
    lexical: bool = False  # grouped by words only: the sentence encoder did not load


@dataclass(frozen=True)
class Report:
    period: Period
    made_at: datetime
    bots: list[BotReport]
    overall: Figures | None  # all bots together; None for a single bot


def report_zone(settings: Settings, names: list[str]) -> ZoneInfo:
    """The time zone of the days: the first bot's (``queue.yaml``), Moscow without bots."""
    if not names:
        return ZoneInfo("Europe/Moscow")
    return load_queue_settings(settings.bots_dir / names[0]).policy().schedule.tz


def last_days(now: datetime, tz: ZoneInfo, days: int = DEFAULT_DAYS, *,
              include_today: bool = True) -> Period:
    """The ``days`` days ending today (or yesterday, for a digest of whole days)."""
    last = now.astimezone(tz).date() - timedelta(days=0 if include_today else 1)
    return Period(last - timedelta(days=days - 1), last, tz)


async def bot_figures(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                      name: str, period: Period, now: datetime) -> tuple[Figures, Samples]:
    """One bot's figures, its response times counted by its own working hours."""
    policy = load_queue_settings(settings.bots_dir / name).policy()
    samples = await load_samples(sessions, name, period, schedule=policy.schedule, now=now)
    snapshot = await load_snapshot(sessions, name, schedule=policy.schedule, now=now)
    target = policy.first_response.total_seconds() / 3600
    return compute(samples, period, snapshot=snapshot, target_hours=target), samples


async def unanswered_groups(settings: Settings, records: Records, name: str, period: Period,
                            semantics: Semantics) -> list[Group]:
    items: list[UnansweredItem] = [
        item for item in await records.unanswered(bot=name, since=period.start)
        if item.created_at < period.end]
    if not items:
        return []
    topic = await asyncio.to_thread(load_topic, settings, settings.bots_dir, name, semantics)
    if topic is None:
        return []
    groups = await asyncio.to_thread(group_unanswered, items, topic.faq.current.matcher)
    return groups[:GROUPS_SHOWN]


async def collect(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                  records: Records, names: list[str], period: Period, *, now: datetime,
                  semantics: Semantics) -> Report:
    """The report on bots ``names`` (their folders under ``settings.bots_dir``)."""
    reports, every, snapshot, targets = [], Samples(), Snapshot(), set()
    for name in names:
        figures, samples = await bot_figures(sessions, settings, name, period, now)
        groups = await unanswered_groups(settings, records, name, period, semantics)
        reports.append(BotReport(name, figures, groups, lexical=semantics.encoder is None))
        every, snapshot = every + samples, snapshot + figures.snapshot
        targets.add(figures.target_hours)
    overall = None
    if len(names) > 1:
        target = targets.pop() if len(targets) == 1 else None
        overall = compute(every, period, snapshot=snapshot, target_hours=target)
    return Report(period, now, reports, overall)

