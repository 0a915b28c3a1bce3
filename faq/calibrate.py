"""Choose the decision thresholds from labelled questions instead of guessing them.

Procedure (docs/matching.md): rank every labelled question once per question set, then
search a grid of (answer_threshold, clarify_margin) and, for each, the escalate floor:

1. A setting is *safe* when, on EVERY question set, wrong answers ≤ 1.5 % of in-scope
   questions and answers to off-topic questions ≤ 5 % — and the same holds for the
   neighbouring, more permissive setting (threshold − 2, margin − 1), so that new questions
   slightly off the dev ones do not tip it over. When nothing is safe, the project limits
   (2 % and 10 %) are used instead, still with the neighbour rule.
2. The floor is the highest one that keeps answer-or-clarify-with-the-right-entry ≥ 96 % on
   every set (if that is unreachable: within 1 point of the best reachable coverage).
3. Among safe settings: maximise the mean share of correct answers averaged over the
   setting and its neighbours (threshold ± 2, margin ± 2: the middle of a good region beats
   its edge), then answer-or-clarify coverage, then the share of off-topic questions sent to
   an operator; remaining ties go to the lower threshold and margin.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from faq.config import MatcherConfig
from faq.decision import decide
from faq.loader import load_faq
from faq.matcher import Matcher
from faq.questions import load_questions, resolve_faq_path
from faq.results import Candidate

TIERS = ((1.5, 5.0), (2.0, 10.0))  # (max wrong %, max off-topic answered %)
MIN_COVERED = 96.0
COVER_SLACK = 1.0  # coverage points we may give up to send more off-topic questions onward
NEIGHBOUR = (2.0, 1.0)  # (threshold, margin) steps that must stay safe as well
SMOOTH = (2.0, 2.0)  # (threshold, margin) steps averaged when ranking settings

THRESHOLDS = [float(value) for value in range(30, 96)]
MARGINS = [float(value) for value in range(3, 26)]  # ≥ 3: near-ties are always clarified
FLOORS = [float(value) for value in range(10, 96)]


@dataclass(frozen=True, slots=True)
class Sample:
    expect: str | None
    s1: float
    s2: float
    top: str | None
    in_options: bool  # the expected entry is among the clarify buttons
    has_rival: bool


@dataclass(frozen=True, slots=True)
class SetStats:
    name: str
    correct: float
    covered: float
    wrong: float
    oos_answered: float
    oos_escalated: float


@dataclass(frozen=True, slots=True)
class Choice:
    config: MatcherConfig
    stats: tuple[SetStats, ...]
    tier: int | None  # index into TIERS that was met; None = no setting met the limits

    @property
    def mean_correct(self) -> float:
        return statistics.fmean(s.correct for s in self.stats)


def samples(matcher: Matcher, items: Sequence[tuple[str, str | None]]) -> list[Sample]:
    """Rank each question once; decisions for any thresholds follow from these numbers."""
    out = []
    for question, expect in items:
        ranked = matcher.rank(question)
        ids = matcher.index.entry_ids
        candidates = [Candidate(ids[item.entry], item.score) for item in ranked]
        # Options shown for a clarification do not depend on the thresholds below.
        probe = dataclasses.replace(
            matcher.config, answer_threshold=100.0, escalate_floor=0.0, clarify_margin=1000.0
        )
        options = decide(candidates, probe).candidates if len(candidates) > 1 else []
        out.append(
            Sample(
                expect=expect,
                s1=candidates[0].score if candidates else 0.0,
                s2=candidates[1].score if len(candidates) > 1 else 0.0,
                top=candidates[0].entry_id if candidates else None,
                in_options=any(c.entry_id == expect for c in options),
                has_rival=len(candidates) > 1,
            )
        )
    return out


class _SetGrid:
    """Fast evaluation of one question set for many thresholds."""

    def __init__(self, name: str, data: Sequence[Sample]) -> None:
        self.name = name
        self.inside = [s for s in data if s.expect is not None]
        self.outside = [s for s in data if s.expect is None]

    def stats(self, threshold: float, margin: float, floor: float) -> SetStats:
        answered = [
            s.s1 >= threshold and s.s1 - s.s2 >= margin and s.s1 >= floor for s in self.inside
        ]
        correct = sum(
            1 for s, a in zip(self.inside, answered, strict=True) if a and s.top == s.expect
        )
        wrong = sum(answered) - correct
        clarified = [
            s.s1 for s, a in zip(self.inside, answered, strict=True) if not a and s.in_options
        ]
        clarified.sort()
        covered = correct + len(clarified) - bisect.bisect_left(clarified, floor)
        oos_answered = sum(
            1
            for s in self.outside
            if s.s1 >= threshold and s.s1 - s.s2 >= margin and s.s1 >= floor
        )
        oos_escalated = sum(
            1 for s in self.outside if s.s1 < floor or (not s.has_rival and s.s1 < threshold)
        )
        n_in, n_out = max(1, len(self.inside)), max(1, len(self.outside))
        return SetStats(
            name=self.name,
            correct=100 * correct / n_in,
            covered=100 * covered / n_in,
            wrong=100 * wrong / n_in,
            oos_answered=100 * oos_answered / n_out if self.outside else 0.0,
            oos_escalated=100 * oos_escalated / n_out if self.outside else 100.0,
        )


def _safe(grids: Sequence[_SetGrid], threshold: float, margin: float, tier: int) -> bool:
    max_wrong, max_oos = TIERS[tier]
    looser = (threshold - NEIGHBOUR[0], max(0.0, margin - NEIGHBOUR[1]))
    for t, d in ((threshold, margin), looser):
        for grid in grids:
            stats = grid.stats(t, d, 0.0)
            if stats.wrong > max_wrong or stats.oos_answered > max_oos:
                return False
    return True


def _best_floor(grids: Sequence[_SetGrid], threshold: float, margin: float) -> float:
    """Highest floor keeping coverage ≥ MIN_COVERED on every set; when that is unreachable,
    the highest floor within COVER_SLACK points of the best reachable coverage."""
    floors = [floor for floor in FLOORS if floor <= threshold]
    covers = [min(g.stats(threshold, margin, floor).covered for g in grids) for floor in floors]
    target = min(MIN_COVERED, max(covers) - COVER_SLACK)
    return max(floor for floor, cover in zip(floors, covers, strict=True) if cover >= target)


def _smoothed(correct: dict[tuple[float, float], float], threshold: float, margin: float) -> float:
    """Mean correct share around a setting: prefers the middle of a good region to its edge."""
    around = [
        correct[(threshold + dt, margin + dm)]
        for dt in (-SMOOTH[0], 0.0, SMOOTH[0])
        for dm in (-SMOOTH[1], 0.0, SMOOTH[1])
        if (threshold + dt, margin + dm) in correct
    ]
    return statistics.fmean(around)


def search(sets: Sequence[tuple[str, Sequence[Sample]]], base: MatcherConfig) -> Choice:
    """Grid search as described in the module docstring."""
    grids = [_SetGrid(name, data) for name, data in sets]
    correct = {
        (t, d): statistics.fmean(grid.stats(t, d, 0.0).correct for grid in grids)
        for t in THRESHOLDS
        for d in MARGINS
    }
    for tier in range(len(TIERS)):
        scored = []
        for threshold in THRESHOLDS:
            for margin in MARGINS:
                if not _safe(grids, threshold, margin, tier):
                    continue
                floor = _best_floor(grids, threshold, margin)
                stats = tuple(grid.stats(threshold, margin, floor) for grid in grids)
                key = (
                    round(_smoothed(correct, threshold, margin), 1),
                    round(statistics.fmean(s.covered for s in stats), 1),
                    round(statistics.fmean(s.oos_escalated for s in stats), 1),
                    -threshold,
                    -margin,
                )
                scored.append((key, threshold, margin, floor, stats))
        if scored:
            _, threshold, margin, floor, stats = max(scored)
            config = dataclasses.replace(
                base, answer_threshold=threshold, clarify_margin=margin, escalate_floor=floor
            )
            return Choice(config, stats, tier=tier)
    stats = tuple(
        grid.stats(base.answer_threshold, base.clarify_margin, base.escalate_floor)
        for grid in grids
    )
    return Choice(base, stats, tier=None)


def add_calibrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--questions",
        action="append",
        required=True,
        metavar="FILE",
        help="размеченные вопросы (ключ можно повторять; FAQ берётся из поля faq:)",
    )


def _load_sets(paths: Sequence[str]) -> list[tuple[str, FaqFileAndItems]]:
    loaded = []
    for path in paths:
        questions = load_questions(path)
        faq_path = resolve_faq_path(path, questions.faq)
        if faq_path is None:
            msg = f"{path}: нет поля faq: с путём к FAQ-файлу"
            raise ValueError(msg)
        items = [(item.q, item.expect) for item in questions.questions]
        loaded.append((path, (Matcher(load_faq(faq_path)), items)))
    return loaded


FaqFileAndItems = tuple[Matcher, list[tuple[str, str | None]]]


def _print_choice(title: str, choice: Choice) -> None:
    c = choice.config
    tiers = {0: "с запасом", 1: "на пределе целей проекта", None: "цели НЕ достижимы"}
    print(title)
    print(
        f"  answer_threshold={c.answer_threshold:g} clarify_margin={c.clarify_margin:g} "
        f"escalate_floor={c.escalate_floor:g}  ({tiers[choice.tier]})"
    )
    for s in choice.stats:
        print(
            f"  {s.name}: верно {s.correct:.1f}%, ответ или уточнение с верной {s.covered:.1f}%, "
            f"неверно {s.wrong:.1f}%, ответ не по теме {s.oos_answered:.1f}%, "
            f"не по теме оператору {s.oos_escalated:.1f}%"
        )


def run_calibrate(args: argparse.Namespace) -> int:
    try:
        loaded = _load_sets(args.questions)
    except ValueError as exc:
        print(f"ошибка: {exc}")
        return 2
    base = MatcherConfig()
    sets = [(name, samples(matcher, items)) for name, (matcher, items) in loaded]
    if len(sets) > 1:
        for held in range(len(sets)):
            train = [s for i, s in enumerate(sets) if i != held]
            chosen = search(train, base).config
            stats = _SetGrid(*sets[held]).stats(
                chosen.answer_threshold, chosen.clarify_margin, chosen.escalate_floor
            )
            others = ", ".join(name for name, _ in train)
            _print_choice(
                f"Проверка переносимости: пороги по {others} → на {sets[held][0]}",
                Choice(chosen, (stats,), tier=0),
            )
    best = search(sets, base)
    _print_choice("Рекомендуемые пороги (все наборы вместе):", best)
    return 0 if best.tier is not None else 1
