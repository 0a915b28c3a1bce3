"""Typo tolerance inside words: snap an unknown word to the closest FAQ vocabulary word."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from faq import morph

MIN_LENGTH = 4
LONG_WORD = 7


def max_edits(word: str) -> int:
    """One edit (insert, delete, substitute, swap) for words of 4–6 letters, two for longer."""
    return 1 if len(word) < LONG_WORD else 2


class Speller:
    """Corrects words that are neither in the FAQ vocabulary nor in the Russian dictionary.

    Real words are never "corrected": a word pymorphy3 knows is kept even if it is close to an
    FAQ word, so an off-topic question is not pulled towards the FAQ. Results are cached
    per instance (thread-safe ``lru_cache``).
    """

    def __init__(self, words: Iterable[str], *, cache_size: int = 50_000) -> None:
        counts = Counter(word for word in words if word.isalpha())
        # Most frequent first: ties between equally close words go to the common one.
        ordered = sorted(counts, key=lambda word: (-counts[word], word))
        self._vocabulary = frozenset(ordered)
        # Typos rarely hit the first letter; requiring it keeps «укольчик» from «школьник».
        self._by_length: dict[tuple[str, int], list[str]] = {}
        for word in ordered:
            self._by_length.setdefault((word[0], len(word)), []).append(word)
        self.correct = lru_cache(maxsize=cache_size)(self._correct)

    @property
    def vocabulary(self) -> frozenset[str]:
        return self._vocabulary

    def _correct(self, word: str) -> str | None:
        if len(word) < MIN_LENGTH or not word.isalpha() or word in self._vocabulary:
            return None
        if morph.is_known(word):
            return None
        edits = max_edits(word)
        best: tuple[str, float] | None = None
        for length in range(len(word) - edits, len(word) + edits + 1):
            choices = self._by_length.get((word[0], length))
            if not choices:
                continue
            found = process.extractOne(
                word, choices, scorer=OSA.distance, processor=None, score_cutoff=edits
            )
            if found is not None and (best is None or found[1] < best[1]):
                best = (found[0], found[1])
        return None if best is None else best[0]
