"""``python -m faq`` end to end through a subprocess, including bad input."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.semantic import EMBEDDING_CACHE

from .conftest import DATA, run_faq

MINI = str(DATA / "mini_faq.yaml")


def run(*args: str, stdin: bytes = b"",
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m faq`` as an editor runs it (the sentence encoder on by default), with the
    shared test cache of phrasing vectors instead of ``data/embeddings``."""
    return run_faq(*args, stdin=stdin, env={
        **os.environ, "FAQ_EMBEDDING_CACHE": str(EMBEDDING_CACHE), **(env or {})})


def test_lint_clean_file() -> None:
    result = run("lint", MINI)
    assert result.returncode == 0
    assert "замечаний нет" in result.stdout


def test_lint_reports_one_line_per_finding_and_fails() -> None:
    result = run("lint", str(DATA / "lint_problems.yaml"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines
    for line in lines:
        assert line.startswith(f"{DATA / 'lint_problems.yaml'}:")
        assert ": entry '" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "файл пуст"),
        (b"entries:\n  - id: a\n    question: [\n", "ошибка синтаксиса YAML"),
        (b"entries:\n  - id: 5\n    question: 2\n    answer: true\n", "должно быть текстом"),
        (
            b"entries:\n  - {id: a, question: q, answer: b}\n"
            b"  - {id: a, question: w, answer: c}\n",
            "уже есть в строке 2",
        ),
    ],
)
def test_lint_broken_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "faq.yaml"
    path.write_bytes(content)
    result = run("lint", str(path))
    assert result.returncode == 1
    assert expected in result.stdout
    assert result.stdout.startswith(str(path))


def test_lint_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = run("lint", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "файл не найден" in result.stderr


def test_bad_usage() -> None:
    assert run().returncode == 2
    result = run("match")
    assert result.returncode == 2
    assert "--faq" in result.stderr
    assert run("frobnicate").returncode == 2


def test_match_json_one_object_per_line() -> None:
    questions = [
        "Сколько платят на детей от трёх до семи лет?",
        "",
        "как получить",
        "x" * 10_000,
        "где сделать прививку " * 500,
    ]
    stdin = ("\n".join(questions) + "\n").encode() + b"\xff\xfe \xd0 \xd0\xbf\xd1\x80\n"
    result = run("match", "--faq", MINI, "--json", stdin=stdin)
    assert result.returncode == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(questions) + 1
    for row in rows:
        assert set(row) == {"question", "decision", "entry_id", "score", "candidates"}
        assert 0 <= row["score"] <= 100
        assert (row["entry_id"] is not None) == (row["decision"] == "answer")
    assert rows[0]["decision"] == "answer"
    assert rows[0]["entry_id"] == "amount"
    assert rows[1] == {
        "question": "",
        "decision": "escalate",
        "entry_id": None,
        "score": 0.0,
        "candidates": [],
    }
    assert rows[2]["decision"] == "clarify"
    assert 2 <= len(rows[2]["candidates"]) <= 3
    assert rows[3]["question"] == "x" * 10_000
    assert "\ufffd" in rows[5]["question"]  # bad bytes decoded with replacement


def test_match_table() -> None:
    result = run("match", "--faq", MINI, stdin="где сделать прививку\nпривет\n".encode())
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[1].startswith("ответ")
    assert "where-vaccinate" in lines[1]
    assert lines[2].startswith("оператору")


def test_match_empty_input() -> None:
    result = run("match", "--faq", MINI, "--json")
    assert result.returncode == 0
    assert result.stdout == ""


def test_match_handles_ten_thousand_questions() -> None:
    stdin = ("как оформить выплату на ребёнка\nгде сделать прививку\n" * 5_000).encode()
    result = run("match", "--faq", MINI, "--json", stdin=stdin)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 10_000


def test_match_with_broken_or_missing_faq(tmp_path: Path) -> None:
    broken = tmp_path / "faq.yaml"
    broken.write_text("entries: [", encoding="utf-8")
    result = run("match", "--faq", str(broken), stdin="вопрос\n".encode())
    assert result.returncode == 2
    assert str(broken) in result.stderr
    result = run("match", "--faq", str(tmp_path / "nope.yaml"), stdin="вопрос\n".encode())
    assert result.returncode == 2
    assert "файл не найден" in result.stderr


def test_ask_explains() -> None:
    result = run("ask", "--faq", MINI, "ghbdbdre ult cltkfnm")
    assert result.returncode == 0
    assert "Раскладка клавиатуры исправлена" in result.stdout
    assert "Решение: ответить" in result.stdout
    assert "В поликлинике по месту жительства." in result.stdout


def test_eval_report_and_json(tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        f"faq: {MINI}\n"
        "questions:\n"
        "  - {q: скока платят на ребенка 5 лет, expect: amount, kind: slang}\n"
        "  - {q: где сделать прививку, expect: where-vaccinate, kind: paraphrase}\n"
        "  - {q: как получить, expect: qr-code, kind: paraphrase}\n"
        "  - {q: привет, expect: none, kind: greeting}\n"
        "  - {q: какая погода завтра, expect: none, kind: oos_hard}\n",
        encoding="utf-8",
    )
    text = run("eval", "--questions", str(questions))
    assert text.returncode == 0
    assert "верный ответ:" in text.stdout
    assert "Промахи (1)" in text.stdout
    report = json.loads(run("eval", "--questions", str(questions), "--json").stdout)
    assert report["in_scope"] == 3
    assert report["out_of_scope"] == 2
    assert report["metrics"]["correct"] == pytest.approx(66.67, abs=0.01)
    assert report["metrics"]["covered"] == 100.0
    assert report["metrics"]["oos_answered"] == 0.0
    assert [m["question"] for m in report["misses"]] == ["как получить"]
    failing = run("eval", "--questions", str(questions), "--fail-under")
    assert failing.returncode == 1
    assert "цель не достигнута: верных ответов 66.7% <" in failing.stderr


def test_eval_unknown_expected_entry(tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        f"faq: {MINI}\nquestions:\n  - {{q: вопрос, expect: nope}}\n", encoding="utf-8"
    )
    result = run("eval", "--questions", str(questions))
    assert result.returncode == 2
    assert "ждёт запись 'nope', её нет в FAQ" in result.stderr


def test_eval_missing_questions_file(tmp_path: Path) -> None:
    result = run("eval", "--faq", MINI, "--questions", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "файл не найден" in result.stderr
