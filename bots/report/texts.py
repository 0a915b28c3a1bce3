"""The report's Russian texts (``bots/report/texts.yaml``) and how numbers are written in them.

Numbers follow Russian conventions: a decimal comma (``3,5 ч``), a space before ``%``, dates as
``10.03.2025``. The same helpers write the CSV file, so Excel in a Russian locale reads its
numbers as numbers.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, ValidationError

from bots.yaml_files import problems, read_mapping

TEXTS_FILE: Final = Path(__file__).with_name("texts.yaml")


class ReportTextsError(Exception):
    """``bots/report/texts.yaml`` is missing, broken or lacks a text."""


class FigureLabels(BaseModel):
    """One label per figure: the fields of :class:`escalation.figures.BucketFigures` (and
    its properties) and of :class:`escalation.figures.Snapshot`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    questions: str
    answered_by_bot: str
    bot_resolution_rate: str
    handed_to_people: str
    responses: str
    response_p50_hours: str
    response_p90_hours: str
    over_sla: str
    backlog: str
    answers_shown: str
    thumbs_up: str
    thumbs_down: str
    thumbs_up_share: str
    feedback_rate: str
    rating_asked: str
    ratings: str
    ratings_good: str
    ratings_good_share: str
    rating_rate: str
    reopened: str
    open_now: str
    open_over_sla: str


class ReportTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    period: str
    by_days: str
    by_weeks: str
    generated: str
    all_bots: str
    bot_title: str
    no_data: str
    target_note: str
    target_mixed: str
    summary_title: str
    table_title: str
    definitions_note: str
    day: str
    week: str
    bot: str
    csv_first: str
    csv_last: str
    hours: str
    percent: str
    none: str
    word_yes: str
    word_no: str
    figures: FigureLabels
    chart_questions: str
    chart_response: str
    chart_backlog: str
    chart_problems: str
    chart_satisfaction: str
    series_p50: str
    series_p90: str
    series_target: str
    oldest_title: str
    oldest_ticket: str
    oldest_opened: str
    oldest_waiting: str
    oldest_late: str
    oldest_owner: str
    no_open: str
    unanswered_title: str
    unanswered_count: str
    unanswered_examples: str
    unanswered_nearest: str
    no_unanswered: str
    unanswered_lexical: str
    err_unknown_bot: str
    err_no_bots: str
    err_none: str
    err_date: str
    err_order: str
    err_output: str
    reason_no_folder: str
    reason_is_folder: str
    reason_denied: str
    err_settings: str
    written: str
    digest: str
    digest_no_data: str

    def number(self, value: float | None, digits: int = 1) -> str:
        """``3,5``; ``—`` for no value."""
        if value is None:
            return self.none
        return f"{value:.{digits}f}".replace(".", ",")

    def hours_text(self, value: float | None) -> str:
        return self.none if value is None else self.hours.format(value=self.number(value))

    def share_text(self, value: float | None) -> str:
        """A share 0–1 as whole percent: ``62 %``."""
        return self.none if value is None else self.percent.format(
            value=self.number(value * 100, 0))


def day_text(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def span_text(first: date, last: date) -> str:
    """``10.03`` for a day, ``10.03–16.03`` for a week."""
    return f"{first:%d.%m}" if first == last else f"{first:%d.%m}–{last:%d.%m}"


@functools.cache
def load_report_texts(path: Path = TEXTS_FILE) -> ReportTexts:
    try:
        return ReportTexts.model_validate(read_mapping(path, ReportTextsError))
    except ValidationError as error:
        msg = f"{path}: {problems(error, 'texts')}"
        raise ReportTextsError(msg) from None
