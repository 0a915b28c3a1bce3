"""Send timestamps and Telegram's flood limits.

:class:`SendLog` keeps a monotonic timestamp for every message a bot sent successfully, so tests
can assert rates after the fact. :class:`FloodControl` is the optional strict mode: it answers
429 like Telegram when a private chat gets more than ~1 msg/s (bursts of 3 allowed), a group more
than 20 msg/min, or a bot more than 30 msg/s overall (Bots FAQ, "My bot is hitting limits").
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Send:
    bot_id: int
    chat_id: int
    time: float


class SendLog:
    def __init__(self) -> None:
        self._sends: list[Send] = []

    def record(self, bot_id: int, chat_id: int, time: float) -> None:
        self._sends.append(Send(bot_id, chat_id, time))

    def times(self, chat_id: int | None = None, bot_id: int | None = None) -> list[float]:
        return sorted(s.time for s in self._sends
                      if (chat_id is None or s.chat_id == chat_id)
                      and (bot_id is None or s.bot_id == bot_id))

    def max_rate(self, chat_id: int | None = None, bot_id: int | None = None,
                 window: float = 1.0) -> int:
        """Most sends in any window of ``window`` seconds (sliding, half-open)."""
        return max_in_window(self.times(chat_id, bot_id), window)

    def count_since(self, since: float, chat_id: int | None = None,
                    bot_id: int | None = None) -> list[float]:
        return [t for t in self.times(chat_id, bot_id) if t > since]


def max_in_window(times: list[float], window: float) -> int:
    best = 0
    for end, t in enumerate(times):
        start = bisect_left(times, t - window + 1e-9, 0, end + 1)
        best = max(best, end - start + 1)
    return best


@dataclass
class _Bucket:
    tokens: float
    last: float


class FloodControl:
    """Telegram-like limits; :meth:`retry_after` says how long to wait, or None."""

    def __init__(self, *, private_rate: float = 1.0, private_burst: int = 3,
                 group_per_minute: int = 20, bot_per_second: int = 30) -> None:
        self.private_rate = private_rate
        self.private_burst = private_burst
        self.group_per_minute = group_per_minute
        self.bot_per_second = bot_per_second
        self._buckets: dict[tuple[int, int], _Bucket] = defaultdict(
            lambda: _Bucket(float(private_burst), -math.inf))

    def retry_after(self, log: SendLog, bot_id: int, chat_id: int, is_group: bool,
                    now: float) -> int | None:
        waits: list[float] = []
        recent = log.count_since(now - 1.0, bot_id=bot_id)
        if len(recent) >= self.bot_per_second:
            waits.append(recent[-self.bot_per_second] + 1.0 - now)
        if is_group:
            minute = log.count_since(now - 60.0, chat_id=chat_id, bot_id=bot_id)
            if len(minute) >= self.group_per_minute:
                waits.append(minute[-self.group_per_minute] + 60.0 - now)
        else:
            tokens = self._tokens(bot_id, chat_id, now)
            if tokens < 1:
                waits.append((1 - tokens) / self.private_rate)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def record(self, bot_id: int, chat_id: int, is_group: bool, now: float) -> None:
        if is_group:
            return
        bucket = self._buckets[bot_id, chat_id]
        bucket.tokens = self._tokens(bot_id, chat_id, now) - 1
        bucket.last = now

    def _tokens(self, bot_id: int, chat_id: int, now: float) -> float:
        bucket = self._buckets[bot_id, chat_id]
        if bucket.last == -math.inf:
            return float(self.private_burst)
        refill = (now - bucket.last) * self.private_rate
        return min(float(self.private_burst), bucket.tokens + refill)
