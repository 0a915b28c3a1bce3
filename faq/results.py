"""What the matcher returns: a decision, candidates and a human-readable explanation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypedDict

Decision = Literal["answer", "clarify", "escalate"]


class CandidateJson(TypedDict):
    entry_id: str
    score: float


class MatchJson(TypedDict):
    """One line of ``python -m faq match --json``."""

    question: str
    decision: Decision
    entry_id: str | None
    score: float
    candidates: list[CandidateJson]


@dataclass(frozen=True, slots=True)
class Candidate:
    entry_id: str
    score: float  # 0–100


@dataclass(frozen=True, slots=True)
class CandidateDetail:
    """How one entry scored: its best phrasing and the parts of the score."""

    entry_id: str
    score: float
    lexical: float  # 0–100, weighted overlap of canonical terms
    fuzzy: float  # 0–100, rapidfuzz (token_sort_ratio + token_set_ratio) / 2
    coverage: float  # 0–100, share of the question's term weight found in the phrasings
    answer: float  # 0–100, ... found in the answer text
    ngram: float  # 0–100, character n-gram cosine with the phrasings
    phrasing: str
    matched_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    question: str
    normalized: str
    layout_fixed: bool
    corrections: tuple[tuple[str, str], ...]
    top: tuple[CandidateDetail, ...]
    decision: Decision
    reason: str  # in Russian, for editors

    def render(self) -> str:
        lines = [f"Вопрос: {self.question}"]
        if self.layout_fixed:
            lines.append("Раскладка клавиатуры исправлена.")
        if self.corrections:
            fixed = ", ".join(f"{wrong} → {right}" for wrong, right in self.corrections)
            lines.append(f"Исправлены опечатки: {fixed}")
        lines.append(f"Нормализовано: {self.normalized or '(нет значимых слов)'}")
        if self.top:
            lines.append("Лучшие записи:")
            for detail in self.top:
                matched = ", ".join(detail.matched_terms) or "—"
                lines.append(
                    f"  {detail.score:5.1f}  {detail.entry_id}  "
                    f"(слова {detail.lexical:.0f}, похожесть {detail.fuzzy:.0f}, "
                    f"охват {detail.coverage:.0f}, в ответе {detail.answer:.0f}, "
                    f"n-граммы {detail.ngram:.0f}; "
                    f"совпали: {matched}; ближе всего: «{detail.phrasing}»)"
                )
        lines.append(f"Решение: {_DECISION_RU[self.decision]} — {self.reason}")
        return "\n".join(lines)


_DECISION_RU: dict[Decision, str] = {
    "answer": "ответить",
    "clarify": "уточнить",
    "escalate": "передать оператору",
}


@dataclass(frozen=True, slots=True)
class MatchResult:
    """``entry_id`` is set only for ``answer``; for ``clarify`` the candidates are exactly the
    options to show (2–3, best first); otherwise the best three, for information."""

    question: str
    decision: Decision
    entry_id: str | None
    score: float
    candidates: list[Candidate]
    explanation: Explanation = field(repr=False, compare=False)

    def explain(self) -> str:
        return self.explanation.render()

    def as_dict(self) -> MatchJson:
        return {
            "question": self.question,
            "decision": self.decision,
            "entry_id": self.entry_id,
            "score": round(self.score, 2),
            "candidates": [
                {"entry_id": c.entry_id, "score": round(c.score, 2)} for c in self.candidates
            ],
        }
