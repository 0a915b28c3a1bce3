"""Editors' workbench: placeholders, contacts, misspelt categories, hints on the right line,
and the exact-wording rule (docs/editors.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq import Matcher, load_faq
from faq.contacts import load_faq_with_contacts
from faq.lint import lint_path

from .conftest import DATA

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [ROOT / "bots/payments/faq.yaml", ROOT / "bots/vaccination/faq.yaml",
           ROOT / "bots/elsewhere.yaml"]
EDITORS = DATA / "editors"
OTHER = ("  - id: other\n    question: Где сделать прививку от гриппа?\n"
         "    answer: В поликлинике.\n")


def _faq(tmp_path: Path, entries: str, contacts: str | None = None) -> Path:
    folder = tmp_path / "bot"
    folder.mkdir()
    (folder / "faq.yaml").write_text(f"entries:\n{entries}{OTHER}", encoding="utf-8")
    if contacts is not None:
        (folder / "contacts.yaml").write_text(contacts, encoding="utf-8")
    return folder / "faq.yaml"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name if p.parent.name == "bots"
                         else p.parent.name)
def test_shipped_faqs_lint_clean(path: Path) -> None:
    assert [str(p) for p in lint_path(path, env={})] == []


@pytest.mark.parametrize("answer", ["Звоните 8-800-000-00-00 [ПЛЕЙСХОЛДЕР].",
                                    "Телефон: 000-00-00", "TODO: дописать ответ",
                                    "Пишите на info@example.ru"])
def test_placeholders_are_errors(tmp_path: Path, answer: str) -> None:
    path = _faq(tmp_path, f"  - id: phone\n    question: Телефон соцфонда?\n"
                          f'    answer: "{answer}"\n')
    (problem,) = [p for p in lint_path(path, env={}) if "заглушка" in p.message]
    assert (problem.entry_id, problem.line, problem.severity) == ("phone", 4, "error")


def test_contacts_are_substituted_and_overridable(tmp_path: Path) -> None:
    path = _faq(tmp_path, "  - id: phone\n    question: Телефон соцфонда?\n"
                          "    answer: Звоните {hotline}.\n", 'hotline: "8-800-100-00-01"\n')
    assert lint_path(path, env={}) == []
    assert load_faq_with_contacts(path, env={}).entry("phone").answer == "Звоните 8-800-100-00-01."
    overridden = load_faq_with_contacts(path, env={"BOT_CONTACT_HOTLINE": "122"})
    assert overridden.entry("phone").answer == "Звоните 122."


def test_unknown_contact_and_placeholder_value_are_errors(tmp_path: Path) -> None:
    path = _faq(tmp_path, "  - id: phone\n    question: Телефон соцфонда?\n"
                          "    answer: Звоните {hotlne}.\n", 'hotline: "8-800-000-00-00"\n')
    messages = {(p.line, p.severity): p.message for p in lint_path(path, env={})}
    assert "поле {hotlne}" in messages[(4, "error")]
    assert "{hotline}" in messages[(4, "error")]  # the known ones are listed
    assert "контакт 'hotline' — заглушка" in messages[(1, "error")]


def test_category_used_once_and_close_to_another_is_flagged(tmp_path: Path) -> None:
    entries = "".join(
        f"  - id: e{n}\n    category: {category}\n    question: {question}\n    answer: Ответ.\n"
        for n, (category, question) in enumerate([
            ("Размер выплат", "Сколько платят на ребёнка до трёх лет?"),
            ("Размер выплат", "Какой размер пособия по беременности?"),
            ("Размер выплаты", "Сколько дают при рождении ребёнка?"),
        ]))
    (problem,) = lint_path(_faq(tmp_path, entries), env={})
    assert (problem.entry_id, problem.line, problem.severity) == ("e2", 11, "warning")
    assert "похожа на «Размер выплат»" in problem.message


@pytest.mark.parametrize(("name", "line", "words"), [
    ("over.yaml", 6, "сдвинута правее"),         # answer line indented more than the others
    ("under.yaml", 6, "сдвиньте её вправо"),     # answer line not indented enough
    ("under2.yaml", 5, "сдвиньте её вправо"),    # plain answer continued without indent
    ("over3.yaml", 10, "ключ сдвинут правее"),   # key indented more than its neighbours
    ("empty.yaml", 4, "напишите текст"),         # empty answer: no "or delete the key"
])
def test_hints_point_at_the_line_to_fix(name: str, line: int, words: str) -> None:
    (problem,) = lint_path(EDITORS / name, env={})
    assert problem.line == line
    assert words in problem.message
    assert "удалите ключ" not in problem.message


VAGUE = ("  - {id: vague, question: Как получить?, answer: Ответ.}\n"
         "  - {id: passport, question: Как получить паспорт гражданина?, answer: В МФЦ.}\n"
         "  - {id: snils, question: Как получить СНИЛС ребёнку?, answer: В СФР.}\n")


def test_exact_wording_of_a_phrasing_is_answered_by_its_entry(tmp_path: Path) -> None:
    matcher = Matcher(load_faq(_faq(tmp_path, VAGUE)))
    assert matcher.match("Как получить?", exact=False).decision != "answer"  # by scores
    result = matcher.match("как получить")
    assert (result.decision, result.entry_id) == ("answer", "vague")


@pytest.mark.parametrize("path", SHIPPED[:2], ids=lambda p: p.parent.name)
def test_every_phrasing_of_the_shipped_faqs_is_answered_by_its_entry(path: Path) -> None:
    matcher = Matcher(load_faq_with_contacts(path, env={}))  # words only: the strictest
    wrong = [(entry.id, text, matcher.match(text).entry_id)
             for entry in matcher.faq.entries for text in entry.phrasings
             if matcher.match(text).entry_id != entry.id]
    assert wrong == []
