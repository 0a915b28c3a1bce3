"""Match a citizen's question to an FAQ entry: answer, clarify or escalate."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

from faq.config import MatcherConfig
from faq.decision import decide
from faq.index import Index
from faq.normalize import Analysis, Normalizer, builtin_synonyms, lemmatize_phrase, tokenize
from faq.results import Candidate, CandidateDetail, Explanation, MatchResult
from faq.schema import FaqFile
from faq.scoring import EntryScore, rank
from faq.speller import Speller
from faq.synonyms import Terms

RANK_CACHE_SIZE = 4096
MAX_QUESTION_CHARS = 20_000  # longer input is cut: Telegram messages are at most 4096
EXPLAINED = 5


class Matcher:
    """Built once per FAQ (well under a second for hundreds of entries); ``match`` is pure
    and thread-safe: the index is read-only and caches are thread-safe ``lru_cache``s."""

    def __init__(self, faq: FaqFile, *, config: MatcherConfig | None = None) -> None:
        self.faq = faq
        self.config = config or MatcherConfig()
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

    def match(self, question: str, *, config: MatcherConfig | None = None) -> MatchResult:
        analysis = self.analyze(question)
        if config is None or config == self.config:
            ranked = list(self._ranked(analysis.terms))
        else:
            ranked = rank(self.index, analysis.terms, config)
        return self.result(question, analysis, ranked, config)

    def result(
        self,
        question: str,
        analysis: Analysis,
        ranked: list[EntryScore],
        config: MatcherConfig | None = None,
    ) -> MatchResult:
        """Decide on already ranked scores (calibration re-decides without re-ranking)."""
        config = config or self.config
        ids = self.index.entry_ids
        candidates = [Candidate(ids[item.entry], item.score) for item in ranked]
        verdict = decide(candidates, config)
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
            top=tuple(self._detail(item) for item in ranked[:EXPLAINED]),
            decision=verdict.decision,
            reason=verdict_reason,
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
        )
