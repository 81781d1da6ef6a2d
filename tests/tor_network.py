"""A private Tor network on loopback, for end-to-end tests of onion services.

The layout is the one chutney uses for onion-service tests: three directory
authorities and three relays vote a consensus among themselves, one more tor
hosts the onion services (tests attach to it through its control socket or
port), and one client tor offers a SOCKS port to reach them.  Nothing leaves
127.0.0.1.

Tests share one network per test process: the ``tor_network`` fixture of
tests/conftest.py (:func:`shared_network`, :meth:`PrivateNetwork.for_one_test`).

Usage::

    with private_network(tmp_path) as net:
        # net.service_control_socket, net.service_control_port: the tor to
        #   publish onion services on (attach with tor_config.control.connect)
        # net.client_socks_port: socks5h proxy (ExtendedErrors on)
        # net.client_control_port: for ONION_CLIENT_AUTH_ADD
        page = net.get("<56 characters>.onion", "/")  # retries until published

To drive Haven's run.py against it, give it
``HAVEN_TOR_CONTROL=unix:<net.service_control_socket>`` and fetch its
addresses with ``net.get``.

Entering returns once both the service tor and the client tor report 100 %
bootstrap; every wait is bounded, and every tor started is stopped on exit,
also when entering fails (the error then carries the tails of all tor logs).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import stem.control
from stem.control import EventType
from tor_socks import SocksError, http_get

from tor_config.control import connect, reply_code, send_command
from tor_config.keys import base32_to_base64, service_id
from tor_config.onion import remove_service, running_services

AUTHORITIES = 3
RELAYS = 3
STOP_GRACE = 10.0
FETCH_TIMEOUT = 120.0
# SOCKS replies that only mean "not published or not reachable yet".
NOT_YET = frozenset({0x01, 0x04, 0xF0, 0xF2, 0xF3, 0xF7})

# Settings every node shares: they shorten tor's timers to a testing
# network's scale and let every relay hold every flag an onion service needs.
COMMON_OPTIONS = (
    "TestingTorNetwork 1",
    "PathsNeededToBuildCircuits 0.67",
    "TestingDirAuthVoteExit *",
    "TestingDirAuthVoteHSDir *",
    "TestingDirAuthVoteGuard *",
    "TestingMinExitFlagThreshold 0",
    "V3AuthNIntervalsValid 2",
    "ShutdownWaitLength 0",
    "SafeLogging 1",
)

RELAY_OPTIONS = (
    "Address 127.0.0.1",
    "AssumeReachable 1",
    "ExitRelay 0",
    "ExitPolicy reject *:*",
    "SocksPort 0",
)

# A ten-second voting interval gives the first consensus about 15 s in.
AUTHORITY_OPTIONS = (
    "AuthoritativeDirectory 1",
    "V3AuthoritativeDirectory 1",
    "V3AuthVotingInterval 10",
    "V3AuthVoteDelay 2",
    "V3AuthDistDelay 2",
    "TestingV3AuthInitialVotingInterval 10",
    "TestingV3AuthInitialVoteDelay 2",
    "TestingV3AuthInitialDistDelay 2",
    "ContactInfo haven-test@localhost",
)


def register_client_key(
    controller: stem.control.Controller, address: str, private_key: str
) -> None:
    """Give a tor *client* a device's private key for a service (ONION_CLIENT_AUTH_ADD).

    What Tor Browser does with the line Haven hands a volunteer; Haven itself
    is never the client, so this lives with the tests.  The command takes the
    key in **base64**; this converts from base32.  The key lasts until that
    tor exits or drops its descriptor cache (NEWNYM).

    :param address: the service id or ``.onion`` address to reach
    :param private_key: base32 x25519 private key

    :raises InvalidOnionAddress: if ``address`` is not a v3 address
    :raises InvalidClientKey: if the key is malformed
    :raises ControlError: if the control connection fails
    :raises AssertionError: if tor refuses the key
    """
    command = f"ONION_CLIENT_AUTH_ADD {service_id(address)} x25519:{base32_to_base64(private_key)}"
    code, text = reply_code(send_command(controller, command))
    # 251 "Client for onion existed and replaced" and 252 "Registered client
    # and decrypted desc" (it had the descriptor already) are successes too.
    if code not in ("250", "251", "252"):
        raise AssertionError(f"tor refused the client key: {text} (tor replied {code})")


class NetworkError(Exception):
    """The private network did not come up; the message has the tor log tails."""


@dataclass
class Node:
    """One tor of the network: its folder, ports and process."""

    nickname: str
    directory: Path
    or_port: int | None = None
    dir_port: int | None = None
    options: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / "notice.log"

    def log_tail(self, lines: int = 15) -> str:
        """Return the last lines of this node's log (or of its console)."""
        parts = []
        for path in (self.log, self.directory / "console.log"):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {self.nickname} {path.name}\n" + "\n".join(text))
        return "\n".join(parts)


@dataclass
class PrivateNetwork:
    """What a test needs from a running private network."""

    directory: Path
    nodes: list[Node]
    service_control_socket: Path
    service_control_port: int
    client_socks_port: int
    client_control_port: int
    started: float

    def log_tails(self, lines: int = 15) -> str:
        """Return the tails of every node's log, for failure messages."""
        return "\n".join(node.log_tail(lines) for node in self.nodes)

    @property
    def client_cookie(self) -> Path:
        return self.directory / "client" / "control_auth_cookie"

    def check_running(self) -> None:
        """Raise :class:`NetworkError`, with the log tails, if a node's tor has exited."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise NetworkError(
                    f"{node.nickname} exited ({node.process.returncode})\n{self.log_tails()}"
                )

    @contextlib.contextmanager
    def for_one_test(self) -> Iterator[None]:
        """Lend the network to one test, then take away what it added.

        Onion services the test left on the service tor are removed, and
        client keys it gave the client tor are forgotten, so tests sharing
        the network stay independent.

        :raises NetworkError: if a node has exited, before or after the test
        """
        self.check_running()
        client = f"127.0.0.1:{self.client_control_port}"
        with connect(self.service_control_socket) as service_tor, connect(client) as client_tor:
            services, client_keys = running_services(service_tor), _client_keys(client_tor)
        yield
        self.check_running()
        with connect(self.service_control_socket) as service_tor, connect(client) as client_tor:
            for left in running_services(service_tor) - services:
                remove_service(service_tor, left, missing_ok=True)
            for left in _client_keys(client_tor) - client_keys:
                send_command(client_tor, f"ONION_CLIENT_AUTH_REMOVE {left}")

    def get(
        self,
        address: str,
        path: str = "/",
        give_up_on: Collection[int] = (),
        timeout: float = FETCH_TIMEOUT,
    ) -> bytes:
        """GET ``path`` from ``address`` over the client tor; return the whole response.

        Retries while tor says the service is not reachable *yet* (its
        descriptor is still being published, introduction timed out...).

        :param give_up_on: SOCKS codes to raise at once, e.g. 0xF4
        :raises SocksError: for a code in ``give_up_on`` or one that is not
          a "not yet"
        :raises AssertionError: if still unreachable after ``timeout``, with
          the tails of the tor logs
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                return http_get(self.client_socks_port, address, path, timeout=30)
            except SocksError as exc:
                if exc.code in give_up_on or exc.code not in NOT_YET:
                    raise
                if time.monotonic() > deadline:
                    raise AssertionError(f"{address}: {exc}\n{self.log_tails()}") from exc
            time.sleep(0.5)


def _client_keys(controller: stem.control.Controller) -> set[str]:
    """Service ids a tor client holds keys for (ONION_CLIENT_AUTH_ADD)."""
    reply = send_command(controller, "ONION_CLIENT_AUTH_VIEW")
    return {str(line).split()[1] for line in reply if str(line).startswith("CLIENT ")}


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct loopback ports that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _run(args: list[str], cwd: Path, stdin: str | None = None) -> str:
    tool = shutil.which(args[0])
    if tool is None:
        raise NetworkError(f"{args[0]} not found: install Debian's tor package")
    done = subprocess.run(
        [tool, *args[1:]],
        cwd=cwd,
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise NetworkError(f"{args} failed: {done.stdout.decode()} {done.stderr.decode()}")
    return done.stdout.decode()


def _make_authority_keys(node: Node) -> tuple[str, str]:
    """Create an authority's keys; return its v3 identity and relay fingerprints."""
    keys = node.directory / "keys"
    keys.mkdir(mode=0o700, parents=True)
    _run(
        [
            "tor-gencert", "--create-identity-key", "--passphrase-fd", "0",
            "-i", "keys/authority_identity_key",
            "-s", "keys/authority_signing_key",
            "-c", "keys/authority_certificate",
            "-m", "12", "-a", f"127.0.0.1:{node.dir_port}",
        ],
        cwd=node.directory,
        stdin="\n",
    )
    certificate = (keys / "authority_certificate").read_text()
    match = re.search(r"^fingerprint ([0-9A-F]{40})$", certificate, re.MULTILINE)
    if match is None:
        raise NetworkError(f"no fingerprint in {keys / 'authority_certificate'}")
    return match.group(1), _relay_fingerprint(node)


def _relay_fingerprint(node: Node) -> str:
    empty = node.directory / "empty-torrc"
    empty.write_text("")
    _run(
        [
            "tor", "--list-fingerprint", "--orport", "1",
            "--datadirectory", str(node.directory),
            "--Nickname", node.nickname,
            "-f", str(empty), "--defaults-torrc", str(empty),
        ],
        cwd=node.directory,
    )
    _nickname, fingerprint = (node.directory / "fingerprint").read_text().split()
    return fingerprint


def _write_torrc(node: Node, shared: list[str]) -> Path:
    lines = [
        f"DataDirectory {node.directory}",
        f"Nickname {node.nickname}",
        f"Log notice file {node.log}",
        # If the test process dies without stopping us, exit within 15 s.
        f"__OwningControllerProcess {os.getpid()}",
        *COMMON_OPTIONS,
        *shared,
        *node.options,
    ]
    if node.or_port is not None:
        lines.append(f"ORPort 127.0.0.1:{node.or_port}")
    if node.dir_port is not None:
        lines.append(f"DirPort 127.0.0.1:{node.dir_port}")
    torrc = node.directory / "torrc"
    torrc.write_text("\n".join(lines) + "\n")
    return torrc


def _start(node: Node, torrc: Path) -> None:
    tor = shutil.which("tor")
    if tor is None:
        raise NetworkError("tor not found: install Debian's tor package")
    empty = node.directory / "empty-torrc"
    empty.write_text("")
    with open(node.directory / "console.log", "wb") as console:
        node.process = subprocess.Popen(
            [tor, "-f", str(torrc), "--defaults-torrc", str(empty)],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
        )


def _stop(nodes: list[Node]) -> None:
    """Stop every node's tor: SIGTERM all, then SIGKILL what is left."""
    running = [n.process for n in nodes if n.process is not None and n.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_GRACE)


def _bootstrap_percent(control_port: int, cookie: Path) -> int:
    """Ask a tor for its bootstrap percent over a bare control connection."""
    with socket.create_connection(("127.0.0.1", control_port), timeout=5) as sock:
        sock.sendall(
            f"AUTHENTICATE {cookie.read_bytes().hex()}\r\n"
            "GETINFO status/bootstrap-phase\r\nQUIT\r\n".encode()
        )
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    match = re.search(rb"PROGRESS=(\d+)", reply)
    return int(match.group(1)) if match else 0


def _wait_bootstrapped(net: PrivateNetwork, deadline: float) -> None:
    watched = {
        "service": (net.service_control_port, net.directory / "service" / "control_auth_cookie"),
        "client": (net.client_control_port, net.client_cookie),
    }
    while watched:
        for node in net.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise NetworkError(
                    f"{node.nickname} exited ({node.process.returncode})\n{net.log_tails()}"
                )
        for name, (port, cookie) in list(watched.items()):
            with contextlib.suppress(OSError):
                if cookie.exists() and _bootstrap_percent(port, cookie) == 100:
                    del watched[name]
        if time.monotonic() > deadline:
            raise NetworkError(f"{sorted(watched)} not bootstrapped in time\n{net.log_tails()}")
        time.sleep(0.5)


def _plan(directory: Path) -> tuple[list[Node], list[str], dict[str, int]]:
    """Lay out the nodes' folders and ports; return nodes, shared lines, extra ports."""
    ports = free_ports(2 * (AUTHORITIES + RELAYS) + 3)
    nodes: list[Node] = []
    for index in range(AUTHORITIES + RELAYS):
        kind = "auth" if index < AUTHORITIES else "relay"
        nickname = f"haven{kind}{index}"
        node_dir = directory / nickname
        node_dir.mkdir(mode=0o700)
        nodes.append(Node(nickname, node_dir, ports.pop(), ports.pop(), list(RELAY_OPTIONS)))
    shared = []
    for node in nodes[:AUTHORITIES]:
        v3ident, fingerprint = _make_authority_keys(node)
        node.options.extend(AUTHORITY_OPTIONS)
        shared.append(
            f"DirAuthority {node.nickname} orport={node.or_port} v3ident={v3ident} "
            f"127.0.0.1:{node.dir_port} {fingerprint}"
        )
    extra = {"service": ports.pop(), "socks": ports.pop(), "client": ports.pop()}
    return nodes, shared, extra


@contextlib.contextmanager
def private_network(directory: Path, timeout: float = 180.0) -> Iterator[PrivateNetwork]:
    """Run a private Tor network under ``directory`` for the ``with`` block.

    :param directory: an empty folder to hold every node's data (made 0700)
    :param timeout: seconds to wait for the network to bootstrap

    :returns: a :class:`PrivateNetwork`, once the service and client tors
      have bootstrapped

    :raises NetworkError: if a tor exits, or the network is not up in time
    """
    started = time.monotonic()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    nodes, shared, extra = _plan(directory)
    service_dir = directory / "service"
    client_dir = directory / "client"
    for path in (service_dir, client_dir):
        path.mkdir(mode=0o700)
    control_socket = service_dir / "control.sock"
    nodes.append(Node("havenservice", service_dir, options=[
        "SocksPort 0",
        f"ControlSocket {control_socket}",
        f"ControlPort 127.0.0.1:{extra['service']}",
        "CookieAuthentication 1",
    ]))
    nodes.append(Node("havenclient", client_dir, options=[
        f"SocksPort 127.0.0.1:{extra['socks']} ExtendedErrors",
        f"ControlPort 127.0.0.1:{extra['client']}",
        "CookieAuthentication 1",
    ]))
    net = PrivateNetwork(
        directory, nodes, control_socket, extra["service"], extra["socks"], extra["client"],
        started,
    )
    try:
        for node in nodes:
            _start(node, _write_torrc(node, shared))
        _wait_bootstrapped(net, started + timeout)
        yield net
    finally:
        _stop(nodes)


@contextlib.contextmanager
def shared_network() -> Iterator[PrivateNetwork]:
    """Run one private network under a fresh short /tmp folder, removed afterwards.

    The path is short because each tor's control socket lives in it, and a
    unix socket path must fit in 107 bytes.

    :raises NetworkError: if the network does not come up
    """
    directory = Path(tempfile.mkdtemp(prefix="havnet-", dir="/tmp"))
    try:
        with private_network(directory / "net") as net:
            yield net
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class Uploads:
    """Follows a service tor's HS_DESC events, to wait until a new descriptor is out.

    A client that fetches while the service is still uploading may get the
    previous descriptor, and keeps it: a test that changed the client keys
    must wait for the new one to reach every HSDir it was sent to.
    """

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def attach(self, controller: stem.control.Controller) -> None:
        controller.add_event_listener(
            lambda event: self.events.append((str(event.action), str(event.address))),
            EventType.HS_DESC,
        )

    def mark(self) -> int:
        return len(self.events)

    def wait_published(self, service_id: str, since: int) -> None:
        """Wait until, since ``mark()`` gave ``since``, every upload of the service is done."""

        def done() -> bool:
            actions = [a for a, address in self.events[since:] if address == service_id]
            sent = actions.count("UPLOAD")
            return sent > 0 and actions.count("UPLOADED") + actions.count("FAILED") >= sent

        deadline = time.monotonic() + FETCH_TIMEOUT
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"descriptor uploads of {service_id} never finished")
            time.sleep(0.2)
