"""Editors' report: what a bot could not answer, grouped by meaning, most frequent first.

Each group shows how many questions it holds, two or three of them and the FAQ entry they
came closest to, so the editor sees which entry to extend (add the questions to its
alternatives) or which new entry to write next. Questions are grouped by the sentence encoder
(:func:`faq.cluster.group_by_meaning`); without it, by their words, and the report says so.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bots.encoding import LEXICAL, load_semantics
from bots.loading import load_topic
from bots.settings import Settings
from bots.topic import discover
from escalation.records import Records, UnansweredItem
from faq import Matcher
from faq.cluster import group_by_meaning, group_similar
from faq.progress import ProgressLine

REASONS = {"escalated": "нет ответа", "clarify_abandoned": "не выбран вариант",
           "not_helpful": "👎 не помог"}
SHOWN_PER_GROUP = 3


@dataclass(frozen=True)
class Group:
    items: list[UnansweredItem]  # the most typical question first
    nearest_entry: str | None
    nearest_score: float  # the matcher's score (combined when it has an encoder), 0–100
    nearest_question: str = ""  # the entry's question, for the editor
    nearest_semantic: float | None = None  # cosine with the entry's closest phrasing
    relevant: bool = True  # False: the matcher finds no entry relevant (a new topic)

    def examples(self) -> list[str]:
        """Up to :data:`SHOWN_PER_GROUP` different texts, the most typical first."""
        return list(dict.fromkeys(item.text for item in self.items))[:SHOWN_PER_GROUP]


def _group_indices(texts: list[str], matcher: Matcher) -> list[list[int]]:
    if matcher.encoder is None:
        return group_similar(texts)
    return group_by_meaning(texts, matcher.encoder.encoder,
                            progress=ProgressLine("векторы вопросов без ответа"))


def group_unanswered(items: list[UnansweredItem], matcher: Matcher) -> list[Group]:
    """Groups of similar questions, largest first, each with the FAQ entry nearest to its
    most typical question. Blocking (it may encode every question): run it off the loop."""
    groups = []
    for indices in _group_indices([item.text for item in items], matcher):
        members = [items[i] for i in indices]
        result = matcher.match(members[0].text)
        top = result.explanation.top[0] if result.explanation.top else None
        if top is None:
            groups.append(Group(members, None, 0.0))
            continue
        entry = matcher.faq.entry(top.entry_id)
        groups.append(Group(members, top.entry_id, top.score, entry.question, top.semantic,
                            relevant=result.decision != "escalate"))
    groups.sort(key=lambda g: -len(g.items))
    return groups


def _nearest(group: Group) -> str:
    meaning = "" if group.nearest_semantic is None else f", по смыслу {group.nearest_semantic:.2f}"
    far = "" if group.relevant else " — ни одна запись не подходит: новая тема или не к этому боту"
    return (f"    ближайшая запись FAQ: {group.nearest_entry} «{group.nearest_question}» "
            f"(оценка {group.nearest_score:.0f}{meaning}){far}")


def format_groups(bot: str, groups: list[Group], days_label: str) -> str:
    total = sum(len(g.items) for g in groups)
    lines = [f"Бот {bot}: вопросов без ответа {days_label}: {total}, групп: {len(groups)}"]
    for group in groups:
        reasons = Counter(item.reason for item in group.items)
        why = ", ".join(f"{REASONS.get(r, r)}: {n}" for r, n in reasons.most_common())
        lines.append(f"\n[{len(group.items)}] {why}")
        if group.nearest_entry:
            lines.append(_nearest(group))
        examples = group.examples()
        lines.extend(f"    - {text}" for text in examples)
        hidden = len(group.items) - len(examples)
        if hidden:
            repeats = len({item.text for item in group.items}) == len(examples)
            lines.append(f"    … и ещё {hidden}" + (" (повторы показанных)" if repeats else ""))
    return "\n".join(lines)


CSV_HEADER = ("группа", "вопросов в группе", "вопрос", "причина", "когда",
              "ближайшая запись", "вопрос записи", "оценка")


def write_csv(groups: list[Group], path: Path) -> int:
    """One row per question, grouped as in the report; UTF-8 with BOM and «;» between
    columns, so Excel opens it in Russian as is. Returns the number of rows."""
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(CSV_HEADER)
        for number, group in enumerate(groups, start=1):
            for item in group.items:
                writer.writerow((
                    number, len(group.items), item.text, REASONS.get(item.reason, item.reason),
                    f"{item.created_at:%Y-%m-%d %H:%M}", group.nearest_entry or "",
                    group.nearest_question, f"{group.nearest_score:.0f}"))
                rows += 1
    return rows


def unknown_bot(settings: Settings, bot: str) -> str | None:
    """The error to show when ``bot`` is not one of the bots in ``settings.bots_dir``."""
    names = discover(settings.bots_dir)
    if bot in names:
        return None
    close = difflib.get_close_matches(bot, names, n=1)
    guess = f" Возможно, имелся в виду «{close[0]}»." if close else ""
    known = ", ".join(names) or "ни одного (нет папок с faq.yaml)"
    example = f" Пример: python bot.py unanswered --bot {names[0]}" if names else ""
    return (f"ошибка: бота «{bot}» нет; боты: {known} (папки с faq.yaml в "
            f"{settings.bots_dir}).{guess}{example}")


async def print_unanswered(settings: Settings, records: Records, bot: str, since: datetime,
                           out: TextIO = sys.stdout, err: TextIO = sys.stderr, *,
                           csv_path: Path | None = None) -> int:
    problem = unknown_bot(settings, bot)
    if problem is not None:
        err.write(problem + "\n")
        return 2
    items = await records.unanswered(bot=bot, since=since)
    semantics = await asyncio.to_thread(load_semantics, settings) if items else LEXICAL
    if items and semantics.encoder is None and settings.faq_encoder != "off":
        err.write(f"модель смысла не загрузилась ({semantics.problem}): вопросы "
                  "сгруппированы только по словам\n")
    topic = await asyncio.to_thread(load_topic, settings, settings.bots_dir, bot, semantics)
    if topic is None:
        return 2
    groups = await asyncio.to_thread(group_unanswered, items, topic.faq.current.matcher)
    out.write(format_groups(bot, groups, f"с {since:%d.%m.%Y}") + "\n")
    if csv_path is not None:
        try:
            rows = await asyncio.to_thread(write_csv, groups, csv_path)
        except OSError as error:
            err.write(f"ошибка: не удалось записать {csv_path}: {error.strerror or error}\n")
            return 2
        out.write(f"CSV для Excel: {csv_path} (строк: {rows})\n")
    return 0
