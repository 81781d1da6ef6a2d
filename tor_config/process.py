"""Launching and stopping Haven's own private tor.

Haven's tor lives in one folder the caller gives (inside Haven's instance
folder), made mode 0700::

    <folder>/torrc          the options below, written on every launch
    <folder>/data/          DataDirectory (keys, consensus, control cookie)
    <folder>/control.sock   ControlSocket, cookie authentication
    <folder>/socks.sock     SocksPort, only when asked for (the digest mail)
    <folder>/tor.log        notice log, with SafeLogging
    <folder>/console.log    what tor printed before its log was open

We start tor with :mod:`subprocess` rather than ``stem.process.launch_tor``:
stem's timeout works only in the main thread (it uses SIGALRM) and the
watchdog relaunches from a thread; and stem's ``take_ownership`` makes tor
exit when the *first* control connection closes, which would take our
services down on every reconnect.  ``__OwningControllerProcess`` alone ties
tor's life to Haven's process instead (tor polls it every 15 seconds).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tor_config.control import HavenController, connect
from tor_config.errors import ControlError, TorLaunchError, TorNotFound

DEFAULT_LAUNCH_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_POLL = 0.05
# sun_path is 108 bytes on Linux, including the terminating NUL.
_MAX_SOCKET_PATH = 107

_OPTION_NAME = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9]*")

TorOptions = Mapping[str, str | Sequence[str]]


def torrc_lines(directory: Path, extra_options: TorOptions | None = None, *,
                socks: bool = False) -> list[str]:
    """Return the torrc lines Haven's own tor runs with.

    :param directory: tor's folder (see the module docstring)
    :param extra_options: more options, e.g. ``{'DisableNetwork': '1'}``; a
      sequence value repeats the option
    :param socks: open a SOCKS listener on ``<folder>/socks.sock``

    :returns: one ``Option value`` string per line

    :raises TorLaunchError: if an option name or value could smuggle in a line
    """
    lines = [
        f"DataDirectory {directory / 'data'}",
        f"ControlSocket {directory / 'control.sock'}",
        "CookieAuthentication 1",
        # Haven's one outgoing connection is the opt-in digest mail: a unix
        # socket only this user can open (the folder is 0700), and only when
        # mail is to go through tor; otherwise no SOCKS port at all.
        f"SocksPort unix:{socks_socket(directory)}" if socks else "SocksPort 0",
        f"Log notice file {directory / 'tor.log'}",
        # Lets a restarted Haven find a tor its crashed predecessor left.
        f"PidFile {directory / 'tor.pid'}",
        "SafeLogging 1",
        f"__OwningControllerProcess {os.getpid()}",
    ]
    for name, value in (extra_options or {}).items():
        values = [value] if isinstance(value, str) else list(value)
        for item in values:
            if not _OPTION_NAME.fullmatch(name) or "\n" in item or "\r" in item:
                raise TorLaunchError(f"refusing torrc option {name!r}")
            lines.append(f"{name} {item}")
    return lines


def socks_socket(directory: Path) -> Path:
    """Where Haven's own tor listens for SOCKS when asked to."""
    return directory / "socks.sock"


@dataclass
class TorProcess:
    """A tor process Haven started; :meth:`stop` it when done."""

    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def control_socket(self) -> Path:
        """The unix socket tor's control port listens on."""
        return self.directory / "control.sock"

    @property
    def log_path(self) -> Path:
        """Tor's notice log."""
        return self.directory / "tor.log"

    @property
    def pid(self) -> int:
        """Tor's process id."""
        return self.process.pid

    def is_running(self) -> bool:
        """Return True while the tor process has not exited."""
        return self.process.poll() is None

    def connect(self, timeout: float = 10.0) -> HavenController:
        """Open an authenticated control connection to this tor.

        :returns: a controller; the caller closes it

        :raises ControlError: if tor does not answer
        """
        return connect(self.control_socket, timeout=timeout)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop tor: SIGTERM, then SIGKILL if it is still there after ``timeout``.

        Its onion services go with it.  Stopping a stopped tor does nothing.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)

    def log_tail(self, lines: int = 20) -> str:
        """Return the last lines of tor's log and console output, for error messages."""
        parts = []
        for path in (self.directory / "console.log", self.log_path):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append("\n".join(text))
        return "\n".join(parts)


def stop_orphan(directory: Path, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop a tor left running in ``directory`` by a Haven that crashed.

    .. warning:: Call this only while holding the folder (Haven's instance
       lock): any tor found there is then an orphan, not a live Haven's.

    :returns: True if an orphaned tor was found and stopped

    :raises TorLaunchError: if it will not stop even after SIGKILL
    """
    try:
        pid = int((directory / "tor.pid").read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    # The pid must still be a tor started on this folder's torrc, not a
    # stranger that reused the number.
    if not (command and Path(os.fsdecode(command[0])).name == "tor"
            and os.fsencode(directory / "torrc") in command):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                return True
            time.sleep(_POLL)
    raise TorLaunchError(f"the orphaned tor (pid {pid}) in {directory} would not stop")


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def _prepare(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The folder holds the control cookie's parent and tor's keys.
    os.chmod(directory, 0o700)
    (directory / "data").mkdir(mode=0o700, exist_ok=True)
    os.chmod(directory / "data", 0o700)
    control_socket = directory / "control.sock"
    for path in (control_socket, socks_socket(directory)):
        if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
            raise TorLaunchError(f"socket path is longer than {_MAX_SOCKET_PATH} bytes: {path}")
    if control_socket.exists():
        try:
            connect(control_socket, timeout=2.0).close()
        except ControlError:
            # Left by a killed tor: it would pass for a ready one below.
            control_socket.unlink()
        else:
            raise TorLaunchError(f"a tor is already running in {directory}")


def launch_tor(
    directory: Path,
    *,
    extra_options: TorOptions | None = None,
    tor_cmd: str = "tor",
    timeout: float = DEFAULT_LAUNCH_TIMEOUT,
    socks: bool = False,
) -> TorProcess:
    """Start a private tor in ``directory`` and wait until its control socket answers.

    This does not wait for bootstrap (see :mod:`tor_config.bootstrap`): with
    no network tor stays at 0 % and still accepts onion services.

    :param directory: tor's folder, created (mode 0700) if missing
    :param extra_options: more torrc options, e.g. ``{'DisableNetwork': '1'}``
    :param tor_cmd: the tor executable
    :param timeout: seconds to wait for the control socket
    :param socks: also listen for SOCKS on ``<folder>/socks.sock``

    :returns: the running :class:`TorProcess`

    :raises TorNotFound: if ``tor_cmd`` is not installed
    :raises TorLaunchError: if tor exits or its control socket does not
      answer within ``timeout`` (tor is stopped then); the message ends with
      the tail of tor's log
    """
    executable = shutil.which(tor_cmd)
    if executable is None:
        raise TorNotFound(f"{tor_cmd!r} not found: on Debian, run: sudo apt-get install tor")
    _prepare(directory)
    torrc = directory / "torrc"
    torrc.write_text("\n".join(torrc_lines(directory, extra_options, socks=socks)) + "\n")
    os.chmod(torrc, 0o600)
    defaults = directory / "torrc-defaults"
    # An empty defaults file keeps a system-wide torrc-defaults out of ours.
    defaults.write_text("")
    with open(directory / "console.log", "wb") as console:
        process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            [executable, "-f", str(torrc), "--defaults-torrc", str(defaults)],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on Haven's terminal is Haven's to handle
        )
    tor = TorProcess(directory, process)
    try:
        _wait_for_control(tor, timeout)
    except BaseException:
        tor.stop()
        raise
    return tor


def _wait_for_control(tor: TorProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not tor.is_running():
            raise TorLaunchError(
                f"tor exited during start-up (code {tor.process.returncode})", tor.log_tail()
            )
        if tor.control_socket.exists():
            try:
                tor.connect(timeout=max(0.1, deadline - time.monotonic())).close()
                return
            except ControlError:
                pass  # listening, not yet answering: keep waiting
        if time.monotonic() > deadline:
            raise TorLaunchError(f"tor's control socket did not answer in {timeout:g} s",
                                 tor.log_tail())
        time.sleep(_POLL)


@dataclass
class LaunchedTor:
    """Haven's own tor, relaunched by :meth:`open` whenever it is not running."""

    directory: Path
    extra_options: TorOptions = field(default_factory=dict)
    tor_cmd: str = "tor"
    timeout: float = DEFAULT_LAUNCH_TIMEOUT
    process: TorProcess | None = None
    socks: bool = False

    def open(self) -> HavenController:
        """Launch tor if it is not running, then connect to it.

        :returns: an authenticated controller; the caller closes it

        :raises TorNotFound: if tor is not installed
        :raises TorLaunchError: if tor does not start
        :raises ControlError: if tor does not answer
        """
        if self.process is None or not self.process.is_running():
            self.process = launch_tor(
                self.directory,
                extra_options=self.extra_options,
                tor_cmd=self.tor_cmd,
                timeout=self.timeout,
                socks=self.socks,
            )
        return self.process.connect()

    def is_running(self) -> bool:
        """Return True if our tor process is alive."""
        return self.process is not None and self.process.is_running()

    def stop(self) -> None:
        """Stop our tor, if it was started."""
        if self.process is not None:
            self.process.stop()

    def describe(self) -> str:
        """Return a short description for logs."""
        pid = self.process.pid if self.process is not None else "not started"
        return f"Haven's tor in {self.directory} (pid {pid})"
