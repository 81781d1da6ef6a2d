"""tor_config.socks: where the listener is, and what a refusal looks like.

Reaching a relay through a real tor is in tests/test_mail_relay.py.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

import pytest

from tor_config import socks
from tor_config.errors import SocksError
from tor_config.process import socks_socket, torrc_lines


@pytest.mark.parametrize(("text", "expected"), [
    ("unix:/run/haven/socks.sock", "/run/haven/socks.sock"),
    ("127.0.0.1:9050", ("127.0.0.1", 9050)),
    ("[::1]:9150", ("::1", 9150)),
])
def test_listeners_are_unix_sockets_or_loopback(text: str,
                                                expected: socks.SocksAddress) -> None:
    assert socks.parse_socks_address(text) == expected


@pytest.mark.parametrize("text", ["192.0.2.1:9050", "tor.example:9050", "unix:rel/ative",
                                  "9050"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(SocksError):
        socks.parse_socks_address(text)


def _one_reply(path: Path, reply: bytes) -> threading.Thread:
    """A listener that greets, reads a CONNECT and answers ``reply``."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()

    def serve() -> None:
        client, _ = listener.accept()
        with client, listener:
            client.recv(3)
            client.sendall(b"\x05\x00")
            client.recv(262)
            client.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_a_refusal_keeps_tors_reply_code(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    thread = _one_reply(path, b"\x05\x04\x00\x01" + bytes(6))
    with pytest.raises(SocksError, match="host unreachable") as refused:
        socks.connect(str(path), "relay.example.org", 587, timeout=10)
    thread.join(timeout=10)
    assert refused.value.reply == 0x04


def test_no_listener_is_a_socks_error(tmp_path: Path) -> None:
    with pytest.raises(SocksError, match="cannot reach tor's SOCKS listener"):
        socks.connect(str(tmp_path / "absent.sock"), "relay.example.org", 587, timeout=1)


def test_the_socks_socket_is_asked_for_not_given(tmp_path: Path) -> None:
    assert "SocksPort 0" in torrc_lines(tmp_path)
    lines = torrc_lines(tmp_path, socks=True)
    assert f"SocksPort unix:{socks_socket(tmp_path)}" in lines
    assert "SocksPort 0" not in lines


@pytest.mark.tor
def test_tor_accepts_the_socks_socket(tmp_path: Path) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text("\n".join(torrc_lines(tmp_path, socks=True)) + "\n")
    empty = tmp_path / "empty"
    empty.write_text("")
    checked = subprocess.run(["tor", "--verify-config", "-f", str(torrc),
                              "--defaults-torrc", str(empty)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout
