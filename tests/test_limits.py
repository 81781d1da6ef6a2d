"""Site-wide and per-account limits, shaped so one visitor cannot lock the rest out for long."""

from __future__ import annotations

import pytest
from flask import Flask

from onion_app.web.limits import AccountWindow, RateExceeded, TokenBucket


def test_bucket_allows_its_burst_then_one_token_per_interval() -> None:
    now = [0.0]
    bucket = TokenBucket(per_hour=120, burst=3, clock=lambda: now[0])
    for _ in range(3):
        bucket.take()
    with pytest.raises(RateExceeded) as refused:
        bucket.take()
    # One token every 30 s: whoever emptied it made others wait 30 s, not an hour.
    assert refused.value.retry_after == 30
    now[0] = 29.0
    with pytest.raises(RateExceeded) as refused:
        bucket.take()
    assert refused.value.retry_after == 1
    now[0] = 30.0
    bucket.take()
    with pytest.raises(RateExceeded):
        bucket.take()


def test_bucket_never_holds_more_than_its_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(per_hour=60, burst=2, clock=lambda: now[0])
    now[0] = 10 * 3600.0  # a quiet night does not save up a flood's worth
    bucket.take()
    bucket.take()
    with pytest.raises(RateExceeded):
        bucket.take()


def test_a_token_given_back_can_be_taken_again() -> None:
    bucket = TokenBucket(per_hour=1, burst=1, clock=lambda: 0.0)
    bucket.take()
    bucket.give_back()
    bucket.take()
    bucket.give_back()
    bucket.give_back()  # never more than the burst
    bucket.take()
    with pytest.raises(RateExceeded):
        bucket.take()


def test_account_window_counts_each_account_apart_and_slides() -> None:
    now = [0.0]
    window = AccountWindow(limit=2, seconds=100, clock=lambda: now[0])
    window.take(1)
    now[0] = 10.0
    window.take(1)
    with pytest.raises(RateExceeded) as refused:
        window.take(1)
    assert refused.value.retry_after == 90  # when the first of the two leaves the window
    window.take(2)  # another account is not affected
    now[0] = 100.0
    window.take(1)
    with pytest.raises(RateExceeded):
        window.take(1)


def test_account_window_gives_back_the_latest() -> None:
    window = AccountWindow(limit=1, clock=lambda: 0.0)
    window.take(7)
    window.give_back(7)
    window.take(7)
    window.give_back(8)  # nothing recorded: nothing to forget
    with pytest.raises(RateExceeded):
        window.take(7)


def test_account_window_forgets_quiet_accounts() -> None:
    now = [0.0]
    window = AccountWindow(limit=1, seconds=10, clock=lambda: now[0])
    for account in range(10_002):
        window.take(account)
    now[0] = 11.0
    window.take(0)
    assert len(window) == 1


def test_every_429_carries_retry_after(public_app: Flask) -> None:
    from onion_app.web import limits

    @public_app.get("/__busy")
    def busy() -> tuple[str, int]:
        return "busy", 429

    @public_app.get("/__held")
    def held() -> tuple[str, int]:
        limits.retry_after(42)
        return "held", 429

    @public_app.get("/__fine")
    def fine() -> str:
        return "fine"

    open_endpoints = public_app.extensions["haven"].open_endpoints
    public_app.extensions["haven"].open_endpoints = open_endpoints | {"busy", "held", "fine"}
    client = public_app.test_client()
    assert client.get("/__busy").headers["Retry-After"] == "5"
    assert client.get("/__held").headers["Retry-After"] == "42"
    assert "Retry-After" not in client.get("/__fine").headers
