"""Group similar questions (e.g. unanswered ones) for the editors' report."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz, process

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
