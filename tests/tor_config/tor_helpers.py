"""Constants and small helpers shared by tor_config's tests, and the test
double of a :class:`~tor_config.onion.KeyStore`."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tor_config.keys import encode_base32

# Options for a tor that never touches the network: it starts in a fraction
# of a second and accepts ADD_ONION, but stays at 0 % bootstrap.
OFFLINE = {"DisableNetwork": "1"}

# A fixed device public key for staff specs; tests that need the private
# half generate their own pair.
STAFF_CLIENT_PUBLIC = encode_base32(bytes(range(32)))


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 0.05 s; fail the test if it is not true in ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_operator_tor(directory: Path, options: list[str]) -> subprocess.Popen[bytes]:
    """Start a tor the way an operator would, outside tor_config; wait for its log.

    The caller stops it.  Waits (at most 30 s) until tor says its control
    listener is open.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    torrc = directory / "torrc"
    torrc.write_text(
        "\n".join(
            [f"DataDirectory {directory / 'data'}", "SocksPort 0", "DisableNetwork 1",
             f"Log notice file {directory / 'tor.log'}", *options]
        ) + "\n"
    )
    (directory / "empty").write_text("")
    log = directory / "tor.log"
    # A restart in the same folder must not be taken as ready on the last
    # run's "Opened Control listener".
    log.unlink(missing_ok=True)
    process = subprocess.Popen(
        ["tor", "-f", str(torrc), "--defaults-torrc", str(directory / "empty")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"operator tor exited: {log.read_text() if log.exists() else ''}")
        return log.exists() and "Opened Control listener" in log.read_text()

    try:
        wait_until(listening, 30, "the operator's tor")
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process we started, killing it if it lingers past 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class MemoryKeyStore:
    """A :class:`~tor_config.onion.KeyStore` in a dict.

    Haven's real one is the encrypted database
    (``onion_app.store.onion_keys.DatabaseKeyStore``); this one lives with the
    tests because nothing in production may keep service keys in memory only.
    """

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        self._keys = dict(keys or {})

    def get(self, name: str) -> str | None:
        """Return the key stored for ``name``, or None."""
        return self._keys.get(name)

    def put(self, name: str, key: str) -> None:
        """Store the key for ``name``."""
        self._keys[name] = key

    def __repr__(self) -> str:
        return f"MemoryKeyStore({sorted(self._keys)})"
