"""The report's charts as PNG bytes, drawn by matplotlib without a display.

Figures are built with :class:`matplotlib.figure.Figure` (no ``pyplot``, so no global state:
safe in a thread next to the bots) on the Agg backend, in DejaVu Sans, which ships with
matplotlib and has Cyrillic: no font is fetched. Days (or weeks) without a value (no ticket
answered that day) are gaps in the lines, not zeros.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import matplotlib

matplotlib.use("Agg")  # before anything draws: no display, no GUI toolkit

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bots.report.texts import ReportTexts, span_text
from escalation.figures import BucketFigures, Figures

#: Colours of the series; the browser test looks for them in the screenshot.
BLUE: Final = "#1f77b4"
GREEN: Final = "#2ca02c"
ORANGE: Final = "#ff7f0e"
RED: Final = "#d62728"
GREY: Final = "#7f7f7f"
SIZE: Final = (8.0, 3.0)  # inches: the width of a printed A4 page
DPI: Final = 120
_MAX_TICKS: Final = 16


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    title: str
    png: bytes


def _values(buckets: Sequence[BucketFigures],
            read: Callable[[BucketFigures], float | None], scale: float = 1.0) -> list[float]:
    return [math.nan if (v := read(b)) is None else v * scale for b in buckets]


def _axes(title: str, buckets: Sequence[BucketFigures]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = figure.subplots()
    axes.set_title(title, loc="left", fontsize=11)
    labels = [span_text(b.first, b.last) for b in buckets]
    step = max(1, math.ceil(len(labels) / _MAX_TICKS))
    axes.set_xticks(range(0, len(labels), step), labels[::step],
                    rotation=45 if len(labels) > 8 else 0, fontsize=8)
    axes.set_xlim(-0.6, len(labels) - 0.4)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Figure, axes: Axes) -> bytes:
    if axes.get_legend_handles_labels()[0]:  # beside the plot, never over the data
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _bars(axes: Axes, series: Sequence[tuple[str, list[float], str]]) -> None:
    """Grouped bars, one group per bucket."""
    width = 0.8 / len(series)
    for n, (label, values, colour) in enumerate(series):
        offset = (n - (len(series) - 1) / 2) * width
        axes.bar([i + offset for i in range(len(values))], values, width, label=label,
                 color=colour)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(y=0.1)
    axes.set_ylim(bottom=0)


def _line(axes: Axes, label: str, values: list[float], colour: str) -> None:
    axes.plot(range(len(values)), values, label=label, color=colour, marker="o",
              markersize=4, linewidth=2)


def questions_chart(figures: Figures, texts: ReportTexts) -> Chart:
    buckets, labels = figures.buckets, texts.figures
    figure, axes = _axes(texts.chart_questions, buckets)
    _bars(axes, [(labels.questions, _values(buckets, lambda b: b.questions), BLUE),
                 (labels.answered_by_bot, _values(buckets, lambda b: b.answered_by_bot), GREEN),
                 (labels.handed_to_people, _values(buckets, lambda b: b.handed_to_people),
                  ORANGE)])
    return Chart("questions", texts.chart_questions, _png(figure, axes))


def response_chart(figures: Figures, texts: ReportTexts) -> Chart:
    buckets = figures.buckets
    figure, axes = _axes(texts.chart_response, buckets)
    _line(axes, texts.series_p50, _values(buckets, lambda b: b.response_p50_hours), BLUE)
    _line(axes, texts.series_p90, _values(buckets, lambda b: b.response_p90_hours), ORANGE)
    if figures.target_hours is not None:
        axes.axhline(figures.target_hours, color=RED, linestyle="--", linewidth=1.2,
                     label=texts.series_target.format(hours=texts.number(figures.target_hours)))
    axes.set_ylim(bottom=0)
    return Chart("response", texts.chart_response, _png(figure, axes))


def backlog_chart(figures: Figures, texts: ReportTexts) -> Chart:
    buckets = figures.buckets
    figure, axes = _axes(texts.chart_backlog, buckets)
    values = _values(buckets, lambda b: b.backlog)
    axes.fill_between(range(len(values)), values, color=BLUE, alpha=0.15)
    _line(axes, texts.figures.backlog, values, BLUE)
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return Chart("backlog", texts.chart_backlog, _png(figure, axes))


def problems_chart(figures: Figures, texts: ReportTexts) -> Chart:
    buckets, labels = figures.buckets, texts.figures
    figure, axes = _axes(texts.chart_problems, buckets)
    _bars(axes, [(labels.over_sla, _values(buckets, lambda b: b.over_sla), RED),
                 (labels.reopened, _values(buckets, lambda b: b.reopened), GREY)])
    return Chart("problems", texts.chart_problems, _png(figure, axes))


def satisfaction_chart(figures: Figures, texts: ReportTexts) -> Chart:
    buckets, labels = figures.buckets, texts.figures
    figure, axes = _axes(texts.chart_satisfaction, buckets)
    _line(axes, labels.thumbs_up_share, _values(buckets, lambda b: b.thumbs_up_share, 100),
          GREEN)
    _line(axes, labels.ratings_good_share,
          _values(buckets, lambda b: b.ratings_good_share, 100), BLUE)
    axes.set_ylim(0, 105)
    return Chart("satisfaction", texts.chart_satisfaction, _png(figure, axes))


CHARTS: Final = (questions_chart, response_chart, backlog_chart, problems_chart,
                 satisfaction_chart)


def draw_charts(figures: Figures, texts: ReportTexts) -> list[Chart]:
    """Every chart of ``figures``; none when there is nothing to show (no data)."""
    if not figures.has_data:
        return []
    return [draw(figures, texts) for draw in CHARTS]
