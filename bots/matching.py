"""Matching off the event loop: the encoder takes milliseconds, a long message a second.

Two lanes, each a single worker thread: short questions never queue behind long ones (a
4 000-character story takes ≈ 1 s to encode; a short question ≈ 15 ms). The encoder's C
engine releases the GIL, so the lanes really run side by side on two cores and the event
loop keeps polling and replying meanwhile. Each lane holds at most ``queue_limit`` waiting
jobs' worth of threads (the executor's queue); callers beyond that wait on a semaphore in
the loop, which costs nothing.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from faq import Matcher, MatchResult

LONG_MESSAGE_CHARS = 400  # longer texts go to the long lane


class _Lane:
    def __init__(self, name: str, queue_limit: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"match-{name}")
        self.slots = asyncio.Semaphore(queue_limit)


class MatchPool:
    """``await pool.match(matcher, text)`` runs ``matcher.match`` in the right lane."""

    def __init__(self, *, long_chars: int = LONG_MESSAGE_CHARS, queue_limit: int = 64) -> None:
        self.long_chars = long_chars
        self._queue_limit = queue_limit
        self._lanes: dict[bool, _Lane] = {}

    def _lane(self, long: bool) -> _Lane:
        lane = self._lanes.get(long)
        if lane is None:  # created on first use, inside the running loop
            lane = self._lanes[long] = _Lane("long" if long else "short", self._queue_limit)
        return lane

    async def match(self, matcher: Matcher, text: str) -> MatchResult:
        if matcher.semantic is None:  # lexical only: ≈ 50 µs, cheaper than a thread hop
            return matcher.match(text)
        lane = self._lane(len(text) > self.long_chars)
        async with lane.slots:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(lane.executor, matcher.match, text)

    def close(self) -> None:
        for lane in self._lanes.values():
            lane.executor.shutdown(wait=False, cancel_futures=True)
        self._lanes.clear()
