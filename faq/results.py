"""What the matcher returns: a decision, candidates and a human-readable explanation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypedDict

Decision = Literal["answer", "clarify", "escalate"]


class _CandidateJsonBase(TypedDict):
    entry_id: str
    score: float


class CandidateJson(_CandidateJsonBase, total=False):
    lexical: float  # the lexical matcher's score, 0–100
    semantic: float  # cosine with the entry's closest phrasing, 0–1


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
    score: float  # 0–100: the combined score (the lexical score when there is no encoder)
    lexical: float | None = field(default=None, compare=False)
    semantic: float | None = field(default=None, compare=False)  # cosine, 0–1

    def as_dict(self) -> CandidateJson:
        item: CandidateJson = {"entry_id": self.entry_id, "score": round(self.score, 2)}
        if self.lexical is not None:
            item["lexical"] = round(self.lexical, 2)
        if self.semantic is not None:
            item["semantic"] = round(self.semantic, 4)
        return item


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
    lexical_score: float = 0.0  # the lexical matcher's whole score for this entry
    semantic: float | None = None  # cosine with the closest phrasing (None: no encoder)
    semantic_answer: float | None = None  # cosine with the answer text
    semantic_phrasing: str = ""  # the phrasing closest in meaning


@dataclass(frozen=True, slots=True)
class Explanation:
    question: str
    normalized: str
    layout_fixed: bool
    corrections: tuple[tuple[str, str], ...]
    top: tuple[CandidateDetail, ...]
    decision: Decision
    reason: str  # in Russian, for editors
    encoder: str | None = None  # model id when the score is hybrid

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
                if detail.semantic is not None:
                    lines.append(_hybrid_line(detail, matched))
                    continue
                lines.append(
                    f"  {detail.score:5.1f}  {detail.entry_id}  "
                    f"(слова {detail.lexical:.0f}, похожесть {detail.fuzzy:.0f}, "
                    f"охват {detail.coverage:.0f}, в ответе {detail.answer:.0f}, "
                    f"n-граммы {detail.ngram:.0f}; "
                    f"совпали: {matched}; ближе всего: «{detail.phrasing}»)"
                )
        if self.encoder is not None:
            lines.append(f"Оценка: смысл ({self.encoder}) + слова")
        else:
            lines.append("Оценка: только по словам (модель смысла не загружена)")
        lines.append(f"Решение: {_DECISION_RU[self.decision]} — {self.reason}")
        return "\n".join(lines)


def _hybrid_line(detail: CandidateDetail, matched: str) -> str:
    answer = "" if detail.semantic_answer is None else f", с ответом {detail.semantic_answer:.3f}"
    return (
        f"  {detail.score:5.1f}  {detail.entry_id}  (по словам {detail.lexical_score:.1f}, "
        f"по смыслу {detail.semantic:.3f}{answer}; совпали: {matched}; "
        f"ближе по смыслу: «{detail.semantic_phrasing}»)"
    )


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

    @property
    def hybrid(self) -> bool:
        """Scored with the sentence encoder (scores of different FAQs compare)."""
        return self.explanation.encoder is not None

    def explain(self) -> str:
        return self.explanation.render()

    def as_dict(self) -> MatchJson:
        return {
            "question": self.question,
            "decision": self.decision,
            "entry_id": self.entry_id,
            "score": round(self.score, 2),
            "candidates": [c.as_dict() for c in self.candidates],
        }
