"""A reloaded FAQ must not stay in memory: the bot freezes what start-up loaded out of the
cycle collector's reach (``bots.runner.tune_garbage_collector``), so a matcher that were part
of a reference cycle would never be freed after an editor's change. With the sentence encoder
the matcher holds its semantic index and the encoder shared by every bot; the encoder must
not hold the matcher."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.faq_source import LoadedFaq
from tests.semantic import EMBEDDING_CACHE, real_encoder

BOTS = Path(__file__).resolve().parents[2] / "bots"


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("semantic", [False, True], ids=["lexical", "semantic"])
@pytest.mark.parametrize("bot", ["payments", "vaccination"])
@pytest.mark.usefixtures("no_cycle_collector")
def test_a_replaced_faq_is_freed_by_reference_counting_alone(bot: str, semantic: bool) -> None:
    encoder = real_encoder() if semantic else None  # one for every bot, outlives the FAQ
    loaded = LoadedFaq.read(BOTS / bot / "faq.yaml", encoder=encoder, cache_dir=EMBEDDING_CACHE)
    assert (loaded.matcher.semantic is not None) is semantic
    assert loaded.matcher.match("сколько платят и где получить сертификат").candidates
    matcher, index = weakref.ref(loaded.matcher), weakref.ref(loaded.matcher.index)
    built = loaded.matcher.semantic
    semantic_index = weakref.ref(built) if built is not None else None
    del built
    del loaded
    assert matcher() is None
    assert index() is None
    assert semantic_index is None or semantic_index() is None
