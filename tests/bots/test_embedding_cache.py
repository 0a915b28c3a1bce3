"""A bot's FAQ vectors come from the embedding cache: a warm start encodes nothing, a reload
encodes only what the editor changed, a damaged or unwritable cache costs time, not the bot.

The deterministic :class:`HashingEncoder` stands in for the model: its ``calls`` count the
texts it encoded.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from bots.encoding import usable_cache_dir
from bots.faq_source import FaqSource, LoadedFaq
from faq.embeddings import cache_file
from faq.encoder import HashingEncoder
from faq.semantic import QueryEncoder, embedded_texts

BOTS = Path(__file__).resolve().parents[2] / "bots"
OLD_ALTERNATIVE = "что за универсальное пособие такое"
NEW_ALTERNATIVE = "а что это вообще за новое пособие"


@pytest.fixture
def faq_path(tmp_path: Path) -> Path:
    path = tmp_path / "payments" / "faq.yaml"
    path.parent.mkdir()
    shutil.copyfile(BOTS / "payments" / "faq.yaml", path)
    shutil.copyfile(BOTS / "payments" / "contacts.yaml", path.with_name("contacts.yaml"))
    return path


def hashing() -> tuple[HashingEncoder, QueryEncoder]:
    encoder = HashingEncoder()
    return encoder, QueryEncoder(encoder)


def distinct_texts(path: Path) -> int:
    return len(set(embedded_texts(LoadedFaq.read(path).faq)))


def test_first_start_encodes_every_text_and_a_warm_start_none(
        faq_path: Path, tmp_path: Path) -> None:
    cold, shared = hashing()
    first = LoadedFaq.read(faq_path, encoder=shared, cache_dir=tmp_path / "cache")
    assert cold.calls == distinct_texts(faq_path)
    assert first.matcher.semantic is not None

    warm, shared = hashing()
    again = LoadedFaq.read(faq_path, encoder=shared, cache_dir=tmp_path / "cache")
    assert warm.calls == 0
    assert again.matcher.semantic is not None
    assert again.matcher.semantic.encoded == 0
    question = "Кому дают единое пособие на детей?"
    assert again.matcher.match(question).entry_id == first.matcher.match(question).entry_id


def edit_one_alternative(path: Path) -> None:
    """What an editor does: one alternative phrasing reworded (the file's time moves on)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(OLD_ALTERNATIVE) == 1
    path.write_text(text.replace(OLD_ALTERNATIVE, NEW_ALTERNATIVE), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


async def test_reload_encodes_exactly_the_changed_phrasing(faq_path: Path,
                                                           tmp_path: Path) -> None:
    counter, shared = hashing()
    source = FaqSource.open(faq_path, encoder=shared, cache_dir=tmp_path / "cache")
    before = counter.calls
    edit_one_alternative(faq_path)

    assert await source.reload_if_changed() is None
    assert counter.calls - before == 1
    semantic = source.current.matcher.semantic
    assert semantic is not None
    assert NEW_ALTERNATIVE in semantic.row_text
    assert OLD_ALTERNATIVE not in semantic.row_text
    assert source.current.matcher.encoder is shared  # one encoder for every reload


def test_a_damaged_cache_file_is_rebuilt(faq_path: Path, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    counter, shared = hashing()
    cache = cache_file(tmp_path / "cache", faq_path, counter.model_id)
    cache.parent.mkdir()
    cache.write_bytes(os.urandom(4096))

    loaded = LoadedFaq.read(faq_path, encoder=shared, cache_dir=tmp_path / "cache")
    assert counter.calls == distinct_texts(faq_path)
    assert loaded.matcher.match("Кому дают единое пособие на детей?").decision == "answer"
    assert "unreadable" in caplog.text

    warm, shared = hashing()
    LoadedFaq.read(faq_path, encoder=shared, cache_dir=tmp_path / "cache")
    assert warm.calls == 0  # rewritten whole


def test_an_unwritable_cache_directory_costs_one_warning(
        faq_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        directory = usable_cache_dir(blocker / "embeddings")
        source = FaqSource.open(faq_path, encoder=hashing()[1], cache_dir=directory)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "FAQ_EMBEDDING_CACHE" in caplog.records[0].getMessage()
    assert source.current.matcher.match("Кому дают единое пособие?").candidates
    assert directory is not None
    assert directory != blocker / "embeddings"

    warm, shared = hashing()  # reloads in this run still reuse the vectors
    LoadedFaq.read(faq_path, encoder=shared, cache_dir=directory)
    assert warm.calls == 0
