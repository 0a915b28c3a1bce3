"""Fix text typed with the wrong keyboard layout (QWERTY keys pressed for ЙЦУКЕН)."""

from __future__ import annotations

from collections.abc import Callable

_LATIN = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`" + 'QWERTYUIOP{}ASDFGHJKL:"ZXCVBNM<>~'
_CYRILLIC = "йцукенгшщзхъфывапролджэячсмитьбюё" + "ЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ"
# Shifted digits and the slash key differ between the layouts as well.
_LATIN_PUNCT = "@#$^&/?|"
_CYRILLIC_PUNCT = '"№;:?.,/'

TO_CYRILLIC = str.maketrans(_LATIN + _LATIN_PUNCT, _CYRILLIC + _CYRILLIC_PUNCT)

MIN_KNOWN_SHARE = 0.5


def _counts(text: str) -> tuple[int, int]:
    latin = cyrillic = 0
    for char in text:
        if "a" <= char <= "z" or "A" <= char <= "Z":
            latin += 1
        elif "а" <= char <= "я" or "А" <= char <= "Я" or char in "ёЁ":
            cyrillic += 1
    return latin, cyrillic


def to_cyrillic(text: str) -> str:
    """Retype text key by key on the Russian layout: ``ghbdtn`` → ``привет``."""
    return text.translate(TO_CYRILLIC)


def fix_layout(
    text: str, *, is_known: Callable[[str], bool], tokenize: Callable[[str], list[str]]
) -> str | None:
    """Return the retyped text when Latin letters dominate and it reads as Russian, else None.

    Rule (docs/matching.md): convert only when Latin letters outnumber Cyrillic ones, and accept
    the conversion when at least half of its words are known Russian words.
    """
    latin, cyrillic = _counts(text)
    if latin <= cyrillic:
        return None
    converted = to_cyrillic(text)
    words = [word for word in tokenize(converted.lower()) if word.isalpha()]
    if not words:
        return None
    known = sum(1 for word in words if is_known(word))
    return converted if known / len(words) >= MIN_KNOWN_SHARE else None


def fix_word(word: str, *, is_known: Callable[[str], bool]) -> str | None:
    """Retype one all-Latin word inside Russian text (``как получить gjcj,bt``)."""
    if len(word) < 4:
        return None
    converted = to_cyrillic(word).lower()
    return converted if converted.isalpha() and is_known(converted) else None
