"""Reaching a tor's control port: parse an address, connect, authenticate, send.

Haven either launches its own tor (:mod:`tor_config.process`) or attaches to
an operator's, named by a string such as ``HAVEN_TOR_CONTROL`` gives:
``unix:/run/tor/control``, ``/run/tor/control``, ``127.0.0.1:9051`` or
``9051``.  The control protocol is clear text, so only a unix socket or a
loopback port is accepted.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import stem
import stem.connection
import stem.control
import stem.response
import stem.socket

from tor_config.errors import ControlError, InvalidControlAddress

DEFAULT_TIMEOUT = 10.0
_PROTOCOLINFO = b"250-PROTOCOLINFO"


@dataclass(frozen=True)
class ControlAddress:
    """Where a tor control port listens: a unix socket path or a loopback port.

    Exactly one of ``socket_path`` and ``port`` is set.
    """

    socket_path: Path | None = None
    host: str = "127.0.0.1"
    port: int | None = None

    def __str__(self) -> str:
        if self.socket_path is not None:
            return f"unix:{self.socket_path}"
        return f"{self.host}:{self.port}"


def parse_control_address(text: str | Path) -> ControlAddress:
    """Parse a control address as an operator writes it.

    :param text: ``unix:/path``, an absolute socket path, ``HOST:PORT`` with
      an IPv4 loopback host (or ``localhost``), or a bare port

    :returns: a :class:`ControlAddress`

    :raises InvalidControlAddress: if it is malformed or not on this machine
    """
    if isinstance(text, Path):
        return ControlAddress(socket_path=text)
    value = text.strip()
    if value.startswith("unix:"):
        value = value[len("unix:"):]
        if not value.startswith("/"):
            raise InvalidControlAddress(f"control socket path must be absolute: {text!r}")
    if value.startswith("/"):
        return ControlAddress(socket_path=Path(value))
    host, _, port_text = value.rpartition(":")
    host = host or "127.0.0.1"
    if host == "localhost":
        host = "127.0.0.1"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidControlAddress(f"not a control socket path or HOST:PORT: {text!r}")
    try:
        loopback = ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        # Cookies and commands cross the control connection in clear text.
        raise InvalidControlAddress(
            f"control port must be on 127.0.0.0/8 or a unix socket: {text!r}"
        )
    return ControlAddress(host=host, port=int(port_text))


class HavenController(stem.control.Controller):  # type: ignore[misc]
    """stem's Controller, minus two behaviours Haven cannot live with.

    - After authenticating, stem 1.8.2 sends TAKEOWNERSHIP whenever tor's
      ``__OwningControllerProcess`` is our pid, and resets that option.  Tor
      then exits as soon as *that* connection closes ("Owning controller
      connection has closed -- exiting now"), taking the services with it:
      fatal for a watchdog that reconnects, and for any short-lived
      connection.  We skip that step and keep the pid check alone.
    - stem starts its reader threads with ``Thread.setDaemon()``, which
      Python 3.10+ deprecates; under ``-W error`` (our test suite) creating
      a controller would fail.  We start them with ``daemon=True``.
    """

    # Set by stem's BaseController; declared for the type checker only.
    _reader_thread: threading.Thread | None
    _event_thread: threading.Thread | None

    def _post_authentication(self) -> None:
        # stem's Controller._post_authentication without its TAKEOWNERSHIP.
        stem.control.BaseController._post_authentication(self)
        with self._event_listeners_lock:
            try:
                failed_events = self._attach_listeners()[1]
            except stem.ProtocolError:
                return  # as stem does: the listeners stay unattached
            for event_type in failed_events:
                del self._event_listeners[event_type]

    def _launch_threads(self) -> None:
        with self._socket._get_send_lock():
            if not self._reader_thread or not self._reader_thread.is_alive():
                self._reader_thread = threading.Thread(
                    target=self._reader_loop, name="Tor listener", daemon=True
                )
                self._reader_thread.start()
            if not self._event_thread or not self._event_thread.is_alive():
                self._event_thread = threading.Thread(
                    target=self._event_loop, name="Event notifier", daemon=True
                )
                self._event_thread.start()


def _probe(address: ControlAddress, timeout: float) -> None:
    """Check, with a bounded wait, that a tor control port answers there.

    stem's own reads have no timeout: pointed at a listener that never
    answers, authenticate() would hang forever.
    """
    family = socket.AF_UNIX if address.socket_path is not None else socket.AF_INET
    target = str(address.socket_path) if address.socket_path else (address.host, address.port)
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(target)
            sock.sendall(b"PROTOCOLINFO 1\r\n")
            reply = b""
            while _looks_like_tor(reply) and b"\r\n250 " not in reply and len(reply) < 4096:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                reply += chunk
    except OSError as exc:
        raise ControlError(f"cannot reach tor's control port at {address}: {exc}") from exc
    if not reply.startswith(_PROTOCOLINFO):
        raise ControlError(f"{address} does not answer like a tor control port")


def _looks_like_tor(reply: bytes) -> bool:
    """Return False as soon as the first bytes cannot begin a PROTOCOLINFO reply."""
    return reply.startswith(_PROTOCOLINFO) or _PROTOCOLINFO.startswith(reply)


def connect(
    address: ControlAddress | str | Path,
    *,
    password: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> HavenController:
    """Connect to a tor control port and authenticate.

    Cookie authentication (what Haven's own tor uses, and Debian's system
    tor) needs no argument; a ``HashedControlPassword`` tor needs ``password``.

    :param address: a :class:`ControlAddress` or anything
      :func:`parse_control_address` accepts
    :param password: the control password, if tor wants one
    :param timeout: seconds to wait for tor to first answer

    :returns: an authenticated :class:`HavenController`; the caller closes it

    :raises InvalidControlAddress: if the address is malformed or not local
    :raises ControlError: if nothing answers there, it is not tor, or
      authentication fails
    """
    if not isinstance(address, ControlAddress):
        address = parse_control_address(address)
    _probe(address, timeout)
    try:
        if address.socket_path is not None:
            control_socket = stem.socket.ControlSocketFile(str(address.socket_path))
        else:
            control_socket = stem.socket.ControlPort(address.host, address.port)
    except stem.SocketError as exc:
        raise ControlError(f"cannot connect to tor at {address}: {exc}") from exc
    controller = HavenController(control_socket)
    try:
        controller.authenticate(password=password)
    except (stem.connection.AuthenticationFailure, stem.SocketError) as exc:
        controller.close()
        raise ControlError(f"cannot authenticate to tor at {address}: {exc}") from exc
    return controller


def send_command(controller: stem.control.Controller, command: str) -> stem.response.ControlMessage:
    """Send a raw control command and return tor's reply, whatever its code.

    :returns: the reply; check ``is_ok()`` or its content for the code

    :raises ControlError: if the control connection is closed or broken
    """
    try:
        return controller.msg(command)
    except (stem.SocketError, stem.ProtocolError) as exc:
        raise ControlError(f"lost the control connection to tor: {exc}") from exc


def reply_code(reply: stem.response.ControlMessage) -> tuple[str, str]:
    """Return the code and text of a reply's last line, e.g. ``('552', 'Unknown ...')``."""
    code, _divider, text = reply.content()[-1]
    return str(code), str(text)


@dataclass
class AttachedTor:
    """An operator's running tor, reached through its control port.

    :func:`open` can be called again after the connection is lost, which is
    what the watchdog does; Haven never starts or stops this tor.
    """

    address: ControlAddress
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    def open(self) -> HavenController:
        """Connect and authenticate anew.

        :returns: an authenticated controller; the caller closes it

        :raises ControlError: if tor does not answer or refuses us
        """
        return connect(self.address, password=self.password, timeout=self.timeout)

    def is_running(self) -> bool:
        """Return True: an attached tor's process is not ours to watch."""
        return True

    def describe(self) -> str:
        """Return a short description for logs, e.g. ``tor at unix:/run/tor/control``."""
        return f"tor at {self.address}"
