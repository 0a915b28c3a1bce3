"""Bare topic words ("пособие", "прививка", "сертификат"): a citizen who writes only that
wants to see what the bot knows, so the bot opens its menu instead of searching the FAQ.

Each bot lists its words in ``bots/<name>/menu_words.yaml``: ``topic`` words open the list of
the FAQ's sections, the words under ``categories`` open one section's questions. A message
matches when its words, without the small-talk filler ("пожалуйста", "ну"...), are exactly
one of the listed phrases. A bot without the file has no menu words.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bots.smalltalk import SmallTalkError, words
from bots.topic import Suite
from bots.yaml_files import read_mapping

MENU_WORDS_FILE = "menu_words.yaml"

Phrase = tuple[str, ...]


class MenuWordsError(SmallTalkError):
    """A bot's ``menu_words.yaml`` is broken: like the small-talk lists, it stops start-up."""


@dataclass(frozen=True)
class MenuChoice:
    """What a bare topic word opens: the list of sections, or one ``category`` by name."""

    category: str | None = None


@dataclass(frozen=True)
class MenuWords:
    phrases: dict[Phrase, MenuChoice] = field(default_factory=dict)

    def find(self, content: Phrase) -> MenuChoice | None:
        """The menu a message opens, given its words without filler; None for a question."""
        return self.phrases.get(content)

    def without(self, filler: Collection[str]) -> MenuWords:
        """The same words with ``filler`` left out, as messages are compared
        ("пособие на ребёнка" matches "пособие ребенка" once "на" is filler)."""
        return MenuWords({tuple(w for w in phrase if w not in filler): choice
                          for phrase, choice in self.phrases.items()})

    @classmethod
    def load(cls, path: Path, categories: Collection[str]) -> MenuWords:
        """Words from ``path`` (none when it does not exist); ``categories`` are the FAQ's
        sections. Raises :class:`MenuWordsError` naming the file and what is wrong."""
        if not path.exists():
            return cls()
        data = read_mapping(path, MenuWordsError)
        if unknown := sorted(set(data) - {"topic", "categories"}):
            msg = (f"{path}: неизвестные ключи {', '.join(map(str, unknown))}; "
                   "возможны: topic, categories")
            raise MenuWordsError(msg)
        phrases = dict.fromkeys(_phrases(path, "topic", data.get("topic", [])), MenuChoice())
        sections = data.get("categories") or {}
        if not isinstance(sections, dict):
            msg = f"{path}: «categories» — это «название раздела: [слова]»"
            raise MenuWordsError(msg)
        for name, listed in sections.items():
            if name not in categories:
                msg = (f"{path}: раздела «{name}» нет в FAQ бота; есть: "
                       f"{', '.join(categories) or 'ни одного'}")
                raise MenuWordsError(msg)
            phrases |= dict.fromkeys(_phrases(path, f"categories.{name}", listed),
                                     MenuChoice(name))
        return cls(phrases)


def load_menus(suite: Suite) -> dict[str, MenuWords]:
    """Every bot's menu words, from ``menu_words.yaml`` next to its FAQ; raises
    :class:`MenuWordsError` when one of the files is broken."""
    return {name: MenuWords.load(topic.faq.path.parent / MENU_WORDS_FILE,
                                 topic.faq.current.categories)
            for name, topic in suite.topics.items()}


def _phrases(path: Path, key: str, value: object) -> Iterable[Phrase]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        msg = f"{path}: «{key}» должен быть списком слов или фраз (строк)"
        raise MenuWordsError(msg)
    for item in value:
        phrase = tuple(words(item))
        if not phrase:
            msg = f"{path}: «{key}»: «{item}» — в фразе нет слов"
            raise MenuWordsError(msg)
        yield phrase
