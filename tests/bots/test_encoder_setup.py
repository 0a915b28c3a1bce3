"""The suite's encoder: loaded once, degrading to lexical matching with one clear warning,
progress of a cold build on the console, and what ``bot.py --check`` says about it."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bots.encoding import EmbeddingProgress, load_semantics
from bots.faq_source import LoadedFaq
from bots.health import Status, check_matching
from bots.settings import Settings
from faq.encoder import HashingEncoder
from faq.semantic import QueryEncoder
from tests.semantic import EMBEDDING_CACHE, shipped_matcher

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bots.encoding"]


def test_progress_is_shown_at_most_every_two_seconds_and_tenth(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = EmbeddingProgress("payments", clock=clock)
    with caplog.at_level(logging.INFO, logger="bots.encoding"):
        progress(0, 468)
        for done in range(32, 468, 32):  # a batch every 0.7 s
            clock.now += 0.7
            progress(done, 468)
        clock.now += 0.7
        progress(468, 468)

    first, *steps, last = messages(caplog)
    assert first.startswith("payments: embedding 468 FAQ phrasings")
    assert steps == [f"payments: embedding FAQ phrasings {done}/468"
                     for done in (96, 192, 288, 384)]
    assert last == "payments: 468 FAQ phrasings embedded in 10.5 s"


def test_a_cold_build_is_shown_and_a_warm_start_is_silent(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "payments" / "faq.yaml"
    path.parent.mkdir()
    shutil.copyfile(ROOT / "bots/payments/faq.yaml", path)
    shutil.copyfile(ROOT / "bots/payments/contacts.yaml", path.with_name("contacts.yaml"))
    with caplog.at_level(logging.INFO, logger="bots.encoding"):
        LoadedFaq.read(path, encoder=QueryEncoder(HashingEncoder()), cache_dir=tmp_path)
        cold = messages(caplog)
        caplog.clear()
        LoadedFaq.read(path, encoder=QueryEncoder(HashingEncoder()), cache_dir=tmp_path)
        warm = messages(caplog)
    assert cold[0].startswith("payments: embedding ")
    assert "FAQ phrasings embedded in" in cold[-1]
    assert warm == []


def test_an_encoder_that_cannot_load_leaves_words_and_one_warning(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("FAQ_ENCODER_FAIL", "CPU not supported")
    with caplog.at_level(logging.INFO):
        semantics = load_semantics(Settings(faq_encoder="e5"))
    assert semantics.encoder is None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "match by words only: encoder failure injected: CPU not supported" in caplog.text

    loaded = LoadedFaq.read(ROOT / "bots/payments/faq.yaml", encoder=semantics.encoder,
                            cache_dir=semantics.cache_dir)
    assert loaded.matcher.semantic is None
    assert loaded.matcher.match("Кому дают единое пособие на детей?").decision == "answer"


def test_switched_off_is_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        semantics = load_semantics(Settings(faq_encoder="off"))
    assert semantics.encoder is None
    assert all(r.levelno == logging.INFO for r in caplog.records)


def test_check_reports_lexical_only(monkeypatch: pytest.MonkeyPatch) -> None:
    off = check_matching(Settings(faq_encoder="off"), ["payments"])
    assert off.status is Status.OK
    assert off.message == "lexical only: semantic matching is switched off (FAQ_ENCODER=off)"
    monkeypatch.setenv("FAQ_ENCODER_FAIL", "model file damaged")
    failed = check_matching(Settings(faq_encoder="e5"), ["payments"])
    assert failed.status is Status.WARNING
    assert failed.message.startswith("lexical only: encoder failure injected: model file "
                                     "damaged")


def test_check_counts_a_cold_cache_without_encoding_or_writing(tmp_path: Path) -> None:
    cache = tmp_path / "embeddings"
    found = check_matching(Settings(faq_encoder="e5", faq_embedding_cache=cache),
                           ["payments", "vaccination"])
    assert found.status is Status.OK
    assert "semantic: multilingual-e5-small" in found.message
    assert f"2 FAQs, cache cold ({cache}): " in found.message
    assert "phrasings are embedded at the next start" in found.message
    assert not cache.exists()


def test_check_sees_a_warm_cache() -> None:
    shipped_matcher("payments")
    shipped_matcher("vaccination")
    found = check_matching(Settings(faq_encoder="e5", faq_embedding_cache=EMBEDDING_CACHE,
                                    bots_dir=ROOT / "bots"), ["payments", "vaccination"])
    assert found.status is Status.OK
    assert f"2 FAQs, cache warm ({EMBEDDING_CACHE})" in found.message


def test_check_warns_about_a_cache_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    found = check_matching(Settings(faq_encoder="e5", faq_embedding_cache=blocker / "cache"),
                           ["payments"])
    assert found.status is Status.WARNING
    assert f"cache not writable ({blocker} is not a directory)" in found.message
    assert "FAQ_EMBEDDING_CACHE" in found.message
