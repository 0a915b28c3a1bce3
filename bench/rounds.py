"""What the end-to-end benchmarks share: rounds of citizens' questions and their figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


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
