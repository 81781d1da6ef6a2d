"""Stopping a real loopback server: the trigger outlives every pull of it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from onion_app.serving import serve

# How long the stop's last pull waits for the loop to finish the call it
# queued. With the trigger closed under the pulling lock, the loop cannot
# finish it until that pull has written, so the wait runs out; then the
# pull writes, and the loop goes on.
LOOP_FINISHES = 1.0


def test_the_last_pull_writes_to_a_live_trigger_when_the_loop_runs_its_call_first(
        public_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """waitress queues a pull's call, then writes its byte. A loop already
    awake (woken by the stop's first pull, on a busy machine) may run the
    call in between. The call that closes the connections also has the
    trigger closed once no worker thread runs; closed before the pull's
    write, the byte would go to a closed descriptor (EBADF: one stop in a
    few hundred under two test workers did so), or to whatever file had
    been given its number.

    The loop is made late here on purpose: it reads the first pull's byte
    only once the last call is queued, and that pull writes only once the
    loop has run the call, or after LOOP_FINISHES.
    """
    served = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    trigger = served.servers["public"].trigger
    queued, ran = threading.Event(), threading.Event()
    real_read, real_pull = trigger.handle_read, trigger._physical_pull
    real_close_channels = serve._close_channels
    pulls: list[int] = []

    def late_read() -> None:
        queued.wait(10)
        real_read()

    def pull() -> None:
        pulls.append(1)
        if len(pulls) == 2:  # the stop's last pull: its call is queued
            queued.set()
            ran.wait(LOOP_FINISHES)
        real_pull()

    def close_channels(*args: Any) -> None:
        real_close_channels(*args)
        ran.set()

    monkeypatch.setattr(trigger, "handle_read", late_read)
    monkeypatch.setattr(trigger, "_physical_pull", pull)
    monkeypatch.setattr(serve, "_close_channels", close_channels)

    served.close()

    assert len(pulls) == 2
    assert trigger._closed  # and closed all the same, once the pull had written
    assert not any(thread.is_alive() for thread in served.threads)
