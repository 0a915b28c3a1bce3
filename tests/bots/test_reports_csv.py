"""The unanswered report for editors: CSV for Excel and the error for an unknown bot."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bots.reports import Group, unknown_bot, write_csv
from bots.settings import Settings
from escalation.records import UnansweredItem

BOTS = Path(__file__).resolve().parents[2] / "bots"


def test_csv_opens_in_excel_with_russian_text(tmp_path: Path) -> None:
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    items = [UnansweredItem(1, "когда придут деньги; срочно", cast(Any, "escalated"), when),
             UnansweredItem(2, "где выплата", cast(Any, "not_helpful"), when)]
    path = tmp_path / "report.csv"
    assert write_csv([Group(items, "payment-delay", 48.0, "Почему задерживают выплату?")],
                     path) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("группа;вопросов в группе;вопрос;")
    assert lines[1] == ('1;2;"когда придут деньги; срочно";нет ответа;2026-12-01 09:30;'
                        "payment-delay;Почему задерживают выплату?;48")


def test_unknown_bot_lists_the_known_ones() -> None:
    settings = cast(Settings, SimpleNamespace(bots_dir=BOTS))
    message = unknown_bot(settings, "paymets")
    assert message is not None
    assert "бота «paymets» нет" in message
    assert "Возможно, имелся в виду «payments»" in message
    assert "боты: payments, vaccination" in message
    assert unknown_bot(settings, "payments") is None
