from __future__ import annotations

from onion_app.web.throttle import FIRST_HOLD_SECONDS, LONGEST_HOLD_SECONDS, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_in_a_minute_hold_the_account() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    assert [throttle.failed("lawyer") for _ in range(5)] == [False] * 4 + [True]
    assert throttle.held("LAWYER")
    clock.now += FIRST_HOLD_SECONDS + 1
    assert not throttle.held("lawyer")


def test_failures_spread_out_do_not_hold() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(10):
        assert not throttle.failed("lawyer")
        clock.now += 20


def test_holds_double_up_to_a_ceiling() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    holds = []
    for _ in range(8):
        for _ in range(5):
            throttle.failed("lawyer")
        start = clock.now
        while throttle.held("lawyer"):
            clock.now += 1
        holds.append(clock.now - start)
    assert holds[1] > holds[0]
    assert max(holds) <= LONGEST_HOLD_SECONDS + 1


def test_success_clears_everything() -> None:
    throttle = LoginThrottle(clock=Clock())
    for _ in range(5):
        throttle.failed("lawyer")
    throttle.succeeded("lawyer")
    assert not throttle.held("lawyer")


def test_accounts_are_separate() -> None:
    throttle = LoginThrottle(clock=Clock())
    for _ in range(5):
        throttle.failed("one")
    assert not throttle.held("two")
