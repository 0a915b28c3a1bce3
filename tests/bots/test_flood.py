"""The per-citizen reply limit: one process's (FloodGuard) and the replicas' (SharedFloodGuard,
on a real Redis: the shared one on 6379 under a prefix of the test's own, or a redis-server of
the test's own to find unreachable and then start)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from itertools import cycle, pairwise

import pytest

from bots.flood import FloodGuard, FloodJudge, FloodVerdict, SharedFloodGuard
from escalation.redis_link import connect
from tests.services import OwnRedis

SHARED_REDIS = "redis://127.0.0.1:6379/0"
ALLOW, WARN, SILENT = FloodVerdict.ALLOW, FloodVerdict.WARN, FloodVerdict.SILENT
LIMIT = 3
WINDOW = 0.4


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_warns_once_per_window_then_recovers():
    clock = Clock()
    guard = FloodGuard(limit=3, window=10.0, clock=clock)
    verdicts = [guard.check(1, 42) for _ in range(6)]
    assert verdicts == [FloodVerdict.ALLOW] * 3 + [FloodVerdict.WARN] + [FloodVerdict.SILENT] * 2
    assert guard.retry_in(1, 42) == 10
    clock.now = 10.5
    assert guard.check(1, 42) is FloodVerdict.ALLOW


def test_citizens_and_bots_are_counted_separately():
    guard = FloodGuard(limit=1, window=10.0, clock=Clock())
    assert guard.check(1, 42) is FloodVerdict.ALLOW
    assert guard.check(1, 43) is FloodVerdict.ALLOW
    assert guard.check(2, 42) is FloodVerdict.ALLOW
    assert guard.check(1, 42) is FloodVerdict.WARN


def test_at_most_one_notice_per_window_even_when_replies_resume_in_between():
    # The sliding window frees a reply slot before the notice's window ends; a citizen who then
    # floods again must not get a second notice within the same window.
    clock = Clock()
    guard = FloodGuard(limit=5, window=10.0, clock=clock)
    sent = [0.0, 4.0, 4.0, 4.0, 4.0, 5.0, 10.0, 10.1, 10.2, 13.9,
            14.0, 14.0, 14.0, 14.0, 14.5, 15.0]
    verdicts = []
    for at in sent:
        clock.now = at
        verdicts.append(guard.check(1, 42))
    assert verdicts[:5] == [FloodVerdict.ALLOW] * 5
    assert verdicts[5] is FloodVerdict.WARN  # notice at 5.0, covering until 15.0
    assert verdicts[6] is FloodVerdict.ALLOW  # the slot of the message at 0.0 is free again
    assert verdicts[7:10] == [FloodVerdict.SILENT] * 3  # still covered by the notice at 5.0
    assert verdicts[10:14] == [FloodVerdict.ALLOW] * 4
    assert verdicts[14] is FloodVerdict.SILENT
    notices = [at for at, v in zip(sent, verdicts, strict=True) if v is FloodVerdict.WARN]
    assert notices == [5.0, 15.0]
    for earlier, later in pairwise(notices):
        assert later - earlier >= 10.0, notices


def test_every_unanswered_message_is_covered_by_a_notice_window():
    # Each message is checked on its own: answered, or sent within the window promised by a
    # notice ("this and the next {seconds} s are not read") that was sent at or before it.
    clock = Clock()
    guard = FloodGuard(limit=5, window=10.0, clock=clock)
    notice_until: float | None = None
    for step in range(300):  # bursts and pauses, every 0.3 s, with gaps
        clock.now = step * 0.3 + (step // 40) * 7.0
        verdict = guard.check(1, 42)
        if verdict is FloodVerdict.WARN:
            seconds = guard.retry_in(1, 42)
            assert seconds >= 1
            notice_until = clock.now + seconds
        elif verdict is FloodVerdict.SILENT:
            assert notice_until is not None, step
            assert clock.now < notice_until, (step, clock.now)


async def test_the_local_guard_judges_as_it_checks():
    guard = FloodGuard(limit=1, window=10.0, clock=Clock())
    assert await guard.judge(1, 42) == (ALLOW, 0)
    assert await guard.judge(1, 42) == (WARN, 10)
    assert await guard.judge(1, 42) == (SILENT, 10)


@pytest.fixture
async def replicas(prefix: str) -> AsyncIterator[list[SharedFloodGuard]]:
    """Three replicas' guards, each with a client of its own."""
    guards = [SharedFloodGuard(connect(SHARED_REDIS), limit=LIMIT, window=WINDOW, prefix=prefix)
              for _ in range(3)]
    yield guards
    for guard in guards:
        await guard.client.aclose()


async def alternately(guards: list[FloodJudge], count: int, *, bot_id: int = 1,
                      user_id: int = 42) -> list[tuple[FloodVerdict, int]]:
    """One citizen's ``count`` messages, one at a time, each on the next replica."""
    return [await guard.judge(bot_id, user_id) for guard, _ in zip(cycle(guards), range(count),
                                                                   strict=False)]


async def test_replicas_keep_one_limit_and_warn_once(
        replicas: list[SharedFloodGuard]) -> None:
    judged = await alternately(list(replicas), 8)
    verdicts = [verdict for verdict, _ in judged]
    assert verdicts == [ALLOW] * LIMIT + [WARN] + [SILENT] * 4
    # the notice promises the whole window, as one process's notice does
    assert judged[LIMIT] == (WARN, math.ceil(WINDOW))
    # other citizens, and the same citizen writing to another bot, are answered meanwhile
    assert (await replicas[1].judge(1, 43))[0] is ALLOW
    assert (await replicas[2].judge(2, 42))[0] is ALLOW

    await asyncio.sleep(WINDOW + 0.05)  # the window is time itself: nothing to wait on
    verdicts = [verdict for verdict, _ in await alternately(list(replicas), LIMIT + 2)]
    assert verdicts == [ALLOW] * LIMIT + [WARN, SILENT]


async def test_local_guards_on_three_replicas_let_a_flood_through() -> None:
    """Why the guard is shared: the check above fails for guards that do not share."""
    guards: list[FloodJudge] = [FloodGuard(limit=LIMIT, window=60.0) for _ in range(3)]
    verdicts = [verdict for verdict, _ in await alternately(guards, 12)]
    assert verdicts.count(ALLOW) == 3 * LIMIT
    assert verdicts.count(WARN) == 3


async def test_the_idle_citizen_leaves_nothing_in_redis(
        replicas: list[SharedFloodGuard], prefix: str) -> None:
    await alternately(list(replicas), LIMIT + 1)
    client = replicas[0].client
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    assert len(keys) == 2
    for key in keys:  # every key goes by itself, soon after the window
        assert 0 < await client.pttl(key) <= (WINDOW + 1) * 1000


async def test_without_redis_every_citizen_is_answered(
        caplog: pytest.LogCaptureFixture, own_redis: OwnRedis) -> None:
    caplog.set_level(logging.INFO, logger="bots.flood")
    # pause 0: Redis is asked for every message, and the outage is still told once
    guard = SharedFloodGuard(connect(own_redis.url), limit=1, window=60.0,  # not started yet
                             prefix="flood:", pause=0.0)
    try:
        assert await alternately([guard], 5) == [(ALLOW, 0)] * 5
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert warnings[0].startswith("FLOOD Redis unreachable")

        await own_redis.start()
        verdicts = [verdict for verdict, _ in await alternately([guard], 3)]
        assert verdicts == [ALLOW, WARN, SILENT]  # the limit holds again
        infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert infos == ["FLOOD Redis works again"]
    finally:
        await guard.client.aclose()


async def test_during_an_outage_redis_is_asked_again_only_after_a_pause(
        caplog: pytest.LogCaptureFixture, own_redis: OwnRedis) -> None:
    """A hung Redis would otherwise delay every reply by the client's timeout."""
    caplog.set_level(logging.INFO, logger="bots.flood")
    clock = Clock()
    guard = SharedFloodGuard(connect(own_redis.url), limit=1, window=60.0,
                             prefix="flood:", pause=2.0, clock=clock)
    try:
        assert (await guard.judge(1, 42))[0] is ALLOW  # the outage is found
        await own_redis.start()
        clock.now = 1.9
        # within the pause Redis is not asked: nothing counted, nothing said
        assert await alternately([guard], 3) == [(ALLOW, 0)] * 3
        assert not [r for r in caplog.records if r.levelno == logging.INFO]
        clock.now = 2.0
        verdicts = [verdict for verdict, _ in await alternately([guard], 2)]
        assert verdicts == [ALLOW, WARN]
        assert [r.getMessage() for r in caplog.records
                if r.levelno == logging.INFO] == ["FLOOD Redis works again"]
    finally:
        await guard.client.aclose()
