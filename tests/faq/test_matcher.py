"""Matcher decisions as a citizen would notice them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from faq import Candidate, FaqFile, Matcher, MatcherConfig, MatchResult
from faq.decision import decide

LONG_STORY = (
    "Здравствуйте! Пишу вам уже не в первый раз, до этого звонила на горячую линию, но там "
    "долго никто не отвечал, потом связь оборвалась. Ситуация у нас такая: муж работает "
    "вахтой, я сижу с младшим, старший ходит в садик, бабушка помогает как может. "
)


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Сколько платят на детей от трёх до семи лет?", "amount"),
        ("скока платят на ребенка 5 лет", "amount"),
        ("hfpvth dsgkfns", "amount"),  # «размер выплаты» typed on the QWERTY layout
        ("ГДЕ СДЕЛАТЬ ПРЕВИВКУ от ковида", "where-vaccinate"),
        ("когда приходят деньги", "payment-date"),
        ("как оформить выплату", "apply"),
        ("телефон пенсионного фонда", "pension-fund"),
        ("как получить медотвод", "exemption"),
        ("как получить qr код", "qr-code"),
    ],
)
def test_answers(mini_matcher: Matcher, question: str, entry_id: str) -> None:
    result = mini_matcher.match(question)
    assert result.decision == "answer"
    assert result.entry_id == entry_id
    assert result.candidates[0] == Candidate(entry_id, result.score)


@pytest.mark.parametrize(
    "question",
    [
        "как получить загранпаспорт",
        "где купить машину",
        "какая погода завтра",
        "как записаться к врачу",
        "привет",
        "Добрый день! Спасибо!",
        "😀😀😀",
        "asdfgh",
        "???",
        "",
        "   ",
    ],
)
def test_off_topic_greetings_and_noise_are_never_answered(
    mini_matcher: Matcher, question: str
) -> None:
    result = mini_matcher.match(question)
    assert result.decision in {"escalate", "clarify"}
    assert result.entry_id is None


@pytest.mark.parametrize("question", ["привет", "😀😀😀", "asdfgh", "", "какая погода завтра"])
def test_must_escalate(mini_matcher: Matcher, question: str) -> None:
    result = mini_matcher.match(question)
    assert result.decision == "escalate"
    assert len(result.candidates) <= 3


def test_a_vague_question_gets_a_clarification_with_two_or_three_options(
    mini_matcher: Matcher,
) -> None:
    result = mini_matcher.match("как получить")
    assert result.decision == "clarify"
    assert result.entry_id is None
    assert 2 <= len(result.candidates) <= 3
    assert {c.entry_id for c in result.candidates} >= {"exemption", "qr-code"}
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)


def test_other_decisions_list_the_best_three_for_information(mini_matcher: Matcher) -> None:
    result = mini_matcher.match("где сделать прививку")
    assert result.decision == "answer"
    assert len(result.candidates) == 3
    assert 0 <= result.candidates[-1].score <= result.candidates[0].score <= 100


def test_identical_questions_give_identical_results(mini_matcher: Matcher) -> None:
    first = mini_matcher.match("какая сумма ежемесячной выплаты")
    again = Matcher(mini_matcher.faq).match("какая сумма ежемесячной выплаты")
    assert (first.decision, first.entry_id, first.candidates) == (
        again.decision,
        again.entry_id,
        again.candidates,
    )


def test_long_message_is_not_diluted(mini_matcher: Matcher) -> None:
    short = mini_matcher.match("телефон пенсионного фонда")
    story = LONG_STORY * 8 + "Подскажите, пожалуйста, телефон пенсионного фонда?"
    assert len(story) > 2000
    long = mini_matcher.match(story)
    assert long.decision == "answer"
    assert long.entry_id == "pension-fund"
    assert long.score > 0.8 * short.score


def test_long_message_is_not_much_slower(mini_matcher: Matcher) -> None:
    story = LONG_STORY * 8 + "Подскажите, пожалуйста, телефон пенсионного фонда?"
    mini_matcher.match(story)  # warm the word caches, as a running bot would have them

    def best_of(question: str) -> float:
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            mini_matcher.match(question)
            timings.append(time.perf_counter() - start)
        return min(timings)

    assert best_of(story) < max(20 * best_of("телефон пенсионного фонда"), 0.01)


def test_a_ten_thousand_character_line_works(mini_matcher: Matcher) -> None:
    result = mini_matcher.match("где сделать прививку " * 500)
    assert result.decision in {"answer", "clarify"}


def test_match_is_thread_safe(mini_matcher: Matcher) -> None:
    questions = ["как оформить выплату", "где сделать прививку", "привет", "как получить"] * 25
    expected = [mini_matcher.match(q).as_dict() for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: mini_matcher.match(q).as_dict(), questions))
    assert got == expected


def test_explanation_tells_an_editor_why(mini_matcher: Matcher) -> None:
    result = mini_matcher.match("ghbdbdre ult cltkfnm")  # «прививку где сделать»
    text = result.explain()
    assert "Раскладка клавиатуры исправлена" in text
    assert "Нормализовано: прививка где сделать" in text
    assert "where-vaccinate" in text
    assert "Решение: ответить" in text
    assert result.explanation.top[0].matched_terms == ("прививка", "где", "сделать")


def test_config_changes_the_decision(mini_faq: FaqFile) -> None:
    strict = Matcher(
        mini_faq,
        config=MatcherConfig(answer_threshold=99.0, margin_weight=0.0, escalate_floor=10.0),
    )
    result = strict.match("как оформить выплату")
    assert result.decision == "clarify"


def _candidates(*scores: float) -> list[Candidate]:
    return [Candidate(f"e{number}", score) for number, score in enumerate(scores)]


def test_a_clear_lead_counts_towards_the_answer() -> None:
    config = MatcherConfig(answer_threshold=75.0, clarify_margin=6.0, margin_weight=0.75)
    # 60 + 0.75 × 40 = 90 ≥ 75: a modest score far ahead of the rest is answered
    assert decide(_candidates(60.0, 20.0), config).decision == "answer"
    # the same score with a close runner-up is not
    assert decide(_candidates(60.0, 50.0), config).decision == "clarify"
    # a high score with a lead below the clarify margin is a near-tie: clarify
    assert decide(_candidates(90.0, 86.0), config).decision == "clarify"
    # without the lead term, 60 is below the threshold
    plain = MatcherConfig(answer_threshold=75.0, clarify_margin=6.0, margin_weight=0.0)
    assert decide(_candidates(60.0, 20.0), plain).decision == "clarify"
    # below the floor nothing is answered, whatever the lead
    assert decide(_candidates(20.0, 0.0), config).decision == "escalate"


def test_confidence_is_score_plus_weighted_lead() -> None:
    config = MatcherConfig(margin_weight=0.5)
    assert config.confidence(70.0, 50.0) == 80.0
    assert config.max_confidence == 150.0


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="escalate_floor"):
        MatcherConfig(answer_threshold=30.0, escalate_floor=50.0)
    with pytest.raises(ValueError, match="max_options"):
        MatcherConfig(max_options=1)
    with pytest.raises(ValueError, match="margin_weight"):
        MatcherConfig(margin_weight=-0.5)
    with pytest.raises(ValueError, match="answer_threshold"):
        MatcherConfig(answer_threshold=120.0, margin_weight=0.0)


def test_construction_is_fast(mini_faq: FaqFile) -> None:
    start = time.perf_counter()
    Matcher(mini_faq)
    assert time.perf_counter() - start < 0.5


def test_result_as_json_dict(mini_matcher: Matcher) -> None:
    result: MatchResult = mini_matcher.match("как получить")
    data = result.as_dict()
    assert data["decision"] == "clarify"
    assert data["entry_id"] is None
    assert [c["entry_id"] for c in data["candidates"]] == [c.entry_id for c in result.candidates]
