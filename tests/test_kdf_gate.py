"""The process-wide bound on key derivations: refused at once in requests,
waited for outside them."""

from __future__ import annotations

import os
import threading

import pytest

from onion_app.domain.kdf_gate import MOST_NICE, NICENESS, RETRY_AFTER_SECONDS, Busy, KdfGate


def test_gate_admits_up_to_its_concurrency() -> None:
    gate = KdfGate(concurrency=2)
    with gate.slot(), gate.slot(), pytest.raises(Busy), gate.slot():
        pass  # pragma: no cover - the third slot is refused
    with gate.slot():
        pass


def test_a_full_gate_refuses_at_once_and_says_when_to_come_back() -> None:
    gate = KdfGate(concurrency=1)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with gate.slot():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(30)
    try:
        # Refused while the holder still holds: no waiting for it to let go.
        with pytest.raises(Busy) as refused, gate.slot():
            pass  # pragma: no cover
        assert release.is_set() is False
        assert refused.value.retry_after == RETRY_AFTER_SECONDS
    finally:
        release.set()
        thread.join(30)


def test_waiting_slot_waits_for_a_slot_to_free() -> None:
    gate = KdfGate(concurrency=1)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with gate.slot():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(30)
    threading.Timer(0.2, release.set).start()
    with gate.waiting_slot():  # admitted once the holder lets go
        assert release.is_set()
    thread.join(30)


def test_waiting_slot_gives_up_after_its_timeout() -> None:
    gate = KdfGate(concurrency=1)
    with gate.slot(), pytest.raises(Busy), gate.waiting_slot(timeout=0):
        pass  # pragma: no cover


def test_gate_releases_on_error() -> None:
    gate = KdfGate(concurrency=1)
    with pytest.raises(ValueError, match="boom"), gate.slot():
        raise ValueError("boom")
    with gate.slot(), pytest.raises(Busy), gate.waiting_slot(timeout=0):
        pass  # pragma: no cover
    with gate.waiting_slot(timeout=0):
        pass


def test_run_derives_on_a_low_priority_thread_of_its_own() -> None:
    gate = KdfGate(concurrency=1)

    def where() -> tuple[str, int]:
        thread = threading.current_thread()
        return thread.name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    name, niceness = gate.run(where)
    assert name.startswith("haven-kdf")
    assert name != threading.current_thread().name
    assert niceness == min(MOST_NICE, mine + NICENESS)
    # The caller's own thread keeps its priority.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


def test_run_refuses_when_full_and_passes_errors_back() -> None:
    gate = KdfGate(concurrency=1)
    ran: list[bool] = []
    with gate.slot(), pytest.raises(Busy):
        gate.run(lambda: ran.append(True))
    assert ran == []

    def broken() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        gate.run(broken)
    assert gate.run(lambda: 42) == 42  # the slot came back after the error


def test_has_room_takes_nothing() -> None:
    gate = KdfGate(concurrency=1)
    assert gate.has_room()
    assert gate.has_room()
    with gate.slot():
        assert not gate.has_room()
    assert gate.has_room()
