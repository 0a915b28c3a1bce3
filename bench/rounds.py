"""What the end-to-end benchmarks share: new citizens, rounds of their questions and the
rounds' figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from tests.emulator import Emulator, UserAccount


class Timed(Protocol):
    """One round: each question's latency, and how long asking and answering took."""

    latencies_ms: list[float]
    wall_s: float  # first question to last reply
    arrivals_s: float  # first question to last question


R = TypeVar("R", bound=Timed)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class Rounds(Generic[R]):
    rounds: list[R] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return [x for r in self.rounds for x in r.latencies_ms]

    @property
    def rate(self) -> float:
        return len(self.latencies) / sum(r.wall_s for r in self.rounds)

    @property
    def arrival_rate(self) -> float:
        """Questions per second as sent (open loop: the offered load actually achieved)."""
        return sum(len(r.latencies_ms) - 1 for r in self.rounds) / sum(
            r.arrivals_s for r in self.rounds)

    def p(self, share: float) -> float:
        return percentile(self.latencies, share)


class Citizens:
    """New emulator users, numbered: each asks once, so every question starts a new chat."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._citizens = 0

    def citizens(self, count: int) -> list[UserAccount]:
        users = []
        for _ in range(count):
            self._citizens += 1
            users.append(self.emu.add_user(first_name="Гражданин", last_name=str(self._citizens)))
        return users
