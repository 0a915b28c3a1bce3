"""Recognise greetings, thanks and abuse, which need a short reply rather than an FAQ search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bots.yaml_files import read_mapping

_WORD = re.compile(r"[a-zа-я0-9]+")


class SmallTalkKind(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    FAREWELL = "farewell"
    ABUSE = "abuse"
    PERSON = "person"  # the citizen asks for a human


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


class SmallTalkError(ValueError):
    """``smalltalk.yaml`` cannot be read or is not lists of phrases."""


_LISTS = ("greetings", "thanks", "farewells", "person", "abuse", "filler")


def _phrases(path: Path, data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        msg = f"{path}: «{key}» должен быть списком фраз (строк)"
        raise SmallTalkError(msg)
    return value


@dataclass(frozen=True)
class SmallTalk:
    phrases: dict[tuple[str, ...], SmallTalkKind]
    filler: frozenset[str]
    abuse_words: frozenset[str]
    abuse_prefixes: tuple[str, ...]

    @classmethod
    def from_file(cls, path: Path) -> SmallTalk:
        """Raises :class:`SmallTalkError` naming the file and the list that is wrong."""
        data = read_mapping(path, SmallTalkError)
        if unknown := sorted(set(data) - set(_LISTS)):
            msg = (f"{path}: неизвестные списки {', '.join(unknown)}; "
                   f"возможны: {', '.join(_LISTS)}")
            raise SmallTalkError(msg)
        lists = {key: _phrases(path, data, key) for key in _LISTS}
        phrases: dict[tuple[str, ...], SmallTalkKind] = {}
        for key, kind in (("greetings", SmallTalkKind.GREETING), ("thanks", SmallTalkKind.THANKS),
                          ("farewells", SmallTalkKind.FAREWELL),
                          ("person", SmallTalkKind.PERSON)):
            for phrase in lists[key]:
                phrases[tuple(words(phrase))] = kind
        abuse = [w.lower().replace("ё", "е") for w in lists["abuse"]]
        return cls(
            phrases=phrases,
            filler=frozenset(w for f in lists["filler"] for w in words(f)),
            abuse_words=frozenset(w for w in abuse if not w.endswith("*")),
            abuse_prefixes=tuple(w[:-1] for w in abuse if w.endswith("*")),
        )

    def is_abusive(self, text: str) -> bool:
        return any(
            w in self.abuse_words or w.startswith(self.abuse_prefixes) for w in words(text)
        )

    def classify(self, text: str) -> SmallTalkKind | None:
        """The kind of small talk ``text`` is, or None if it may be a real question."""
        if self.is_abusive(text):
            return SmallTalkKind.ABUSE
        tokens = words(text)
        found: list[SmallTalkKind] = []
        i = 0
        longest = max((len(p) for p in self.phrases), default=1)
        while i < len(tokens):
            for size in range(longest, 0, -1):
                kind = self.phrases.get(tuple(tokens[i : i + size]))
                if kind is not None:
                    found.append(kind)
                    i += size
                    break
            else:
                if tokens[i] not in self.filler:
                    return None
                i += 1
        if not found:
            return None
        # A request for a person wins; "Привет, спасибо" is thanks; a farewell wins over a
        # greeting.
        for kind in (SmallTalkKind.PERSON, SmallTalkKind.THANKS, SmallTalkKind.FAREWELL):
            if kind in found:
                return kind
        return SmallTalkKind.GREETING
