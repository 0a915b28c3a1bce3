"""Per-citizen reply limit: every message is kept, but replies are rationed during a flood.

A message over the limit is recorded and *not* answered (it is not read later either). The
citizen is told so honestly, at most once per window: the notice (``flood_reply``) covers the
message that triggered it and every message left unanswered until the notice's window ends
(:meth:`FloodGuard.notice_covers`), and asks the citizen to send the question again.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class FloodVerdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell the citizen (at most once per window)
    SILENT = "silent"  # over the limit, covered by the notice already sent: record only


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
