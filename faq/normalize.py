"""Russian text → canonical terms.

Layout, case, ё, numbers, slang, typos, lemmas, synonyms, stop words — in this order.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from faq import lexicon, morph
from faq.layout import fix_layout, fix_word
from faq.synonyms import SynonymTable, Terms, build_table

_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})((?:[ \u00a0\u202f\u2009]\d{3})+)(?!\d)")
_GROUP_SPACE = re.compile(r"[ \u00a0\u202f\u2009]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\[\]{};:'\",.<>`~]*")

Speller = Callable[[str], str | None]


def tokenize(text: str) -> list[str]:
    """Split into runs of letters and runs of digits; everything else (emoji too) separates."""
    return _TOKEN.findall(text)


def _join_thousands(text: str) -> str:
    return _THOUSANDS.sub(lambda m: m.group(1) + _GROUP_SPACE.sub("", m.group(2)), text)


def _fix_latin_word(match: re.Match[str]) -> str:
    word = match.group(0)
    for candidate in (word, word.rstrip(",.?!:;\"'")):
        fixed = fix_word(candidate, is_known=morph.is_known)
        if fixed is not None:
            return fixed + word[len(candidate) :]
    return word


def _split_negation(tokens: list[str]) -> list[str]:
    """«непришло» → «не», «пришло»: a common slip; the whole word must be unknown."""
    out: list[str] = []
    for token in tokens:
        if (
            len(token) > 5
            and token.startswith("не")
            and not morph.is_known(token)
            and morph.is_known(token[2:])
        ):
            out += ["не", token[2:]]
        else:
            out.append(token)
    return out


NEGATION = "не"
NEGATED_MARK = "не_"


def _with_negations(terms: tuple[str, ...]) -> tuple[str, ...]:
    """«не пришло» also yields the term «не_прийти»: a question about a payment that did NOT
    arrive is closer to «не пришло пособие» than to «когда приходит пособие»."""
    if NEGATION not in terms:
        return terms
    extra = [
        NEGATED_MARK + term
        for previous, term in itertools.pairwise(terms)
        if previous == NEGATION and term != NEGATION and term.isalpha()
    ]
    return terms + tuple(dict.fromkeys(extra))


def _lemma(word: str) -> str:
    lemma = morph.lemma(word)
    return lexicon.NUMBER_WORDS.get(lemma, lemma)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Every stage of normalising one text, for matching and for explanations."""

    original: str
    text: str
    layout_fixed: bool
    words: tuple[str, ...]
    lemmas: tuple[str, ...]
    terms: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...] = field(default=())

    @property
    def normalized(self) -> str:
        """Canonical content terms joined by spaces, e.g. «размер выплата ребенок 3 7 год»."""
        return " ".join(self.terms)


class Normalizer:
    """Turns text into canonical terms; immutable and safe to share between threads."""

    __slots__ = ("_speller", "_synonyms")

    def __init__(self, synonyms: SynonymTable, speller: Speller | None = None) -> None:
        self._synonyms = synonyms
        self._speller = speller

    @property
    def synonyms(self) -> SynonymTable:
        return self._synonyms

    def analyze(self, text: str) -> Analysis:
        text = strip_marks(text)
        fixed = fix_layout(text, is_known=morph.is_known, tokenize=tokenize)
        layout_fixed = fixed is not None
        if fixed is None:
            fixed = _LATIN_WORD.sub(_fix_latin_word, text)
            layout_fixed = fixed != text
        clean = _join_thousands(fixed.lower().replace("ё", "е"))
        words: list[str] = []
        corrections: list[tuple[str, str]] = []
        for token in _split_negation(tokenize(clean)):
            word = lexicon.SLANG.get(token, token)
            if self._speller is not None:
                corrected = self._speller(word)
                if corrected is not None and corrected != word:
                    corrections.append((word, corrected))
                    word = corrected
            words.append(word)
        lemmas = tuple(_lemma(word) for word in words)
        terms = _with_negations(
            tuple(term for term in self._synonyms.apply(lemmas) if term not in lexicon.STOP_WORDS)
        )
        return Analysis(
            original=text,
            text=clean,
            layout_fixed=layout_fixed,
            words=tuple(words),
            lemmas=lemmas,
            terms=terms,
            corrections=tuple(corrections),
        )

    def terms(self, text: str) -> Terms:
        return self.analyze(text).terms


def strip_marks(text: str) -> str:
    """Composed characters without combining marks: stress accents («посо́бие», copied from
    dictionaries) and stray diacritics would split words; «й» and «ё» stay whole."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFC", text)
    if not any(unicodedata.combining(char) for char in decomposed):
        return decomposed
    kept = "".join(char for char in unicodedata.normalize("NFD", decomposed)
                   if not unicodedata.combining(char) or char in _KEPT_MARKS)
    return unicodedata.normalize("NFC", kept)


_KEPT_MARKS = frozenset("\u0306\u0308")  # the breve of «й» and the diaeresis of «ё»


def lemmatize_phrase(text: str) -> Terms:
    """Lemmas of a phrase without synonyms or stop words (to build synonym tables)."""
    clean = text.lower().replace("ё", "е")
    return tuple(_lemma(lexicon.SLANG.get(token, token)) for token in tokenize(clean))


@cache
def builtin_synonyms() -> SynonymTable:
    return build_table(lexicon.SYNONYMS, lexicon.FILLER_PHRASES, lemmatize_phrase)


@cache
def default_normalizer() -> Normalizer:
    return Normalizer(builtin_synonyms())


def analyze(text: str) -> Analysis:
    """Normalise text with the built-in dictionaries only (no FAQ-specific synonyms)."""
    return default_normalizer().analyze(text)


def normalize_text(text: str) -> str:
    """Lemmas of every word, space-separated, after layout/ё/number/slang fixes.

    Stop words and greetings are kept, so the bot can recognise «здравствуйте» or an obscene
    word by its lemma: ``"Здравствуйте!!! 👋" → "здравствуйте"``, ``"ghbdtn" → "привет"``.
    """
    return " ".join(analyze(text).lemmas)
