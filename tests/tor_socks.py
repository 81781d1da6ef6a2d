"""A tiny SOCKS5 client (RFC 1928 CONNECT by hostname, i.e. socks5h) for tests.

Tor resolves the hostname itself, which is the only way to reach a ``.onion``.
With ``ExtendedErrors`` on the SocksPort, tor answers onion-service failures
with codes 0xF0-0xF7 (``man tor``); :class:`SocksError` keeps the code.
"""

from __future__ import annotations

import socket
import struct

# Codes from RFC 1928 and, from 0xF0 on, tor's ExtendedErrors.
REPLIES = {
    0x01: "general failure",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0xF0: "onion service descriptor cannot be found",
    0xF1: "onion service descriptor is invalid",
    0xF2: "onion service introduction failed",
    0xF3: "onion service rendezvous failed",
    0xF4: "onion service missing client authorization",
    0xF5: "onion service wrong client authorization",
    0xF6: "onion service invalid address",
    0xF7: "onion service introduction timed out",
}
MISSING_CLIENT_AUTH = 0xF4
WRONG_CLIENT_AUTH = 0xF5


class SocksError(OSError):
    """The SOCKS server refused the CONNECT; ``code`` is its reply byte."""

    def __init__(self, code: int) -> None:
        super().__init__(f"SOCKS reply {code:#04x}: {REPLIES.get(code, 'unknown')}")
        self.code = code


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("SOCKS server closed the connection")
        data += chunk
    return data


def connect(proxy_port: int, host: str, port: int, timeout: float = 60.0) -> socket.socket:
    """Return a socket connected to ``host:port`` through the SOCKS5 proxy.

    :raises SocksError: if the proxy refuses, with its reply code
    :raises OSError: if the proxy cannot be reached or times out
    """
    sock = socket.create_connection(("127.0.0.1", proxy_port), timeout=timeout)
    try:
        sock.sendall(b"\x05\x01\x00")  # version 5, one method: no authentication
        if _read_exactly(sock, 2) != b"\x05\x00":
            raise OSError("SOCKS server wants authentication")
        name = host.encode("ascii")
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", port))
        _version, reply, _reserved, kind = _read_exactly(sock, 4)
        if reply != 0:
            raise SocksError(reply)
        bound_size = {0x01: 4, 0x04: 16}.get(kind)
        if bound_size is None:
            bound_size = _read_exactly(sock, 1)[0]
        _read_exactly(sock, bound_size + 2)
        return sock
    except BaseException:
        sock.close()
        raise


def http_get(proxy_port: int, host: str, path: str = "/", timeout: float = 60.0) -> bytes:
    """Return the whole HTTP/1.0 response for ``GET path`` on ``host`` port 80.

    :raises SocksError: if tor refuses the connection, with its reply code
    :raises OSError: on any other connection failure
    """
    with connect(proxy_port, host, 80, timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
        return response
