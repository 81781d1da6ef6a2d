"""Which Haven serves an instance: an exclusive lock on ``instance/haven.pid``.

The lock, not the pid in the file, says whether Haven runs: a pid can be
reused by any process after a crash, a held lock cannot outlive its holder.
Two servers on one instance would fight over its sockets and its tor.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from onion_app.config import Config
from onion_app.errors import HavenError


class AlreadyRunning(HavenError):
    """Another Haven holds this instance."""


def lock_path(config: Config) -> Path:
    return config.instance_path / "haven.pid"


class InstanceLock:
    """Held for as long as this process serves the instance."""

    def __init__(self, config: Config) -> None:
        self._path = lock_path(config)
        self._fd: int | None = None

    def acquire(self) -> None:
        """:raises AlreadyRunning: if another Haven holds the instance"""
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(f"Haven is already running for {self._path.parent}; "
                                 "stop it first (.venv/bin/haven status shows its pid)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        os.close(self._fd)
        self._fd = None


def running_pid(config: Config) -> int | None:
    """The pid of the Haven serving this instance, or None if none is."""
    try:
        fd = os.open(lock_path(config), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None  # a file left by a crash: nobody holds it
    finally:
        os.close(fd)
