"""Threshold calibration picks settings from data, with a safety margin."""

from __future__ import annotations

from faq import MatcherConfig
from faq.calibrate import Sample, search


def sample(expect: str | None, s1: float, s2: float, top: str, *, offered: bool = True) -> Sample:
    return Sample(
        expect=expect,
        s1=s1,
        s2=s2,
        top=top,
        in_options=offered and expect is not None,
        has_rival=True,
    )


def test_threshold_separates_wrong_and_off_topic_from_right_answers() -> None:
    right = [sample("a", 70 + i % 20, 40, "a") for i in range(80)]
    wrong = [sample("a", 50, 45, "b"), sample("a", 52, 40, "b")]
    off_topic = [sample(None, 30 + i, 20, "a") for i in range(25)]
    choice = search([("dev", right + wrong + off_topic)], MatcherConfig())
    config = choice.config
    assert choice.tier == 0
    assert 55 <= config.answer_threshold <= 70  # above every wrong or off-topic score (+2)
    (stats,) = choice.stats
    assert stats.correct == 100 * 80 / 82
    assert stats.wrong == 0
    assert stats.oos_answered == 0
    assert config.escalate_floor <= config.answer_threshold


def test_near_ties_are_clarified() -> None:
    right = [sample("a", 90, 89, "a") for _ in range(10)] + [
        sample("a", 90, 50, "a") for _ in range(90)
    ]
    wrong = [sample("a", 90, 88, "b") for _ in range(5)]
    choice = search([("dev", right + wrong)], MatcherConfig())
    assert choice.config.clarify_margin >= 3
    assert choice.stats[0].wrong == 0


def test_confidently_wrong_data_means_never_answering() -> None:
    hopeless = [sample("a", 90, 10, "b") for _ in range(10)]
    choice = search([("dev", hopeless)], MatcherConfig())
    assert choice.config.answer_threshold > 90
    assert choice.stats[0].correct == 0


def test_unreachable_limits_are_reported() -> None:
    hopeless = [sample("a", 100, 10, "b") for _ in range(10)]
    choice = search([("dev", hopeless)], MatcherConfig(answer_threshold=70.0))
    assert choice.tier is None
    assert choice.config.answer_threshold == 70.0


def test_a_lead_weight_is_chosen_when_the_lead_separates_right_from_off_topic() -> None:
    # right answers: high scores with a small lead, or modest scores far ahead of the
    # runner-up; off-topic questions: in between on both. Neither a threshold on s1 nor a
    # margin alone separates them; the score plus the weighted lead does.
    high = [sample("a", 85 + i % 10, 77 + i % 10, "a") for i in range(40)]
    far_ahead = [sample("a", 55 + i % 10, 15 + i % 10, "a") for i in range(40)]
    right = high + far_ahead
    off_topic = [sample(None, 66 + i % 5, 56 + i % 5, "a") for i in range(30)]
    choice = search([("dev", right + off_topic)], MatcherConfig())
    assert choice.tier == 0
    assert choice.config.margin_weight > 0
    (stats,) = choice.stats
    assert stats.correct == 100.0
    assert stats.oos_answered == 0.0
    plain = search([("dev", right + off_topic)], MatcherConfig(), margin_weights=(0.0,))
    assert plain.stats[0].correct < 100.0
