"""The directory of other services (``bots/elsewhere.yaml``): where questions that no bot
answers usually go — city services, pensions, schools, healthcare, police...

The file is an ordinary FAQ file (docs/faq-format.md), loaded by :func:`faq.load_faq` and
checked by the same editor tools (``python -m faq lint``, ``python -m faq eval --rival``): each
entry is a service, its question and alternatives are how citizens write about it, its answer
the «where» text — where to turn. It is matched with the same engine and encoder as the bots'
FAQs (:func:`faq.routing.route` decides when it applies). The file is shared by every bot of the
deployment: a broken file stops start-up with the file, line and problem; a missing file
means no directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bots.encoding import EmbeddingProgress
from bots.smalltalk import SmallTalkError
from bots.topic import Suite
from faq import FaqEntry, FaqError, FaqFile, Matcher, Problem
from faq.contacts import load_faq_with_contacts
from faq.embeddings import Progress, cache_file
from faq.encoder import Encoder
from faq.semantic import QueryEncoder

ELSEWHERE_FILE = "elsewhere.yaml"


class ElsewhereError(SmallTalkError):
    """``elsewhere.yaml`` cannot be used; the message lists the FAQ loader's ``problems``,
    one a line (``file:line: entry 'id': ...``). Like the small-talk lists, the file is
    shared by every bot: none starts with it broken."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class Channel:
    """Another service (an entry of the directory): where questions of a kind go."""

    id: str
    title: str  # the entry's question
    where: str  # what the citizen reads: the entry's answer, then its links
    examples: tuple[str, ...]  # the entry's alternatives

    @classmethod
    def of(cls, entry: FaqEntry) -> Channel:
        links = [f"{link.title}: {link.url}" for link in entry.links]
        where = "\n".join([entry.answer.strip(), *links])
        return cls(entry.id, entry.question.strip(), where, entry.alternatives)


def read_directory(path: Path) -> FaqFile:
    """The FAQ file in ``path``; raises :class:`ElsewhereError` with the loader's problems."""
    try:
        return load_faq_with_contacts(path)
    except FaqError as error:
        raise ElsewhereError(str(error), error.problems) from error


@dataclass(frozen=True)
class Elsewhere:
    path: Path
    channels: dict[str, Channel]  # by entry id
    matcher: Matcher

    @classmethod
    def load(cls, path: Path, *, encoder: Encoder | QueryEncoder | None = None,
             cache_dir: Path | None = None, progress: Progress | None = None) -> Elsewhere | None:
        """The directory in ``path`` (None when there is no such file), matched with
        ``encoder`` when given (phrasing vectors cached in ``cache_dir``, like the FAQs').
        Raises :class:`ElsewhereError` when the file is broken."""
        if not path.exists():
            return None
        faq = read_directory(path)
        cache = None
        if encoder is not None and cache_dir is not None:
            cache = cache_file(cache_dir, path, encoder.model_id)
        matcher = Matcher(faq, encoder=encoder, cache=cache, progress=progress)
        return cls(path, {entry.id: Channel.of(entry) for entry in faq.entries}, matcher)


def load_elsewhere(bots_dir: Path, suite: Suite) -> Elsewhere | None:
    """``bots_dir/elsewhere.yaml``, matched like the suite's FAQs: with the encoder they share
    (so a citizen's text is encoded once) and their embedding cache; by words when they
    have no encoder."""
    source = next((topic.faq for topic in suite.topics.values()
                   if topic.faq.encoder is not None), None)
    if source is None:
        return Elsewhere.load(bots_dir / ELSEWHERE_FILE)
    return Elsewhere.load(bots_dir / ELSEWHERE_FILE, encoder=source.encoder,
                          cache_dir=source.cache_dir, progress=EmbeddingProgress("elsewhere"))
