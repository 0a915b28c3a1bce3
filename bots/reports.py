"""Editors' report: what a bot could not answer, grouped by similarity, most frequent first."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from bots.runner import load_topic
from bots.settings import Settings
from escalation.records import Records, UnansweredItem
from faq import Matcher
from faq.cluster import group_similar

REASONS = {"escalated": "нет ответа", "clarify_abandoned": "не выбран вариант",
           "not_helpful": "👎 не помог"}
SHOWN_PER_GROUP = 5


@dataclass(frozen=True)
class Group:
    items: list[UnansweredItem]
    nearest_entry: str | None
    nearest_score: float


def group_unanswered(items: list[UnansweredItem], matcher: Matcher) -> list[Group]:
    groups = []
    for indices in group_similar([item.text for item in items]):
        members = [items[i] for i in indices]
        best = matcher.match(members[0].text).candidates
        groups.append(Group(members, best[0].entry_id if best else None,
                            best[0].score if best else 0.0))
    groups.sort(key=lambda g: -len(g.items))
    return groups


def format_groups(bot: str, groups: list[Group], days_label: str) -> str:
    total = sum(len(g.items) for g in groups)
    lines = [f"Бот {bot}: вопросов без ответа {days_label}: {total}, групп: {len(groups)}"]
    for group in groups:
        reasons = Counter(item.reason for item in group.items)
        why = ", ".join(f"{REASONS.get(r, r)}: {n}" for r, n in reasons.most_common())
        lines.append(f"\n[{len(group.items)}] {why}")
        if group.nearest_entry:
            lines.append(f"    ближайшая запись FAQ: {group.nearest_entry} "
                         f"(оценка {group.nearest_score:.0f})")
        lines.extend(f"    - {item.text}" for item in group.items[:SHOWN_PER_GROUP])
        if len(group.items) > SHOWN_PER_GROUP:
            lines.append(f"    … и ещё {len(group.items) - SHOWN_PER_GROUP}")
    return "\n".join(lines)


async def print_unanswered(settings: Settings, records: Records, bot: str, since: datetime,
                           out: TextIO = sys.stdout) -> int:
    topic = load_topic(settings, settings.bots_dir, bot)
    if topic is None:
        return 2
    items = await records.unanswered(bot=bot, since=since)
    groups = group_unanswered(items, topic.faq.current.matcher)
    out.write(format_groups(bot, groups, f"с {since:%d.%m.%Y}") + "\n")
    return 0
