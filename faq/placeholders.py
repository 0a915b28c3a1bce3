"""Text an editor left to fill in later: citizens must never see it."""

from __future__ import annotations

import re

# Each pattern with the fragment shown to the editor. Phone numbers made of zeros
# (8-800-000-00-00, 000-00-00), the usual to-do marks and example.* addresses.
_PATTERNS = (
    re.compile(r"\[\s*(?:ПЛЕЙСХОЛДЕР|PLACEHOLDER|ЗАПОЛНИТЬ|УТОЧНИТЬ)\s*\]", re.IGNORECASE),
    re.compile(r"\b(?:TODO|TBD|FIXME|XXX)\b"),
    re.compile(r"(?<!\d)(?:\+7|8)?[\s-]*\(?8?00\)?[\s-]*000[\s-]*00[\s-]*0\d(?!\d)"),
    re.compile(r"(?<!\d)000[\s-]*00[\s-]*00(?!\d)"),
    re.compile(r"\b[\w.+-]*@?example\.(?:ru|com|org|net)\b", re.IGNORECASE),
)


def find_placeholders(text: str) -> list[str]:
    """The placeholder fragments found in ``text``, in order, each once."""
    spans = sorted(
        (match.start(), -match.end(), match.group().strip())
        for pattern in _PATTERNS
        for match in pattern.finditer(text)
    )
    found: dict[str, None] = {}
    covered = -1
    for start, negative_end, fragment in spans:
        if start >= covered:  # a fragment inside a longer one (000-00-00 in 8-800-000-00-00)
            found.setdefault(fragment, None)
        covered = max(covered, -negative_end)
    return list(found)
