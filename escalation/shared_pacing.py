"""Telegram's flood limits kept for the whole deployment, in Redis.

Each webhook replica with its own :class:`~escalation.pacing.Pacer` would let the deployment
send as many times the limits as there are replicas. :class:`SharedPacer` keeps the windows in
Redis instead, so every replica of every bot asks the same place for a request's turn.

How a turn is given. Every window is a sorted set of requests: a request's score is the time
it finished, or, while it is in flight, the time its turn was given plus ``hold`` (longer than
a request can last, so it counts as long as it may be going on). One Lua script per turn, atomic
on the server, drops the entries that left every window, and either adds the request to all its
windows (the chat's and the bot's) or says how long to wait; on leaving the block a second
script dates the entry by the time it finished (``ZADD`` without ``XX``: the key may have been
lost meanwhile, then the request is recorded again). The request counts from when it is over,
exactly as in :class:`~escalation.pacing.Pacer`.

The one clock is Redis's: both scripts read ``TIME`` on the server (microseconds), so the
replicas' clocks never meet and may disagree. Redis 5 or newer (scripts replicated by effects).

The windows (``safety`` as in :class:`~escalation.pacing.Limits`):

* a group (negative chat id): ``group_messages`` in ``group_window + safety`` seconds;
* a private chat: Telegram's token bucket (``private_rate`` a second, bursts of
  ``private_burst``) is kept as a sliding window of ``private_burst`` requests in
  ``private_burst / private_rate + safety`` seconds. It allows the same burst and the same
  sustained rate, and never more than the bucket in any stretch of time (a bucket may let a
  burst follow a full window), while staying one kind of entry in one kind of script;
* the bot overall: ``bot_per_second`` in ``1 + safety / 4`` seconds, as the local pacer.

Redis keeps nothing on disk. When it comes back empty the windows' history is gone, and turns
given at once could exceed a limit with requests made just before. ``<prefix>epoch`` holds the
time this Redis's history began (set once, by the first script that finds it missing); while a
window is younger than the epoch (``now < epoch + window``) it gives no turn. The scripts decide
this, so every replica agrees. A first start of the deployment is such a start too: groups wait
a minute for their first turn. A request in flight across the restart is recorded again when it
ends; one lasting longer than the quiet period is missing from the windows until then.

When Redis cannot be reached, nothing is sent unpaced: a turn waits and asks again (backoff up
to ``retry_cap``), and the pacer logs ``LIMITER Redis unreachable`` once and ``LIMITER Redis
works again`` once it answers. A finished request that cannot be dated is dated in the
background when Redis answers (later than it ended: the safe side). Requests to one chat from
one process go one at a time, in order, as with the local pacer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final, TypeVar

from redis.asyncio import Redis

from escalation.pacing import Limits, Pacer, Pacing
from escalation.redis_link import UNREACHABLE, Outage, connect

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Whatever keeps a script from answering: the connection (refused, reset, timed out) or the
#: server (loading after a restart, read-only, out of memory). The request waits for Redis.
MICROSECONDS: Final = 1_000_000

# KEYS: the epoch, then one key per window. ARGV: the request's member, hold and poll (µs),
# then limit, length (µs) and time to live (ms) of each window, in the order of KEYS.
_PREAMBLE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function us(x) return string.format('%d', x) end
local epoch = tonumber(redis.call('GET', KEYS[1]))
if not epoch then
  epoch = now
  redis.call('SET', KEYS[1], us(now))
end
"""

# Returns {1, 0, 0} with the request added to every window, or {0, wait µs, in flight}: in
# flight 1 when a place frees only as a request in flight ends (nobody knows when: ask again).
GRANT: Final = _PREAMBLE + """
local member, hold, poll = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local wait, in_flight = 0, 0
for i = 2, #KEYS do
  local limit, window = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  redis.call('ZREM', KEYS[i], member)  -- a retry after a lost answer replaces its own entry
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', us(now - window))
  if now < epoch + window then  -- the history before the epoch is lost: a quiet period
    wait = math.max(wait, epoch + window - now)
  end
  local excess = redis.call('ZCARD', KEYS[i]) - limit + 1
  if excess > 0 then
    local score = tonumber(redis.call('ZRANGE', KEYS[i], excess - 1, excess - 1,
                                      'WITHSCORES')[2])
    if score > now then
      in_flight = 1
      wait = math.max(wait, poll)
    else
      wait = math.max(wait, score + window - now)
    end
  end
end
if wait > 0 then
  return {0, wait, in_flight}
end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], us(now + hold), member)
  redis.call('PEXPIRE', KEYS[i], ARGV[3 * i])
end
return {1, 0, 0}
"""

FINISH: Final = _PREAMBLE + """
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], us(now), ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[3 * i])
end
return 1
"""


class SharedPacer:
    """Gives requests to a chat their turn under every limit, for all replicas together."""

    def __init__(self, client: Redis, limits: Limits | None = None, *,
                 prefix: str = "tgpace:", hold: float = 90.0, poll: float = 0.05,
                 retry: float = 0.1, retry_cap: float = 0.5) -> None:
        """``hold``: how long a request in flight keeps its place at most (longer than the
        Telegram request timeout); ``poll``: how often to ask again when a place frees only
        as a request of another replica ends; ``retry``..``retry_cap``: the backoff while
        Redis cannot be reached."""
        self.limits = limits or Limits()
        self.client = client
        self.prefix = prefix
        self.hold = hold
        self.poll = poll
        self.retry = retry
        self.retry_cap = retry_cap
        self._grant = client.register_script(GRANT)
        self._finish = client.register_script(FINISH)
        self._locks: defaultdict[tuple[int, int], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._finished: dict[int, asyncio.Event] = {}
        self._outage = Outage(log, "LIMITER", "messages wait for their turn")
        self._pending: set[asyncio.Future[None]] = set()

    def _windows(self, bot_id: int, chat_id: int) -> list[tuple[str, int, float]]:
        """(key, limit, seconds) of every window a request to ``chat_id`` belongs to."""
        limits = self.limits
        if chat_id < 0:  # groups and supergroups have negative ids
            chat = (limits.group_messages, limits.group_window + limits.safety)
        else:
            chat = (limits.private_burst,
                    limits.private_burst / limits.private_rate + limits.safety)
        return [(f"{self.prefix}chat:{bot_id}:{chat_id}", *chat),
                (f"{self.prefix}bot:{bot_id}", limits.bot_per_second, 1.0 + limits.safety / 4)]

    def _script_input(self, bot_id: int, chat_id: int,
                      member: str) -> tuple[list[str], list[str | int]]:
        windows = self._windows(bot_id, chat_id)
        keys = [f"{self.prefix}epoch", *(key for key, _, _ in windows)]
        args: list[str | int] = [member, _us(self.hold), _us(self.poll)]
        for _, limit, seconds in windows:
            args += [limit, _us(seconds), math.ceil((seconds + self.hold) * 1000) + 1000]
        return keys, args

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """``operation``'s answer, however long Redis takes to give it."""
        delay = self.retry
        while True:
            try:
                result = await operation()
            except UNREACHABLE as error:
                self._outage.failed(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_cap)
                continue
            self._outage.worked()
            return result

    async def _turn(self, keys: list[str], args: list[str | int], bot_id: int) -> None:
        while True:
            finished = self._finished.setdefault(bot_id, asyncio.Event())
            granted, wait, in_flight = await self._call(lambda: self._grant(keys=keys, args=args))
            if granted:
                return
            if not in_flight:
                await asyncio.sleep(wait / MICROSECONDS)
                continue
            # a request of this process ending may free the place before the next poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), wait / MICROSECONDS)

    def _in_background(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record_finish(self, keys: list[str], args: list[str | int]) -> None:
        """Date the request now if Redis answers at once, else in the background whenever it
        answers (later than the request ended: the safe side)."""
        try:
            await self._finish(keys=keys, args=args)
        except UNREACHABLE:
            self._in_background(self._call(lambda: self._finish(keys=keys, args=args)))

    async def _forget(self, keys: list[str], member: str) -> None:
        """Withdraw a turn given while its asker was stopped (the answer may have been lost
        on the way); if Redis does not answer, the entry leaves after ``hold``."""
        with contextlib.suppress(*UNREACHABLE):
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys[1:]:
                    pipe.zrem(key, member)
                await pipe.execute()

    @contextlib.asynccontextmanager
    async def slot(self, bot_id: int, chat_id: int) -> AsyncIterator[None]:
        """Make one request to ``chat_id`` inside: entered when it keeps every limit of the
        deployment, counted as made when the block is left (whatever the outcome).

        Requests to one chat from this process go one at a time, in the order they asked."""
        member = uuid.uuid4().hex
        keys, args = self._script_input(bot_id, chat_id, member)
        async with self._locks[bot_id, chat_id]:
            try:
                await self._turn(keys, args, bot_id)
            except asyncio.CancelledError:
                self._in_background(self._forget(keys, member))
                raise
            try:
                yield
            finally:
                await self._record_finish(keys, args)
                self._finished.pop(bot_id, asyncio.Event()).set()

    async def wait(self, bot_id: int, chat_id: int) -> None:
        """Return when one more message to ``chat_id`` keeps every limit; counts it as sent
        now (for a request that takes no time; :meth:`slot` counts the real end)."""
        async with self.slot(bot_id, chat_id):
            pass

    async def close(self) -> None:
        """Stop dating requests in the background and close the client."""
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        await self.client.aclose()


def _us(seconds: float) -> int:
    return round(seconds * MICROSECONDS)


def make_pacer(limits: Limits, redis_url: str | None, *, prefix: str = "tgpace:",
               hold: float = 90.0) -> Pacing:
    """The pacer of a process: local without Redis, shared by every replica with it
    (``hold``: longer than a Telegram request may last, see :class:`SharedPacer`)."""
    if redis_url is None:
        return Pacer(limits)
    return SharedPacer(connect(redis_url), limits, prefix=prefix, hold=hold)
