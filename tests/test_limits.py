from __future__ import annotations

import threading

import pytest

from onion_app.domain.kdf_gate import Busy, KdfGate
from onion_app.web.limits import RateExceeded, RateWindow


def test_gate_admits_up_to_its_concurrency() -> None:
    gate = KdfGate(concurrency=2, wait_seconds=0)
    with gate.slot(), gate.slot(), pytest.raises(Busy), gate.slot():
        pass  # pragma: no cover - the third slot is refused
    with gate.slot():
        pass


def test_gate_waits_for_a_slot_to_free() -> None:
    gate = KdfGate(concurrency=1, wait_seconds=5)
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with gate.slot():
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    release.set()
    with gate.slot():  # admitted once the holder lets go, within the wait
        pass
    thread.join(5)


def test_gate_releases_on_error() -> None:
    gate = KdfGate(concurrency=1, wait_seconds=0)
    with pytest.raises(ValueError, match="boom"), gate.slot():
        raise ValueError("boom")
    with gate.slot():
        pass


def test_rate_window_slides() -> None:
    now = [0.0]
    window = RateWindow(per_hour=3, clock=lambda: now[0])
    for _ in range(3):
        window.take()
    with pytest.raises(RateExceeded):
        window.take()
    now[0] = 3601.0
    window.take()
