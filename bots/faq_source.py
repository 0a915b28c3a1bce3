"""A bot's FAQ and its matcher, reloaded when an editor changes the file.

The new file is validated first; when it is broken the bot keeps serving the previous FAQ and
the problem is reported. The bot's contacts (``contacts.yaml`` beside the FAQ, see
:mod:`faq.contacts`) are substituted into the answers, and editing them reloads the FAQ too.
Reading, validating and indexing run in a worker thread so polling
and replies never wait for them. With a sentence encoder the index holds a vector for every
phrasing: they come from the embedding cache, so a reload encodes only what the editor
changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bots.encoding import EmbeddingProgress
from faq import FaqEntry, FaqError, FaqFile, Matcher, load_faq
from faq.contacts import apply_contacts, contacts_path, load_contacts
from faq.embeddings import cache_file
from faq.semantic import QueryEncoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedFaq:
    faq: FaqFile
    matcher: Matcher
    mtime_ns: int
    entries: dict[str, FaqEntry]
    categories: tuple[str, ...]

    @classmethod
    def read(cls, path: Path, *, encoder: QueryEncoder | None = None,
             cache_dir: Path | None = None) -> LoadedFaq:
        """Load and index ``path``; hybrid matching with ``encoder``, the phrasing vectors
        kept in ``cache_dir`` (None: encoded every time)."""
        mtime_ns = stamp(path)
        faq = apply_contacts(load_faq(path), load_contacts(path))
        categories: dict[str, None] = {}
        for entry in faq.entries:
            if entry.category:
                categories.setdefault(entry.category, None)
        cache = (cache_file(cache_dir, path, encoder.model_id)
                 if encoder is not None and cache_dir is not None else None)
        matcher = Matcher(faq, encoder=encoder, cache=cache,
                          progress=EmbeddingProgress(path.parent.name))
        return cls(
            faq=faq,
            matcher=matcher,
            mtime_ns=mtime_ns,
            entries={entry.id: entry for entry in faq.entries},
            categories=tuple(categories),
        )

    def in_category(self, category: str) -> list[FaqEntry]:
        return [e for e in self.faq.entries if e.category == category]


def stamp(path: Path) -> int:
    """Changes whenever the FAQ or its contacts file is saved (sum of their mtimes)."""
    contacts = contacts_path(path)
    extra = contacts.stat().st_mtime_ns if contacts.is_file() else 0
    return path.stat().st_mtime_ns + extra


ReloadErrorHandler = Callable[[str], Awaitable[None]]


class FaqSource:
    """Holds the current :class:`LoadedFaq` of one bot; ``current`` is never a broken FAQ."""

    def __init__(self, path: Path, loaded: LoadedFaq, *, encoder: QueryEncoder | None = None,
                 cache_dir: Path | None = None) -> None:
        self.path = path
        self.current = loaded
        self.encoder = encoder  # shared by every bot; reloads reuse it and the cache
        self.cache_dir = cache_dir
        self._failed_mtime_ns: int | None = None

    @classmethod
    def open(cls, path: Path, *, encoder: QueryEncoder | None = None,
             cache_dir: Path | None = None) -> FaqSource:
        """Load ``path``; raises :class:`FaqError` (or OSError) when it cannot be served."""
        loaded = LoadedFaq.read(path, encoder=encoder, cache_dir=cache_dir)
        return cls(path, loaded, encoder=encoder, cache_dir=cache_dir)

    def _read(self) -> LoadedFaq:
        return LoadedFaq.read(self.path, encoder=self.encoder, cache_dir=self.cache_dir)

    def _changed_mtime(self) -> int | None:
        try:
            mtime_ns = stamp(self.path)
        except OSError:
            return None
        if mtime_ns in (self.current.mtime_ns, self._failed_mtime_ns):
            return None
        return mtime_ns

    async def reload_if_changed(self) -> str | None:
        """Reload a changed file. Returns the problem text when the new file was rejected."""
        mtime_ns = self._changed_mtime()
        if mtime_ns is None:
            return None
        try:
            loaded = await asyncio.to_thread(self._read)
        except FaqError as error:
            problem = "\n".join(str(p) for p in error.problems) or str(error)
        except (OSError, ValueError) as error:
            problem = f"{self.path}: {error}"
        except Exception as error:  # any failure (MemoryError too): keep the previous FAQ
            log.exception("FAQ %s: the reload failed unexpectedly", self.path)
            problem = f"{self.path}: не удалось загрузить FAQ: {type(error).__name__}: {error}"
        else:
            self.current = loaded
            self._failed_mtime_ns = None
            semantic = loaded.matcher.semantic
            embedded = (f", {semantic.encoded} new phrasings embedded"
                        if semantic is not None else "")
            log.info("FAQ %s reloaded: %d entries%s", self.path, len(loaded.faq.entries),
                     embedded)
            return None
        self._failed_mtime_ns = mtime_ns
        log.error("FAQ %s was changed but is broken; still serving the previous version:\n%s",
                  self.path, problem)
        return problem

    async def watch(self, interval: float, on_error: ReloadErrorHandler | None = None) -> None:
        """Reload the file whenever it changes, until cancelled. No failure of a reload or of
        ``on_error`` ends the watch: it is logged, the previous FAQ stays in service."""
        while True:
            await asyncio.sleep(interval)
            try:
                problem = await self.reload_if_changed()
                if problem is not None and on_error is not None:
                    await on_error(problem)
            except Exception:  # the watch must outlive any single failure
                log.exception("FAQ %s: checking for changes failed; still serving the "
                              "previous version and watching", self.path)
