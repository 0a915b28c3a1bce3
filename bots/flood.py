"""Per-citizen reply limit: every message is kept, but replies are rationed during a flood.

A message over the limit is recorded and *not* answered (it is not read later either). The
citizen is told so honestly, at most once per window: the notice (``flood_reply``) covers the
message that triggered it and every message left unanswered until the notice's window ends
(the ``retry_in`` seconds of the verdict), and asks the citizen to send the question again.

One process keeps the limit itself (:class:`FloodGuard`). Replicas of one bot behind a load
balancer keep it in Redis (:class:`SharedFloodGuard`): a citizen's consecutive messages may
land on different replicas, and each replica counting alone would let through as many times
the limit, and warn as many times, as there are replicas.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final, Protocol

from redis.asyncio import Redis

from escalation.redis_link import UNREACHABLE, Outage

log = logging.getLogger(__name__)


class FloodVerdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell the citizen (at most once per window)
    SILENT = "silent"  # over the limit, covered by the notice already sent: record only


class FloodJudge(Protocol):
    """What the flood middleware asks about each message of a citizen."""

    async def judge(self, bot_id: int, user_id: int) -> tuple[FloodVerdict, int]:
        """The verdict on one more message of ``user_id`` to ``bot_id`` (counted if allowed),
        and for a notice the whole seconds its window lasts (the ``{seconds}`` of it)."""
        ...


@dataclass
class FloodGuard:
    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _times: dict[tuple[int, int], deque[float]] = field(default_factory=dict)
    # end of the window covered by the last notice; kept when replies resume, so a citizen who
    # floods again soon after gets no second notice within the same window
    _warned_until: dict[tuple[int, int], float] = field(default_factory=dict)

    def check(self, bot_id: int, user_id: int) -> FloodVerdict:
        key = (bot_id, user_id)
        now = self.clock()
        times = self._times.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            return FloodVerdict.ALLOW
        if self._warned_until.get(key, -math.inf) > now:
            return FloodVerdict.SILENT
        self._warned_until[key] = now + self.window
        return FloodVerdict.WARN

    def retry_in(self, bot_id: int, user_id: int) -> int:
        """Whole seconds until the window of the last notice ends (the ``{seconds}`` of it):
        every message left unanswered until then is covered by that notice."""
        until = self._warned_until.get((bot_id, user_id))
        if until is None:
            return 0
        return max(0, math.ceil(until - self.clock()))

    async def judge(self, bot_id: int, user_id: int) -> tuple[FloodVerdict, int]:
        """:meth:`check` and, for a notice, :meth:`retry_in` (the :class:`FloodJudge` way)."""
        verdict = self.check(bot_id, user_id)
        if verdict is FloodVerdict.ALLOW:
            return verdict, 0
        return verdict, self.retry_in(bot_id, user_id)


# The same rule as FloodGuard.check, atomic on the server with its clock (TIME, microseconds)
# so the replicas' clocks never meet. KEYS: the citizen's message times (a sorted set), the
# notice's mark (its expiry is the end of the notice's window). ARGV: limit, window (µs),
# this message's member. Returns {verdict, milliseconds the notice's window still lasts}:
# verdict 0 ALLOW, 1 WARN, 2 SILENT. Every key expires once idle, so nothing is kept for a
# citizen who stopped writing. Redis 5 or newer (scripts replicated by effects).
JUDGE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local window_ms = math.ceil(window / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window_ms + 1000)
  return {0, 0}
end
local left = redis.call('PTTL', KEYS[2])
if left > 0 then
  return {2, left}
end
redis.call('SET', KEYS[2], '1', 'PX', window_ms)
return {1, window_ms}
"""
_VERDICTS: Final = (FloodVerdict.ALLOW, FloodVerdict.WARN, FloodVerdict.SILENT)


class SharedFloodGuard:
    """The per-citizen limit of :class:`FloodGuard`, kept in Redis for every replica together:
    the same verdicts, the same ``retry_in``, one notice per window whichever replica sends it.

    When Redis cannot be reached every message is allowed (a citizen must never go unanswered
    because the limiter is down): ``FLOOD Redis unreachable`` is logged once per outage and
    ``FLOOD Redis works again`` when it answers. During an outage Redis is asked again only
    after ``pause`` seconds, so a hung server does not delay every reply by its timeout.
    """

    def __init__(self, client: Redis, *, limit: int, window: float, prefix: str = "tgflood:",
                 pause: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.limit = limit
        self.window = window
        self.prefix = prefix
        self.pause = pause
        self.clock = clock
        self._judge = client.register_script(JUDGE)
        self._outage = Outage(log, "FLOOD", "citizens are answered without the flood limit")
        self._retry_at = -math.inf

    async def judge(self, bot_id: int, user_id: int) -> tuple[FloodVerdict, int]:
        if self._outage.down and self.clock() < self._retry_at:
            return FloodVerdict.ALLOW, 0
        citizen = f"{bot_id}:{user_id}"
        keys = [f"{self.prefix}times:{citizen}", f"{self.prefix}warned:{citizen}"]
        args: list[str | int] = [self.limit, round(self.window * 1_000_000), uuid.uuid4().hex]
        try:
            verdict, left_ms = await self._judge(keys=keys, args=args)
        except UNREACHABLE as error:
            self._retry_at = self.clock() + self.pause
            self._outage.failed(error)
            return FloodVerdict.ALLOW, 0
        self._outage.worked()
        return _VERDICTS[int(verdict)], math.ceil(int(left_ms) / 1000)
