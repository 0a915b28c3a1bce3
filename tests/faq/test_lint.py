"""``lint`` findings on planted problems (tests/faq/data/lint_problems.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from faq import Problem
from faq.lint import lint_path, utf16_length

from .conftest import DATA

PLANTED = DATA / "lint_problems.yaml"


@pytest.fixture(scope="module")
def findings() -> dict[str, list[Problem]]:
    by_entry: dict[str, list[Problem]] = {}
    for problem in lint_path(PLANTED, today=dt.date(2026, 6, 1)):
        by_entry.setdefault(problem.entry_id or "", []).append(problem)
    return by_entry


def test_clean_entry_has_no_findings(findings: dict[str, list[Problem]]) -> None:
    assert "fine" not in findings


def test_overdue_review_is_a_warning(findings: dict[str, list[Problem]]) -> None:
    (problem,) = findings["stale"]
    assert problem.severity == "warning"
    assert problem.line == 14
    assert "срок проверки 01.01.2020 прошёл" in problem.message


def test_alternative_that_belongs_to_another_entry(findings: dict[str, list[Problem]]) -> None:
    (problem,) = findings["apply"]
    assert problem.severity == "error"
    assert problem.line == 24  # the alternative itself, not the entry
    assert "«где можно сделать прививку от ковида» ближе к записи 'vaccinate'" in problem.message


def test_entries_that_cannot_be_told_apart(findings: dict[str, list[Problem]]) -> None:
    for own, other in (("twin-a", "twin-b"), ("twin-b", "twin-a")):
        (problem,) = findings[own]
        assert f"записи '{own}' и '{other}' не различить" in problem.message


def test_phrasing_without_meaningful_words(findings: dict[str, list[Problem]]) -> None:
    (problem,) = findings["greeting-only"]
    assert "не осталось значимых слов" in problem.message


def test_review_date_in_the_future_is_fine() -> None:
    problems = lint_path(PLANTED, today=dt.date(2019, 12, 31))
    assert not [p for p in problems if p.entry_id == "stale"]


def _faq_with_answer(tmp_path: Path, answer: str) -> Path:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "entries:\n"
        "  - id: long\n"
        "    question: Какой график работы МФЦ?\n"
        f"    answer: {answer}\n"
        "  - id: other\n"
        "    question: Где сделать прививку?\n"
        "    answer: В поликлинике.\n",
        encoding="utf-8",
    )
    return path


def test_answer_over_telegram_limit_counts_utf16_units(tmp_path: Path) -> None:
    emoji_answer = "😀" * 2100  # 2 100 characters, but 4 200 UTF-16 code units
    assert len(emoji_answer) < 4096 < utf16_length(emoji_answer)
    (problem,) = lint_path(_faq_with_answer(tmp_path, emoji_answer))
    assert problem.entry_id == "long"
    assert problem.line == 4
    assert "4200 символов при максимуме 4096" in problem.message


def test_answer_at_the_limit_is_fine(tmp_path: Path) -> None:
    assert lint_path(_faq_with_answer(tmp_path, "я" * 4096)) == []


def test_schema_errors_and_empty_answers_are_findings(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "entries:\n  - id: a\n    question: Вопрос?\n    answer:\n"
        "  - id: a\n    question: Ещё вопрос?\n    answer: Ответ.\n",
        encoding="utf-8",
    )
    messages = [(p.line, p.message) for p in lint_path(path)]
    assert any(line == 4 and "'answer' пусто, а без него" in text for line, text in messages)
    assert any(line == 5 and "уже есть в строке 2" in text for line, text in messages)


def test_shipped_faqs_load_and_lint_without_crashing() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in sorted(root.glob("bots/*/faq.yaml")):
        for problem in lint_path(path):
            assert str(problem).startswith(str(path))


def test_too_vague_phrasing_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "entries:\n"
        "  - {id: vague, question: Как получить?, answer: Ответ.}\n"
        "  - {id: passport, question: Как получить паспорт гражданина?, answer: В МФЦ.}\n"
        "  - {id: snils, question: Как получить СНИЛС ребёнку?, answer: В СФР.}\n"
        "  - {id: polis, question: Как получить полис ОМС новорождённому?, answer: В СМО.}\n"
        "  - {id: mfc, question: Какой график работы МФЦ?, answer: С 8 до 20.}\n",
        encoding="utf-8",
    )
    (problem,) = lint_path(path)
    assert (problem.entry_id, problem.line, problem.severity) == ("vague", 2, "warning")
    assert "«Как получить?» слишком общая" in problem.message
