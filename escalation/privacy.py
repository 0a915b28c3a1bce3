"""Personal numbers in free text (152-FZ): find them and mask them. Pure, no I/O.

Citizens sometimes paste a passport, СНИЛС, ИНН or bank card number into the chat. What is
stored (questions, tickets, the card in the operators' chat) keeps a masked copy; the FAQ
matcher still sees the original text.

What counts as a personal number (digits may be grouped by single spaces, no-break spaces or
dashes; a number glued to other digits never counts):

- **card** — 13–19 digits, Luhn-valid, starting with 2–6 (МИР, Visa, Mastercard, Maestro,
  UnionPay, JCB, Amex), written in one piece or in groups of four (Amex 4-6-5 too). Thousands
  grouping (``2 500 000 000 000 000 рублей``) is not a card grouping.
- **snils** — ``123-456-789 01`` / ``123-456-789-01`` (the СНИЛС layout: always); ``123 456 789
  01`` or ``12345678901`` with a valid СНИЛС checksum, or right after the word «СНИЛС».
  An unformatted 11-digit number starting with 7 or 8 is a phone number unless «СНИЛС» comes
  right before it.
- **inn** — right after the word «ИНН»: 10 or 12 digits; without the word: 12 digits with
  both ИНН check digits valid (a person's ИНН; a 10-digit one belongs to an organisation and
  looks like a phone or a passport).
- **passport** — series and number ``45 12 345678``, ``4512 345678``, ``4512 № 345678``,
  ``серия 4512 номер 345678`` near the words «паспорт», «серия» or «номер»; ten digits in one
  piece (``4512345678``) only after the word «паспорт».

Overlaps are settled in the order card, СНИЛС, ИНН, passport.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    PASSPORT = "passport"
    SNILS = "snils"
    INN = "inn"
    CARD = "card"


@dataclass(frozen=True, slots=True)
class Found:
    """A personal number at ``text[start:end]``."""

    kind: Kind
    start: int
    end: int


#: Digits neither glued to, nor grouped with, other digits on this side.
_ALONE_BEFORE: Final = r"(?<![\d+])(?<!\d[ \u00a0-])"
_ALONE_AFTER: Final = r"(?!\d)(?![ \u00a0-]\d)"
_DIGITS: Final = re.compile(r"\d")
_GROUP: Final = re.compile(r"\d+")
_CARD_MIN: Final = 13
#: The fewest digits any personal number has: a passport (series 4 + number 6), an ИНН (10).
_MIN_DIGITS: Final = 10
_CARD_MAX: Final = 19

# A run of digit groups, each joined to the next by one separator: the card candidates.
_GROUPS: Final = re.compile(r"(?<!\d)\d+(?:[ \u00a0-]\d+)*(?!\d)")
_CURRENCY_AFTER: Final = re.compile(r"\s*(?:руб|р\.|₽|тыс|млн|млрд|коп)", re.IGNORECASE)

_SNILS: Final = re.compile(
    _ALONE_BEFORE + r"(?P<body>\d{3}(?P<s1>[ \u00a0-])\d{3}(?P<s2>[ \u00a0-])\d{3})"
    r"(?:[ \u00a0-]{1,2})(?P<check>\d{2})" + _ALONE_AFTER
)
_ELEVEN: Final = re.compile(_ALONE_BEFORE + r"\d{11}" + _ALONE_AFTER)
_INN: Final = re.compile(_ALONE_BEFORE + r"(?:\d{12}|\d{10})" + _ALONE_AFTER)
_PASSPORT: Final = re.compile(
    _ALONE_BEFORE
    + r"(?P<series>\d{2}[ \u00a0]?\d{2})"
    + r"(?P<middle>[ \u00a0]{0,3}(?:,[ \u00a0]{0,3})?(?:(?:номер|№|n)\.?[ \u00a0]{0,3})?)"
    + r"(?P<number>\d{6})"
    + _ALONE_AFTER,
    re.IGNORECASE,
)

_SNILS_WORD: Final = re.compile(r"\bснилс\b", re.IGNORECASE)
_INN_WORD: Final = re.compile(r"\bинн\b", re.IGNORECASE)
_PASSPORT_WORD: Final = re.compile(r"паспорт", re.IGNORECASE)
_PASSPORT_WORDS: Final = re.compile(r"паспорт|\bсери(?:я|и|ю|ей)\b|\bномер", re.IGNORECASE)
#: How far before a number its keyword may be («СНИЛС: », «мой ИНН — »).
_KEYWORD_NEAR: Final = 20
#: Passport keywords may be further away («паспорт гражданина РФ серия ...»).
_PASSPORT_NEAR: Final = 40
_PASSPORT_AFTER: Final = 30

LABELS: Final = {
    Kind.PASSPORT: "[паспорт скрыт]",
    Kind.SNILS: "[СНИЛС скрыт]",
    Kind.INN: "[ИНН скрыт]",
}
_MASKED: Final = re.compile(
    "|".join(re.escape(label) for label in LABELS.values()) + r"|\[карта •••• \d{4}\]"
)


# --- checksums ---------------------------------------------------------------------------------

def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def snils_valid(digits: str) -> bool:
    """The СНИЛС check number (last two digits) of an 11-digit СНИЛС."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    check = 0 if total in (100, 101) else total
    return check == int(digits[9:])


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_valid(digits: str) -> bool:
    """Check digits of a 10-digit (organisation) or 12-digit (person) ИНН."""
    if not digits.isdigit():
        return False
    if len(digits) == 10:
        return _inn_digit(digits, (2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(digits[9])
    if len(digits) == 12:
        return (_inn_digit(digits, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(digits[10])
                and _inn_digit(digits, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == int(digits[11]))
    return False


# --- finders -----------------------------------------------------------------------------------

def _digits(text: str) -> str:
    return "".join(_DIGITS.findall(text))


def _word_before(pattern: re.Pattern[str], text: str, start: int, near: int) -> bool:
    return pattern.search(text, max(0, start - near), start) is not None


def _card_grouping(sizes: list[int]) -> bool:
    """One piece, groups of four (the last one may be shorter), or Amex/Diners 4-6-4/5."""
    if len(sizes) == 1:
        return True
    if all(size == 4 for size in sizes[:-1]) and 1 <= sizes[-1] <= 4:
        return True
    return sizes in ([4, 6, 5], [4, 6, 4])


def _cards(text: str) -> list[Found]:
    found: list[Found] = []
    for run in _GROUPS.finditer(text):
        groups = [(run.start() + m.start(), run.start() + m.end())
                  for m in _GROUP.finditer(run.group())]
        first = 0
        while first < len(groups):
            hit = None
            size = 0
            # The longest card-shaped span of whole groups starting at this group.
            for last in range(first, len(groups)):
                size += groups[last][1] - groups[last][0]
                if size > _CARD_MAX:
                    break
                start, end = groups[first][0], groups[last][1]
                digits = _digits(text[start:end])
                if (size >= _CARD_MIN and digits[0] in "23456"
                        and _card_grouping([e - s for s, e in groups[first:last + 1]])
                        and luhn_valid(digits) and not _CURRENCY_AFTER.match(text, end)):
                    hit = (last, Found(Kind.CARD, start, end))
            if hit is None:
                first += 1
            else:
                found.append(hit[1])
                first = hit[0] + 1
    return found


def _snils(text: str) -> list[Found]:
    found = []
    for match in _SNILS.finditer(text):
        digits = _digits(match.group())
        dashed = match.group("s1") == "-" and match.group("s2") == "-"
        if dashed or snils_valid(digits) or _word_before(_SNILS_WORD, text, match.start(),
                                                         _KEYWORD_NEAR):
            found.append(Found(Kind.SNILS, match.start(), match.end()))
    for match in _ELEVEN.finditer(text):
        digits = match.group()
        keyword = _word_before(_SNILS_WORD, text, match.start(), _KEYWORD_NEAR)
        phone_like = digits[0] in "78"
        if keyword or (snils_valid(digits) and not phone_like):
            found.append(Found(Kind.SNILS, match.start(), match.end()))
    return found


def _inn(text: str) -> list[Found]:
    found = []
    for match in _INN.finditer(text):
        digits = match.group()
        keyword = _word_before(_INN_WORD, text, match.start(), _KEYWORD_NEAR)
        if keyword or (len(digits) == 12 and inn_valid(digits)):
            found.append(Found(Kind.INN, match.start(), match.end()))
    return found


def _passports(text: str) -> list[Found]:
    found = []
    for match in _PASSPORT.finditer(text):
        start, end = match.start(), match.end()
        in_one_piece = not match.group("middle") and len(match.group("series")) == 4
        if in_one_piece:
            ok = _word_before(_PASSPORT_WORD, text, start, _PASSPORT_NEAR)
        else:
            ok = (_word_before(_PASSPORT_WORDS, text, start, _PASSPORT_NEAR)
                  or "№" in match.group("middle")
                  or _PASSPORT_WORD.search(text, end, end + _PASSPORT_AFTER) is not None)
        if ok:
            found.append(Found(Kind.PASSPORT, start, end))
    return found


def find_personal_numbers(text: str) -> list[Found]:
    """Every personal number in ``text``, in order of position, without overlaps."""
    if len(_DIGITS.findall(text)) < _MIN_DIGITS:  # most messages: one pass in C, done
        return []
    accepted: list[Found] = []
    for finder in (_cards, _snils, _inn, _passports):
        for item in finder(text):
            if all(item.end <= other.start or item.start >= other.end for other in accepted):
                accepted.append(item)
    return sorted(accepted, key=lambda item: item.start)


def has_personal_numbers(text: str) -> bool:
    return bool(find_personal_numbers(text) or find_personal_numbers(_without_marks(text)))


def label(kind: Kind, number: str) -> str:
    """What replaces a number: ``[паспорт скрыт]``…, a card keeps its last four digits."""
    if kind is Kind.CARD:
        return f"[карта •••• {_digits(number)[-4:]}]"
    return LABELS[kind]


def _without_marks(text: str) -> str:
    """Combining marks removed (a stress accent in «па́спорт», marks between digits), so
    that they cannot hide a number from :func:`find_personal_numbers`."""
    if text.isascii():
        return text
    return "".join(char for char in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(char) or char in "\u0306\u0308")


def mask(text: str) -> str:
    """``text`` with every personal number replaced by its :func:`label`; combining marks
    are dropped first when they would hide one."""
    found = find_personal_numbers(text)
    if not found:
        plain = _without_marks(text)
        found = find_personal_numbers(plain) if plain != text else []
        if not found:
            return text
        text = unicodedata.normalize("NFC", plain)
        found = find_personal_numbers(text)
    parts = []
    position = 0
    for item in found:
        parts.append(text[position:item.start])
        parts.append(label(item.kind, text[item.start:item.end]))
        position = item.end
    parts.append(text[position:])
    return "".join(parts)


def is_masked(text: str) -> bool:
    """Whether ``text`` carries a mask label (it was masked before it was stored)."""
    return _MASKED.search(text) is not None
