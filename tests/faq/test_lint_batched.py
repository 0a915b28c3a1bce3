"""The rankings of a big FAQ's lint are shared among forked processes: the findings must be
exactly those of one process, phrasing by phrasing."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from faq import load_faq
from faq.lint import lint_path

from .conftest import ROOT

SOURCES = (ROOT / "bots" / "payments" / "faq.yaml", ROOT / "bots" / "vaccination" / "faq.yaml")
TODAY = dt.date(2026, 6, 1)


def _mutate(text: str, vocabulary: list[str], rng: random.Random, changes: int) -> str:
    words = text.rstrip("?").split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
    return " ".join(words) + "?"


def _generated_faq(directory: Path, size: int = 300) -> Path:
    """Entries copied from the shipped FAQs with a word or two swapped: several copies of one
    entry are near-duplicates, so the lint has confusions to report."""
    rng = random.Random(12)
    entries = [entry for source in SOURCES for entry in load_faq(source).entries]
    vocabulary = sorted({w for e in entries for p in e.phrasings for w in p.split() if len(w) > 3})
    generated = []
    for number in range(size):
        base = rng.choice(entries)
        generated.append({
            "id": f"e{number:04d}",
            "question": _mutate(base.question, vocabulary, rng, rng.randint(1, 2)),
            "alternatives": [_mutate(text, vocabulary, rng, 1) for text in base.alternatives[:3]],
            "answer": "Ответ на этот вопрос.",
        })
    path = directory / "generated.yaml"
    faq = {"title": "Сгенерированный FAQ", "entries": generated}
    path.write_text(yaml.safe_dump(faq, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_forked_rankings_give_the_same_findings(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = _generated_faq(tmp_path)
    contexts: list[str | None] = []
    real_context: Callable[..., Any] = multiprocessing.get_context

    def spy(method: str | None = None) -> Any:
        contexts.append(method)
        return real_context(method)

    monkeypatch.setattr(multiprocessing, "get_context", spy)
    alone = lint_path(path, today=TODAY, workers=1)
    assert contexts == []
    shared = lint_path(path, today=TODAY, workers=2)
    assert contexts == ["fork"]  # the rankings really went to forked workers
    assert shared == alone
    messages = [problem.message for problem in alone]
    assert any("ближе к записи" in message for message in messages)
    assert any("не различить" in message for message in messages)
