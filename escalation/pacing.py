"""Pacing of outgoing messages under Telegram's flood limits.

Telegram answers 429 when a bot sends more than about one message a second to a private chat
(short bursts are allowed), more than 20 messages a minute to a group, or more than about 30
messages a second overall (Bots FAQ, "My bot is hitting limits"). :class:`Pacer` makes a sender
wait for its turn instead, so that bursts (100 escalations to the operators' chat at once) are
spread out rather than refused. The limits are settings, so tests can run a scaled minute.

Every request is paced, retries included, and counted when it is *over*, not when its turn is
given: Telegram sees a request some time between the two (a busy event loop, a queue for a
connection), so a request still in flight holds its place in every window, and a finished one
is dated by its answer. Spacing turns by finish times keeps the limits at whatever moment
Telegram counted each request.

:class:`Pacing` is what a sender needs of a pacer: :class:`Pacer` keeps the limits inside one
process; :class:`escalation.shared_pacing.SharedPacer` keeps them for every replica at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol


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


class Pacing(Protocol):
    """Gives each request to a chat its turn under Telegram's limits (see :class:`Pacer`)."""

    def slot(self, bot_id: int, chat_id: int) -> contextlib.AbstractAsyncContextManager[None]:
        """One request inside: entered when it keeps every limit, counted until it is left."""
        ...

    async def wait(self, bot_id: int, chat_id: int) -> None:
        """Return when one more message keeps every limit; counts it as sent now."""
        ...

    async def close(self) -> None:
        """Let go of what the pacer holds (a connection); nothing to do for a local one."""
        ...


@dataclass
class _Window:
    """Sliding window: at most ``limit`` requests in any ``window`` seconds.

    ``done`` holds finish times (appended as requests finish, so in order); a request in
    flight counts as one that has not finished yet, whatever its start."""

    limit: int
    window: float
    done: deque[float] = field(default_factory=deque)
    in_flight: int = 0

    def wait_time(self, now: float) -> float | None:
        """Seconds until one more request fits; None: not before a request in flight ends."""
        while self.done and self.done[0] <= now - self.window:
            self.done.popleft()
        excess = self.in_flight + len(self.done) - self.limit + 1
        if excess <= 0:
            return 0.0
        if excess > len(self.done):
            return None
        return self.done[excess - 1] + self.window - now


@dataclass
class _Bucket:
    """Token bucket; a token is taken when the request is over (one in flight per chat)."""

    rate: float
    burst: int
    tokens: float = -1.0
    last: float = 0.0

    def _refill(self, now: float) -> None:
        if self.tokens < 0:
            self.tokens, self.last = float(self.burst), now
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
        self.last = now

    def wait_time(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


class Pacer:
    """Gives requests to a chat their turn under every limit; one instance per process."""

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
        self._finished: dict[int, asyncio.Event] = {}

    def _overall(self, bot_id: int) -> _Window:
        return self._bots.setdefault(
            bot_id, _Window(self.limits.bot_per_second, 1.0 + self.limits.safety / 4))

    def _chat_wait(self, bot_id: int, chat_id: int, now: float) -> float | None:
        key = (bot_id, chat_id)
        if chat_id < 0:  # groups and supergroups have negative ids
            window = self._groups.setdefault(
                key, _Window(self.limits.group_messages,
                             self.limits.group_window + self.limits.safety))
            return window.wait_time(now)
        bucket = self._privates.setdefault(
            key, _Bucket(self.limits.private_rate, self.limits.private_burst))
        return bucket.wait_time(now)

    def _start(self, bot_id: int, chat_id: int) -> None:
        if chat_id < 0:
            self._groups[bot_id, chat_id].in_flight += 1
        self._overall(bot_id).in_flight += 1

    def _finish(self, bot_id: int, chat_id: int) -> None:
        now = self._clock()
        if chat_id < 0:
            group = self._groups[bot_id, chat_id]
            group.in_flight -= 1
            group.done.append(now)
        else:
            self._privates[bot_id, chat_id].take(now)
        overall = self._overall(bot_id)
        overall.in_flight -= 1
        overall.done.append(now)
        self._finished.pop(bot_id, asyncio.Event()).set()

    async def _turn(self, bot_id: int, chat_id: int) -> None:
        while True:
            now = self._clock()
            waits = (self._chat_wait(bot_id, chat_id, now), self._overall(bot_id).wait_time(now))
            if None in waits:  # full of requests in flight: the next one to end frees a place
                await self._finished.setdefault(bot_id, asyncio.Event()).wait()
                continue
            delay = max(w for w in waits if w is not None)
            if delay <= 0:
                return
            await self._sleep(delay)

    @contextlib.asynccontextmanager
    async def slot(self, bot_id: int, chat_id: int) -> AsyncIterator[None]:
        """Make one request to ``chat_id`` inside: entered when it keeps every limit, counted
        as made when the block is left (whatever the outcome).

        Requests to one chat go one at a time, in the order they asked for their turn."""
        async with self._locks[bot_id, chat_id]:
            await self._turn(bot_id, chat_id)
            self._start(bot_id, chat_id)
            try:
                yield
            finally:
                self._finish(bot_id, chat_id)

    async def wait(self, bot_id: int, chat_id: int) -> None:
        """Return when one more message to ``chat_id`` keeps every limit; counts it as sent
        now (for a request that takes no time; :meth:`slot` counts the real end)."""
        async with self.slot(bot_id, chat_id):
            pass

    async def close(self) -> None:
        """Nothing to let go of: the windows live in this process."""
