"""Editor checks for an FAQ file beyond the schema: what a citizen would notice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from faq.embeddings import Progress
from faq.encoder import Encoder
from faq.loader import load_faq
from faq.matcher import Matcher
from faq.problems import FaqError, FaqReadError, Problem
from faq.results import MatchResult
from faq.schema import FaqFile
from faq.semantic import SemanticIndex

TELEGRAM_LIMIT = 4096  # characters per message, counted in UTF-16 code units
# Cosine (multilingual-e5-small, ``query:`` on both sides) from which phrasings of two entries
# count as confusable. Related but different questions of the shipped FAQs reach 0.974 at most
# ("что за субсидия на коммуналку" / "сколько дадут субсидии на коммуналку"); the same question
# reworded by a word or two scores 0.976–0.996. Below that, cosine alone cannot tell a
# paraphrase from a neighbouring question; the lexical checks above cover those cases.
SIMILAR_PHRASINGS = 0.975


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def lint_path(path: str | Path, *, today: dt.date | None = None, encoder: Encoder | None = None,
              cache: Path | None = None, progress: Progress | None = None) -> list[Problem]:
    """All findings for one file; raises FaqReadError only when the file cannot be read.

    With an ``encoder`` pairs of entries whose phrasings mean nearly the same are reported
    too; ``cache`` is the embedding cache file of this FAQ (:func:`faq.embeddings.cache_file`).
    """
    try:
        faq = load_faq(path)
    except FaqReadError:
        raise
    except FaqError as exc:
        return exc.problems
    semantic = None
    if encoder is not None:
        semantic = SemanticIndex.build(faq, encoder, cache=cache, progress=progress)
    return lint_faq(faq, today=today, semantic=semantic)


def lint_faq(faq: FaqFile, *, today: dt.date | None = None,
             semantic: SemanticIndex | None = None,
             similar: float = SIMILAR_PHRASINGS) -> list[Problem]:
    today = today or dt.date.today()
    problems = _entry_checks(faq, today)
    problems += _confusions(faq, Matcher(faq))
    if semantic is not None:
        problems += _similar_in_meaning(faq, semantic, similar, _reported_pairs(faq, problems))
    return sorted(problems, key=Problem.sort_key)


def _entry_checks(faq: FaqFile, today: dt.date) -> list[Problem]:
    problems: list[Problem] = []
    for number, entry in enumerate(faq.entries):
        length = utf16_length(entry.answer)
        if length > TELEGRAM_LIMIT:
            problems.append(
                Problem(
                    faq.path,
                    faq.line_of("entries", number, "answer"),
                    entry.id,
                    f"ответ длиннее лимита Telegram: {length} символов при максимуме "
                    f"{TELEGRAM_LIMIT}; сократите его или разделите запись на две",
                )
            )
        if entry.review_by is not None and entry.review_by < today:
            problems.append(
                Problem(
                    faq.path,
                    faq.line_of("entries", number, "review_by"),
                    entry.id,
                    f"срок проверки {entry.review_by:%d.%m.%Y} прошёл: проверьте ответ "
                    "и поставьте новую дату review_by",
                    severity="warning",
                )
            )
    return problems


def _phrasing_loc(number: int, phrasing: int) -> tuple[str | int, ...]:
    if phrasing == 0:
        return ("entries", number, "question")
    return ("entries", number, "alternatives", phrasing - 1)


def _confusions(faq: FaqFile, matcher: Matcher) -> list[Problem]:
    """Phrasings the matcher cannot attribute to their own entry."""
    problems: list[Problem] = []
    rows_of_entry: dict[int, list[int]] = {}
    for row_id, row in enumerate(matcher.index.rows):
        rows_of_entry.setdefault(row.entry, []).append(row_id)
    for number, entry in enumerate(faq.entries):
        for phrasing, text in enumerate(entry.phrasings):
            line = faq.line_of(*_phrasing_loc(number, phrasing))
            result = matcher.match(text)
            if not result.explanation.normalized:
                problems.append(
                    Problem(
                        faq.path,
                        line,
                        entry.id,
                        f"в формулировке «{text}» не осталось значимых слов: по ней запись "
                        "не найти, перепишите её",
                    )
                )
                continue
            if result.decision == "answer" and result.entry_id == entry.id:
                problems += _leave_one_out(
                    faq, matcher, number, phrasing, text, line, rows_of_entry
                )
                continue
            problems.append(_confusion(matcher, entry.id, text, line, result))
    return problems


def _confusion(
    matcher: Matcher, entry_id: str, text: str, line: int | None, result: MatchResult
) -> Problem:
    """Why a phrasing asked word for word does not get its own entry's answer."""
    config = matcher.config
    path = matcher.faq.path
    top = result.explanation.top
    own = next((c.score for c in top if c.entry_id == entry_id), 0.0)
    rival = next((c for c in top if c.entry_id != entry_id), None)
    if rival is not None and rival.score > own + config.clarify_margin:
        message = (
            f"формулировка «{text}» подходит к записи '{rival.entry_id}' "
            f"({rival.score:.0f}) больше, чем к своей ({own:.0f})"
        )
        return Problem(path, line, entry_id, message)
    if rival is not None and own - rival.score < config.clarify_margin:
        message = (
            f"записи '{entry_id}' и '{rival.entry_id}' не различить: на «{text}» "
            f"они получают {own:.0f} и {rival.score:.0f}; сделайте вопросы "
            "различимее или объедините записи"
        )
        return Problem(path, line, entry_id, message)
    confidence = config.confidence(own, rival.score if rival is not None else 0.0)
    message = (
        f"формулировка «{text}» слишком общая: даже дословно она получает {own:.0f} "
        f"(уверенность {confidence:.0f}) при пороге ответа {config.answer_threshold:.0f}, "
        "и бот переспросит; добавьте в неё слова, которые отличают эту запись"
    )
    return Problem(path, line, entry_id, message, severity="warning")


def _leave_one_out(
    faq: FaqFile,
    matcher: Matcher,
    number: int,
    phrasing: int,
    text: str,
    line: int | None,
    rows_of_entry: dict[int, list[int]],
) -> list[Problem]:
    """Without this phrasing, would a paraphrase of it still reach its own entry?"""
    own_rows = rows_of_entry.get(number, [])
    this_row = [r for r in own_rows if matcher.index.rows[r].phrasing == phrasing]
    if len(own_rows) < 2 or not this_row:
        return []
    ranked = matcher.rank(text, exclude=this_row)
    if not ranked or ranked[0].entry == number:
        return []
    ids = matcher.index.entry_ids
    own = next((item.score for item in ranked if item.entry == number), 0.0)
    rival = ranked[0]
    result = matcher.result(text, matcher.analyze(text), ranked)
    if result.decision != "answer":
        return []  # alternatives are meant to differ; only a confident wrong answer is a defect
    kind = "альтернатива" if phrasing else "вопрос"
    message = (
        f"{kind} «{text}» ближе к записи '{ids[rival.entry]}' ({rival.score:.0f}), чем к "
        f"остальным формулировкам своей записи ({own:.0f}): похожий вопрос получит чужой "
        "ответ; добавьте близкие альтернативы или уточните формулировку"
    )
    return [Problem(faq.path, line, faq.entries[number].id, message)]


def _reported_pairs(faq: FaqFile, problems: list[Problem]) -> set[frozenset[str]]:
    """Entry pairs that a finding above already names (``записи 'a' и 'b' не различить``)."""
    ids = [entry.id for entry in faq.entries]
    return {
        frozenset((problem.entry_id, other))
        for problem in problems
        if problem.entry_id is not None
        for other in ids
        if other != problem.entry_id and f"'{other}'" in problem.message
    }


def _similar_in_meaning(faq: FaqFile, semantic: SemanticIndex, threshold: float,
                        reported: set[frozenset[str]]) -> list[Problem]:
    """One warning per pair of entries with phrasings at least ``threshold`` alike in meaning,
    naming the two closest phrasings and the lines of both."""
    first_row: dict[int, int] = {}
    for row, entry in enumerate(semantic.row_entry.tolist()):
        first_row.setdefault(entry, row)

    def where(entry: int, row: int) -> int | None:
        return faq.line_of(*_phrasing_loc(entry, row - first_row[entry]))

    problems: list[Problem] = []
    seen: set[frozenset[str]] = set(reported)
    for a, row_a, b, row_b, cosine in semantic.similar_pairs(threshold):  # closest first
        first, second = faq.entries[a].id, faq.entries[b].id
        if frozenset((first, second)) in seen:
            continue
        seen.add(frozenset((first, second)))
        line_b = where(b, row_b)
        other = faq.path if line_b is None else f"{faq.path}:{line_b}"
        message = (
            f"по смыслу почти совпадает с записью '{second}' ({other}): "
            f"«{semantic.row_text[row_a]}» и «{semantic.row_text[row_b]}» "
            f"(сходство {cosine:.3f}); бот может спутать записи — сделайте вопросы "
            "различимее или объедините записи"
        )
        problems.append(Problem(faq.path, where(a, row_a), first, message, severity="warning"))
    return problems
