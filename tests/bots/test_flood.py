from itertools import pairwise

from bots.flood import FloodGuard, FloodVerdict


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
