"""Event-driven waiting across threads and event loops.

Every change to the emulator's state calls :meth:`ChangeNotifier.notify`. Waiters re-check their
predicate on each notification: sync ones on a ``threading.Condition``, async ones on an
``asyncio.Event`` of their own loop (set with ``call_soon_threadsafe``), so waiting never blocks
another loop and never polls with sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class ChangeNotifier:
    def __init__(self, lock: threading.RLock) -> None:
        self._cond = threading.Condition(lock)
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._guard = threading.Lock()

    def notify(self) -> None:
        with self._cond:
            self._cond.notify_all()
        with self._guard:
            waiters = list(self._async_waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed; its waiter is gone
                with self._guard:
                    self._async_waiters.discard((loop, event))

    def wait(self, predicate: Callable[[], T | None], timeout: float) -> T | None:
        """Block until ``predicate()`` is truthy (returns it) or ``timeout`` (returns None)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    async def wait_async(
            self, predicate: Callable[[], T | None],
            timeout: float,  # noqa: ASYNC109 - a deadline for re-checks, not a cancel scope
    ) -> T | None:
        """Like :meth:`wait`, without blocking the running loop."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + timeout
        with self._guard:
            self._async_waiters.add(waiter)
        try:
            while True:
                event.clear()
                result = predicate()
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._guard:
                self._async_waiters.discard(waiter)
