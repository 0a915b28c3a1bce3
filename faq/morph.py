"""Russian lemmas from one shared pymorphy3 analyser, cached per word."""

from __future__ import annotations

from functools import cache, lru_cache

import pymorphy3


@cache
def analyzer() -> pymorphy3.MorphAnalyzer:
    """The process-wide analyser (≈ 50 ms and +27 MB to create, so only once)."""
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Normal form of a lower-case word, with ё folded to е *after* lemmatising.

    An adverb formed from an adjective gets the adjective's lemma («повторно» → «повторный»,
    «бесплатно» → «бесплатный»), so «повторно привиться» meets «повторная прививка».
    """
    if not word.isalpha():
        return word
    parses = analyzer().parse(word)
    if not parses:
        return word
    best = parses[0]
    if best.tag.POS == "NOUN" and str(best.normal_form).endswith(_ADJECTIVE_ENDINGS):
        # «пожилого» → the noun «пожилое» is only a substantivised adjective: use «пожилой»
        best = next((p for p in parses if p.tag.POS == "ADJF"), best)
    normal = str(best.normal_form)
    if best.tag.POS == "ADVB" and normal.endswith("о"):
        normal = _adjective_of(normal) or normal
    return normal.replace("ё", "е")


_ADJECTIVE_ENDINGS = ("ое", "ая", "ый", "ий", "ой", "ее", "яя")


def _adjective_of(adverb: str) -> str | None:
    stem = adverb[:-1]
    for candidate in (stem + "ый", stem + "ий", stem + "ой"):
        if not is_known(candidate):
            continue
        for parse in analyzer().parse(candidate):
            if parse.tag.POS == "ADJF" and parse.normal_form == candidate:
                return candidate
    return None


@lru_cache(maxsize=200_000)
def is_known(word: str) -> bool:
    """True when the word is in the pymorphy3 dictionary (not just guessed)."""
    return bool(analyzer().word_is_known(word))


# How much a word the FAQ never uses says about the topic, by part of speech: an unknown noun
# («безработица», «маткапитал») signals another topic, an unknown adverb or particle
# («сейчас», «именно») does not.
_TOPICALITY = {
    "NOUN": 1.0,
    "ADJF": 0.6,
    "ADJS": 0.6,
    "PRTF": 0.6,
    "PRTS": 0.6,
    "VERB": 0.6,
    "INFN": 0.6,
    "GRND": 0.5,
    "ADVB": 0.3,
    "NUMR": 0.3,
    "COMP": 0.3,
}
_FUNCTION_WORD = 0.15


@lru_cache(maxsize=200_000)
def topicality(word: str) -> float:
    """0–1: how topical an (unknown to the FAQ) word is, from its part of speech."""
    if word.isdigit():
        return _TOPICALITY["NUMR"]
    if not word.isalpha() or not is_known(word):
        return 1.0  # a name, an abbreviation or a rare word
    pos = analyzer().parse(word)[0].tag.POS
    return _TOPICALITY.get(str(pos), _FUNCTION_WORD) if pos is not None else 1.0
