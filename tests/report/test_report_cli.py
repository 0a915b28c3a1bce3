"""``python bot.py report``: the HTML page and CSV table it writes, and the mistakes it refuses
(in Russian, exit status 2, nothing written)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from bots.report.cli import ReportRequest, request_of, write_report
from bots.settings import Settings
from escalation.records import Records
from escalation.tickets import Operator
from tests.report.conftest import NOW, History

SETTINGS = Settings(faq_encoder="off")
PAGE_CHARTS = 5


async def run(sessions, records, request: ReportRequest) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await write_report(SETTINGS, sessions, records, request, now=NOW, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def request(tmp_path: Path, **fields) -> ReportRequest:
    values = {"bot": None, "first": "2025-03-10", "last": "2025-03-12",
              "out": tmp_path / "report.html", "csv": tmp_path / "report.csv"} | fields
    return ReportRequest(**values)


@pytest.mark.parametrize(("fields", "message"), [
    ({"bot": "pensions"}, "ошибка: бота «pensions» нет; боты: payments, vaccination"),
    ({"first": "2025-02-30"}, "ошибка: --from 2025-02-30 — не дата; пишите ГГГГ-ММ-ДД"),
    ({"last": "12.03.2025"}, "ошибка: --to 12.03.2025 — не дата"),
    ({"first": "2025-03-13"}, "ошибка: начало периода (13.03.2025) позже его конца (12.03.2025)"),
    ({"out": Path("/nonexistent/report.html")},
     "ошибка: не удаётся записать /nonexistent/report.html: нет такой папки"),
    ({"csv": Path("/tmp")}, "ошибка: не удаётся записать /tmp: это папка, а нужен файл"),
])
async def test_mistakes_are_refused_in_russian(sessions, tmp_path: Path, fields,
                                               message: str) -> None:
    code, out, err = await run(sessions, Records(sessions), request(tmp_path, **fields))

    assert code == 2
    assert err.startswith(message), err
    assert out == ""
    assert not (tmp_path / "report.html").exists()


async def test_an_empty_database_says_there_is_no_data(sessions, tmp_path: Path) -> None:
    code, out, _ = await run(sessions, Records(sessions), request(tmp_path))

    assert code == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("Нет данных за период.") == 3  # all bots, payments, vaccination
    assert "<img" not in page
    assert f"Готово: {tmp_path / 'report.html'}" in out
    rows = list(csv.reader(io.StringIO((tmp_path / "report.csv").read_text("utf-8-sig")),
                           delimiter=";"))
    assert len(rows) == 1 + 3 * 3  # the header, 3 days of payments, vaccination and all


async def test_the_page_and_table_of_a_known_history(history: History, tmp_path: Path) -> None:
    code, _, err = await run(history.sessions, history.records, request(tmp_path))

    assert (code, err) == (0, "")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3 * PAGE_CHARTS
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched: opens offline
    assert "@media print" in page
    assert "break-before: page" in page
    assert "Период: 10.03.2025 — 12.03.2025, по дням" in page
    assert "цель — первый ответ за 3,0 рабочих ч" in page
    assert "<td>2,0 ч</td><td>3,6 ч</td>" in page  # Monday's median and 90th percentile
    assert f"<td>{history.ids['T0']}</td><td>07.03.2025 10:00</td><td>36,0</td>" in page
    assert "вопрос 105 про выплату пособия" in page  # an unanswered question's group
    raw = (tmp_path / "report.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Бот", "С", "По", "Вопросов получено", "Бот ответил сам"]
    assert rows[0][5] == "Доля ответов бота, %"
    assert rows[1] == ["payments", "10.03.2025", "10.03.2025", "5", "1", "20", "3", "3",
                       "2,0", "3,6", "1", "3", "2", "1", "1", "50", "100", "2", "2", "1",
                       "50", "100", "1"]
    assert rows[3][:8] == ["payments", "12.03.2025", "12.03.2025", "1", "0", "0", "1", "0"]
    assert rows[7][:5] == ["Все боты", "10.03.2025", "10.03.2025", "6", "2"]


async def test_the_page_escapes_what_comes_from_the_database(history: History,
                                                              tmp_path: Path) -> None:
    await history.records.record_question(
        bot="payments", tg_user_id=300, display_name=None, username=None, chat_id=300,
        tg_message_id=None, text="<script>alert(1)</script> & пособие", source="text",
        kind="faq", decision="escalate", outcome="escalated")

    await history.tickets.claim(history.ids["T5"], Operator(7, "<b>Оля & Ко</b>"))

    await run(history.sessions, history.records, request(tmp_path, last="2025-03-13"))

    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; пособие" in page
    assert "<td>&lt;b&gt;Оля &amp; Ко&lt;/b&gt;</td>" in page


def test_bot_py_has_the_report_command() -> None:
    import bot

    args = bot.parse_args(["report", "--bot", "payments", "--from", "2025-03-01", "--to",
                           "2025-03-31", "--out", "r.html", "--csv", "r.csv"])

    assert request_of(args) == ReportRequest("payments", "2025-03-01", "2025-03-31",
                                             Path("r.html"), Path("r.csv"))
