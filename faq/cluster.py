"""Group similar questions (e.g. unanswered ones) for the editors' report.

:func:`group_by_meaning` groups by sentence-encoder vectors; :func:`group_similar` by words,
for when no encoder could load.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from faq.embeddings import Progress, embed
from faq.encoder import Encoder, cut
from faq.normalize import analyze

DEFAULT_THRESHOLD = 70.0


def _similar_pairs(unique: Sequence[str], threshold: float) -> dict[int, set[int]]:
    """For each distinct text, the others with mean(token_sort, token_set) ≥ threshold."""
    choices = {number: text for number, text in enumerate(unique) if text}
    similar: dict[int, set[int]] = {number: {number} for number in range(len(unique))}
    for number, text in choices.items():
        total: dict[int, float] = {}
        for scorer in (fuzz.token_sort_ratio, fuzz.token_set_ratio):
            for _, score, key in process.extract(
                text, choices, scorer=scorer, processor=None, limit=None
            ):
                total[key] = total.get(key, 0.0) + score / 2
        similar[number] |= {key for key, score in total.items() if score >= threshold}
    return similar


def group_similar(
    texts: Sequence[str], *, threshold: float = DEFAULT_THRESHOLD
) -> list[list[int]]:
    """Indices of ``texts`` grouped by similarity of their normalised form, largest group first.

    Every index appears in exactly one group, indices ascending inside a group. A group is a
    "leader" plus the not yet grouped texts at least ``threshold`` (0–100) similar to it;
    leaders are taken by how many neighbours they have, so the densest topic comes first.
    Texts without meaningful words (greetings, emoji) form one group. Deterministic.
    """
    normalized = [analyze(text).normalized for text in texts]
    unique = sorted(set(normalized))
    slot = {text: number for number, text in enumerate(unique)}
    members: dict[int, list[int]] = {}
    for index, text in enumerate(normalized):
        members.setdefault(slot[text], []).append(index)
    similar = _similar_pairs(unique, threshold)
    neighbours = [
        sorted(i for other in similar[slot[text]] for i in members[other]) for text in normalized
    ]
    assigned = [False] * len(texts)
    groups: list[list[int]] = []
    for leader in sorted(range(len(texts)), key=lambda i: (-len(neighbours[i]), i)):
        if assigned[leader]:
            continue
        group = [i for i in neighbours[leader] if not assigned[i]]
        for index in group:
            assigned[index] = True
        groups.append(group)
    groups.sort(key=lambda group: (-len(group), group[0]))
    return groups


# Grouping by meaning (sentence-encoder vectors). Sentence cosines of multilingual-e5-small
# are compressed: questions on one topic score 0.80–0.94 with each other, questions on
# different topics 0.80–0.88, so no fixed cosine separates them (at ≥ 0.90 almost every
# question stays alone, at 0.86 unrelated complaints merge). What does separate them is how
# close two questions are *compared with their own nearest neighbours*: each question gets a
# bar, the mean cosine of its MEANING_NEIGHBOURS nearest other questions (each counted at
# least MEANING_FLOOR, so an isolated question cannot lower its bar), and two groups merge
# (average linkage) while their mean cosine is at least the mean bar of their members minus
# MEANING_SLACK. Chosen on realistic unanswered lists for both bots (tests/faq/
# test_unanswered_semantic.py; the numbers are in docs/faq-format.md).
MEANING_NEIGHBOURS = 3
MEANING_FLOOR = 0.85
MEANING_SLACK = 0.015
MEANING_CHARS = 600  # the topic of a long message is in its first sentences; encoding is faster


def _bars(sims: NDArray[np.float32], neighbours: int, floor: float) -> NDArray[np.float32]:
    """Per question: mean of its ``neighbours`` best cosines with the others, each ≥ floor."""
    others = sims.copy()
    np.fill_diagonal(others, -np.inf)
    padded = np.hstack([others, np.full((len(sims), neighbours), floor, dtype=np.float32)])
    best = -np.partition(-padded, neighbours - 1, axis=1)[:, :neighbours]
    bars: NDArray[np.float32] = best.mean(axis=1).astype(np.float32)
    return bars


def average_linkage(score: NDArray[np.float32], threshold: float) -> list[list[int]]:
    """Merge the two closest groups (mean pairwise ``score``) while that mean ≥ threshold.

    Lance–Williams update on an n×n matrix, with each row's best partner kept up to date, so
    a few thousand questions take seconds. Ties go to the lowest index: deterministic.
    """
    size = len(score)
    matrix = score.astype(np.float32, copy=True)
    np.fill_diagonal(matrix, -np.inf)
    counts = np.ones(size, dtype=np.float32)
    members = [[i] for i in range(size)]
    partner = matrix.argmax(axis=1) if size else np.zeros(0, dtype=np.intp)
    best = matrix[np.arange(size), partner] if size else np.zeros(0, dtype=np.float32)
    while size > 1:
        a = int(best.argmax())
        if best[a] < threshold:
            break
        b = int(partner[a])
        a, b = min(a, b), max(a, b)
        merged = (counts[a] * matrix[a] + counts[b] * matrix[b]) / (counts[a] + counts[b])
        matrix[a], matrix[:, a] = merged, merged
        matrix[b], matrix[:, b] = -np.inf, -np.inf
        matrix[a, a] = -np.inf
        counts[a] += counts[b]
        members[a] += members[b]
        members[b] = []
        best[b] = -np.inf
        stale = np.flatnonzero((partner == a) | (partner == b))
        stale = np.union1d(stale, [a])
        partner[stale] = matrix[stale].argmax(axis=1)
        best[stale] = matrix[stale, partner[stale]]
        closer = matrix[:, a] > best
        partner[closer], best[closer] = a, matrix[closer, a]
    return [group for group in members if group]


def cluster_vectors(vectors: NDArray[np.float32], *, neighbours: int = MEANING_NEIGHBOURS,
                    floor: float = MEANING_FLOOR,
                    slack: float = MEANING_SLACK) -> list[list[int]]:
    """Rows of unit ``vectors`` grouped by meaning (see the comment above), each group
    starting with its most typical row (highest mean cosine with the rest of its group)."""
    if len(vectors) == 0:
        return []
    sims = (vectors @ vectors.T).astype(np.float32)
    bars = _bars(sims, neighbours, floor)
    groups = average_linkage(2 * sims - bars[:, None] - bars[None, :], -2 * slack)
    ordered = []
    for group in groups:
        inner = sims[np.ix_(group, group)].sum(axis=1)
        centre = group[int(inner.argmax())]
        ordered.append([centre, *sorted(i for i in group if i != centre)])
    return ordered


def group_by_meaning(texts: Sequence[str], encoder: Encoder, *,
                     progress: Progress | None = None) -> list[list[int]]:
    """Indices of ``texts`` grouped by meaning, largest group first (ties: earliest first).

    Texts with the same normalised form are one question (encoded once); texts without
    meaningful words (greetings, emoji) form one group. Each group starts with its most
    typical text, the rest follow in input order. Deterministic for a given encoder.
    """
    normalized = [analyze(text).normalized for text in texts]
    slots: dict[str, list[int]] = {}
    for index, form in enumerate(normalized):
        slots.setdefault(form, []).append(index)
    empty = slots.pop("", [])
    forms = list(slots)
    firsts = [cut(texts[slots[form][0]], MEANING_CHARS) for form in forms]
    vectors, _ = embed(firsts, encoder, progress=progress)
    groups = [
        [*slots[forms[centre]], *(i for slot in rest for i in slots[forms[slot]])]
        for centre, *rest in cluster_vectors(vectors)
    ]
    groups = [[group[0], *sorted(group[1:])] for group in groups]
    if empty:
        groups.append(empty)
    groups.sort(key=lambda group: (-len(group), min(group)))
    return groups
