"""Loading FAQ files: every problem names the file, the line and the entry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from faq import FaqError, FaqReadError, Problem, load_faq

from .conftest import DATA


def write(tmp_path: Path, text: str, name: str = "faq.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(FaqError) as caught:
        load_faq(path)
    return caught.value.problems


def the_problem(tmp_path: Path, text: str) -> Problem:
    """The one problem the loader finds in a FAQ file holding ``text``."""
    (problem,) = problems_of(write(tmp_path, text))
    return problem


GOOD_ENTRY = """\
  - id: amount
    question: Какой размер выплаты?
    answer: Половина прожиточного минимума.
"""


def test_loads_the_documented_format() -> None:
    faq = load_faq(DATA / "mini_faq.yaml")
    assert faq.title == "Тестовый FAQ"
    assert [entry.id for entry in faq.entries][:2] == ["amount", "apply"]
    apply = faq.entry("apply")
    assert apply.links[0].url == "https://www.gosuslugi.ru/"
    assert apply.phrasings[0] == "Как подать заявление на ежемесячную выплату?"
    assert faq.entry("where-vaccinate").review_by == dt.date(2099, 1, 1)
    assert faq.synonyms["ежемесячная выплата"] == ("ежемесячка", "ежемесячное пособие")
    assert faq.path.endswith("mini_faq.yaml")
    assert faq.entry_line("apply") == 14


def test_unknown_key_names_file_line_entry_and_suggests_the_fix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "entries:\n" + GOOD_ENTRY + "    alternatves:\n      - Сколько платят?\n",
    )
    (problem,) = problems_of(path)
    assert (problem.file, problem.line, problem.entry_id) == (str(path), 5, "amount")
    assert str(problem) == (
        f"{path}:5: entry 'amount': неизвестный ключ 'alternatves' "
        "(возможно, имелось в виду 'alternatives'?)"
    )


def test_duplicate_ids_point_at_the_second_one(tmp_path: Path) -> None:
    problem = the_problem(tmp_path, "entries:\n" + GOOD_ENTRY + GOOD_ENTRY)
    assert problem.line == 5
    assert problem.entry_id == "amount"
    assert "уже есть в строке 2" in problem.message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
entries:
  - id: Bad Id
    question: 2024
    answer:
  - id: ok
    question: Вопрос?
    answer: Ответ.
    review_by: 2027-13-01
    links:
      - title: Сайт
        url: ftp://example.org
  - просто текст
""",
    )
    found = {(p.line, p.entry_id): p.message for p in problems_of(path)}
    assert "латинские строчные буквы" in found[(2, "Bad Id")]
    assert "должно быть текстом, а не число" in found[(3, "Bad Id")]
    assert "пусто" in found[(4, "Bad Id")]
    assert "ГГГГ-ММ-ДД" in found[(8, "ok")]
    assert "https://" in found[(11, "ok")]
    assert "запись должна быть набором ключей" in found[(12, "№3")]


def test_missing_required_key(tmp_path: Path) -> None:
    problem = the_problem(tmp_path, "entries:\n  - id: a\n    question: Вопрос?\n")
    assert (problem.line, problem.entry_id) == (2, "a")
    assert problem.message == "нет обязательного ключа 'answer'"


def test_blank_answer_is_an_error(tmp_path: Path) -> None:
    problem = the_problem(tmp_path,
                          'entries:\n  - id: a\n    question: Вопрос?\n    answer: "  "\n')
    assert problem.line == 4
    assert "'answer' пусто" in problem.message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    problem = the_problem(tmp_path, "entries:\n  - id: a\n    question: Что: где: когда?\n")
    assert problem.line == 3
    assert "возьмите текст в кавычки" in problem.message


def test_tab_indentation(tmp_path: Path) -> None:
    problem = the_problem(tmp_path, "entries:\n  - id: a\n\tquestion: b\n")
    assert problem.line == 3
    assert "табуляция" in problem.message


def test_duplicate_yaml_key_is_not_silently_dropped(tmp_path: Path) -> None:
    problem = the_problem(tmp_path, "entries:\n" + GOOD_ENTRY + "    answer: Другой ответ.\n")
    assert problem.line == 5
    assert "ключ 'answer' повторяется (уже есть в строке 4)" in problem.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "файл пуст"),
        ("# только комментарий\n", "файл пуст"),
        ("entries: []\n", "список 'entries' пуст"),
        ("- a\n- b\n", "ключей верхнего уровня"),
        ("title: Без записей\n", "нет обязательного ключа 'entries'"),
    ],
)
def test_files_without_entries(tmp_path: Path, text: str, message: str) -> None:
    (problem,) = problems_of(write(tmp_path, text))
    assert message in problem.message


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(FaqReadError) as caught:
        load_faq(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: файл не найден"


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_bytes(b"entries:\n  - id: a\n    question: \xcf\xf0\xe8\xe2\xe5\xf2\n")
    with pytest.raises(FaqReadError) as caught:
        load_faq(path)
    (problem,) = caught.value.problems
    assert problem.line == 3
    assert "UTF-8" in problem.message


def test_problem_without_entry_or_line() -> None:
    assert str(Problem("a.yaml", None, None, "файл пуст")) == "a.yaml: файл пуст"
    warning = Problem("a.yaml", 3, "x", "срок прошёл", severity="warning")
    assert str(warning) == "a.yaml:3: entry 'x': предупреждение: срок прошёл"
