"""Per-citizen reply limit: every message is kept, but replies are rationed during a flood."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class FloodVerdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell the citizen once per window
    SILENT = "silent"  # over the limit and already told: record only


@dataclass
class FloodGuard:
    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _times: dict[tuple[int, int], deque[float]] = field(default_factory=dict)
    _warned_until: dict[tuple[int, int], float] = field(default_factory=dict)

    def check(self, bot_id: int, user_id: int) -> FloodVerdict:
        key = (bot_id, user_id)
        now = self.clock()
        times = self._times.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned_until.pop(key, None)
            return FloodVerdict.ALLOW
        if self._warned_until.get(key, 0.0) > now:
            return FloodVerdict.SILENT
        self._warned_until[key] = now + self.window
        return FloodVerdict.WARN

    def retry_in(self, bot_id: int, user_id: int) -> int:
        """Whole seconds until the citizen may get a reply again."""
        times = self._times.get((bot_id, user_id))
        if not times:
            return 0
        return max(1, int(self.window - (self.clock() - times[0]) + 0.999))
