"""Editor checks for an FAQ file beyond the schema: what a citizen would notice."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from faq.contacts import Contacts, contact_problems, load_contacts
from faq.embeddings import Progress
from faq.encoder import Encoder
from faq.lint_text import category_problems, indentation_problems, placeholder_problems
from faq.loader import parse_faq, read_text
from faq.matcher import Matcher
from faq.normalize import Analysis
from faq.problems import FaqError, Problem
from faq.schema import FaqFile
from faq.scoring import rank
from faq.semantic import SemanticIndex

TELEGRAM_LIMIT = 4096  # characters per message, counted in UTF-16 code units
# Cosine (multilingual-e5-small, ``query:`` on both sides) from which phrasings of two entries
# count as confusable. Related but different questions of the shipped FAQs reach 0.974 at most
# ("что за субсидия на коммуналку" / "сколько дадут субсидии на коммуналку"); the same question
# reworded by a word or two scores 0.976–0.996. Below that, cosine alone cannot tell a
# paraphrase from a neighbouring question; the lexical checks above cover those cases.
SIMILAR_PHRASINGS = 0.975
# Below this many rankings one process is quicker than starting workers.
PARALLEL_FROM = 200


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def lint_path(path: str | Path, *, today: dt.date | None = None, encoder: Encoder | None = None,
              cache: Path | None = None, progress: Progress | None = None,
              env: Mapping[str, str] | None = None, workers: int | None = None) -> list[Problem]:
    """All findings for one file; raises FaqReadError only when the file cannot be read.

    With an ``encoder`` pairs of entries whose phrasings mean nearly the same are reported
    too; ``cache`` is the embedding cache file of this FAQ (:func:`faq.embeddings.cache_file`).
    The bot's contacts (:mod:`faq.contacts`; ``env`` for the deployment's overrides) are
    checked with it. ``workers``: processes for the rankings (:func:`lint_faq`).
    """
    text = read_text(path)
    try:
        faq = parse_faq(text, str(path))
    except FaqError as exc:
        return exc.problems
    problems = indentation_problems(faq, text)
    try:
        contacts = load_contacts(path, env)
    except FaqError as exc:
        problems += exc.problems
        contacts = Contacts()
    semantic = None
    if encoder is not None:
        semantic = SemanticIndex.build(faq, encoder, cache=cache, progress=progress)
    problems += lint_faq(faq, today=today, semantic=semantic, contacts=contacts,
                         workers=workers)
    return sorted(problems, key=Problem.sort_key)


def lint_faq(faq: FaqFile, *, today: dt.date | None = None,
             semantic: SemanticIndex | None = None,
             similar: float = SIMILAR_PHRASINGS,
             contacts: Contacts | None = None, workers: int | None = None) -> list[Problem]:
    """``workers``: processes that share the rankings of the phrasings (the bulk of the time
    in a big FAQ); default one per available core, 1 = all in this process. The findings are
    the same for any number."""
    today = today or dt.date.today()
    problems = _entry_checks(faq, today)
    problems += placeholder_problems(faq) + category_problems(faq)
    problems += contact_problems(faq, contacts or Contacts())
    problems += _confusions(faq, Matcher(faq), workers)
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


@dataclass(frozen=True, slots=True)
class _RankCheck:
    """A phrasing whose finding needs a ranking: without the phrasing's own rows (``exclude``)
    when its entry has others, else as it stands (``exclude`` empty)."""

    number: int
    phrasing: int
    text: str
    line: int | None
    analysis: Analysis
    exclude: tuple[int, ...]


def _confusions(faq: FaqFile, matcher: Matcher, workers: int | None) -> list[Problem]:
    """Phrasings that do not single out their entry. One ranking per phrasing: without the
    phrasing itself when its entry has others (would a paraphrase still reach it?), else as
    it stands. The exact wording is always answered by its entry (the exact-wording rule),
    unless two entries share it."""
    rows_of_entry: dict[int, list[int]] = {}
    for row_id, row in enumerate(matcher.index.rows):
        rows_of_entry.setdefault(row.entry, []).append(row_id)
    analyses = [[matcher.analyze(text) for text in entry.phrasings] for entry in faq.entries]
    owners: dict[str, list[int]] = {}
    for number, entry_analyses in enumerate(analyses):
        for analysis in entry_analyses:
            owners.setdefault(analysis.normalized, []).append(number)
    found: list[list[Problem]] = []  # per phrasing, in file order
    checks: list[tuple[int, _RankCheck]] = []
    for number, entry in enumerate(faq.entries):
        for phrasing, text in enumerate(entry.phrasings):
            line = faq.line_of(*_phrasing_loc(number, phrasing))
            analysis = analyses[number][phrasing]
            found.append([])
            if not analysis.terms:
                found[-1].append(Problem(
                    faq.path, line, entry.id,
                    f"в формулировке «{text}» не осталось значимых слов: по ней запись "
                    "не найти, перепишите её"))
                continue
            others = [other for other in owners[analysis.normalized] if other != number]
            if others:
                found[-1].append(_twins(matcher, entry.id, text, line, others[0]))
                continue
            if len(analysis.terms) < 2:
                found[-1].append(_too_general(matcher, entry.id, text, line, analysis))
            own_rows = rows_of_entry.get(number, [])
            this_row = [r for r in own_rows if matcher.index.rows[r].phrasing == phrasing]
            exclude = tuple(this_row) if len(own_rows) >= 2 else ()
            checks.append((len(found) - 1,
                           _RankCheck(number, phrasing, text, line, analysis, exclude)))
    ranked = _run_checks(matcher, [check for _, check in checks], workers)
    for (slot, _), problems in zip(checks, ranked, strict=True):
        found[slot] += problems
    return [problem for problems in found for problem in problems]


# The matcher and checks of the running lint, inherited by forked workers (never pickled).
_SHARED: tuple[Matcher, Sequence[_RankCheck]] | None = None


def _run_checks(matcher: Matcher, checks: Sequence[_RankCheck],
                workers: int | None) -> list[list[Problem]]:
    """Findings of each check, in order. Big FAQs are shared among forked processes, which
    inherit the built matcher; without ``fork`` (or with other threads running, which a fork
    must not copy mid-work) everything runs here."""
    global _SHARED
    count = _available_cores() if workers is None else workers
    if (count < 2 or len(checks) < PARALLEL_FROM or threading.active_count() > 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        return [_check(matcher, check) for check in checks]
    _SHARED = (matcher, checks)
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            return pool.map(_shared_check, range(len(checks)), chunksize=16)
    finally:
        _SHARED = None


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _shared_check(number: int) -> list[Problem]:
    assert _SHARED is not None  # set by _run_checks before the workers were forked
    matcher, checks = _SHARED
    return _check(matcher, checks[number])


def _check(matcher: Matcher, check: _RankCheck) -> list[Problem]:
    entry_id = matcher.index.entry_ids[check.number]
    if not check.exclude:
        return _as_it_stands(matcher, entry_id, check.text, check.line, check.analysis)
    return _leave_one_out(matcher, check)


def _twins(matcher: Matcher, entry_id: str, text: str, line: int | None, other: int) -> Problem:
    other_id = matcher.index.entry_ids[other]
    message = (f"записи '{entry_id}' и '{other_id}' не различить: у обеих есть формулировка "
               f"«{text}» (после нормализации одинаковая); оставьте её в одной записи, "
               "сделайте вопросы различимее или объедините записи")
    return Problem(matcher.faq.path, line, entry_id, message)


def _too_general(matcher: Matcher, entry_id: str, text: str, line: int | None,
                 analysis: Analysis) -> Problem:
    message = (f"формулировка «{text}» слишком общая: от неё остаётся одно слово "
               f"«{analysis.normalized}», и бот ответит этой записью на любой вопрос, который "
               "сводится к нему; добавьте слова, которые отличают эту запись")
    return Problem(matcher.faq.path, line, entry_id, message, severity="warning")


def _as_it_stands(matcher: Matcher, entry_id: str, text: str, line: int | None,
                  analysis: Analysis) -> list[Problem]:
    """The only phrasing of its entry: does the wording single the entry out by score?"""
    ranked = rank(matcher.index, analysis.terms, matcher.config)
    result = matcher.result(text, analysis, ranked, exact=False)
    if result.decision == "answer" and result.entry_id == entry_id:
        return []
    config = matcher.config
    ids = matcher.index.entry_ids
    own = next((item.score for item in ranked if ids[item.entry] == entry_id), 0.0)
    rival = next((item for item in ranked if ids[item.entry] != entry_id), None)
    if rival is None or own - rival.score >= config.clarify_margin:
        confidence = config.confidence(own, rival.score if rival is not None else 0.0)
        message = (f"формулировка «{text}» слишком общая: дословно бот ответит этой записью, "
                   f"но по оценке она получает {own:.0f} (уверенность {confidence:.0f}) при "
                   f"пороге ответа {config.answer_threshold:.0f}, и на похожие вопросы бот "
                   "переспросит; добавьте в неё слова, которые отличают эту запись")
        return [Problem(matcher.faq.path, line, entry_id, message, severity="warning")]
    if rival.score > own + config.clarify_margin:
        message = (f"формулировка «{text}» подходит к записи '{ids[rival.entry]}' "
                   f"({rival.score:.0f}) больше, чем к своей ({own:.0f}): похожий вопрос "
                   "получит чужой ответ; добавьте альтернативы или уточните вопрос")
    else:
        message = (f"записи '{entry_id}' и '{ids[rival.entry]}' не различить: на «{text}» "
                   f"они получают {own:.0f} и {rival.score:.0f}; сделайте вопросы "
                   "различимее или объедините записи")
    return [Problem(matcher.faq.path, line, entry_id, message)]


def _leave_one_out(matcher: Matcher, check: _RankCheck) -> list[Problem]:
    """Without this phrasing, would a paraphrase of it still reach its own entry?"""
    number, text = check.number, check.text
    ranked = rank(matcher.index, check.analysis.terms, matcher.config, exclude=check.exclude)
    if not ranked or ranked[0].entry == number:
        return []
    ids = matcher.index.entry_ids
    own = next((item.score for item in ranked if item.entry == number), 0.0)
    rival = ranked[0]
    result = matcher.result(text, check.analysis, ranked, exact=False)
    if result.decision != "answer":
        return []  # alternatives are meant to differ; only a confident wrong answer is a defect
    kind = "альтернатива" if check.phrasing else "вопрос"
    message = (
        f"{kind} «{text}» ближе к записи '{ids[rival.entry]}' ({rival.score:.0f}), чем к "
        f"остальным формулировкам своей записи ({own:.0f}): похожий вопрос получит чужой "
        "ответ; добавьте близкие альтернативы или уточните формулировку"
    )
    return [Problem(matcher.faq.path, check.line, ids[number], message)]


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
