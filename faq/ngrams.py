"""Character n-gram TF-IDF vectors: similarity that survives derivation and compounds.

«первоклассник» and «первый класс», «беременным» and «беременность» share most of their
3-grams although their lemmas differ. Built over canonical terms, so synonyms and lemmas are
already unified. N-grams are stored as small integers to keep big FAQs compact.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import mul

from faq.synonyms import Terms

Vector = dict[int, float]
UNSEEN = -1  # id of every n-gram the documents never contain
_SCAN_FACTOR = 8  # scan a document up to this many times the question's size


GramCache = dict[Terms, Counter[str]]  # term sequence → its n-gram counts, for one size


def grams(terms: Iterable[str], size: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    for term in terms:
        padded = f" {term} "
        for start in range(len(padded) - size + 1):
            counts[padded[start : start + size]] += 1
    return counts


def cached_grams(terms: Terms, size: int, cache: GramCache | None) -> Counter[str]:
    """:func:`grams`, computed once per distinct term sequence when a ``cache`` is given
    (an index counts each phrasing's n-grams for two models and a median: once is enough).
    The counts are shared: read them, never change them."""
    if cache is None:
        return grams(terms, size)
    counts = cache.get(terms)
    if counts is None:
        counts = cache[terms] = grams(terms, size)
    return counts


class NgramModel:
    """One TF-IDF vector (unit length) per document; documents are weighted term bags."""

    def __init__(self, documents: Sequence[Sequence[tuple[Terms, float]]], size: int,
                 cache: GramCache | None = None) -> None:
        self.size = size
        self.ids: dict[str, int] = {}
        bags: list[dict[int, float]] = []
        for parts in documents:
            bag: dict[int, float] = {}
            for terms, weight in parts:
                for gram, count in cached_grams(terms, size, cache).items():
                    gram_id = self.ids.setdefault(gram, len(self.ids))
                    bag[gram_id] = bag.get(gram_id, 0.0) + weight * count
            bags.append(bag)
        frequency = Counter(gram_id for bag in bags for gram_id in bag)
        total = max(1, len(bags))
        self.idf: list[float] = [0.0] * len(self.ids)
        for gram_id, count in frequency.items():
            self.idf[gram_id] = math.log(1 + total / count)
        self.unknown_idf = math.log(1 + total)
        # Documents as parallel arrays sorted by n-gram id: compact, and a question's few
        # n-grams are found by binary search even in a long answer's vector.
        self.vectors: list[tuple[array[int], array[float]]] = []
        for bag in bags:
            unit = sorted(self._unit(self._weigh(bag)).items())
            self.vectors.append(
                (array("i", (g for g, _ in unit)), array("d", (v for _, v in unit)))
            )

    def _weigh(self, bag: dict[int, float]) -> Vector:
        return {g: (1 + math.log1p(c)) * self.idf[g] for g, c in bag.items()}

    @staticmethod
    def _unit(vector: Vector) -> Vector:
        norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
        return {gram: value / norm for gram, value in vector.items()}

    def query(self, terms: Terms, cache: GramCache | None = None) -> tuple[Vector, float]:
        """The question's weighted vector (known n-grams only) and its full norm."""
        vector: Vector = {}
        squares = 0.0
        for gram, count in cached_grams(terms, self.size, cache).items():
            gram_id = self.ids.get(gram, UNSEEN)
            idf = self.idf[gram_id] if gram_id != UNSEEN else self.unknown_idf
            value = (1 + math.log1p(count)) * idf
            squares += value * value
            if gram_id != UNSEEN:
                vector[gram_id] = value
        return vector, math.sqrt(squares)

    def norm_of(self, terms: Terms, cache: GramCache | None = None) -> float:
        return self.query(terms, cache)[1]

    def similarity(self, query: Vector, norm: float, document: int) -> float:
        """Cosine, except that ``norm`` may be capped for long messages (result ≤ 1)."""
        if norm <= 0:
            return 0.0
        ids, values = self.vectors[document]
        size = len(ids)
        if size <= _SCAN_FACTOR * len(query):
            # Short document (a phrasing): one pass at C speed.
            dot: float = sum(map(mul, values, map(query.get, ids, repeat(0.0))))
        else:
            # Long document (an entry with its answer): look the question's n-grams up.
            dot = 0.0
            for gram, weight in query.items():
                position = bisect_left(ids, gram)
                if position < size and ids[position] == gram:
                    dot += weight * values[position]
        return min(1.0, dot / norm)
