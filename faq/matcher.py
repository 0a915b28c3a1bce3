"""Match a citizen's question to an FAQ entry: answer, clarify or escalate."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path

import numpy as np

from faq.config import HybridConfig, MatcherConfig
from faq.decision import Verdict, decide, decide_hybrid, exact_verdict
from faq.embeddings import Progress
from faq.encoder import Encoder
from faq.index import Index
from faq.normalize import Analysis, Normalizer, builtin_synonyms, lemmatize_phrase, tokenize
from faq.results import Candidate, CandidateDetail, Explanation, MatchResult
from faq.schema import FaqFile
from faq.scoring import EntryScore, rank
from faq.semantic import QueryEncoder, SemanticIndex, SemanticScores
from faq.speller import Speller
from faq.synonyms import Terms

RANK_CACHE_SIZE = 4096
LONG_TEXT_CHARS = 200  # longer messages are also read sentence by sentence
MAX_SENTENCES = 12
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
MIN_SENTENCE_CHARS = 15
MAX_QUESTION_CHARS = 20_000  # longer input is cut: Telegram messages are at most 4096
EXPLAINED = 5
KEPT_CANDIDATES = 10  # hybrid: the best entries kept in a result (options, rivals, cards)


class Matcher:
    """Built once per FAQ (well under a second for hundreds of entries, plus encoding the
    phrasings that the embedding cache does not hold); ``match`` is pure and thread-safe:
    the indexes are read-only and the caches are thread-safe.

    With an ``encoder`` the ranking is hybrid (:class:`HybridConfig`): meaning from the
    sentence encoder, exact terms, typos, layout and numbers from the lexical matcher.
    Without one it is lexical only, with the thresholds calibrated for that.
    ``match`` may encode the question (≈ 15 ms): bots call it from a worker thread.
    """

    def __init__(self, faq: FaqFile, *, config: MatcherConfig | None = None,
                 encoder: Encoder | QueryEncoder | None = None,
                 hybrid: HybridConfig | None = None, cache: Path | None = None,
                 progress: Progress | None = None) -> None:
        self.faq = faq
        self.config = config or MatcherConfig()
        self.hybrid = hybrid or HybridConfig()
        self.semantic: SemanticIndex | None = None
        self.encoder: QueryEncoder | None = None
        if encoder is not None:
            self.encoder = encoder if isinstance(encoder, QueryEncoder) else QueryEncoder(encoder)
            self.semantic = SemanticIndex.build(faq, self.encoder.encoder, cache=cache,
                                                progress=progress,
                                                answers=self.hybrid.answer_weight > 0)
        synonyms = builtin_synonyms().extended(faq.synonyms.items(), lemmatize_phrase)
        self.index = Index(
            faq,
            Normalizer(synonyms),
            prefix_length=self.config.prefix_length,
            prefix_factor=self.config.prefix_factor,
            ngram_size=self.config.ngram_size,
            ngram_answer_weight=self.config.ngram_answer_weight,
        )
        synonym_words = [
            word
            for key, variants in faq.synonyms.items()
            for phrase in (key, *variants)
            for word in tokenize(phrase.lower().replace("ё", "е"))
        ]
        self.speller = Speller([*self.index.vocabulary_words, *synonym_words])
        self._normalizer = Normalizer(synonyms, self.speller.correct)
        self.exact = _exact_phrasings(faq, self._normalizer)
        # Citizens repeat themselves: identical normalised questions are ranked once. The
        # cached function holds the index, not the matcher: no reference cycle, so a matcher
        # replaced by a reload is freed at once (the bot freezes what start-up loaded out of
        # the cycle collector's reach; see bots.runner.tune_garbage_collector).
        index, config = self.index, self.config

        def rank_terms(terms: Terms) -> tuple[EntryScore, ...]:
            return tuple(rank(index, terms, config))

        self._ranked = lru_cache(maxsize=RANK_CACHE_SIZE)(rank_terms)

    def analyze(self, question: str) -> Analysis:
        return self._normalizer.analyze(question[:MAX_QUESTION_CHARS])

    def rank(self, question: str, *, exclude: Collection[int] = ()) -> list[EntryScore]:
        """Every entry sharing a term with the question, best first; ``exclude`` = row ids."""
        terms = self.analyze(question).terms
        if exclude:
            return rank(self.index, terms, self.config, exclude=exclude)
        return list(self._ranked(terms))

    def match(self, question: str, *, config: MatcherConfig | None = None,
              hybrid: HybridConfig | None = None, exact: bool = True) -> MatchResult:
        """Answer, clarify or escalate. A question that repeats a phrasing of exactly one
        entry (after normalising) is answered with it; ``exact=False`` decides on the scores
        alone, as for any other wording (lint uses it to judge paraphrases)."""
        analysis = self.analyze(question)
        if config is None or config == self.config:
            ranked = list(self._ranked(analysis.terms))
        else:
            ranked = rank(self.index, analysis.terms, config)
        if self.semantic is None:
            return self.result(question, analysis, ranked, config, exact=exact)
        return self.hybrid_result(question, analysis, ranked, self.semantic_scores(analysis),
                                  hybrid, exact=exact)

    def exact_entry(self, analysis: Analysis) -> str | None:
        """The entry whose question or alternative normalises to the same text, if one."""
        number = self.exact.get(analysis.normalized) if analysis.terms else None
        return None if number is None else self.index.entry_ids[number]

    def encoder_text(self, analysis: Analysis) -> str:
        """What the encoder reads: the citizen's words, retyped when the layout was wrong."""
        return analysis.text if analysis.layout_fixed else analysis.original

    def semantic_scores(self, analysis: Analysis) -> SemanticScores | None:
        """None for a message without meaningful words: nothing to understand."""
        if self.semantic is None or self.encoder is None or not analysis.terms:
            return None
        text = self.encoder_text(analysis)[:MAX_QUESTION_CHARS]
        sentences = _sentences(text) if len(text) > LONG_TEXT_CHARS else []
        if len(sentences) < 2:
            return self.semantic.scores(self.encoder.vector(text))
        return self.semantic.scores_of_parts(self.encoder.vectors([text, *sentences]))

    def hybrid_result(self, question: str, analysis: Analysis, ranked: list[EntryScore],
                      scores: SemanticScores | None,
                      hybrid: HybridConfig | None = None, *, exact: bool = True) -> MatchResult:
        """Combine lexical and semantic evidence for every entry and decide."""
        hybrid = hybrid or self.hybrid
        lexical = {item.entry: item for item in ranked}
        candidates: list[Candidate] = []
        order: list[int] = []
        if scores is not None:
            ids = self.index.entry_ids
            lex = np.zeros(len(ids))
            for item in ranked:
                lex[item.entry] = item.score
            combined = hybrid.combine(cosine=scores.phrasing, lexical=lex,
                                      answer_cosine=scores.answer)
            order = [int(e) for e in np.argsort(-combined, kind="stable")[:KEPT_CANDIDATES]]
            candidates = [Candidate(ids[e], float(combined[e]), float(lex[e]),
                                    float(scores.phrasing[e])) for e in order]
        verdict = self._exact(analysis, candidates, exact) or decide_hybrid(candidates, hybrid)
        top = tuple(self._hybrid_detail(entry, candidate, lexical, scores)
                    for entry, candidate in zip(order[:EXPLAINED], candidates, strict=False))
        return self._finish(question, analysis, candidates, verdict, top)

    def _hybrid_detail(self, entry: int, candidate: Candidate, lexical: dict[int, EntryScore],
                       scores: SemanticScores | None) -> CandidateDetail:
        item = lexical.get(entry)
        base = self._detail(item) if item is not None else CandidateDetail(
            candidate.entry_id, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, "", ())
        semantic = self.semantic
        # hybrid candidates exist only when both are there
        assert scores is not None
        assert semantic is not None
        return CandidateDetail(
            entry_id=candidate.entry_id, score=candidate.score, lexical=base.lexical,
            fuzzy=base.fuzzy, coverage=base.coverage, answer=base.answer, ngram=base.ngram,
            phrasing=base.phrasing, matched_terms=base.matched_terms,
            lexical_score=base.score, semantic=float(scores.phrasing[entry]),
            semantic_answer=float(scores.answer[entry]) if semantic.has_answers else None,
            semantic_phrasing=semantic.row_text[int(scores.best_row[entry])],
        )

    def result(
        self,
        question: str,
        analysis: Analysis,
        ranked: list[EntryScore],
        config: MatcherConfig | None = None,
        *,
        exact: bool = True,
    ) -> MatchResult:
        """Decide on already ranked scores (calibration re-decides without re-ranking)."""
        config = config or self.config
        ids = self.index.entry_ids
        candidates = [Candidate(ids[item.entry], item.score) for item in ranked]
        verdict = self._exact(analysis, candidates, exact) or decide(candidates, config)
        top = tuple(self._detail(item) for item in ranked[:EXPLAINED])
        return self._finish(question, analysis, candidates, verdict, top)

    def _exact(self, analysis: Analysis, candidates: list[Candidate],
               enabled: bool) -> Verdict | None:
        entry_id = self.exact_entry(analysis) if enabled else None
        return None if entry_id is None else exact_verdict(entry_id, candidates)

    def _finish(self, question: str, analysis: Analysis, candidates: list[Candidate],
                verdict: Verdict, top: tuple[CandidateDetail, ...]) -> MatchResult:
        if not analysis.terms:
            verdict_reason = (
                "в вопросе нет значимых слов (приветствие, знаки или непонятный текст)"
            )
        else:
            verdict_reason = verdict.reason
        explanation = Explanation(
            question=question,
            normalized=analysis.normalized,
            layout_fixed=analysis.layout_fixed,
            corrections=analysis.corrections,
            top=top,
            decision=verdict.decision,
            reason=verdict_reason,
            encoder=self.encoder.model_id if self.encoder is not None else None,
        )
        return MatchResult(
            question=question,
            decision=verdict.decision,
            entry_id=verdict.entry_id,
            score=candidates[0].score if candidates else 0.0,
            candidates=verdict.candidates,
            explanation=explanation,
        )

    def _detail(self, item: EntryScore) -> CandidateDetail:
        row = None if item.row is None else self.index.rows[item.row]
        return CandidateDetail(
            entry_id=self.index.entry_ids[item.entry],
            score=item.score,
            lexical=item.lexical,
            fuzzy=item.fuzzy,
            coverage=item.coverage,
            answer=item.answer,
            ngram=item.ngram,
            phrasing=row.text if row is not None else "",
            matched_terms=item.matched,
            lexical_score=item.score,
        )


def _sentences(text: str) -> list[str]:
    """The first sentences of a long message that are long enough to carry a question."""
    parts = [part.strip() for part in _SENTENCE_END.split(text)]
    return [part for part in parts if len(part) >= MIN_SENTENCE_CHARS][:MAX_SENTENCES]


def _exact_phrasings(faq: FaqFile, normalizer: Normalizer) -> dict[str, int | None]:
    """Normalised phrasing → entry number; None when phrasings of two entries normalise alike
    (lint reports those: such a wording cannot pick an entry)."""
    exact: dict[str, int | None] = {}
    for number, entry in enumerate(faq.entries):
        for text in entry.phrasings:
            key = normalizer.analyze(text[:MAX_QUESTION_CHARS]).normalized
            if key:
                exact[key] = number if exact.get(key, number) == number else None
    return exact
