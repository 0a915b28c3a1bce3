"""The searchable form of one FAQ: normalised rows, inverted indexes and term weights."""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from faq import lexicon
from faq.ngrams import GramCache, NgramModel
from faq.normalize import Normalizer, lemmatize_phrase
from faq.schema import FaqFile
from faq.synonyms import Terms

PREFIX_MARK = "~"


@dataclass(frozen=True, slots=True)
class Row:
    """One phrasing (the question or an alternative) of one entry, normalised once."""

    entry: int
    phrasing: int  # 0 = question, 1.. = alternatives
    text: str
    terms: Terms
    term_set: frozenset[str]
    joined: str  # terms in their original order, for rapidfuzz
    weight: float  # sum of term weights of term_set


class Index:
    """Built once per FAQ; read-only afterwards, so safe to share between threads.

    Term weights are inverse document frequencies over entries, where an entry's document is
    its phrasings plus its answer and category: words every answer uses weigh little, words
    that single out one topic weigh a lot. A question word absent from the whole FAQ gets the
    weight of the rarest FAQ word, so off-topic words pull the score down.
    """

    def __init__(
        self,
        faq: FaqFile,
        normalizer: Normalizer,
        *,
        prefix_length: int = 0,
        prefix_factor: float = 0.5,
        ngram_size: int = 3,
        ngram_answer_weight: float = 0.1,
    ) -> None:
        self.prefix_length = prefix_length
        self.prefix_factor = prefix_factor
        self.entry_ids: tuple[str, ...] = tuple(entry.id for entry in faq.entries)
        phrasings = [
            (number, phrasing, part, normalizer.analyze(part))
            for number, entry in enumerate(faq.entries)
            for phrasing, text in enumerate(entry.phrasings)
            for part in _parts(text)
        ]
        phrasing_terms: list[set[str]] = [set() for _ in faq.entries]
        for number, _, _, analysis in phrasings:
            phrasing_terms[number].update(self.expand(analysis.terms))
        answers = [
            normalizer.analyze(f"{entry.category or ''}\n{entry.answer}") for entry in faq.entries
        ]
        answer_terms = [set(self.expand(analysis.terms)) for analysis in answers]
        self.entry_vocabulary: tuple[frozenset[str], ...] = tuple(
            frozenset(own | answer)
            for own, answer in zip(phrasing_terms, answer_terms, strict=True)
        )
        document_frequency: dict[str, int] = defaultdict(int)
        for own, answer in zip(phrasing_terms, answer_terms, strict=True):
            for term in own | answer:
                document_frequency[term] += 1
        total = len(self.entry_ids)
        self.weights: dict[str, float] = {
            term: _idf(total, count) * (prefix_factor if term.startswith(PREFIX_MARK) else 1.0)
            for term, count in document_frequency.items()
        }
        self.unknown_weight = _idf(total, 1)
        self.rows: tuple[Row, ...] = tuple(
            Row(
                entry=number,
                phrasing=phrasing,
                text=text,
                terms=analysis.terms,
                term_set=frozenset(self.expand(analysis.terms)),
                joined=" ".join(analysis.terms),
                weight=sum(self.weights[term] for term in set(self.expand(analysis.terms))),
            )
            for number, phrasing, text, analysis in phrasings
            if analysis.terms
        )
        self.row_postings: dict[str, tuple[int, ...]] = _postings(
            row.term_set for row in self.rows
        )
        # entry numbers as arrays: a question's terms add their weight to every entry at once
        self.phrasing_postings = _entry_arrays(_postings(phrasing_terms))
        self.answer_postings = _entry_arrays(_postings(answer_terms))
        documents: list[list[tuple[Terms, float]]] = [[] for _ in faq.entries]
        for number, _, _, analysis in phrasings:
            documents[number].append((analysis.terms, 1.0))
        for number, analysis in enumerate(answers):
            documents[number].append((analysis.terms, ngram_answer_weight))
        counts: GramCache = {}  # each phrasing's n-grams are counted once for all three uses
        self.ngrams = NgramModel(documents, ngram_size, counts)
        self.row_ngrams = NgramModel([[(row.terms, 1.0)] for row in self.rows], ngram_size,
                                     counts)
        self.entry_rows: list[list[int]] = [[] for _ in faq.entries]
        for number, row in enumerate(self.rows):
            self.entry_rows[row.entry].append(number)
        self.median_row_ngram_norm = (
            statistics.median(self.ngrams.norm_of(row.terms, counts) for row in self.rows)
            if self.rows
            else 1.0
        )
        self.median_row_weight = (
            statistics.median(row.weight for row in self.rows) if self.rows else 1.0
        )
        self.vocabulary_words: tuple[str, ...] = tuple(
            _vocabulary(
                [a.words + a.lemmas + a.terms for *_, a in phrasings]
                + [a.words + a.terms for a in answers]
            )
        )

    def weight(self, term: str) -> float:
        return self.weights.get(term, self.unknown_weight)

    def expand(self, terms: Terms) -> Terms:
        """Terms plus their prefix keys («~беремен»), so «беременная» partly matches
        «беременность» and «повторно» matches «повторный»."""
        size = self.prefix_length
        if size <= 0:
            return terms
        keys = tuple(
            PREFIX_MARK + term[:size] for term in terms if len(term) > size and term.isalpha()
        )
        return terms + keys


_SENTENCE_END = re.compile(r"(?<=[?!.])\s+")


def _parts(text: str) -> list[str]:
    """A phrasing, plus its sentences when it asks several things at once
    («На какую карту приходит пособие? Обязательно ли нужна карта МИР?»)."""
    sentences = [part for part in _SENTENCE_END.split(text.strip()) if part]
    return [text, *sentences] if len(sentences) > 1 else [text]


def _postings(documents: Iterable[Iterable[str]]) -> dict[str, tuple[int, ...]]:
    postings: dict[str, list[int]] = defaultdict(list)
    for number, terms in enumerate(documents):
        for term in terms:
            postings[term].append(number)
    return {term: tuple(numbers) for term, numbers in postings.items()}


def _entry_arrays(postings: dict[str, tuple[int, ...]]) -> dict[str, NDArray[np.intp]]:
    return {term: np.array(numbers, dtype=np.intp) for term, numbers in postings.items()}


def _idf(total: int, count: int) -> float:
    return math.log(1.0 + total / count)


def _vocabulary(groups: Iterable[Terms]) -> list[str]:
    """FAQ words and lemmas plus every word of the built-in dictionaries (for the speller)."""
    words: list[str] = [word for group in groups for word in group]
    words += lexicon.STOP_WORDS
    words += lexicon.SLANG.values()
    for phrase in lexicon.FILLER_PHRASES:
        words += lemmatize_phrase(phrase)
    for canonical, variants in lexicon.SYNONYMS.items():
        words.append(canonical)
        for variant in variants:
            words += variant.replace("-", " ").split()
    return words
