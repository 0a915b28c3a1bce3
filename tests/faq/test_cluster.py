"""Grouping unanswered questions for the editors' report."""

from __future__ import annotations

from faq.cluster import group_similar


def test_groups_by_normalised_meaning_largest_first() -> None:
    texts = [
        "где сделать прививку",  # 0
        "когда придёт пособие",  # 1
        "Когда придет ПОСОБИЕ???",  # 2
        "пособие когда придёт",  # 3
        "Где сделать прививку?",  # 4
        "как получить загранпаспорт",  # 5
        "когда придут выплаты",  # 6 (выплата = пособие)
    ]
    groups = group_similar(texts)
    assert groups[0] == [1, 2, 3, 6]
    assert [0, 4] in groups
    assert [5] in groups
    assert sorted(i for group in groups for i in group) == list(range(len(texts)))
    assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)


def test_threshold_controls_how_loose_groups_are() -> None:
    texts = ["где сделать прививку", "где сделать прививку ребенку в школе"]
    assert group_similar(texts, threshold=99) == [[0], [1]]
    assert group_similar(texts, threshold=60) == [[0, 1]]


def test_empty_and_meaningless_texts() -> None:
    assert group_similar([]) == []
    assert group_similar(["привет", "😀", "где сделать прививку"]) == [[0, 1], [2]]


def test_deterministic() -> None:
    texts = ["a b c", "когда пособие", "пособие когда", "где прививка"] * 3
    assert group_similar(texts) == group_similar(list(texts))
