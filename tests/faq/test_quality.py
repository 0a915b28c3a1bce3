"""The quality bar: eval on the dev question sets must meet the project targets.

Targets (docs/matching.md): correct answers ≥ 85 % of in-scope questions, answer-or-clarify
with the right entry ≥ 95 %, wrong answers ≤ 2 %, answers to off-topic questions ≤ 10 %.
The 85 % correct-answer target is not reached yet (see docs/matching.md, "What is left"):
it is a strict xfail, so the day it passes the test turns red and the marker must go.
"""

from __future__ import annotations

import pytest

from faq import Matcher, load_faq
from faq.evaluate import (
    TARGET_CORRECT,
    TARGET_COVERED,
    TARGET_OOS_ANSWERED,
    TARGET_WRONG,
    Report,
    evaluate,
)
from faq.questions import load_questions, resolve_faq_path

from .conftest import ROOT

DEV_SETS = ("payments_dev", "vaccination_dev")
# What the engine reaches today; a drop below this is a regression (docs/matching.md).
REGRESSION_FLOOR_CORRECT = 55.0


@pytest.fixture(scope="module", params=DEV_SETS)
def report(request: pytest.FixtureRequest) -> Report:
    path = ROOT / "tests" / "data" / f"{request.param}.yaml"
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    questions = load_questions(path)
    faq_path = resolve_faq_path(path, questions.faq)
    assert faq_path is not None
    return evaluate(Matcher(load_faq(faq_path)), questions.questions)


def test_wrong_answers(report: Report) -> None:
    assert report.metrics()["wrong"] <= TARGET_WRONG


def test_off_topic_questions_are_not_answered(report: Report) -> None:
    assert report.metrics()["oos_answered"] <= TARGET_OOS_ANSWERED


def test_right_entry_is_answered_or_offered(report: Report) -> None:
    assert report.metrics()["covered"] >= TARGET_COVERED


def test_greetings_and_noise_always_escalate(report: Report) -> None:
    for outcome in report.outcomes:
        if outcome.item.kind in {"greeting", "noise"}:
            assert outcome.result.decision == "escalate", outcome.item.q


def test_correct_answers_do_not_regress(report: Report) -> None:
    assert report.metrics()["correct"] >= REGRESSION_FLOOR_CORRECT


@pytest.mark.xfail(strict=True, reason="85 % correct answers is not reached yet")
def test_correct_answers_reach_the_target(report: Report) -> None:
    assert report.metrics()["correct"] >= TARGET_CORRECT
