"""``python -m faq candidates``: operators' answers saved «В FAQ», printed as FAQ entries."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.candidates import CandidateStore
from faq import FaqFile, Matcher, load_faq
from faq.candidates import Candidate, format_candidates, read_candidates
from faq.loader import parse_faq

from .conftest import ROOT, run_faq

PAYMENTS_FAQ = ROOT / "bots" / "payments" / "faq.yaml"
AT = datetime(2025, 3, 10, 12, 30, tzinfo=UTC)
MULTILINE = (
    "Компенсацию за путёвку назначает соцзащита.\n"
    "\n"
    "Что нужно:\n"
    "1. заявление на Госуслугах;\n"
    "2. справка из лагеря: «путёвка оплачена»."
)
# A question nobody put in the payments FAQ, and one of its own questions.
NEW_QUESTION = "Положена ли компенсация за путёвку в детский лагерь?"
UNIQUE = Candidate(7, NEW_QUESTION, MULTILINE, "Ольга", AT.isoformat())


@pytest.fixture(scope="module")
def payments_faq() -> FaqFile:
    return load_faq(PAYMENTS_FAQ)


@pytest.fixture(scope="module")
def payments_matcher(payments_faq: FaqFile) -> Matcher:
    return Matcher(payments_faq)


def known_entry(faq: FaqFile) -> tuple[str, str]:
    entry = faq.entries[0]
    return entry.id, entry.question


def save(store: CandidateStore, ticket: int, question: str, answer: str = "Ответ.") -> None:
    store.add("payments", ticket=ticket, question=question, answer=answer, operator="Иван",
              at=AT)


def entries_of(output: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(output)
    assert isinstance(data, list), output
    return data


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_faq("candidates", *args, cwd=cwd)


# --- reading -------------------------------------------------------------------------------------


def test_read_candidates_written_by_the_bot(tmp_path: Path) -> None:
    store = CandidateStore(tmp_path)
    store.add("payments", ticket=7, question=NEW_QUESTION, answer=MULTILINE, operator="Ольга",
              at=AT)
    save(store, 8, "Второй вопрос")

    candidates, problems = read_candidates(store.path("payments"))

    assert problems == []
    assert candidates == [
        UNIQUE,
        Candidate(8, "Второй вопрос", "Ответ.", "Иван", AT.isoformat()),
    ]


def test_broken_lines_are_skipped_with_their_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "payments.jsonl"
    good = {"ticket": 1, "question": "Вопрос", "answer": "Ответ", "operator": "Иван", "at": ""}
    lines = [
        json.dumps(good, ensure_ascii=False),
        '{"ticket": 2, "question": "оборвано на пол',  # 2: cut off by a crash
        "",  # 3: blank lines are not problems
        json.dumps({"ticket": 3, "answer": "без вопроса"}, ensure_ascii=False),  # 4
        json.dumps({"ticket": "три", "question": "q", "answer": "a"}, ensure_ascii=False),  # 5
        "[1, 2, 3]",  # 6
        json.dumps(good | {"ticket": 9}, ensure_ascii=False),  # 7
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    candidates, problems = read_candidates(path)

    assert [c.ticket for c in candidates] == [1, 9]
    assert [p.split(": ")[0] for p in problems] == [f"{path}:{n}" for n in (2, 4, 5, 6)]


def test_missing_file_has_no_candidates_and_no_problems(tmp_path: Path) -> None:
    assert read_candidates(tmp_path / "payments.jsonl") == ([], [])


# --- formatting ----------------------------------------------------------------------------------


def test_output_is_yaml_entries_with_the_answer_kept_line_by_line() -> None:
    answer = "Заявление приняли:  \n- проверка идёт 10 дней\n# это не комментарий\n"
    second = Candidate(12, '  Что значит "статус: принято"?  ', answer, "", "")

    output = format_candidates("payments", [UNIQUE, second])

    assert entries_of(output) == [
        {"id": "candidate-7", "question": NEW_QUESTION, "answer": MULTILINE + "\n"},
        {
            "id": "candidate-12",
            "question": 'Что значит "статус: принято"?',
            "answer": "Заявление приняли:  \n- проверка идёт 10 дней\n# это не комментарий\n",
        },
    ]
    assert output.startswith("# Кандидаты в FAQ бота payments: 2.")
    assert "# обращение № 7, ответ: Ольга, 2025-03-10" in output
    assert "# обращение № 12, ответ: —" in output


def test_output_pastes_under_entries_of_an_faq_file() -> None:
    output = format_candidates("payments", [UNIQUE])

    faq = parse_faq("title: Выплаты\nentries:\n" + output)

    assert [(e.id, e.question, e.answer.rstrip("\n")) for e in faq.entries] == [
        ("candidate-7", NEW_QUESTION, MULTILINE)
    ]


def test_candidate_the_faq_already_answers_is_flagged(
    payments_faq: FaqFile, payments_matcher: Matcher
) -> None:
    entry_id, question = known_entry(payments_faq)
    known = Candidate(3, question, "Своими словами.", "Иван", AT.isoformat())

    output = format_candidates("payments", [known, UNIQUE], payments_matcher)

    flag = f"# FAQ уже отвечает на этот вопрос записью '{entry_id}'"
    before_known, _, rest = output.partition("- id: candidate-3")
    assert flag in before_known
    assert "FAQ уже отвечает" not in rest  # the new question is not flagged
    assert [e["id"] for e in entries_of(output)] == ["candidate-3", "candidate-7"]


def test_no_candidates_is_just_the_header() -> None:
    output = format_candidates("payments", [])

    assert output.startswith("# Кандидаты в FAQ бота payments: 0.")
    assert yaml.safe_load(output) is None


# --- the command ---------------------------------------------------------------------------------


def test_cli_prints_the_candidates_and_flags_known_questions(
    tmp_path: Path, payments_faq: FaqFile
) -> None:
    entry_id, question = known_entry(payments_faq)
    store = CandidateStore(tmp_path)
    store.add("payments", ticket=7, question=NEW_QUESTION, answer=MULTILINE, operator="Ольга",
              at=AT)
    save(store, 8, question)
    save(store, 9, "Вакцинация", "не этот бот")
    store.add("vaccination", ticket=10, question="Где сделать прививку?", answer="В поликлинике.",
              operator="Иван", at=AT)
    with store.path("payments").open("a", encoding="utf-8") as file:
        file.write("{broken\n")

    result = run_cli("--bot", "payments", "--dir", str(tmp_path), "--faq", str(PAYMENTS_FAQ))

    assert result.returncode == 0
    assert result.stdout.startswith("# Кандидаты в FAQ бота payments: 3.")
    assert [e["id"] for e in entries_of(result.stdout)] == [
        "candidate-7", "candidate-8", "candidate-9"
    ]
    assert entries_of(result.stdout)[0]["answer"] == MULTILINE + "\n"
    assert f"записью '{entry_id}'" in result.stdout
    assert result.stderr.strip() == f"{store.path('payments')}:4: строка повреждена и пропущена"


@pytest.mark.parametrize("make_dir", [True, False], ids=["empty-dir", "missing-dir"])
def test_cli_without_candidates_prints_a_zero_header(tmp_path: Path, make_dir: bool) -> None:
    directory = tmp_path / "faq-candidates"
    if make_dir:
        directory.mkdir()

    result = run_cli("--bot", "payments", "--dir", str(directory), "--faq", str(PAYMENTS_FAQ))

    assert result.returncode == 0
    assert result.stdout.startswith("# Кандидаты в FAQ бота payments: 0.")
    assert yaml.safe_load(result.stdout) is None
    assert result.stderr == ""
    assert not directory.exists() or list(directory.iterdir()) == []
