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
