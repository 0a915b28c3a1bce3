"""Score a normalised question against an index and aggregate per entry.

1. One pass over the inverted indexes gives every entry sharing a term with the question
   ``coverage`` (share of the question's term weight found in the entry's phrasings) and
   ``answer`` (... found in its answer text); the best ``candidate_pool`` entries go on.
2. For their phrasings, ``lexical`` = harmonic mix of how much of the phrasing's term weight
   the question covers (recall) and how much of the question that phrasing explains
   (precision); the best phrasing represents the entry (aggregation by max).
3. The ``rerank_entries`` best by these three are re-scored with rapidfuzz (``fuzzy``: mean of
   token_sort_ratio and token_set_ratio against the best phrasing) and character 3-gram
   TF-IDF cosine (``ngram``). The score is the weighted sum of the five parts, 0–100, shrunk
   for questions too short to be specific (``specific_factor``).

A long message is not diluted: the question weight used for the precision-like parts is
capped at a few phrasings' worth (``cap_factor`` × the median phrasing weight), and for
rapidfuzz it is reduced to the words the entry knows (fillers and story are dropped).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from faq import morph
from faq.config import MatcherConfig
from faq.index import PREFIX_MARK, Index
from faq.synonyms import Terms


@dataclass(frozen=True, slots=True)
class EntryScore:
    """How one entry scored (all parts 0–100) and which phrasing decided it."""

    entry: int
    score: float
    lexical: float
    fuzzy: float
    coverage: float
    answer: float
    ngram: float  # character 3-gram TF-IDF cosine with the entry's phrasings
    row: int | None
    matched: Terms


@dataclass(slots=True)
class _Partial:
    cheap: float
    lexical: float
    coverage: float
    answer: float
    row: int | None


class _Scorer:
    """One question against one index; plain loops over small posting lists."""

    def __init__(self, index: Index, config: MatcherConfig, exclude: Collection[int]) -> None:
        self.index = index
        self.config = config
        self.exclude = frozenset(exclude)
        weights = (
            config.row_weight,
            config.fuzzy_weight,
            config.coverage_weight,
            config.answer_weight,
            config.ngram_weight,
        )
        total = sum(weights)
        self.w_row, self.w_fuzzy, self.w_cov, self.w_ans, self.w_ngram = (
            w / total for w in weights
        )
        cheap_total = self.w_row + self.w_cov + self.w_ans
        self.cheap_scale = 1.0 / cheap_total if cheap_total else 0.0
        self.excluded_entries = {index.rows[row].entry for row in self.exclude}
        self.cap = config.cap_factor * index.median_row_weight

    def _weight(self, term: str) -> float:
        weight = self.index.weights.get(term)
        if weight is not None:
            return weight
        if term.startswith(PREFIX_MARK):
            return 0.0  # an unknown prefix key adds nothing beyond its unknown word
        return self.index.unknown_weight * self.config.unknown_factor * morph.topicality(term)

    def rank(self, terms: Terms) -> list[EntryScore]:
        if not terms:
            return []
        index = self.index
        query = set(index.expand(terms))
        full_weight = sum(self._weight(term) for term in query)
        query_weight = min(full_weight, self.cap) or 1.0
        # A question of a couple of common words («как получить») says too little to answer.
        floor_weight = self.config.specific_factor * index.median_row_weight
        specificity = min(1.0, full_weight / floor_weight) if floor_weight > 0 else 1.0
        known: dict[str, float] = {}
        # Per entry, in arrays: each term adds its weight to its entries in the same order as
        # a loop over the postings would, so the sums are the same to the last bit.
        size = len(index.entry_ids)
        covered, coverage = np.zeros(size, dtype=bool), np.zeros(size)
        answered, answer = np.zeros(size, dtype=bool), np.zeros(size)
        for term in query:
            weight = index.weights.get(term)
            if weight is None:
                continue
            known[term] = weight
            entries = index.phrasing_postings.get(term)
            if entries is not None:
                coverage[entries] += weight
                covered[entries] = True
            entries = index.answer_postings.get(term)
            if entries is not None:
                answer[entries] += weight
                answered[entries] = True
        for entry in self.excluded_entries:
            if covered[entry]:
                coverage[entry] = self._coverage_without_excluded(entry, query)
        # Stage 1: the entries whose words cover most of the question (all of them in a
        # normal FAQ); stage 2 looks for the best phrasing only among those.
        candidates = np.flatnonzero(covered | answered)
        if len(candidates) > self.config.candidate_pool:
            # best score first, ties to the lower entry
            key = -((self.w_row + self.w_cov) * coverage[candidates]
                    + self.w_ans * answer[candidates])
            candidates = candidates[np.lexsort((candidates, key))[: self.config.candidate_pool]]
        known_terms = known.keys()
        best_row: dict[int, tuple[float, int | None]] = {}
        recall_weight = self.config.recall_weight
        chosen: list[int] = candidates.tolist()
        for entry in chosen:
            for row in index.entry_rows[entry]:
                if row in self.exclude:
                    continue
                common = sum(map(known.__getitem__, index.rows[row].term_set & known_terms))
                if common <= 0:
                    continue
                recall = min(1.0, common / index.rows[row].weight)
                precision = min(1.0, common / query_weight)
                lexical = 1.0 / (recall_weight / recall + (1.0 - recall_weight) / precision)
                if entry not in best_row or lexical > best_row[entry][0]:
                    best_row[entry] = (lexical, row)
        partials: dict[int, _Partial] = {}
        for entry, entry_coverage, entry_answer in zip(
            chosen, coverage[candidates].tolist(), answer[candidates].tolist(), strict=True
        ):
            lexical, best = best_row.get(entry, (0.0, None))
            cov = min(1.0, entry_coverage / query_weight)
            ans = min(1.0, entry_answer / query_weight)
            cheap = (self.w_row * lexical + self.w_cov * cov + self.w_ans * ans) * self.cheap_scale
            partials[entry] = _Partial(cheap, lexical, cov, ans, best)
        top = heapq.nlargest(
            self.config.rerank_entries,
            partials.items(),
            key=lambda item: (item[1].cheap, -item[0]),
        )
        fuzzy = self._fuzzy(terms, top)
        ngrams = self._ngrams(terms, [entry for entry, _ in top]) if self.w_ngram else {}
        scored = []
        for entry, p in top:
            similarity = fuzzy.get(entry, 0.0)
            ngram = ngrams.get(entry, 0.0)
            row_terms = index.rows[p.row].term_set if p.row is not None else frozenset()
            scored.append(
                EntryScore(
                    entry=entry,
                    score=specificity
                    * (
                        100 * (self.w_row * p.lexical + self.w_cov * p.coverage)
                        + 100 * (self.w_ans * p.answer + self.w_ngram * ngram)
                        + self.w_fuzzy * similarity
                    ),
                    lexical=100 * p.lexical,
                    fuzzy=similarity,
                    coverage=100 * p.coverage,
                    answer=100 * p.answer,
                    ngram=100 * ngram,
                    row=p.row,
                    matched=tuple(dict.fromkeys(t for t in terms if t in row_terms)),
                )
            )
        return sorted(scored, key=lambda item: (-item.score, item.entry))

    def _ngrams(self, terms: Terms, entries: list[int]) -> dict[int, float]:
        """Mean of the 3-gram cosine with the entry as a whole (phrasings and, lightly, the
        answer) and with its closest phrasing. The question's norm is capped like its term
        weight, so a long message is not diluted. (The whole-entry vector still contains
        excluded phrasings: lint's leave-one-out check is slightly lenient.)"""
        index = self.index
        cap = self.config.cap_factor * index.median_row_ngram_norm
        vector, norm = index.ngrams.query(terms)
        row_vector, row_norm = index.row_ngrams.query(terms)
        norm, row_norm = min(norm, cap), min(row_norm, cap)
        out: dict[int, float] = {}
        for entry in entries:
            whole = index.ngrams.similarity(vector, norm, entry)
            closest = max(
                (
                    index.row_ngrams.similarity(row_vector, row_norm, row)
                    for row in index.entry_rows[entry]
                    if row not in self.exclude
                ),
                default=0.0,
            )
            out[entry] = (whole + closest) / 2
        return out

    def _coverage_without_excluded(self, entry: int, query: set[str]) -> float:
        """Coverage of an entry as if the excluded phrasings were not there (for lint)."""
        terms: set[str] = set()
        for row in self.index.entry_rows[entry]:
            if row not in self.exclude:
                terms |= self.index.rows[row].term_set
        return sum(self.index.weights[term] for term in query & terms)

    def _fuzzy(self, terms: Terms, top: list[tuple[int, _Partial]]) -> dict[int, float]:
        """Mean of token_sort_ratio and token_set_ratio against each entry's best phrasing.

        Choices are a mapping (entry → pre-normalised phrasing) and ``processor=None``: the
        index was normalised once. A long question is first reduced to the words the entry
        knows, so its story does not drown the similarity.
        """
        long = len(terms) > self.config.long_question_terms
        groups: dict[str, dict[int, str]] = defaultdict(dict)
        for entry, partial in top:
            if partial.row is None:
                continue
            if long:
                vocabulary = self.index.entry_vocabulary[entry]
                query = " ".join(dict.fromkeys(t for t in terms if t in vocabulary))
            else:
                query = " ".join(terms)
            groups[query][entry] = self.index.rows[partial.row].joined
        total: dict[int, float] = defaultdict(float)
        for query, choices in groups.items():
            for scorer in (fuzz.token_sort_ratio, fuzz.token_set_ratio):
                for _, score, entry in process.extract(
                    query, choices, scorer=scorer, processor=None, limit=None
                ):
                    total[entry] += score / 2
        return total


def rank(
    index: Index, terms: Terms, config: MatcherConfig, *, exclude: Collection[int] = ()
) -> list[EntryScore]:
    """Entries sharing at least one term with the question, best first (deterministic)."""
    return _Scorer(index, config, exclude).rank(terms)
