"""The report as one self-contained HTML page: charts inside it as base64 PNG, no scripts, no
fonts or styles fetched, so it opens offline and can be mailed as one file. Printed (A4), each
bot starts on a new page and no chart or table row is split.

Every text from the database (bot names, operators' names, citizens' questions) is escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from html import escape
from typing import Final

from bots.report.charts import Chart, draw_charts
from bots.report.collect import BotReport, Report
from bots.report.table import COLUMNS, cell, header
from bots.report.texts import ReportTexts, day_text, span_text
from escalation.figures import Figures

STYLE: Final = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #222;
       margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 20pt; margin-bottom: 4px; }
h2 { font-size: 16pt; border-bottom: 2px solid #444; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 12pt; margin: 20px 0 6px; }
.meta, .note { color: #555; margin: 2px 0; }
.empty { font-size: 13pt; padding: 16px; background: #f4f4f4; }
figure { margin: 12px 0; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; max-width: 960px; height: auto; display: block; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 9pt; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; vertical-align: top; }
th { background: #f0f0f0; }
td.text, th.text { text-align: left; }
tr { break-inside: avoid; page-break-inside: avoid; }
.wide { overflow-x: auto; }
.key td:first-child { text-align: left; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { margin: 0; max-width: none; font-size: 9pt; }
  section.bot + section.bot { break-before: page; page-break-before: always; }
  .wide { overflow: visible; }
  table { font-size: 7pt; }
  thead { display: table-header-group; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
"""


def _row(cells: Iterable[str], *, tag: str = "td", text_columns: int = 0) -> str:
    parts = [f'<{tag} class="text">{c}</{tag}>' if n < text_columns else f"<{tag}>{c}</{tag}>"
             for n, c in enumerate(cells)]
    return "<tr>" + "".join(parts) + "</tr>"


def _table(head: list[str] | None, rows: Iterable[list[str]], *, text_columns: int = 1,
           css: str = "") -> str:
    """A table; the cells are HTML already (escape what comes from outside)."""
    body = "".join(_row(r, text_columns=text_columns) for r in rows)
    thead = ("" if head is None
             else f"<thead>{_row(head, tag='th', text_columns=text_columns)}</thead>")
    return (f'<div class="wide"><table class="{css}">{thead}'
            f"<tbody>{body}</tbody></table></div>")


def _summary(figures: Figures, texts: ReportTexts) -> str:
    total, labels = figures.total, texts.figures
    rows = [[escape(getattr(labels, name)), escape(cell(total, name, kind, texts))]
            for name, kind in COLUMNS if name != "backlog"]
    rows += [[escape(labels.open_now), str(figures.snapshot.open_now)],
             [escape(labels.open_over_sla), str(figures.snapshot.open_over_sla)]]
    return f"<h3>{escape(texts.summary_title)}</h3>" + _table(None, rows, css="key")


def _by_bucket(figures: Figures, texts: ReportTexts) -> str:
    head = [escape(texts.week if figures.period.weekly else texts.day),
            *(escape(h) for h in header(texts))]
    rows = [[span_text(b.first, b.last),
             *(escape(cell(b, name, kind, texts)) for name, kind in COLUMNS)]
            for b in figures.buckets]
    return f"<h3>{escape(texts.table_title)}</h3>" + _table(head, rows)


def _oldest(figures: Figures, texts: ReportTexts, *, with_bot: bool) -> str:
    title = f"<h3>{escape(texts.oldest_title)}</h3>"
    if not figures.snapshot.oldest:
        return title + f'<p class="note">{escape(texts.no_open)}</p>'
    head = [texts.oldest_ticket, *([texts.bot] if with_bot else []), texts.oldest_opened,
            texts.oldest_waiting, texts.oldest_late, texts.oldest_owner]
    tz = figures.period.tz
    rows = [[str(t.id), *([escape(t.bot)] if with_bot else []),
             f"{t.created_at.astimezone(tz):%d.%m.%Y %H:%M}", texts.number(t.waiting_hours),
             escape(texts.word_yes if t.over_sla else texts.word_no),
             escape(t.owner_name or texts.none)]
            for t in figures.snapshot.oldest]
    return title + _table([escape(h) for h in head], rows, text_columns=0)


def _groups(bot: BotReport, texts: ReportTexts) -> str:
    title = f"<h3>{escape(texts.unanswered_title)}</h3>"
    if not bot.groups:
        return title + f'<p class="note">{escape(texts.no_unanswered)}</p>'
    note = f'<p class="note">{escape(texts.unanswered_lexical)}</p>' if bot.lexical else ""
    head = [texts.unanswered_count, texts.unanswered_examples, texts.unanswered_nearest]
    rows = [[str(len(g.items)), "<br>".join(escape(e) for e in g.examples()),
             escape(f"{g.nearest_entry} «{g.nearest_question}»" if g.nearest_entry
                    else texts.none)]
            for g in bot.groups]
    return title + note + _table([escape(h) for h in head], rows, text_columns=3)


def _charts(charts: list[Chart]) -> str:
    return "".join(
        f'<figure class="chart" data-chart="{c.name}"><img alt="{escape(c.title)}" '
        f'src="data:image/png;base64,{base64.b64encode(c.png).decode("ascii")}"></figure>'
        for c in charts)


def _section(title: str, figures: Figures, texts: ReportTexts, *,
             bot: BotReport | None) -> str:
    parts = [f'<section class="bot"><h2>{escape(title)}</h2>']
    if not figures.has_data:
        parts.append(f'<p class="empty">{escape(texts.no_data)}</p></section>')
        return "".join(parts)
    target = (texts.target_mixed if figures.target_hours is None
              else texts.target_note.format(hours=texts.number(figures.target_hours)))
    parts += [f'<p class="note">{escape(target)}</p>', _summary(figures, texts),
              _charts(draw_charts(figures, texts)), _by_bucket(figures, texts),
              _oldest(figures, texts, with_bot=bot is None)]
    if bot is not None:
        parts.append(_groups(bot, texts))
    parts.append("</section>")
    return "".join(parts)


def render_html(report: Report, texts: ReportTexts) -> str:
    """The whole page (slow: draws every chart; run it off the event loop)."""
    period = report.period
    head = texts.period.format(first=day_text(period.first), last=day_text(period.last),
                               step=texts.by_weeks if period.weekly else texts.by_days)
    made = texts.generated.format(
        moment=f"{report.made_at.astimezone(period.tz):%d.%m.%Y %H:%M}")
    sections = []
    if report.overall is not None:
        sections.append(_section(texts.all_bots, report.overall, texts, bot=None))
    sections += [_section(texts.bot_title.format(bot=b.name), b.figures, texts, bot=b)
                 for b in report.bots]
    return (
        '<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(texts.title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(texts.title)}</h1><p class=\"meta\">{escape(head)}</p>"
        f'<p class="meta">{escape(made)}</p>'
        f'<p class="meta">{escape(texts.definitions_note)}</p>'
        + "".join(sections) + "</body></html>\n"
    )
