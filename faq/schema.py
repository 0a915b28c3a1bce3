"""The FAQ file format (docs/faq-format.md) as pydantic models."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

Loc = tuple[str | int, ...]

ID_PATTERN = r"^[a-z0-9_-]+$"


def _not_blank(value: str) -> str:
    if not value.strip():
        msg = "пустой текст: напишите его или удалите ключ"
        raise ValueError(msg)
    return value


Text = Annotated[str, AfterValidator(_not_blank)]
EntryId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Link(_Model):
    title: Text
    url: Annotated[str, StringConstraints(pattern=r"^(https?://|tg://)\S+$")]


class FaqEntry(_Model):
    """One question and its answer."""

    id: EntryId
    category: Text | None = None
    question: Text
    alternatives: tuple[Text, ...] = ()
    answer: Text
    links: tuple[Link, ...] = ()
    department: Text | None = None
    review_by: date | None = None

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternatives: everything a citizen may ask."""
        return (self.question, *self.alternatives)


class FaqFile(_Model):
    """A whole FAQ file of one bot."""

    title: Text | None = None
    department: Text | None = None
    synonyms: dict[Text, tuple[Text, ...]] = Field(default_factory=dict)
    entries: tuple[FaqEntry, ...] = Field(min_length=1)

    _path: str = PrivateAttr(default="<faq>")
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    @property
    def path(self) -> str:
        """Where the file was loaded from (as given to ``load_faq``)."""
        return self._path

    def line_of(self, *loc: str | int) -> int | None:
        """Line (1-based) of a key path such as ``("entries", 3, "alternatives", 0)``."""
        while loc:
            line = self._lines.get(loc)
            if line is not None:
                return line
            loc = loc[:-1]
        return self._lines.get(())

    def entry_line(self, entry_id: str) -> int | None:
        for index, entry in enumerate(self.entries):
            if entry.id == entry_id:
                return self.line_of("entries", index)
        return None

    def entry(self, entry_id: str) -> FaqEntry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        msg = f"no entry with id {entry_id!r}"
        raise KeyError(msg)

    def with_source(self, path: str, lines: dict[Loc, int]) -> FaqFile:
        """Attach the file name and the line of every key (used by the loader)."""
        self._path = path
        self._lines = dict(lines)
        return self
