"""A bot's FAQ and its matcher, reloaded when an editor changes the file.

The new file is validated first; when it is broken the bot keeps serving the previous FAQ and
the problem is reported. Reading, validating and indexing run in a worker thread so polling
and replies never wait for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from faq import FaqEntry, FaqError, FaqFile, Matcher, load_faq

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedFaq:
    faq: FaqFile
    matcher: Matcher
    mtime_ns: int
    entries: dict[str, FaqEntry]
    categories: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> LoadedFaq:
        mtime_ns = path.stat().st_mtime_ns
        faq = load_faq(path)
        categories: dict[str, None] = {}
        for entry in faq.entries:
            if entry.category:
                categories.setdefault(entry.category, None)
        return cls(
            faq=faq,
            matcher=Matcher(faq),
            mtime_ns=mtime_ns,
            entries={entry.id: entry for entry in faq.entries},
            categories=tuple(categories),
        )

    def in_category(self, category: str) -> list[FaqEntry]:
        return [e for e in self.faq.entries if e.category == category]


ReloadErrorHandler = Callable[[str], Awaitable[None]]


class FaqSource:
    """Holds the current :class:`LoadedFaq` of one bot; ``current`` is never a broken FAQ."""

    def __init__(self, path: Path, loaded: LoadedFaq) -> None:
        self.path = path
        self.current = loaded
        self._failed_mtime_ns: int | None = None

    @classmethod
    def open(cls, path: Path) -> FaqSource:
        """Load ``path``; raises :class:`FaqError` (or OSError) when it cannot be served."""
        return cls(path, LoadedFaq.read(path))

    def _changed_mtime(self) -> int | None:
        try:
            mtime_ns = self.path.stat().st_mtime_ns
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
            loaded = await asyncio.to_thread(LoadedFaq.read, self.path)
        except FaqError as error:
            problem = "\n".join(str(p) for p in error.problems) or str(error)
        except (OSError, ValueError) as error:
            problem = f"{self.path}: {error}"
        else:
            self.current = loaded
            self._failed_mtime_ns = None
            log.info("FAQ %s reloaded: %d entries", self.path, len(loaded.faq.entries))
            return None
        self._failed_mtime_ns = mtime_ns
        log.error("FAQ %s was changed but is broken; still serving the previous version:\n%s",
                  self.path, problem)
        return problem

    async def watch(self, interval: float, on_error: ReloadErrorHandler | None = None) -> None:
        while True:
            await asyncio.sleep(interval)
            problem = await self.reload_if_changed()
            if problem is not None and on_error is not None:
                await on_error(problem)
