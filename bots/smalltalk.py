"""Recognise greetings, thanks, requests for a person and abuse, which need a short reply
or an operator rather than an FAQ search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bots.yaml_files import read_mapping

_WORD = re.compile(r"[a-zа-я0-9]+")
#: A request for a person in other words ("соедините меня с живым человеком") is short; a
#: longer message that mentions a person is a question for the FAQ.
PERSON_MAX_WORDS = 8


class SmallTalkKind(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    FAREWELL = "farewell"
    ACKNOWLEDGE = "acknowledge"  # "ок", "понятно"
    ABUSE = "abuse"
    PERSON = "person"  # the citizen asks for a human


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("ё", "е"))


class SmallTalkError(ValueError):
    """``smalltalk.yaml``, or another file of phrases shared by the bots, cannot be read or
    is wrong: no bot can start without it."""


_LISTS = ("greetings", "thanks", "farewells", "acknowledgements", "person", "person_requests",
          "person_words", "filler", "abuse")
_KINDS = (("greetings", SmallTalkKind.GREETING), ("thanks", SmallTalkKind.THANKS),
          ("farewells", SmallTalkKind.FAREWELL),
          ("acknowledgements", SmallTalkKind.ACKNOWLEDGE), ("person", SmallTalkKind.PERSON))
# When a message holds several kinds: a request for a person wins; "Привет, спасибо" is
# thanks; a farewell wins over a greeting; "ок, спасибо" is thanks.
_PRECEDENCE = (SmallTalkKind.PERSON, SmallTalkKind.THANKS, SmallTalkKind.FAREWELL,
               SmallTalkKind.GREETING, SmallTalkKind.ACKNOWLEDGE)


def _phrases(path: Path, data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        msg = f"{path}: «{key}» должен быть списком фраз (строк)"
        raise SmallTalkError(msg)
    return value


@dataclass(frozen=True)
class WordSet:
    """Words, and stems written with a trailing ``*`` that match any word starting so."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def of(cls, items: list[str]) -> WordSet:
        listed = [w.lower().replace("ё", "е") for w in items]
        return cls(frozenset(w for w in listed if not w.endswith("*")),
                   tuple(w[:-1] for w in listed if w.endswith("*")))

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word in self.exact or word.startswith(self.prefixes))


@dataclass(frozen=True)
class SmallTalk:
    phrases: dict[tuple[str, ...], SmallTalkKind]
    filler: frozenset[str]
    abuse: WordSet
    person_requests: WordSet = WordSet()
    person_words: WordSet = WordSet()

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
        for key, kind in _KINDS:
            for phrase in lists[key]:
                phrases[tuple(words(phrase))] = kind
        return cls(
            phrases=phrases,
            filler=frozenset(w for f in lists["filler"] for w in words(f)),
            abuse=WordSet.of(lists["abuse"]),
            person_requests=WordSet.of(lists["person_requests"]),
            person_words=WordSet.of(lists["person_words"]),
        )

    def is_abusive(self, text: str) -> bool:
        return any(w in self.abuse for w in words(text))

    def content(self, text: str) -> tuple[str, ...]:
        """The words of ``text`` without filler ("пожалуйста", "ну", "с")."""
        return tuple(w for w in words(text) if w not in self.filler)

    def classify(self, text: str) -> SmallTalkKind | None:
        """The kind of small talk ``text`` is, or None if it may be a real question."""
        if self.is_abusive(text):
            return SmallTalkKind.ABUSE
        tokens = words(text)
        found = self._listed(tokens)
        if found is None:
            return SmallTalkKind.PERSON if self.asks_for_person(tokens) else None
        return next((kind for kind in _PRECEDENCE if kind in found), None)

    def _listed(self, tokens: list[str]) -> set[SmallTalkKind] | None:
        """The kinds of the listed phrases ``tokens`` consist of (with filler); None when
        some word is neither."""
        found: set[SmallTalkKind] = set()
        i = 0
        longest = max((len(p) for p in self.phrases), default=1)
        while i < len(tokens):
            for size in range(longest, 0, -1):
                kind = self.phrases.get(tuple(tokens[i : i + size]))
                if kind is not None:
                    found.add(kind)
                    i += size
                    break
            else:
                if tokens[i] not in self.filler:
                    return None
                i += 1
        return found

    def asks_for_person(self, tokens: list[str]) -> bool:
        """A short request for a person in other words: only request words ("позовите",
        "хочу поговорить"), person words ("оператора", "живым человеком") and filler, with at
        least one of each of the first two."""
        if not tokens or len(tokens) > PERSON_MAX_WORDS:
            return False
        person = request = False
        for token in tokens:
            if token in self.person_words:
                person = True
            elif token in self.person_requests:
                request = True
            elif token not in self.filler:
                return False
        return person and request
