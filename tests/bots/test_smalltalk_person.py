"""Asking for a person ("позовите оператора") is small talk of its own kind: PERSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.smalltalk import SmallTalk, SmallTalkKind

ROOT = Path(__file__).resolve().parents[2]



@pytest.mark.parametrize(
    "text",
    [
        "позовите оператора",
        "Хочу поговорить с человеком!",
        "оператор",
        "Соедините со специалистом, пожалуйста",
        "нужен человек",
    ],
)
def test_asking_for_a_person_is_person(smalltalk: SmallTalk, text: str) -> None:
    assert smalltalk.classify(text) is SmallTalkKind.PERSON


@pytest.mark.parametrize(
    "text",
    [
        "Здравствуйте, позовите оператора",
        "спасибо, позовите человека",
    ],
)
def test_request_for_a_person_wins_over_greeting_and_thanks(
    smalltalk: SmallTalk, text: str
) -> None:
    assert smalltalk.classify(text) is SmallTalkKind.PERSON


@pytest.mark.parametrize(
    "text",
    [
        "как получить пособие, оператор?",
        "оператор, когда придёт выплата на ребёнка",
        "где найти специалиста по прививкам",
    ],
)
def test_question_that_mentions_an_operator_is_a_real_question(
    smalltalk: SmallTalk, text: str
) -> None:
    assert smalltalk.classify(text) is None


def test_abuse_while_asking_for_a_person_is_abuse(smalltalk: SmallTalk) -> None:
    assert smalltalk.classify("позовите оператора, идиоты") is SmallTalkKind.ABUSE


def test_person_phrases_from_a_file_are_recognised(tmp_path: Path) -> None:
    path = tmp_path / "smalltalk.yaml"
    path.write_text("greetings: [привет]\nperson: [позовите оператора]\nfiller: []\n",
                    encoding="utf-8")

    assert SmallTalk.from_file(path).classify("позовите оператора") is SmallTalkKind.PERSON
