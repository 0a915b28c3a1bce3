"""A reloaded FAQ must not stay in memory: the bot freezes what start-up loaded out of the
cycle collector's reach (``bots.runner.tune_garbage_collector``), so a matcher that were part
of a reference cycle would never be freed after an editor's change."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.faq_source import LoadedFaq

BOTS = Path(__file__).resolve().parents[2] / "bots"


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("bot", ["payments", "vaccination"])
@pytest.mark.usefixtures("no_cycle_collector")
def test_a_replaced_faq_is_freed_by_reference_counting_alone(bot: str) -> None:
    loaded = LoadedFaq.read(BOTS / bot / "faq.yaml")
    assert loaded.matcher.match("сколько платят и где получить сертификат").candidates
    gone = weakref.ref(loaded.matcher)
    del loaded
    assert gone() is None
