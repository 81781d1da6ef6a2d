"""Which Haven serves an instance: an exclusive lock on ``instance/haven.pid``.

The lock, not the pid in the file, says whether Haven runs: a pid can be
reused by any process after a crash, a held lock cannot outlive its holder.
Two servers on one instance would fight over its sockets and its tor.
"""

from __future__ import annotations

import contextlib
import errno
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
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise HavenError(_cannot_write(self._path, error)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(f"Haven is already running for {self._path.parent}; "
                                 "stop it first (.venv/bin/haven status shows its pid)") from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as error:
            os.close(fd)
            raise HavenError(_cannot_write(self._path, error)) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # gone already, or a read-only folder
            self._path.unlink()
        os.close(self._fd)
        self._fd = None


def _cannot_write(path: Path, error: OSError) -> str:
    if error.errno == errno.EROFS:
        return (f"the instance folder {path.parent} is on a read-only file system; "
                "Haven needs to write there")
    if error.errno == errno.ENOSPC:
        return f"the disk that holds {path.parent} is full; free some space and start again"
    return f"cannot write {path}: {error.strerror or error}"


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
