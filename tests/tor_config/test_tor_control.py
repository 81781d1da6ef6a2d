"""Control addresses, connecting, and attaching to an operator's running tor."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tor_helpers import MemoryKeyStore, free_port, start_operator_tor, stop_process

from tor_config.control import AttachedTor, ControlAddress, connect, parse_control_address
from tor_config.errors import ControlError, InvalidControlAddress
from tor_config.onion import ServiceSpec, publish, running_services


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("unix:/run/tor/control", ControlAddress(socket_path=Path("/run/tor/control"))),
        ("/run/tor/control", ControlAddress(socket_path=Path("/run/tor/control"))),
        ("127.0.0.1:9051", ControlAddress(port=9051)),
        ("localhost:9051", ControlAddress(port=9051)),
        ("127.0.0.2:9151", ControlAddress(host="127.0.0.2", port=9151)),
        (" 9051 ", ControlAddress(port=9051)),
    ],
)
def test_control_addresses(text: str, expected: ControlAddress) -> None:
    assert parse_control_address(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("unix:run/tor/control", "absolute"),
        ("192.168.1.10:9051", "127.0.0.0/8"),
        ("tor.example:9051", "127.0.0.0/8"),
        ("[::1]:9051", "127.0.0.0/8"),
        ("127.0.0.1:0", "HOST:PORT"),
        ("127.0.0.1:99999", "HOST:PORT"),
        ("", "HOST:PORT"),
    ],
)
def test_bad_control_addresses(text: str, words: str) -> None:
    with pytest.raises(InvalidControlAddress, match=words):
        parse_control_address(text)


def test_unreachable_control_socket(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="cannot reach tor's control port"):
        connect(tmp_path / "no-such.sock")


def test_closed_control_port() -> None:
    with pytest.raises(ControlError, match="cannot reach tor's control port"):
        connect(f"127.0.0.1:{free_port()}")


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, list[bytes]]]:
    """A loopback TCP listener that is not tor; it answers what the list holds."""
    server = socket.create_server(("127.0.0.1", 0))
    answers: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                conn.recv(100)
                if answers:
                    conn.sendall(answers[0])
                stop.wait(1.5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server, answers
    stop.set()
    thread.join(5)
    server.close()


def test_silent_listener_is_not_waited_on_forever(
    listener: tuple[socket.socket, list[bytes]],
) -> None:
    server, _ = listener
    with pytest.raises(ControlError, match="cannot reach"):
        connect(f"127.0.0.1:{server.getsockname()[1]}", timeout=0.5)


def test_listener_that_is_not_tor(listener: tuple[socket.socket, list[bytes]]) -> None:
    server, answers = listener
    answers.append(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    with pytest.raises(ControlError, match="does not answer like a tor control port"):
        connect(f"127.0.0.1:{server.getsockname()[1]}", timeout=1)


@pytest.mark.tor
def test_attach_to_an_operators_tor(short_dir: Path) -> None:
    port = free_port()
    process = start_operator_tor(
        short_dir / "system-tor", [f"ControlPort 127.0.0.1:{port}", "CookieAuthentication 1"]
    )
    try:
        source = AttachedTor(parse_control_address(f"127.0.0.1:{port}"))
        assert source.describe() == f"tor at 127.0.0.1:{port}"
        spec = ServiceSpec("public", "127.0.0.1:8080")
        keystore = MemoryKeyStore()
        with source.open() as controller:
            first = publish(controller, [spec], keystore)["public"]
        # Haven restarts and attaches again: same address, replaced in place.
        with source.open() as controller:
            second = publish(controller, [spec], keystore)["public"]
            assert second.service_id in running_services(controller)
        assert first.address == second.address
    finally:
        stop_process(process)


@pytest.mark.tor
def test_password_protected_control_port(short_dir: Path) -> None:
    port = free_port()
    hashed = "16:2F37B67D295F03E960FFC47D2828BA54FA975FF220F4DBB60D4DF5F43B"  # "secret"
    options = [f"ControlPort 127.0.0.1:{port}", f"HashedControlPassword {hashed}"]
    process = start_operator_tor(short_dir / "system-tor", options)
    try:
        with pytest.raises(ControlError, match="cannot authenticate"):
            connect(f"127.0.0.1:{port}")
        with pytest.raises(ControlError, match="cannot authenticate"):
            connect(f"127.0.0.1:{port}", password="wrong")
        with connect(f"127.0.0.1:{port}", password="secret") as controller:
            assert controller.is_authenticated()
    finally:
        stop_process(process)
