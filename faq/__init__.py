"""FAQ engine: load FAQ files, normalise Russian questions, match them to answers.

A pure library (no aiogram, no SQLAlchemy). Typical use::

    matcher = Matcher(load_faq("bots/payments/faq.yaml"))
    result = matcher.match("скока платят на ребенка 5 лет")
    if result.decision == "answer": ...
"""

from faq.config import MatcherConfig
from faq.loader import load_faq
from faq.matcher import Matcher
from faq.normalize import Analysis, analyze, normalize_text
from faq.problems import FaqError, FaqReadError, Problem
from faq.results import Candidate, Explanation, MatchResult
from faq.schema import FaqEntry, FaqFile, Link

__all__ = [
    "Analysis",
    "Candidate",
    "Explanation",
    "FaqEntry",
    "FaqError",
    "FaqFile",
    "FaqReadError",
    "Link",
    "MatchResult",
    "Matcher",
    "MatcherConfig",
    "Problem",
    "analyze",
    "load_faq",
    "normalize_text",
]
