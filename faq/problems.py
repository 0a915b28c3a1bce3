"""Problems found in FAQ files, reported to editors as ``file:line: entry 'id': message``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in an FAQ file; ``message`` is in Russian, for editors."""

    file: str
    line: int | None
    entry_id: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        message = self.message if self.severity == "error" else f"предупреждение: {self.message}"
        if self.entry_id is not None:
            return f"{where}: entry '{self.entry_id}': {message}"
        return f"{where}: {message}"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.file, self.line or 0, self.message)


class FaqError(Exception):
    """An FAQ file cannot be used; ``problems`` says where and what to fix."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class FaqReadError(FaqError):
    """The file could not be read at all (missing, a folder, no permission, not UTF-8)."""
