"""Recognise greetings, thanks and abuse, which need a short reply rather than an FAQ search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

_WORD = re.compile(r"[a-zа-я0-9]+")


class SmallTalkKind(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    FAREWELL = "farewell"
    ABUSE = "abuse"
    PERSON = "person"  # the citizen asks for a human


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


@dataclass(frozen=True)
class SmallTalk:
    phrases: dict[tuple[str, ...], SmallTalkKind]
    filler: frozenset[str]
    abuse_words: frozenset[str]
    abuse_prefixes: tuple[str, ...]

    @classmethod
    def from_file(cls, path: Path) -> SmallTalk:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        phrases: dict[tuple[str, ...], SmallTalkKind] = {}
        for key, kind in (("greetings", SmallTalkKind.GREETING), ("thanks", SmallTalkKind.THANKS),
                          ("farewells", SmallTalkKind.FAREWELL),
                          ("person", SmallTalkKind.PERSON)):
            for phrase in data.get(key, []):
                phrases[tuple(words(phrase))] = kind
        abuse = [w.lower().replace("ё", "е") for w in data.get("abuse", [])]
        return cls(
            phrases=phrases,
            filler=frozenset(w for f in data.get("filler", []) for w in words(f)),
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
