"""Split long texts for Telegram's 4096-unit message limit.

Telegram counts message length, entity offsets and entity lengths in UTF-16 code units. A text
is cut at the last paragraph break, line break or space that fits, never inside a word (unless a
single word is longer than the limit) and never inside a formatting entity (unless the entity
itself is longer than the limit, in which case it is clipped into both parts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aiogram.types import MessageEntity

TELEGRAM_TEXT_LIMIT: Final = 4096


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    entities: tuple[MessageEntity, ...] = ()


def _prefix_units(text: str) -> list[int]:
    """``units[i]`` is the UTF-16 offset of character ``i``; ``units[len(text)]`` is the total."""
    units = [0] * (len(text) + 1)
    for i, ch in enumerate(text):
        units[i + 1] = units[i] + (2 if ord(ch) > 0xFFFF else 1)
    return units


def _inside_entity(unit: int, entities: tuple[MessageEntity, ...]) -> bool:
    return any(e.offset < unit < e.offset + e.length for e in entities)


def _choose_cut(
    text: str, units: list[int], start: int, limit: int, entities: tuple[MessageEntity, ...]
) -> int:
    """Index (in characters) where the part starting at ``start`` ends."""
    hard_end = start
    while hard_end < len(text) and units[hard_end + 1] - units[start] <= limit:
        hard_end += 1
    if hard_end >= len(text):
        return len(text)
    window = text[start:hard_end]
    for separator in ("\n\n", "\n", " "):
        pos = window.rfind(separator)
        while pos > 0:
            cut = start + pos
            if not _inside_entity(units[cut], entities):
                return cut
            pos = window.rfind(separator, 0, pos)
    # One word (or one entity) longer than the limit: cut where it has to be.
    return hard_end


def _entities_for(
    entities: tuple[MessageEntity, ...], lo: int, hi: int
) -> tuple[MessageEntity, ...]:
    """Entities clipped to the UTF-16 range [lo, hi) and re-based to start at 0."""
    result = []
    for entity in entities:
        start = max(entity.offset, lo)
        end = min(entity.offset + entity.length, hi)
        if end > start:
            result.append(replace_entity(entity, offset=start - lo, length=end - start))
    return tuple(result)


def replace_entity(entity: MessageEntity, *, offset: int, length: int) -> MessageEntity:
    return entity.model_copy(update={"offset": offset, "length": length})


def split_text(
    text: str,
    entities: Sequence[MessageEntity] = (),
    *,
    limit: int = TELEGRAM_TEXT_LIMIT,
) -> list[TextPart]:
    """Split ``text`` (with its entities) into parts of at most ``limit`` UTF-16 units.

    Whitespace at a cut is dropped; a text that fits is returned as one part unchanged.
    """
    entities = tuple(entities)
    if utf16_len(text) <= limit:  # the usual case, counted in C
        return [TextPart(text, entities)]
    units = _prefix_units(text)
    parts: list[TextPart] = []
    start = 0
    while start < len(text):
        cut = _choose_cut(text, units, start, limit, entities)
        end = cut
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            part_entities = _entities_for(entities, units[start], units[end])
            parts.append(TextPart(text[start:end], part_entities))
        start = cut
        while start < len(text) and text[start].isspace():
            start += 1
    return parts
