"""``python -m faq`` with the sentence encoder: the three scores, the cache, degradation."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from faq import load_faq
from faq.progress import ProgressLine
from faq.semantic import embedded_texts

from .conftest import DATA
from .test_cli import MINI, run

WARNING = "модель смысла не загрузилась"
PARAPHRASE = "освобождение от вакцинации по здоровью"  # no word of entry 'exemption' («медотвод»)


def rows(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_match_json_candidates_carry_lexical_and_semantic_scores() -> None:
    stdin = f"Сколько платят на детей от трёх до семи лет?\n{PARAPHRASE}\n".encode()
    result = run("match", "--faq", MINI, "--json", stdin=stdin)
    assert result.returncode == 0
    assert result.stderr == ""  # warm cache, encoder loaded: nothing to say
    exact, paraphrase = rows(result.stdout)
    assert (exact["decision"], exact["entry_id"]) == ("answer", "amount")
    candidates = paraphrase["candidates"]
    assert isinstance(candidates, list)
    assert candidates[0]["entry_id"] == "exemption"  # found by meaning
    assert paraphrase["decision"] != "escalate"
    for row in (exact, paraphrase):
        assert set(row) == {"question", "decision", "entry_id", "score", "candidates"}
        for candidate in row["candidates"]:  # type: ignore[attr-defined]
            assert set(candidate) == {"entry_id", "score", "lexical", "semantic"}
            assert 0 <= candidate["lexical"] <= 100
            assert 0 < candidate["semantic"] <= 1


def test_match_by_words_only_when_switched_off() -> None:
    result = run("match", "--faq", MINI, "--json", "--encoder", "off",
                 stdin="где сделать прививку\n".encode())
    assert result.returncode == 0
    assert result.stderr == ""  # the editor asked for it: no warning
    (row,) = rows(result.stdout)
    assert row["entry_id"] == "where-vaccinate"
    for candidate in row["candidates"]:  # type: ignore[attr-defined]
        assert set(candidate) == {"entry_id", "score"}


def test_match_table_shows_decision_and_three_scores() -> None:
    result = run("match", "--faq", MINI, stdin="где сделать прививку\nпривет\n".encode())
    header, answered, greeting = result.stdout.splitlines()
    assert header.split()[:4] == ["решение", "итог", "слова", "смысл"]
    assert re.match(r"ответ +\d+\.\d +\d+\.\d +0\.\d{3} +where-vaccinate ", answered)
    assert re.match(r"оператору +0\.0 +0\.0 +— +— ", greeting)
    off = run("match", "--faq", MINI, "--encoder", "off", stdin="где сделать прививку\n".encode())
    assert re.match(r"ответ +\d+\.\d +\d+\.\d +— +where-vaccinate ", off.stdout.splitlines()[1])


def test_ask_explains_lexical_semantic_and_combined() -> None:
    result = run("ask", "--faq", MINI, PARAPHRASE)
    assert result.returncode == 0
    first = next(line for line in result.stdout.splitlines() if "exemption" in line)
    assert "по словам" in first
    assert "по смыслу" in first
    assert "Оценка: смысл (multilingual-e5-small" in result.stdout


def test_encoder_that_cannot_load_warns_once_and_matches_by_words(tmp_path: Path) -> None:
    broken = {"FAQ_ENCODER_FAIL": "damaged model file"}
    stdin = "где сделать прививку\nкогда приходит выплата\n".encode()
    result = run("match", "--faq", MINI, "--json", stdin=stdin, env=broken)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"{WARNING} (encoder failure injected: damaged model file): сопоставление только по словам"
    ]
    answers = rows(result.stdout)
    assert [row["entry_id"] for row in answers] == ["where-vaccinate", "payment-date"]
    for row in answers:
        for candidate in row["candidates"]:  # type: ignore[attr-defined]
            assert "semantic" not in candidate
    lint = run("lint", MINI, str(DATA / "lint_problems.yaml"), env=broken)
    assert lint.stderr.count(WARNING) == 1  # one warning for the whole run, not per file
    assert f"{MINI}: замечаний нет" in lint.stdout


def test_cold_cache_shows_progress_and_warm_cache_is_silent(tmp_path: Path) -> None:
    cache = tmp_path / "embeddings"
    cold = run("match", "--faq", MINI, "--cache", str(cache), stdin=b"\xd0\xbc\xd1\x84\xd1\x86\n")
    assert cold.returncode == 0
    lines = cold.stderr.splitlines()
    assert lines
    total = len(set(embedded_texts(load_faq(MINI))))  # its distinct phrasings
    assert all(re.fullmatch(rf"векторы фраз FAQ {re.escape(MINI)}: \d+/{total}", x)
               for x in lines)
    assert lines[-1].endswith(f": {total}/{total}")
    assert len(list(cache.glob("*.npz"))) == 1
    warm = run("ask", "--faq", MINI, "--cache", str(cache), "мфц")
    assert warm.returncode == 0
    assert warm.stderr == ""


def test_cache_directory_from_the_environment(tmp_path: Path) -> None:
    result = run("lint", MINI, env={"FAQ_EMBEDDING_CACHE": str(tmp_path)})
    assert result.returncode == 0
    assert len(list(tmp_path.glob("*mini_faq*.npz"))) == 1


def test_eval_says_how_it_matched(tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(
        f"faq: {MINI}\nquestions:\n  - {{q: {PARAPHRASE}, expect: exemption, kind: paraphrase}}\n",
        encoding="utf-8",
    )
    hybrid = json.loads(run("eval", "--questions", str(questions), "--json").stdout)
    assert hybrid["encoder"].startswith("multilingual-e5-small")
    words = json.loads(run("eval", "--questions", str(questions), "--json", "--encoder", "off")
                       .stdout)
    assert words["encoder"] is None
    text = run("eval", "--questions", str(questions))
    assert "сопоставление по смыслу (multilingual-e5-small" in text.stdout.splitlines()[0]


def test_every_matching_command_takes_the_encoder_options() -> None:
    for command in ("match", "ask", "eval", "lint", "calibrate"):
        help_text = run(command, "--help").stdout
        assert "--encoder {e5,off}" in help_text
        assert "--cache DIR" in help_text
    assert run("match", "--faq", MINI, "--encoder", "bert").returncode == 2


def test_progress_is_shown_about_every_tenth() -> None:
    stream = io.StringIO()
    progress = ProgressLine("векторы фраз FAQ", stream)
    for done in [0, *range(32, 468, 32), 468]:
        progress(done, 468)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "векторы фраз FAQ: 0/468"
    assert lines[-1] == "векторы фраз FAQ: 468/468"
    assert 5 <= len(lines) <= 11
    progress(0, 12)  # the next file starts again from zero
    progress(12, 12)
    assert stream.getvalue().splitlines()[-2:] == ["векторы фраз FAQ: 0/12",
                                                   "векторы фраз FAQ: 12/12"]
