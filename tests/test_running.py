from __future__ import annotations

import os

import pytest

from onion_app.config import Config, ensure_instance
from onion_app.serving.running import AlreadyRunning, InstanceLock, lock_path, running_pid


def test_one_holder_at_a_time(config: Config) -> None:
    ensure_instance(config)
    first = InstanceLock(config)
    first.acquire()
    try:
        assert running_pid(config) == os.getpid()
        with pytest.raises(AlreadyRunning, match="already running"):
            InstanceLock(config).acquire()
    finally:
        first.release()
    assert running_pid(config) is None
    assert not lock_path(config).exists()
    again = InstanceLock(config)
    again.acquire()
    again.release()


def test_a_file_left_by_a_crash_means_not_running(config: Config) -> None:
    ensure_instance(config)
    lock_path(config).write_text("1\n")  # pid 1 exists, but holds no lock
    assert running_pid(config) is None


def test_no_file_means_not_running(config: Config) -> None:
    assert running_pid(config) is None
