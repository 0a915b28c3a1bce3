"""Replace synonyms and multi-word phrases by one canonical term sequence (on lemmas)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

Terms = tuple[str, ...]
Lemmatizer = Callable[[str], Terms]


class SynonymTable:
    """Greedy longest-match rewriting of lemma sequences, like a search-time synonym filter.

    A table may sit on top of a ``base`` table: text is rewritten by the base first, and this
    table's rules are written in the base's canonical vocabulary. That lets a file-level group
    «медотвод: [отвод от прививки]» also match «отвод от вакцинации» (built-in: вакцинация →
    прививка).
    """

    __slots__ = ("_base", "_rules", "_sizes")

    def __init__(
        self, rules: Mapping[Terms, Terms] | None = None, *, base: SynonymTable | None = None
    ) -> None:
        self._rules: dict[Terms, Terms] = {k: v for k, v in (rules or {}).items() if k}
        # For each first lemma, the lengths of the phrases starting with it, longest first:
        # most words start none, and cost one dictionary lookup.
        sizes: dict[str, set[int]] = {}
        for key in self._rules:
            sizes.setdefault(key[0], set()).add(len(key))
        self._sizes = {first: sorted(lengths, reverse=True) for first, lengths in sizes.items()}
        self._base = base

    @property
    def rules(self) -> Mapping[Terms, Terms]:
        return self._rules

    def apply(self, lemmas: Sequence[str]) -> list[str]:
        """Rewrite a lemma sequence; an empty canonical form removes the phrase (a filler)."""
        if self._base is not None:
            lemmas = self._base.apply(lemmas)
        if not self._rules:
            return list(lemmas)
        out: list[str] = []
        position, total = 0, len(lemmas)
        while position < total:
            for size in self._sizes.get(lemmas[position], ()):
                if position + size > total:
                    continue
                replacement = self._rules.get(tuple(lemmas[position : position + size]))
                if replacement is not None:
                    out.extend(replacement)
                    position += size
                    break
            else:
                out.append(lemmas[position])
                position += 1
        return out

    def extended(
        self, groups: Iterable[tuple[str, Iterable[str]]], lemmatize: Lemmatizer
    ) -> SynonymTable:
        """A table for extra groups (e.g. a file's ``synonyms:``) on top of this one."""
        rules: dict[Terms, Terms] = {}
        for canonical_text, variants in groups:
            canonical = tuple(self.apply(lemmatize(canonical_text)))
            if not canonical:
                continue
            if len(canonical) > 1:
                rules[canonical] = canonical  # so «прожиточный минимум» is not expanded twice
            for variant in variants:
                key = tuple(self.apply(lemmatize(variant)))
                if key and key != canonical:
                    rules[key] = canonical
        return SynonymTable(rules, base=self)

    def __len__(self) -> int:
        return len(self._rules) + (len(self._base) if self._base is not None else 0)


def build_table(
    groups: Mapping[str, Sequence[str]], fillers: Iterable[str], lemmatize: Lemmatizer
) -> SynonymTable:
    """The built-in table: synonym groups plus filler phrases that rewrite to nothing.

    Two layers: single words first («прививаться» → «прививка»), then phrases, whose keys are
    written in the words of the first layer — so «повторная прививка» also matches «повторно
    прививаться» and «за деньги» still means the price after «деньги» became «выплата».
    """
    words: dict[Terms, Terms] = {}
    phrases: list[tuple[Terms, Terms]] = [(lemmatize(phrase), ()) for phrase in fillers]
    for canonical_text, variants in groups.items():
        canonical = lemmatize(canonical_text)
        if len(canonical) > 1:
            phrases.append((canonical, canonical))
        for variant in variants:
            key = lemmatize(variant)
            if not key or key == canonical:
                continue
            if len(key) == 1:
                words[key] = canonical
            else:
                phrases.append((key, canonical))
    first = SynonymTable(words)
    rules: dict[Terms, Terms] = {}
    for key, canonical in phrases:
        for form in dict.fromkeys((tuple(first.apply(key)), key)):
            if form and (form != canonical or len(canonical) > 1):
                rules.setdefault(form, canonical)
    return SynonymTable(rules, base=first)
