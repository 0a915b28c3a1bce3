"""Whose question is it? A question can fit another bot's FAQ, or a directory of other
channels (city services, other ministries), better than this bot's.

Every FAQ is scored with the same hybrid score, so the scores compare: a *rival* (another
bot's FAQ, the directory) takes the question when its best entry is relevant on its own
(≥ ``option_floor``) and beats this FAQ's best by ``rival_margin`` — whatever this bot would
have decided alone. Without an encoder the scores do not compare across FAQs, and the old
rule holds: a rival takes a question only when this bot would escalate it and the rival would
answer it.
"""

from __future__ import annotations

from collections.abc import Mapping

from faq.config import HybridConfig
from faq.decision import is_exact
from faq.results import MatchResult


def route(local: MatchResult, rivals: Mapping[str, MatchResult],
          config: HybridConfig) -> str | None:
    """The name of the rival that takes the question, or None to keep it here. A question
    that repeats a phrasing of this FAQ word for word stays here."""
    if is_exact(local):
        return None
    best: tuple[float, str] | None = None
    for name, rival in rivals.items():
        if not _takes(local, rival, config):
            continue
        if best is None or rival.score > best[0]:
            best = (rival.score, name)
    return best[1] if best is not None else None


def _takes(local: MatchResult, rival: MatchResult, config: HybridConfig) -> bool:
    if is_exact(rival) and local.decision != "answer":
        return True  # the other FAQ has this very wording and this one has no answer
    if not (local.hybrid and rival.hybrid):
        return local.decision == "escalate" and rival.decision == "answer"
    return rival.score >= config.option_floor and (
        rival.score - local.score >= config.rival_margin)
