"""Choose the decision thresholds from labelled questions instead of guessing them.

With a sentence encoder (the default of ``python -m faq calibrate``) the hybrid score and its
rule are fitted instead, by :mod:`faq.fit`. Without one, the lexical rule below.

Procedure (docs/matching.md): rank every labelled question once per question set, then
search a grid of (margin_weight, answer_threshold, clarify_margin) and, for each, the
escalate floor. An answer needs the confidence s1 + margin_weight × (s1 − s2) to reach
answer_threshold, the lead s1 − s2 to reach clarify_margin and s1 to reach the floor:

1. A setting is *safe* when, on EVERY question set, wrong answers ≤ 1.5 % of in-scope
   questions and answers to off-topic questions ≤ 5 % — and the same holds for the
   neighbouring, more permissive setting (threshold − 2, margin − 1), so that new questions
   slightly off the dev ones do not tip it over. When nothing is safe, the project limits
   (2 % and 10 %) are used instead, still with the neighbour rule.
2. The floor is the highest one that keeps answer-or-clarify-with-the-right-entry ≥ 96 % on
   every set (if that is unreachable: within 1 point of the best reachable coverage).
3. Among safe settings: the mean share of correct answers averaged over the setting and
   its neighbours (threshold ± 2, margin ± 2: the middle of a good region beats its edge)
   is computed; settings within ROBUST_SLACK points of the best are equivalent on this data,
   and among them the widest clarify margin wins (the least likely to answer wrongly on a
   new FAQ), then the higher smoothed share, answer-or-clarify coverage, the share of
   off-topic questions sent to an operator, the lower margin weight and threshold.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from faq.config import MatcherConfig
from faq.decision import decide
from faq.fit import collect
from faq.fit import report as fit_report
from faq.loader import load_faq
from faq.matcher import Matcher
from faq.questions import load_questions, resolve_faq_path, rival_paths
from faq.results import Candidate

TIERS = ((1.5, 5.0), (2.0, 10.0))  # (max wrong %, max off-topic answered %)
MIN_COVERED = 96.0
COVER_SLACK = 1.0  # coverage points we may give up to send more off-topic questions onward
NEIGHBOUR = (2.0, 1.0)  # (threshold, margin) steps that must stay safe as well
SMOOTH = (2.0, 2.0)  # (threshold, margin) steps averaged when ranking settings

MARGIN_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)
THRESHOLD_CAP = 95.0
FLOOR_CANDIDATES = 60
ROBUST_SLACK = 1.3  # points of mean correct share traded for a wider margin
THRESHOLDS = [float(value) for value in range(30, 161)]
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
        self._sorted: dict[tuple[float, float], tuple[list[float], ...]] = {}

    def _confidences(self, margin: float, weight: float) -> tuple[list[float], ...]:
        """Sorted confidences of right, wrong and off-topic top candidates with the lead."""
        key = (margin, weight)
        if key not in self._sorted:
            groups: tuple[list[float], ...] = ([], [], [])
            for s in (*self.inside, *self.outside):
                lead = s.s1 - s.s2
                if lead < margin:
                    continue
                group = 2 if s.expect is None else (0 if s.top == s.expect else 1)
                groups[group].append(s.s1 + weight * lead)
            for values in groups:
                values.sort()
            self._sorted[key] = groups
        return self._sorted[key]

    def quick(self, threshold: float, margin: float, weight: float) -> tuple[float, ...]:
        """(correct %, wrong %, off-topic answered %) without a floor, by binary search."""
        right, wrong, outside = (
            len(group) - bisect.bisect_left(group, threshold)
            for group in self._confidences(margin, weight)
        )
        n_in, n_out = max(1, len(self.inside)), max(1, len(self.outside))
        return 100 * right / n_in, 100 * wrong / n_in, 100 * outside / n_out

    @staticmethod
    def _answers(s: Sample, threshold: float, margin: float, floor: float, weight: float) -> bool:
        lead = s.s1 - s.s2
        return s.s1 + weight * lead >= threshold and lead >= margin and s.s1 >= floor

    def correct_count(self, threshold: float, margin: float, floor: float, weight: float) -> int:
        return sum(
            1
            for s in self.inside
            if s.top == s.expect and self._answers(s, threshold, margin, floor, weight)
        )

    def stats(
        self, threshold: float, margin: float, floor: float, weight: float = 0.0
    ) -> SetStats:
        answered = [self._answers(s, threshold, margin, floor, weight) for s in self.inside]
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
            1 for s in self.outside if self._answers(s, threshold, margin, floor, weight)
        )
        oos_escalated = sum(
            1
            for s in self.outside
            if s.s1 < floor
            or (not s.has_rival and not self._answers(s, threshold, margin, floor, weight))
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


def _safe(
    grids: Sequence[_SetGrid], threshold: float, margin: float, weight: float, tier: int
) -> bool:
    max_wrong, max_oos = TIERS[tier]
    looser = (threshold - NEIGHBOUR[0], max(0.0, margin - NEIGHBOUR[1]))
    for t, d in ((threshold, margin), looser):
        for grid in grids:
            _, wrong, oos_answered = grid.quick(t, d, weight)
            if wrong > max_wrong or oos_answered > max_oos:
                return False
    return True


def _best_floor(
    grids: Sequence[_SetGrid], threshold: float, margin: float, weight: float
) -> float:
    """Highest floor keeping coverage ≥ MIN_COVERED on every set (when that is unreachable,
    within COVER_SLACK points of the best reachable coverage) that costs no right answer."""
    answered = [g.correct_count(threshold, margin, 0.0, weight) for g in grids]
    floors = [
        floor
        for floor in FLOORS
        if floor <= threshold
        and all(
            g.correct_count(threshold, margin, floor, weight) == count
            for g, count in zip(grids, answered, strict=True)
        )
    ] or [FLOORS[0]]
    covers = [
        min(g.stats(threshold, margin, floor, weight).covered for g in grids) for floor in floors
    ]
    target = min(MIN_COVERED, max(covers) - COVER_SLACK)
    return max(floor for floor, cover in zip(floors, covers, strict=True) if cover >= target)


Setting = tuple[float, float, float]  # (margin weight, threshold, margin)


def _smoothed(correct: dict[Setting, float], setting: Setting) -> float:
    """Mean correct share around a setting: prefers the middle of a good region to its edge."""
    weight, threshold, margin = setting
    around = [
        correct[(weight, threshold + dt, margin + dm)]
        for dt in (-SMOOTH[0], 0.0, SMOOTH[0])
        for dm in (-SMOOTH[1], 0.0, SMOOTH[1])
        if (weight, threshold + dt, margin + dm) in correct
    ]
    return statistics.fmean(around)


def search(
    sets: Sequence[tuple[str, Sequence[Sample]]],
    base: MatcherConfig,
    *,
    margin_weights: Sequence[float] = MARGIN_WEIGHTS,
) -> Choice:
    """Grid search as described in the module docstring."""
    grids = [_SetGrid(name, data) for name, data in sets]
    settings = [
        (w, t, d)
        for w in margin_weights
        for t in THRESHOLDS
        if t <= THRESHOLD_CAP * (1.0 + w)  # a perfect match with a clear lead is answered
        for d in MARGINS
    ]
    correct = {
        (w, t, d): statistics.fmean(grid.quick(t, d, w)[0] for grid in grids)
        for w, t, d in settings
    }
    for tier in range(len(TIERS)):
        safe = [s for s in settings if _safe(grids, s[1], s[2], s[0], tier)]
        if not safe:
            continue
        # Settings at most ROBUST_SLACK below the best (about one question per set) are
        # equivalent on this data: the one with the widest margin is the least likely to
        # answer wrongly on a new FAQ. Only these need a floor.
        smoothed = {s: round(_smoothed(correct, s), 1) for s in safe}
        best = max(smoothed.values())
        near = sorted(
            (s for s in safe if smoothed[s] >= best - ROBUST_SLACK),
            key=lambda s: (-s[2], -smoothed[s], s[0], s[1]),
        )
        scored = []
        for weight, threshold, margin in near[:FLOOR_CANDIDATES]:
            floor = _best_floor(grids, threshold, margin, weight)
            stats = tuple(grid.stats(threshold, margin, floor, weight) for grid in grids)
            key = (
                margin,
                smoothed[(weight, threshold, margin)],
                round(statistics.fmean(s.covered for s in stats), 1),
                round(statistics.fmean(s.oos_escalated for s in stats), 1),
                -weight,
                -threshold,
            )
            scored.append((key, weight, threshold, margin, floor, stats))
        _, weight, threshold, margin, floor, stats = max(scored)
        config = dataclasses.replace(
            base,
            answer_threshold=threshold,
            clarify_margin=margin,
            escalate_floor=floor,
            margin_weight=weight,
        )
        return Choice(config, stats, tier=tier)
    stats = tuple(
        grid.stats(
            base.answer_threshold, base.clarify_margin, base.escalate_floor, base.margin_weight
        )
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
        f"margin_weight={c.margin_weight:g} escalate_floor={c.escalate_floor:g}  "
        f"({tiers[choice.tier]})"
    )
    for s in choice.stats:
        print(
            f"  {s.name}: верно {s.correct:.1f}%, ответ или уточнение с верной {s.covered:.1f}%, "
            f"неверно {s.wrong:.1f}%, ответ не по теме {s.oos_answered:.1f}%, "
            f"не по теме оператору {s.oos_escalated:.1f}%"
        )


def run_hybrid_calibrate(paths: Sequence[str], load: Callable[[str], Matcher]) -> int:
    """Fit the hybrid score and rule (faq.fit) on the sets; rivals as each set declares."""
    named = []
    for path in paths:
        questions = load_questions(path)
        faq_path = resolve_faq_path(path, questions.faq)
        if faq_path is None:
            print(f"ошибка: {path}: нет поля faq: с путём к FAQ-файлу")
            return 2
        rivals = [load(str(rival)) for rival in rival_paths(path, questions)]
        items = [(item.q, item.expect, item.kind) for item in questions.questions]
        named.append((path, collect(load(str(faq_path)), items, rivals)))
    for line in fit_report(named):
        print(line)
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    load: Callable[[str], Matcher] | None = getattr(args, "load_matcher", None)
    if load is not None and args.questions:
        first = resolve_faq_path(args.questions[0], load_questions(args.questions[0]).faq)
        if first is not None and load(str(first)).semantic is not None:
            return run_hybrid_calibrate(args.questions, load)
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
                chosen.answer_threshold,
                chosen.clarify_margin,
                chosen.escalate_floor,
                chosen.margin_weight,
            )
            others = ", ".join(name for name, _ in train)
            _print_choice(
                f"Проверка переносимости: пороги по {others} → на {sets[held][0]}",
                Choice(chosen, (stats,), tier=0),
            )
    best = search(sets, base)
    _print_choice("Рекомендуемые пороги (все наборы вместе):", best)
    return 0 if best.tier is not None else 1
