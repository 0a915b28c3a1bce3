"""``python bot.py unanswered``: groups by meaning, the nearest FAQ entry, degradation."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import cast

import pytest

from bots.reports import SHOWN_PER_GROUP, format_groups, group_unanswered, print_unanswered
from bots.settings import Settings
from escalation.records import Records, UnansweredItem, UnansweredReason
from faq import Matcher, load_faq
from tests.semantic import EMBEDDING_CACHE, shipped_matcher

from .conftest import ROOT

QUESTIONS = [
    "батареи холодные уже неделю, когда дадут отопление?",
    "поменял банк, как сменить реквизиты для выплаты пособия",
    "огромная яма на дороге во дворе, кто будет заделывать?",
    "в квартире не греют радиаторы, куда звонить",
    "когда проиндексируют пенсию?",
    "почему нет отопления в доме на ленина 5",
    "когда отремонтируют дорогу на улице ключевской, там яма уже месяц",
    "карту закрыл, как перевести единое пособие на счёт в другом банке",
    "батареи холодные уже неделю, когда дадут отопление?",
]
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def items(texts: list[str]) -> list[UnansweredItem]:
    reason = UnansweredReason.ESCALATED
    return [UnansweredItem(n, text, reason, NOW) for n, text in enumerate(texts, start=1)]


class FakeRecords:
    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    async def unanswered(self, *, bot: str, since: datetime) -> list[UnansweredItem]:
        return items(self.texts)


def test_groups_by_meaning_with_the_entry_to_extend() -> None:
    groups = group_unanswered(items(QUESTIONS), shipped_matcher("payments"))
    assert [len(g.items) for g in groups] == [4, 2, 2, 1]
    heating, *_ = groups
    assert {i.text for i in heating.items} == {QUESTIONS[0], QUESTIONS[3], QUESTIONS[5]}
    assert len(heating.examples()) == 3  # the repeated question is shown once
    bank = next(g for g in groups if QUESTIONS[1] in {i.text for i in g.items})
    assert {i.text for i in bank.items} == {QUESTIONS[1], QUESTIONS[7]}
    assert bank.nearest_entry == "change-bank"
    assert bank.relevant
    assert bank.nearest_semantic is not None

    report = format_groups("payments", groups, "за 30 дней")
    lines = report.splitlines()
    assert lines[0] == "Бот payments: вопросов без ответа за 30 дней: 9, групп: 4"
    assert lines[2].startswith("[4] нет ответа: 4")
    assert lines[3].startswith("    ближайшая запись FAQ: ")
    assert "по смыслу 0." in lines[3]
    assert "    … и ещё 1 (повторы показанных)" in lines
    question = shipped_matcher("payments").faq.entry("change-bank").question
    assert f"    ближайшая запись FAQ: change-bank «{question}» (оценка " in report


def test_without_the_encoder_the_report_groups_by_words() -> None:
    lexical = Matcher(load_faq(ROOT / "bots" / "payments" / "faq.yaml"))
    texts = ["Как оформить материнский капитал?", "как оформить маткапитал",
             "Куда жаловаться на соседей?"]
    groups = group_unanswered(items(texts), lexical)
    assert sorted(len(g.items) for g in groups) == [1, 2]
    assert all(g.nearest_semantic is None for g in groups)
    assert "по смыслу" not in format_groups("payments", groups, "")


async def test_report_says_when_the_model_did_not_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQ_ENCODER_FAIL", "no AVX2")
    settings = Settings(faq_embedding_cache=EMBEDDING_CACHE)
    out, err = io.StringIO(), io.StringIO()
    records = cast(Records, FakeRecords(QUESTIONS[:3]))
    assert await print_unanswered(settings, records, "payments", NOW, out, err) == 0
    assert err.getvalue() == ("модель смысла не загрузилась (encoder failure injected: no "
                              "AVX2): вопросы сгруппированы только по словам\n")
    assert "вопросов без ответа" in out.getvalue()
    assert "по смыслу" not in out.getvalue()


async def test_report_with_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAQ_ENCODER_FAIL", raising=False)
    settings = Settings(faq_embedding_cache=EMBEDDING_CACHE)
    out, err = io.StringIO(), io.StringIO()
    records = cast(Records, FakeRecords(QUESTIONS))
    assert await print_unanswered(settings, records, "payments", NOW, out, err) == 0
    assert "[4]" in out.getvalue().splitlines()[2]
    assert "по смыслу" in out.getvalue()
    assert len([line for line in out.getvalue().splitlines() if line.startswith("    - ")]) <= (
        SHOWN_PER_GROUP * 4)


async def test_unknown_bot_lists_the_bots() -> None:
    out, err = io.StringIO(), io.StringIO()
    records = cast(Records, FakeRecords([]))
    assert await print_unanswered(Settings(), records, "nosuch", NOW, out, err) == 2
    assert err.getvalue().startswith("ошибка: бота «nosuch» нет; боты: payments, vaccination")
    assert out.getvalue() == ""
