"""The semantic side of an FAQ: a vector for every phrasing and every answer.

Built once per FAQ from the embedding cache (:mod:`faq.embeddings`); read-only afterwards, so
one index serves every thread. An entry's semantic evidence is the best cosine between the
question and any of its phrasings, plus the cosine with its answer text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from faq.embeddings import Progress, embed
from faq.encoder import Encoder, Vectors
from faq.schema import FaqFile

QUERY_CACHE_SIZE = 2048


def embedded_texts(faq: FaqFile, *, answers: bool = False) -> list[str]:
    """What an index embeds: every phrasing, entry by entry, then (when the score uses
    them) every answer. Answers are long: they cost most of a cold build."""
    phrasings = [text for entry in faq.entries for text in entry.phrasings]
    return [*phrasings, *(entry.answer for entry in faq.entries if answers)]


class QueryEncoder:
    """An encoder with a small LRU of recent questions: a citizen's text is encoded once
    even when several bots (the cross-bot pointer) or a repeated question ask for it."""

    def __init__(self, encoder: Encoder, *, size: int = QUERY_CACHE_SIZE) -> None:
        self.encoder = encoder
        self._size = size
        self._recent: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    def vector(self, text: str) -> Vectors:
        vector: Vectors = self.vectors([text])[0]
        return vector

    def vectors(self, texts: Sequence[str]) -> Vectors:
        """One row per text; only texts not seen recently are encoded (in one batch)."""
        found: dict[str, Vectors] = {}
        with self._lock:
            for text in texts:
                vector = self._recent.get(text)
                if vector is not None:
                    self._recent.move_to_end(text)
                    found[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            for text, vector in zip(missing, self.encoder.encode(missing), strict=True):
                found[text] = vector
            with self._lock:
                for text in missing:
                    self._recent[text] = found[text]
                while len(self._recent) > self._size:
                    self._recent.popitem(last=False)
        return np.stack([found[text] for text in texts])


@dataclass(frozen=True)
class SemanticScores:
    """Per entry: best phrasing cosine, which phrasing row, and the answer cosine."""

    phrasing: NDArray[np.float32]
    best_row: NDArray[np.intp]
    answer: NDArray[np.float32]


class SemanticIndex:
    def __init__(self, rows: Vectors, row_entry: Sequence[int], answers: Vectors,
                 row_text: Sequence[str], encoded: int = 0) -> None:
        self.rows = rows
        self.row_entry = np.asarray(row_entry, dtype=np.intp)
        self.answers = answers
        self.row_text = tuple(row_text)
        self.encoded = encoded  # texts encoded when this index was built (0 = warm cache)
        self.has_answers = bool(answers.any())  # answer texts embedded (else cosines are 0)
        # rows are grouped by entry in order: the start of each entry's block, for reduceat
        starts = np.flatnonzero(np.r_[True, self.row_entry[1:] != self.row_entry[:-1]])
        self._starts = starts
        self._entries = len(answers)

    @classmethod
    def build(cls, faq: FaqFile, encoder: Encoder, *, cache: Path | None = None,
              progress: Progress | None = None, answers: bool = False) -> SemanticIndex:
        """``answers``: embed the answer texts too (else their cosines are 0)."""
        row_text = [text for entry in faq.entries for text in entry.phrasings]
        row_entry = [n for n, entry in enumerate(faq.entries) for _ in entry.phrasings]
        texts = embedded_texts(faq, answers=answers)
        vectors, encoded = embed(texts, encoder, cache=cache, progress=progress)
        answer_vectors = (vectors[len(row_text) :] if answers
                          else np.zeros((len(faq.entries), encoder.dim), dtype=np.float32))
        return cls(vectors[: len(row_text)], row_entry, answer_vectors, row_text, encoded)

    def scores_of_parts(self, parts: Vectors) -> SemanticScores:
        """A long message: each entry's best evidence over the whole text and its sentences
        (a story's real question is often one sentence of it)."""
        scored = [self.scores(part) for part in parts]
        best = scored[0]
        for other in scored[1:]:
            better = other.phrasing > best.phrasing
            best = SemanticScores(np.where(better, other.phrasing, best.phrasing),
                                  np.where(better, other.best_row, best.best_row),
                                  np.maximum(best.answer, other.answer))
        return best

    def scores(self, question: Vectors) -> SemanticScores:
        sims = self.rows @ question
        best = np.maximum.reduceat(sims, self._starts)
        # the first row of each entry reaching its maximum
        hits = np.flatnonzero(sims >= best[self.row_entry])
        best_row = np.empty(self._entries, dtype=np.intp)
        best_row[self.row_entry[hits[::-1]]] = hits[::-1]
        return SemanticScores(best.astype(np.float32), best_row,
                              (self.answers @ question).astype(np.float32))

    def similar_pairs(self, threshold: float) -> list[tuple[int, int, int, int, float]]:
        """Phrasing pairs of *different* entries with cosine ≥ ``threshold``, best first:
        (entry a, row a, entry b, row b, cosine). For the lint's confusability warning."""
        sims = self.rows @ self.rows.T
        same = self.row_entry[:, None] == self.row_entry[None, :]
        sims[same] = -1.0
        a_rows, b_rows = np.nonzero(np.triu(sims >= threshold, k=1))
        pairs = [
            (int(self.row_entry[a]), int(a), int(self.row_entry[b]), int(b), float(sims[a, b]))
            for a, b in zip(a_rows, b_rows, strict=True)
        ]
        return sorted(pairs, key=lambda pair: -pair[4])
