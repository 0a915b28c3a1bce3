"""Turn ranked entry scores into answer / clarify / escalate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from faq.config import HybridConfig, MatcherConfig
from faq.results import Candidate, Decision, MatchResult

# Reason of a verdict taken by the exact-wording rule (docs/editors.md): the normalised message
# equals a normalised question or alternative of exactly one entry. Routing reads it too.
EXACT_REASON = "вопрос дословно совпадает с формулировкой записи"


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    entry_id: str | None
    candidates: list[Candidate]
    reason: str  # in Russian, for editors


def decide(ranked: Sequence[Candidate], config: MatcherConfig) -> Verdict:
    """Apply the calibrated thresholds to candidates sorted best first."""
    informative = list(ranked[:3])
    if not ranked:
        reason = "в вопросе нет слов, которые встречаются в этом FAQ"
        return Verdict("escalate", None, [], reason)
    s1 = ranked[0].score
    s2 = ranked[1].score if len(ranked) > 1 else 0.0
    if s1 < config.escalate_floor:
        reason = f"лучшая оценка {s1:.1f} ниже порога {config.escalate_floor:.1f}"
        return Verdict("escalate", None, informative, reason)
    confidence = config.confidence(s1, s2)
    lead = s1 - s2
    if confidence >= config.answer_threshold and lead >= config.clarify_margin:
        reason = (
            f"уверенность {confidence:.1f} (оценка {s1:.1f} + отрыв {lead:.1f} × "
            f"{config.margin_weight:g}) не ниже порога ответа {config.answer_threshold:.1f}, "
            f"отрыв не меньше {config.clarify_margin:.1f}"
        )
        return Verdict("answer", ranked[0].entry_id, informative, reason)
    if len(ranked) < 2:
        reason = (
            f"уверенность {confidence:.1f} ниже порога ответа {config.answer_threshold:.1f}, "
            "а других похожих записей нет"
        )
        return Verdict("escalate", None, informative, reason)
    options = [c for c in ranked[: config.max_options] if c.score >= s1 - config.clarify_window]
    if len(options) < 2:
        options = list(ranked[:2])
    if lead < config.clarify_margin:
        reason = (
            f"оценка {s1:.1f}, но '{ranked[1].entry_id}' отстаёт всего на "
            f"{lead:.1f} (нужно {config.clarify_margin:.1f}): спросим, что имелось в виду"
        )
    else:
        reason = (
            f"уверенность {confidence:.1f} (оценка {s1:.1f}, отрыв {lead:.1f}) между "
            f"порогами {config.escalate_floor:.1f} и {config.answer_threshold:.1f}: "
            "предложим варианты"
        )
    return Verdict("clarify", None, options, reason)


def decide_hybrid(ranked: Sequence[Candidate], config: HybridConfig) -> Verdict:
    """Answer / clarify / escalate on combined scores sorted best first. Options offered to
    the citizen must each be relevant on their own (≥ ``option_floor``); when none is, the
    question goes to people without a list of unrelated entries."""
    if not ranked or ranked[0].score < config.option_floor:
        best = f"{ranked[0].score:.1f}" if ranked else "0"
        reason = (f"ни одна запись не подходит: лучшая оценка {best} ниже порога "
                  f"{config.option_floor:.1f}")
        return Verdict("escalate", None, list(ranked[:3]), reason)
    s1 = ranked[0].score
    s2 = ranked[1].score if len(ranked) > 1 else 0.0
    lead = s1 - s2
    if s1 >= config.answer_threshold and lead >= config.clarify_margin:
        reason = (f"оценка {s1:.1f} не ниже порога ответа {config.answer_threshold:.1f}, "
                  f"отрыв от следующей {lead:.1f} не меньше {config.clarify_margin:.1f}")
        return Verdict("answer", ranked[0].entry_id, list(ranked[:3]), reason)
    low = max(config.option_floor, s1 - config.clarify_window)
    options = [c for c in ranked[: config.max_options] if c.score >= low]
    if s1 < config.answer_threshold:
        reason = (f"оценка {s1:.1f} ниже порога ответа {config.answer_threshold:.1f}: "
                  f"предложим похожие записи (от {low:.1f})")
    else:
        reason = (f"оценка {s1:.1f}, но '{ranked[1].entry_id}' отстаёт всего на {lead:.1f} "
                  f"(нужно {config.clarify_margin:.1f}): спросим, что имелось в виду")
    return Verdict("clarify", None, options, reason)


def exact_verdict(entry_id: str, ranked: Sequence[Candidate]) -> Verdict:
    """Answer with the entry one of whose phrasings the message repeats (after normalising):
    an editor who adds a citizen's wording as an alternative gets exactly that question
    answered, whatever the scores."""
    reason = f"{EXACT_REASON} '{entry_id}' (после нормализации): отвечаем этой записью"
    return Verdict("answer", entry_id, list(ranked[:3]), reason)


def is_exact(result: MatchResult) -> bool:
    """Whether ``result`` was decided by :func:`exact_verdict`."""
    return result.decision == "answer" and result.explanation.reason.startswith(EXACT_REASON)
