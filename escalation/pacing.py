"""Pacing of outgoing messages under Telegram's flood limits.

Telegram answers 429 when a bot sends more than about one message a second to a private chat
(short bursts are allowed), more than 20 messages a minute to a group, or more than about 30
messages a second overall (Bots FAQ, "My bot is hitting limits"). :class:`Pacer` makes a sender
wait for its turn instead, so that bursts (100 escalations to the operators' chat at once) are
spread out rather than refused. The limits are settings, so tests can run a scaled minute.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    group_messages: int = 20
    group_window: float = 60.0
    private_rate: float = 1.0  # messages per second, sustained
    private_burst: int = 3
    bot_per_second: int = 30
    # Telegram measures on its side: a request granted at t arrives a little later, so windows
    # are kept this much longer (seconds) than the limit says.
    safety: float = 0.2


@dataclass
class _Window:
    """Sliding window: at most ``limit`` events in any ``window`` seconds."""

    limit: int
    window: float
    times: deque[float] = field(default_factory=deque)

    def wait_time(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.window - now


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float = -1.0
    last: float = 0.0

    def wait_time(self, now: float) -> float:
        if self.tokens < 0:
            self.tokens, self.last = float(self.burst), now
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
        self.last = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class Pacer:
    """Waits until a message to ``chat_id`` may be sent; one instance per process."""

    def __init__(self, limits: Limits | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._locks: defaultdict[tuple[int, int], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._groups: dict[tuple[int, int], _Window] = {}
        self._privates: dict[tuple[int, int], _Bucket] = {}
        self._bots: dict[int, _Window] = {}

    def _chat_wait(self, bot_id: int, chat_id: int, now: float) -> float:
        key = (bot_id, chat_id)
        if chat_id < 0:  # groups and supergroups have negative ids
            window = self._groups.setdefault(
                key, _Window(self.limits.group_messages,
                             self.limits.group_window + self.limits.safety))
            return window.wait_time(now)
        bucket = self._privates.setdefault(
            key, _Bucket(self.limits.private_rate, self.limits.private_burst))
        return bucket.wait_time(now)

    def _record(self, bot_id: int, chat_id: int, now: float) -> None:
        if chat_id < 0:
            self._groups[bot_id, chat_id].times.append(now)
        else:
            self._privates[bot_id, chat_id].tokens -= 1
        self._bots[bot_id].times.append(now)

    async def wait(self, bot_id: int, chat_id: int) -> None:
        """Return when one more message to ``chat_id`` keeps every limit; counts it as sent.

        Messages to one chat keep their order (one waiter per chat at a time).
        """
        async with self._locks[bot_id, chat_id]:
            while True:
                now = self._clock()
                overall = self._bots.setdefault(
                    bot_id, _Window(self.limits.bot_per_second, 1.0 + self.limits.safety / 4))
                delay = max(self._chat_wait(bot_id, chat_id, now), overall.wait_time(now))
                if delay <= 0:
                    self._record(bot_id, chat_id, now)
                    return
                await self._sleep(delay)
