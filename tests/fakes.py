"""Fakes shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class FakeClock:
    """The services' ``clock``: stands still until the test moves it, unless ``step`` is set
    (then every reading moves it on by ``step``, so each record gets its own time)."""

    now: datetime
    step: timedelta = field(default=timedelta(0))

    def __call__(self) -> datetime:
        value = self.now
        self.now += self.step
        return value

    def advance(self, delta: timedelta | None = None, **parts: float) -> None:
        """``advance(timedelta(days=5))`` or ``advance(minutes=5)``."""
        self.now += (delta or timedelta(0)) + timedelta(**parts)

    def set(self, moment: datetime) -> None:
        assert moment >= self.now, "the fake clock never goes back"
        self.now = moment
