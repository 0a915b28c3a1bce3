"""Quality of a matcher on a labelled question set: the numbers editors and CI look at."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from faq.matcher import Matcher
from faq.questions import LabelledQuestion
from faq.results import Decision, MatchResult
from faq.routing import route

# The quality bar of the project (docs/matching.md), in percent.
TARGET_CORRECT = 75.0
TARGET_COVERED = 93.0
TARGET_WRONG = 2.0
TARGET_OOS_ANSWERED = 5.0
TARGET_FAR_CLARIFY = 10.0

# Off-topic kinds far from any FAQ: they must never be shown "did you mean" options.
FAR_KINDS = frozenset({"city", "ministry", "chitchat", "abuse", "gibberish", "greeting", "noise"})


@dataclass(frozen=True, slots=True)
class Outcome:
    item: LabelledQuestion
    result: MatchResult
    elsewhere: str | None = None  # the rival (other bot, directory) that took the question

    @property
    def decision(self) -> Decision:
        """What the bot does: a question taken by a rival is not answered here."""
        return "escalate" if self.elsewhere is not None else self.result.decision

    @property
    def correct(self) -> bool:
        return self.decision == "answer" and self.result.entry_id == self.item.expect

    @property
    def covered(self) -> bool:
        """Answered right, or the right entry is among the clarification options."""
        if self.correct:
            return True
        return self.decision == "clarify" and any(
            c.entry_id == self.item.expect for c in self.result.candidates
        )

    @property
    def wrong(self) -> bool:
        return self.decision == "answer" and self.result.entry_id != self.item.expect

    @property
    def far(self) -> bool:
        return not self.item.in_scope and self.item.kind in FAR_KINDS


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    outcomes: tuple[Outcome, ...]
    in_scope: int = field(init=False)
    out_of_scope: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_scope", sum(o.item.in_scope for o in self.outcomes))
        object.__setattr__(self, "out_of_scope", len(self.outcomes) - self.in_scope)

    def _share(self, *, in_scope: bool, test: str) -> float:
        group = [o for o in self.outcomes if o.item.in_scope == in_scope]
        hits = sum(1 for o in group if _test(o, test))
        return _percent(hits, len(group))

    def metrics(self) -> dict[str, float]:
        return {
            "correct": self._share(in_scope=True, test="correct"),
            "covered": self._share(in_scope=True, test="covered"),
            "wrong": self._share(in_scope=True, test="wrong"),
            "clarify": self._share(in_scope=True, test="clarify"),
            "escalate": self._share(in_scope=True, test="escalate"),
            "oos_answered": self._share(in_scope=False, test="answer"),
            "oos_clarify": self._share(in_scope=False, test="clarify"),
            "oos_escalate": self._share(in_scope=False, test="escalate"),
            "far_clarify": _percent(
                sum(o.far and o.decision == "clarify" for o in self.outcomes),
                sum(o.far for o in self.outcomes)),
            "elsewhere": _percent(sum(o.elsewhere is not None for o in self.outcomes),
                                  len(self.outcomes)),
        }

    def by_kind(self) -> dict[str, dict[str, float]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            groups[outcome.item.kind].append(outcome)
        table: dict[str, dict[str, float]] = {}
        for kind, group in sorted(groups.items()):
            inside = [o for o in group if o.item.in_scope]
            outside = [o for o in group if not o.item.in_scope]
            table[kind] = {
                "n": float(len(group)),
                "correct": _percent(sum(o.correct for o in inside), len(inside)),
                "covered": _percent(sum(o.covered for o in inside), len(inside)),
                "wrong": _percent(sum(o.wrong for o in inside), len(inside)),
                "oos_answered": _percent(sum(o.decision == "answer" for o in outside),
                                         len(outside)),
                "oos_clarify": _percent(sum(o.decision == "clarify" for o in outside),
                                        len(outside)),
            }
        return table

    def misses(self) -> list[Outcome]:
        """In-scope questions not answered right, and off-topic questions that got an answer."""
        return [
            o
            for o in self.outcomes
            if (o.item.in_scope and not o.correct)
            or (not o.item.in_scope and o.decision == "answer")
            or (o.far and o.decision == "clarify")
        ]

    def failed_targets(
        self,
        *,
        correct: float = TARGET_CORRECT,
        covered: float = TARGET_COVERED,
        wrong: float = TARGET_WRONG,
        oos_answered: float = TARGET_OOS_ANSWERED,
        far_clarify: float = TARGET_FAR_CLARIFY,
    ) -> list[str]:
        m = self.metrics()
        failures = []
        if self.in_scope and m["correct"] < correct:
            failures.append(f"верных ответов {m['correct']:.1f}% < {correct:.1f}%")
        if self.in_scope and m["covered"] < covered:
            failures.append(
                f"ответ или уточнение с верной записью {m['covered']:.1f}% < {covered:.1f}%"
            )
        if self.in_scope and m["wrong"] > wrong:
            failures.append(f"неверных ответов {m['wrong']:.1f}% > {wrong:.1f}%")
        if self.out_of_scope and m["oos_answered"] > oos_answered:
            failures.append(
                f"ответов на вопросы не по теме {m['oos_answered']:.1f}% > {oos_answered:.1f}%"
            )
        if any(o.far for o in self.outcomes) and m["far_clarify"] > far_clarify:
            failures.append(
                f"вариантов «вы имели в виду» на далёкие от темы вопросы {m['far_clarify']:.1f}%"
                f" > {far_clarify:.1f}%"
            )
        return failures


def _test(outcome: Outcome, test: str) -> bool:
    if test == "correct":
        return outcome.correct
    if test == "covered":
        return outcome.covered
    if test == "wrong":
        return outcome.wrong
    return outcome.decision == test


def evaluate(matcher: Matcher, questions: Iterable[LabelledQuestion],
             rivals: Mapping[str, Matcher] | None = None) -> Report:
    """Match every question; ``rivals`` (other bots' FAQs, the directory of other channels)
    may take a question as they do in the running bots (:func:`faq.routing.route`)."""
    outcomes = []
    for item in questions:
        result = matcher.match(item.q)
        others = {name: rival.match(item.q) for name, rival in (rivals or {}).items()}
        outcomes.append(Outcome(item, result, route(result, others, matcher.hybrid)))
    return Report(tuple(outcomes))


def describe(outcome: Outcome) -> str:
    result = outcome.result
    expect = outcome.item.expect or "нет (вне темы)"
    if outcome.elsewhere is not None:
        got = f"к другому источнику: {outcome.elsewhere}"
    elif result.decision == "answer":
        got = f"ответ '{result.entry_id}'"
    elif result.decision == "clarify":
        got = "уточнение: " + ", ".join(c.entry_id for c in result.candidates)
    else:
        got = "оператору"
    return (
        f"[{outcome.item.kind}] «{outcome.item.q}» — ждали {expect}, получили {got} "
        f"(оценка {result.score:.1f})"
    )


def render(report: Report, *, title: str) -> str:
    m = report.metrics()
    lines = [
        f"{title}",
        f"Вопросов по теме: {report.in_scope}, не по теме: {report.out_of_scope}",
        f"  верный ответ:              {m['correct']:5.1f}%  (цель ≥ {TARGET_CORRECT:.0f}%)",
        f"  ответ или уточнение с ним: {m['covered']:5.1f}%  (цель ≥ {TARGET_COVERED:.0f}%)",
        f"  неверный ответ:            {m['wrong']:5.1f}%  (цель ≤ {TARGET_WRONG:.0f}%)",
        f"  уточнение:                 {m['clarify']:5.1f}%",
        f"  передано оператору:        {m['escalate']:5.1f}%",
        f"Не по теме: ответ {m['oos_answered']:.1f}% (цель ≤ {TARGET_OOS_ANSWERED:.0f}%), "
        f"уточнение {m['oos_clarify']:.1f}%, оператору {m['oos_escalate']:.1f}%",
        f"Далеко от темы (город, другие ведомства, болтовня, бессмыслица): варианты показаны "
        f"{m['far_clarify']:.1f}% (цель ≤ {TARGET_FAR_CLARIFY:.0f}%)",
        f"Отдано другому боту или справочнику служб: {m['elsewhere']:.1f}%",
        "По видам вопросов:",
    ]
    for kind, row in report.by_kind().items():
        lines.append(
            f"  {kind:<10} n={row['n']:<4.0f} верно {row['correct']:5.1f}%  "
            f"с уточнением {row['covered']:5.1f}%  неверно {row['wrong']:4.1f}%  "
            f"ответ не по теме {row['oos_answered']:5.1f}%"
        )
    misses = report.misses()
    lines.append(f"Промахи ({len(misses)}):" if misses else "Промахов нет.")
    lines += [f"  {describe(o)}" for o in misses]
    return "\n".join(lines)


def as_json(report: Report, *, faq: str, questions: str) -> dict[str, object]:
    return {
        "faq": faq,
        "questions": questions,
        "in_scope": report.in_scope,
        "out_of_scope": report.out_of_scope,
        "metrics": {k: round(v, 2) for k, v in report.metrics().items()},
        "by_kind": report.by_kind(),
        "misses": [
            {
                "question": o.item.q,
                "kind": o.item.kind,
                "expect": o.item.expect,
                **o.result.as_dict(),
            }
            for o in report.misses()
        ],
    }

