"""The sentence encoder of the suite: loaded once per process, shared by every bot.

One :class:`~faq.semantic.QueryEncoder` serves all bots, so a citizen's text is encoded once
even when the cross-bot pointer asks another bot's FAQ too. The vectors of each FAQ's
phrasings live in the embedding cache directory: the first start encodes them (progress in
the log), later starts and reloads encode only what is new. When the model cannot run the
bots match by words, and the log says so once.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bots.settings import Settings
from faq.embeddings import BATCH
from faq.encoder import load_encoder
from faq.semantic import QueryEncoder

log = logging.getLogger(__name__)

#: A progress line at most this often (seconds) and per this share of the work.
PROGRESS_SECONDS: Final = 2.0
PROGRESS_STEP: Final = 0.1


@dataclass(frozen=True)
class Semantics:
    """What the bots match with: the shared encoder and the embedding cache directory, or
    (``encoder`` None) words only, ``problem`` saying why."""

    encoder: QueryEncoder | None = None
    cache_dir: Path | None = None
    problem: str | None = None


LEXICAL: Final = Semantics()


def load_semantics(settings: Settings) -> Semantics:
    """Load the encoder named by ``FAQ_ENCODER`` (≈ 0.5 s); never raises: without it the
    bots run on lexical matching and one warning says why."""
    status = load_encoder(settings.faq_encoder, num_threads=settings.faq_encoder_threads)
    if status.encoder is None:
        if settings.faq_encoder == "off":
            log.info("lexical matching only: %s", status.problem)
        else:
            log.warning("semantic matching unavailable, the bots match by words only: %s",
                        status.problem)
        return Semantics(problem=status.problem)
    cache_dir = usable_cache_dir(settings.faq_embedding_cache)
    log.info("semantic matching with %s; embedding cache %s", status.encoder.model_id,
             cache_dir if cache_dir is not None else "none")
    return Semantics(QueryEncoder(status.encoder), cache_dir)


def _not_writable(directory: Path) -> str | None:
    """Why files cannot be created in ``directory`` (created if missing), or None."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


def usable_cache_dir(directory: Path) -> Path | None:
    """``directory``, or when it is not writable a temporary copy of it for this run (one
    warning): reloads then still encode only what changed, only the next start is cold."""
    problem = _not_writable(directory)
    if problem is None:
        return directory
    try:
        fallback = Path(tempfile.mkdtemp(prefix="faq-embeddings-"))
        atexit.register(shutil.rmtree, fallback, ignore_errors=True)
        for cached in directory.glob("*.npz") if directory.is_dir() else ():
            shutil.copyfile(cached, fallback / cached.name)
    except OSError as error:
        log.warning("embedding cache %s is not writable (%s), nor is a temporary directory "
                    "(%s): FAQ phrasings are embedded again at every start and reload",
                    directory, problem, error.strerror or type(error).__name__)
        return None
    log.warning("embedding cache %s is not writable (%s): using %s for this run, so FAQ "
                "phrasings are embedded again at the next start; set FAQ_EMBEDDING_CACHE to "
                "a writable directory", directory, problem, fallback)
    return fallback


class EmbeddingProgress:
    """``progress`` of :func:`faq.embeddings.embed` for one bot: a line when the work starts
    (if it takes more than one batch), at most one per :data:`PROGRESS_SECONDS` and per
    :data:`PROGRESS_STEP` of it, and the total time. Never called when the cache is warm."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._started = self._last = clock()
        self._last_done = 0

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if done == 0:
            self._started = self._last = now
            self._last_done = 0
            if total > BATCH:
                log.info("%s: embedding %d FAQ phrasings not in the cache yet (once; later "
                         "starts reuse them)", self.name, total)
            return
        if done >= total:
            log.info("%s: %d FAQ phrasings embedded in %.1f s", self.name, total,
                     now - self._started)
            return
        if (now - self._last >= PROGRESS_SECONDS
                and done - self._last_done >= total * PROGRESS_STEP):
            self._last, self._last_done = now, done
            log.info("%s: embedding FAQ phrasings %d/%d", self.name, done, total)
