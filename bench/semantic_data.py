"""Inputs of ``bench.bench_semantic``: a synthetic 1 000-entry FAQ and the questions asked.

The FAQ is built deterministically from the two shipped FAQs (77 entries): entry ``k`` copies
shipped entry ``k % 77`` for place number ``k // 77`` (13 towns), keeps three of its
phrasings and varies each with the town, and appends the town's office (address, phone) to
the answer. Every phrasing and every answer is distinct (the embedding cache is keyed by
text), and lengths stay close to the shipped ones: ~55-character phrasings, ~850-character
answers. The content serves timing, not accuracy: 13 entries share each topic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from faq import FaqEntry, load_faq

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = {"payments": ROOT / "bots/payments/faq.yaml",
           "vaccination": ROOT / "bots/vaccination/faq.yaml"}
DATA = ROOT / "tests/data"
PHRASINGS_PER_ENTRY = 3
LONG_MESSAGE_CHARS = 4_000


@dataclass(frozen=True)
class Place:
    prep: str  # "в Кемерове"
    gen: str  # "из Кемерова"
    street: str


PLACES = (
    Place("в Кемерове", "из Кемерова", "пр. Советский"),
    Place("в Новокузнецке", "из Новокузнецка", "ул. Кирова"),
    Place("в Прокопьевске", "из Прокопьевска", "пр. Шахтёров"),
    Place("в Белове", "из Белова", "ул. Октябрьская"),
    Place("в Междуреченске", "из Междуреченска", "пр. Коммунистический"),
    Place("в Ленинске-Кузнецком", "из Ленинска-Кузнецкого", "пр. Кирова"),
    Place("в Юрге", "из Юрги", "ул. Ленинградская"),
    Place("в Киселёвске", "из Киселёвска", "ул. Ленина"),
    Place("в Анжеро-Судженске", "из Анжеро-Судженска", "ул. Мира"),
    Place("в Берёзовском", "из Берёзовского", "пр. Ленина"),
    Place("в Мысках", "из Мысков", "ул. Серафимовича"),
    Place("в Осинниках", "из Осинников", "ул. Победы"),
    Place("в Топках", "из Топков", "ул. Луначарского"),
)
OPENERS = ("Подскажите,", "Скажите, пожалуйста,", "Вопрос:", "Добрый день,", "Здравствуйте,")


def _bases() -> list[tuple[str, FaqEntry]]:
    return [(name[0], entry) for name, path in SHIPPED.items()
            for entry in load_faq(path).entries]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _phrasings(entry: FaqEntry, variant: int, place: Place) -> list[str]:
    own = entry.phrasings
    picked = [own[(variant + i) % len(own)] for i in range(PHRASINGS_PER_ENTRY)]
    first, second, third = (text.strip().rstrip("?.!") for text in picked)
    return [
        f"{first} {place.prep}?",
        f"{OPENERS[variant % len(OPENERS)]} {_lower_first(second)}? Я живу {place.prep}.",
        f"{third} (пишу {place.gen})",
    ]


def _answer(entry: FaqEntry, number: int, place: Place) -> str:
    return (f"{entry.answer.rstrip()}\n\nПриём {place.prep}: {place.street}, "
            f"д. {3 + number % 97}, окно {1 + number % 9}; "
            f"телефон 8 (3842) {number // 100:02d}-{number % 100:02d}-{(number * 7) % 100:02d}.")


def synthetic_faq(size: int) -> dict[str, object]:
    """``size`` entries × 3 phrasings, each phrasing and answer distinct (deterministic)."""
    bases = _bases()
    if size > len(bases) * len(PLACES):
        msg = f"at most {len(bases) * len(PLACES)} synthetic entries (asked for {size})"
        raise ValueError(msg)
    synonyms: dict[str, list[str]] = {}
    for path in SHIPPED.values():
        for key, variants in load_faq(path).synonyms.items():
            known = synonyms.setdefault(key, [])
            known.extend(v for v in variants if v not in known)
    entries = []
    for number in range(size):
        prefix, entry = bases[number % len(bases)]
        variant = number // len(bases)
        place = PLACES[variant]
        question, *alternatives = _phrasings(entry, variant, place)
        item: dict[str, object] = {"id": f"{prefix}-{entry.id}-{variant:02d}",
                                   "question": question, "alternatives": alternatives,
                                   "answer": _answer(entry, number, place)}
        if entry.category:
            item["category"] = entry.category
        entries.append(item)
    return {"title": f"Синтетический FAQ на {size} записей", "synonyms": synonyms,
            "entries": entries}


def write_faq(data: dict[str, object], path: Path) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000),
                    encoding="utf-8")
    return path


def _questions(kind: str, *, long: bool) -> list[str]:
    out: list[str] = []
    for bot in SHIPPED:
        data = yaml.safe_load((DATA / f"{bot}_{kind}.yaml").read_text(encoding="utf-8"))
        out.extend(str(item["q"]) for item in data["questions"]
                   if str(item.get("expect")) != "none" and (item["kind"] == "long") == long)
    return list(dict.fromkeys(out))


def short_questions(kind: str = "heldout") -> list[str]:
    """In-scope questions of ``tests/data/*_<kind>.yaml`` that are not of the ``long`` kind."""
    return _questions(kind, long=False)


def long_questions(kind: str = "heldout") -> list[str]:
    """The ``long`` kind: multi-sentence stories of 200–1 100 characters."""
    return _questions(kind, long=True)


def long_messages(count: int, chars: int = LONG_MESSAGE_CHARS) -> Iterator[str]:
    """Distinct ``chars``-character messages: long stories of the dev sets run together,
    each ending with a short question (numbered, so no cache ever sees the same one twice)."""
    stories = long_questions("dev")
    closing = short_questions("dev")
    for number in range(count):
        parts = [f"Обращение {number + 1}."]
        index = number
        while sum(len(part) + 1 for part in parts) < chars:
            parts.append(stories[index % len(stories)])
            index += 1
        tail = f" Итак, мой вопрос: {closing[number % len(closing)]}"
        yield " ".join(parts)[: chars - len(tail)] + tail
