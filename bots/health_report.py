"""The report of ``python bot.py --check``: one line per check, ``ok``, ``warning`` or ``fail``,
and a summary; secrets are scrubbed from it as a last line of defence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAIL = "fail"


TAGS: Final = {Status.OK: "[ OK ]", Status.WARNING: "[WARN]", Status.FAIL: "[FAIL]"}


@dataclass(frozen=True)
class Check:
    what: str
    status: Status
    message: str


@dataclass
class HealthReport:
    checks: list[Check] = field(default_factory=list)

    def add(self, what: str, status: Status, message: str) -> None:
        self.checks.append(Check(what, status, message))

    def extend(self, checks: Iterable[Check]) -> None:
        self.checks.extend(checks)

    def count(self, status: Status) -> int:
        return sum(c.status is status for c in self.checks)

    @property
    def failed(self) -> bool:
        return self.count(Status.FAIL) > 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def redacted(self, secrets: Iterable[str]) -> HealthReport:
        """The report with every occurrence of ``secrets`` replaced (a last line of defence:
        messages are written not to contain them)."""
        hidden = [s for s in secrets if s]

        def scrub(value: str) -> str:
            for secret in hidden:
                value = value.replace(secret, "<hidden>")
            return value

        return HealthReport([Check(scrub(c.what), c.status, scrub(c.message))
                             for c in self.checks])

    def lines(self) -> list[str]:
        width = max((len(c.what) for c in self.checks), default=0)
        return [f"{TAGS[c.status]} {c.what.ljust(width)}  {c.message}" for c in self.checks]

    def summary(self) -> str:
        failed, warnings = self.count(Status.FAIL), self.count(Status.WARNING)
        total = len(self.checks)
        noted = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        if failed:
            return f"FAILED: {failed} of {total} checks failed{noted}"
        return f"OK: {total} checks passed{noted}"

    def render(self) -> str:
        return "\n".join([*self.lines(), self.summary()])
