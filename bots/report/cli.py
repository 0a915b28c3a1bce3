"""``python bot.py report``: the supervisors' report as an HTML page (and a CSV table).

    python bot.py report [--bot NAME] [--from 2025-03-01] [--to 2025-03-31] --out report.html
                         [--csv report.csv]

Without ``--bot``, every bot and all of them together; without dates, the last 7 days up to
today. Mistakes (an unknown bot, a date that is not one, a period that ends before it starts,
a file that cannot be written) are refused with a message in Russian before anything is read,
with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.encoding import LEXICAL, load_semantics
from bots.queue_settings import QueueSettingsError, load_queue_settings
from bots.report.collect import DEFAULT_DAYS, collect, report_zone
from bots.report.html import render_html
from bots.report.table import write_csv
from bots.report.texts import ReportTexts, day_text, load_report_texts
from bots.settings import Settings
from bots.topic import discover
from escalation.figures import Period
from escalation.records import Records, utc_now


class UsageError(Exception):
    """A mistake in the command line; the message (in Russian) says which."""


@dataclass(frozen=True)
class ReportRequest:
    bot: str | None
    first: str | None  # as typed: YYYY-MM-DD
    last: str | None
    out: Path
    csv: Path | None = None


def request_of(args: argparse.Namespace) -> ReportRequest:
    """The request parsed by ``bot.py``'s ``report`` subcommand."""
    return ReportRequest(bot=args.report_bot, first=args.date_from, last=args.date_to,
                         out=Path(args.out), csv=Path(args.csv) if args.csv else None)


def _day(option: str, value: str, texts: ReportTexts) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(texts.err_date.format(option=option, value=value)) from None


def _period(request: ReportRequest, settings: Settings, names: list[str], now: datetime,
            texts: ReportTexts) -> Period:
    tz = report_zone(settings, names)
    last = (_day("--to", request.last, texts) if request.last
            else now.astimezone(tz).date())
    first = (_day("--from", request.first, texts) if request.first
             else last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise UsageError(texts.err_order.format(first=day_text(first), last=day_text(last)))
    return Period(first, last, tz)


def _writable(path: Path, texts: ReportTexts) -> None:
    """Refuse an output path that cannot be written, before the work is done."""
    folder = path.parent
    reason = None
    if not folder.is_dir():
        reason = texts.reason_no_folder
    elif path.is_dir():
        reason = texts.reason_is_folder
    elif not os.access(path if path.exists() else folder, os.W_OK):
        reason = texts.reason_denied
    if reason is not None:
        raise UsageError(texts.err_output.format(path=path, reason=reason))


def _bots(request: ReportRequest, settings: Settings, texts: ReportTexts) -> list[str]:
    names = discover(settings.bots_dir)
    if request.bot is not None and request.bot not in names:
        raise UsageError(texts.err_unknown_bot.format(
            bot=request.bot, known=", ".join(names) or texts.err_no_bots,
            folder=settings.bots_dir))
    if not names:
        raise UsageError(texts.err_none.format(folder=settings.bots_dir))
    return [request.bot] if request.bot is not None else names


async def write_report(settings: Settings, sessions: async_sessionmaker[AsyncSession],
                       records: Records, request: ReportRequest, *,
                       now: datetime | None = None, out: TextIO = sys.stdout,
                       err: TextIO = sys.stderr) -> int:
    """Make the report of ``request``; 0 when written, 2 for a mistake in the request."""
    texts = load_report_texts()
    now = now or utc_now()
    try:
        names = _bots(request, settings, texts)
        for name in names:  # a broken queue.yaml is reported now, not in the middle
            load_queue_settings(settings.bots_dir / name)
        period = _period(request, settings, names, now, texts)
        for path in (request.out, request.csv):
            if path is not None:
                _writable(path, texts)
    except UsageError as error:
        err.write(f"{error}\n")
        return 2
    except QueueSettingsError as error:
        err.write(texts.err_settings.format(problem=error) + "\n")
        return 2
    semantics = (LEXICAL if settings.faq_encoder == "off"
                 else await asyncio.to_thread(load_semantics, settings))
    report = await collect(sessions, settings, records, names, period, now=now,
                           semantics=semantics)
    page = await asyncio.to_thread(render_html, report, texts)
    try:
        request.out.write_text(page, encoding="utf-8")
        out.write(texts.written.format(path=request.out) + "\n")
        if request.csv is not None:
            write_csv(report, request.csv, texts)
            out.write(texts.written.format(path=request.csv) + "\n")
    except OSError as error:
        err.write(texts.err_output.format(path=error.filename, reason=error.strerror) + "\n")
        return 2
    return 0
