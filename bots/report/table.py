"""The report's table of figures by day (or week): its columns, shared by the HTML page and the
CSV file, and the CSV file itself.

The CSV file is what Excel opens without questions in a Russian locale: UTF-8 with a BOM (so
Cyrillic is not garbled), ``;`` between fields and decimal commas; shares are percent.
One row per bot and day (week), then the rows of all bots together when there are several.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal

from bots.report.collect import Report
from bots.report.texts import ReportTexts, day_text
from escalation.figures import BucketFigures

Kind = Literal["count", "share", "hours"]

#: The figures of :class:`escalation.figures.BucketFigures`, in the order of the columns.
COLUMNS: Final[tuple[tuple[str, Kind], ...]] = (
    ("questions", "count"),
    ("answered_by_bot", "count"),
    ("bot_resolution_rate", "share"),
    ("handed_to_people", "count"),
    ("responses", "count"),
    ("response_p50_hours", "hours"),
    ("response_p90_hours", "hours"),
    ("over_sla", "count"),
    ("backlog", "count"),
    ("answers_shown", "count"),
    ("thumbs_up", "count"),
    ("thumbs_down", "count"),
    ("thumbs_up_share", "share"),
    ("feedback_rate", "share"),
    ("rating_asked", "count"),
    ("ratings", "count"),
    ("ratings_good", "count"),
    ("ratings_good_share", "share"),
    ("rating_rate", "share"),
    ("reopened", "count"),
)
CSV_DELIMITER: Final = ";"


def header(texts: ReportTexts, *, bare: bool = False) -> list[str]:
    """The columns' names; ``bare`` (the CSV file, numbers without units) adds ``, %`` to
    the shares."""
    return [getattr(texts.figures, name) + (", %" if bare and kind == "share" else "")
            for name, kind in COLUMNS]


def cell(bucket: BucketFigures, name: str, kind: Kind, texts: ReportTexts, *,
         bare: bool = False) -> str:
    """The figure as written in the tables (``62 %``, ``3,5 ч``) or, ``bare``, in the CSV
    file (``62``, ``3,5``; empty for no value)."""
    value = getattr(bucket, name)
    if kind == "count":
        return str(value)
    if value is None:
        return "" if bare else texts.none
    if kind == "share":
        return texts.number(value * 100, 0) if bare else texts.share_text(value)
    return texts.number(value) if bare else texts.hours_text(value)


def _rows(report: Report, texts: ReportTexts) -> Iterator[list[str]]:
    sections = [(bot.name, bot.figures) for bot in report.bots]
    if report.overall is not None:
        sections.append((texts.all_bots, report.overall))
    for name, figures in sections:
        for bucket in figures.buckets:
            yield [name, day_text(bucket.first), day_text(bucket.last),
                   *(cell(bucket, column, kind, texts, bare=True) for column, kind in COLUMNS)]


def write_csv(report: Report, path: Path, texts: ReportTexts) -> None:
    """The figures of every bot by day (week) into ``path``; raises :class:`OSError`."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=CSV_DELIMITER)
        writer.writerow([texts.bot, texts.csv_first, texts.csv_last, *header(texts, bare=True)])
        writer.writerows(_rows(report, texts))
