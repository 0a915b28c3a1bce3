"""YAML anchors and aliases are refused before anything is expanded (issue 11, item 3): a
363-byte file of nested aliases (a "billion laughs") used to grow ``python -m faq lint`` and a
bot's hot reload to gigabytes. FAQ files, question sets and the bots' other YAML files all
report it as ``file:line: message`` in Russian."""

from __future__ import annotations

import itertools
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import faq.yaml_source
from bots.yaml_files import read_mapping
from faq import load_faq
from faq.problems import FaqError
from faq.questions import load_questions
from faq.yaml_source import parse_yaml

from .conftest import DATA, ROOT

LEVELS = "abcdefghi"
REFUSED = "ссылки YAML (& и *) не поддерживаются"


def bomb(levels: int = 9, top: str = "entries") -> str:
    """``a: &a [x × 9]``, ``b: &b [*a × 9]``, …: 9**levels strings once expanded, ~360 bytes."""
    lines = [f"{top}:", "  - &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in itertools.pairwise(LEVELS[:levels]):
        lines.append(f"  - &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


class _NeverCompose:
    """Stands in for the YAML loader: reaching it means the aliases were about to be
    composed and walked, i.e. expanded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the document was composed despite its aliases")


@pytest.fixture
def no_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faq.yaml_source, "_Loader", _NeverCompose)
    monkeypatch.setattr(yaml, "safe_load", _NeverCompose)


def assert_refused_per_line(problems: list[str], file: str, lines: range) -> None:
    assert len(problems) == len(lines)
    for text, line in zip(problems, lines, strict=True):
        assert text.startswith(f"{file}:{line}: "), text
        assert REFUSED in text


@pytest.mark.usefixtures("no_composing")
def test_an_alias_bomb_is_refused_before_anything_is_composed(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(bomb(), encoding="utf-8")
    assert path.stat().st_size < 400
    with pytest.raises(FaqError) as caught:
        load_faq(path)
    # one finding per line holding an anchor or alias: lines 2..10, the first names '&a'
    assert_refused_per_line([str(p) for p in caught.value.problems], str(path), range(2, 11))
    assert "якорь '&a'" in str(caught.value.problems[0])


def test_a_single_anchor_and_alias_name_their_lines() -> None:
    text = ("title: &t Выплаты\nentries:\n  - id: a\n    question: *t\n"
            "    answer: ответ\n")
    with pytest.raises(FaqError) as caught:
        parse_yaml(text, "faq.yaml")
    assert [str(p) for p in caught.value.problems] == [
        f"faq.yaml:1: якорь '&t' не допускается: {REFUSED}: напишите текст полностью или "
        "возьмите его в кавычки",
        f"faq.yaml:4: ссылка '*t' не допускается: {REFUSED}: напишите текст полностью или "
        "возьмите его в кавычки",
    ]


def test_a_merge_key_is_an_alias_too() -> None:
    text = "base: &base {answer: x}\nentries:\n  - <<: *base\n    id: a\n"
    with pytest.raises(FaqError) as caught:
        parse_yaml(text, "faq.yaml")
    assert [p.line for p in caught.value.problems] == [1, 3]


@pytest.mark.parametrize("text", [
    "entries:\n  - id: a\n    question: 'звёздочка * и амперсанд & в тексте'\n",
    "entries:\n  - id: a\n    question: Ставка 5 * 2 & прочее\n",
])
def test_stars_and_ampersands_in_text_are_still_text(text: str) -> None:
    assert parse_yaml(text, "faq.yaml").data["entries"][0]["question"].count("&") == 1


@pytest.mark.usefixtures("no_composing")
def test_a_question_set_with_aliases_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(bomb(4, top="questions"), encoding="utf-8")
    with pytest.raises(FaqError) as caught:
        load_questions(path)
    assert_refused_per_line([str(p) for p in caught.value.problems], str(path), range(2, 6))


class SettingsError(Exception):
    pass


@pytest.mark.usefixtures("no_composing")
def test_the_bots_other_yaml_files_refuse_aliases(tmp_path: Path) -> None:
    path = tmp_path / "texts.yaml"
    path.write_text(bomb(top="greeting"), encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        read_mapping(path, SettingsError)
    assert_refused_per_line(str(caught.value).split("; "), str(path), range(2, 11))


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    one_gib = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (one_gib, one_gib))


def test_lint_refuses_an_alias_bomb_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(bomb(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "faq", "lint", "--encoder", "off", str(path),
         str(DATA / "mini_faq.yaml")],
        capture_output=True, cwd=ROOT, env={**os.environ}, timeout=120, check=False,
        preexec_fn=_limit_memory,  # the child may take 1 GiB, not 9
    )
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert "Traceback" not in stderr
    assert "MemoryError" not in stderr
    # like a syntax error: the file was read, its content is refused (exit 1), the next
    # file is still checked
    assert result.returncode == 1
    lines = stdout.splitlines()
    assert_refused_per_line(lines[:-1], str(path), range(2, 11))
    assert lines[-1] == f"{DATA / 'mini_faq.yaml'}: замечаний нет"
