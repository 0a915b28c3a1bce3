"""Lint checks on the text of an FAQ file: placeholders, misspelt categories, answer lines
indented differently from their neighbours."""

from __future__ import annotations

from collections import Counter

from rapidfuzz import fuzz

from faq.placeholders import find_placeholders
from faq.problems import Problem
from faq.schema import FaqFile

CLOSE_CATEGORY = 85.0  # rapidfuzz ratio of lower-cased names: «Размер выплат» / «Размер выплаты»


def placeholder_problems(faq: FaqFile) -> list[Problem]:
    """Placeholders a citizen would see, in every text of every entry."""
    problems = []
    for number, entry in enumerate(faq.entries):
        texts: list[tuple[tuple[str | int, ...], str]] = [
            (("question",), entry.question), (("answer",), entry.answer),
            *((("alternatives", i), text) for i, text in enumerate(entry.alternatives)),
            *((("links", i), f"{link.title} {link.url}") for i, link in enumerate(entry.links)),
        ]
        for loc, text in texts:
            fragments = find_placeholders(text)
            if not fragments:
                continue
            shown = ", ".join(f"«{fragment}»" for fragment in fragments)
            message = (f"заглушка {shown}: граждане увидят её как есть; впишите настоящие "
                       "данные, а телефон или адрес вынесите в контакты бота и пишите {имя} "
                       "(см. docs/editors.md)")
            problems.append(Problem(faq.path, faq.line_of("entries", number, *loc), entry.id,
                                    message))
    return problems


def category_problems(faq: FaqFile) -> list[Problem]:
    """A category used by one entry only and spelt almost like another: a likely typo that
    would add a button of its own to the bot's menu."""
    counts = Counter(entry.category for entry in faq.entries if entry.category)
    problems = []
    for number, entry in enumerate(faq.entries):
        category = entry.category
        if not category or counts[category] != 1:
            continue
        scored = [
            (fuzz.ratio(category.lower(), other.lower()), counts[other], other)
            for other in counts
            if other != category
        ]
        close = max((item for item in scored if item[0] >= CLOSE_CATEGORY), default=None)
        if close is None:
            continue
        message = (f"категория «{category}» есть только у этой записи и похожа на «{close[2]}» "
                   f"(записей: {close[1]}): если это опечатка, напишите «{close[2]}»; "
                   "иначе в меню бота появится отдельная кнопка с одной записью")
        problems.append(Problem(faq.path, faq.line_of("entries", number, "category"), entry.id,
                                message, severity="warning"))
    return problems


def indentation_problems(faq: FaqFile, text: str) -> list[Problem]:
    """Answer lines that begin with spaces: in a ``|`` block such a line was indented more
    than the first line, and the citizen sees the extra spaces."""
    lines = text.splitlines()
    problems = []
    for number, entry in enumerate(faq.entries):
        start = faq.line_of("entries", number, "answer") or 1
        search_from = start
        for answer_line in entry.answer.splitlines():
            stripped = answer_line.lstrip(" \t")
            if not stripped:
                continue
            line = _find_line(lines, stripped, search_from)
            if line is None:
                continue
            search_from = line + 1
            if stripped == answer_line:
                continue
            message = ("строка ответа сдвинута правее остальных: гражданин увидит лишние "
                       "пробелы в начале; выровняйте её по первой строке ответа")
            problems.append(Problem(faq.path, line, entry.id, message, severity="warning"))
    return problems


def _find_line(lines: list[str], content: str, start: int) -> int | None:
    """1-based number of the first line from ``start`` whose text ends with ``content``."""
    for number in range(start, len(lines) + 1):
        if lines[number - 1].rstrip().endswith(content.rstrip()):
            return number
    return None
