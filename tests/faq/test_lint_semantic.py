"""``lint`` with the sentence encoder: entries whose phrasings mean nearly the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq import Problem, load_faq
from faq.embeddings import cache_file
from faq.encoder import HashingEncoder
from faq.lint import lint_faq, lint_path
from faq.semantic import SemanticIndex
from tests.semantic import EMBEDDING_CACHE, real_encoder

from .conftest import ROOT

SIMILAR = "по смыслу почти совпадает"

REFUSALS = """\
entries:
  - id: refusal-reasons
    question: Почему отказали в едином пособии?
    alternatives:
      - за что могут отказать в пособии
    answer: Причина указана в уведомлении об отказе.
  - id: refusal-why
    question: Какие бывают причины отказа в едином пособии?
    alternatives:
      - По какой причине мне отказали в едином пособии?
    answer: Чаще всего из-за доходов или имущества.
  - id: mfc-hours
    question: Какой график работы МФЦ?
    answer: С 8:00 до 20:00.
  - id: where-vaccinate
    question: Где сделать прививку от ковида?
    answer: В поликлинике по месту жительства.
"""


def similar(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if SIMILAR in p.message]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faq.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_entries_asked_the_same_way_in_other_words_are_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, REFUSALS)
    (problem,) = similar(lint_path(path, encoder=real_encoder().encoder))
    assert (problem.entry_id, problem.line, problem.severity) == ("refusal-reasons", 3, "warning")
    assert f"с записью 'refusal-why' ({path}:10)" in problem.message
    assert ("«Почему отказали в едином пособии?» и «По какой причине мне отказали в едином "
            "пособии?»") in problem.message
    assert str(problem).startswith(f"{path}:3: entry 'refusal-reasons': предупреждение: ")
    # the words alone do not tell the editor: without the encoder the file is clean
    assert lint_path(path) == []


def test_one_warning_per_pair_of_entries_naming_the_closest_phrasings(tmp_path: Path) -> None:
    faq = load_faq(write(tmp_path, REFUSALS))
    index = SemanticIndex.build(faq, real_encoder().encoder)
    assert len([p for p in index.similar_pairs(0.96) if {p[0], p[2]} == {0, 1}]) >= 2
    (problem,) = similar(lint_faq(faq, semantic=index, similar=0.96))
    assert "«Почему отказали в едином пособии?»" in problem.message


@pytest.mark.parametrize(
    "path",
    [*sorted(ROOT.glob("bots/*/faq.yaml")), ROOT / "tests/data/heldout_faq/faq.yaml"],
    ids=lambda path: path.parent.name,
)
def test_shipped_faqs_have_no_confusable_entries(path: Path) -> None:
    encoder = real_encoder().encoder
    cache = cache_file(EMBEDDING_CACHE, path, encoder.model_id)
    assert similar(lint_path(path, encoder=encoder, cache=cache)) == []


def test_plumbing_with_the_hashing_encoder(tmp_path: Path) -> None:
    path = write(tmp_path, """\
entries:
  - id: cert-term
    question: Сколько действует сертификат о вакцинации?
    answer: Год.
  - id: mfc-hours
    question: Какой график работы МФЦ?
    answer: С 8:00 до 20:00.
  - id: cert-how-long
    question: Как долго действует сертификат о вакцинации?
    answer: Двенадцать месяцев.
""")
    faq = load_faq(path)
    index = SemanticIndex.build(faq, HashingEncoder())
    (problem,) = similar(lint_faq(faq, semantic=index, similar=0.6))
    assert (problem.entry_id, problem.line) == ("cert-term", 3)
    assert f"'cert-how-long' ({path}:9)" in problem.message
    assert similar(lint_faq(faq, semantic=index, similar=0.999)) == []


def test_entries_the_words_already_cannot_tell_apart_get_no_second_finding(
        tmp_path: Path) -> None:
    path = write(tmp_path, """\
entries:
  - {id: twin-a, question: Как получить справку о доходах для пособия?, answer: В МФЦ.}
  - {id: twin-b, question: Как получить справку о доходах для пособия?, answer: В СФР.}
  - {id: mfc-hours, question: Какой график работы МФЦ?, answer: С 8 до 20.}
""")
    problems = lint_path(path, encoder=HashingEncoder())
    assert {p.entry_id for p in problems if "не различить" in p.message} == {"twin-a", "twin-b"}
    assert similar(problems) == []
