"""Messages that are not FAQ questions: asking for a person in other words, "ок"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.smalltalk import SmallTalk, SmallTalkKind

ROOT = Path(__file__).resolve().parents[2]



@pytest.mark.parametrize(
    "text",
    [
        "позовите оператора",
        "хочу поговорить с живым человеком",
        "соедините со специалистом",
        "можно с живым человеком пообщаться",
        "дайте оператора пожалуйста",
        "переключите на сотрудника",
        "свяжите меня с оператором",
        "как связаться с оператором?",
        "мне нужна консультация специалиста",
        "с кем можно поговорить",
        "Переведите на живого человека!",
        "хотелось бы пообщаться с сотрудником",
    ],
)
def test_a_request_for_a_person_in_other_words_is_person(smalltalk: SmallTalk,
                                                         text: str) -> None:
    assert smalltalk.classify(text) is SmallTalkKind.PERSON


@pytest.mark.parametrize(
    "text",
    [
        "может ли человек без прописки получить пособие",
        "нужен ли специалист для оформления пособия",
        "можно ли человеку с инвалидностью сделать прививку",
        "сотрудник МФЦ сказал, что нужна справка о доходах",
        "хочу оформить пособие на ребёнка",
        "позовите",  # a request, but for nobody
        # long: a story that mentions an operator is a question
        "я хочу поговорить с оператором о том почему мне до сих пор не пришло пособие",
    ],
)
def test_a_question_that_mentions_a_person_stays_a_question(smalltalk: SmallTalk,
                                                            text: str) -> None:
    assert smalltalk.classify(text) is None


@pytest.mark.parametrize("text", ["ок", "Окей!", "понятно", "ясно", "хорошо", "понял, ладно"])
def test_understood_is_small_talk(smalltalk: SmallTalk, text: str) -> None:
    assert smalltalk.classify(text) is SmallTalkKind.ACKNOWLEDGE


@pytest.mark.parametrize("text", ["ок, спасибо", "понятно, спасибо большое"])
def test_understood_with_thanks_is_thanks(smalltalk: SmallTalk, text: str) -> None:
    assert smalltalk.classify(text) is SmallTalkKind.THANKS


def test_understood_then_a_question_is_a_question(smalltalk: SmallTalk) -> None:
    assert smalltalk.classify("понятно, а сколько платят на второго ребёнка?") is None
