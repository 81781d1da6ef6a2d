"""One outgoing TCP connection through tor's SOCKS listener (RFC 1928).

Haven's only outgoing connection is the opt-in digest mail; it goes through
tor so that the mail relay never learns where the server is. The hostname is
sent to tor unresolved (SOCKS5 with an address of type "domain name"), so no
DNS query leaves this machine either.

The listener is a unix socket (``unix:/path``, what Haven's own tor opens)
or a loopback ``host:port`` (a system tor's ``SocksPort``).
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from tor_config.errors import SocksError

__all__ = ["REPLIES", "connect", "parse_socks_address"]

# RFC 1928's reply codes, as tor uses them.
REPLIES = {
    0x01: "general failure",
    0x02: "connection not allowed by ruleset",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused",
    0x06: "TTL expired",
    0x07: "command not supported",
    0x08: "address type not supported",
}

SocksAddress = str | tuple[str, int]


def parse_socks_address(text: str) -> SocksAddress:
    """Turn ``unix:/path`` or ``127.0.0.1:9050`` into a socket address.

    :returns: a path (unix socket) or a ``(host, port)`` pair on loopback

    :raises SocksError: if it is neither, or names a host that is not loopback
      (a SOCKS listener elsewhere would see the traffic before tor does)
    """
    if text.startswith("unix:"):
        path = text[len("unix:"):]
        if not path.startswith("/"):
            raise SocksError("a SOCKS unix socket needs an absolute path")
        return path
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise SocksError("the SOCKS listener must be on loopback")
        return host, int(port)
    except ValueError:
        raise SocksError("a SOCKS listener is unix:/path or 127.0.0.1:PORT") from None


def connect(listener: SocksAddress, host: str, port: int, timeout: float) -> socket.socket:
    """Open a TCP connection to ``host:port`` through tor.

    :param listener: from :func:`parse_socks_address`
    :param host: a hostname or address, resolved by tor (never here)
    :param timeout: seconds for each step, and for the socket afterwards

    :returns: a connected socket; the caller closes it

    :raises SocksError: if the listener cannot be reached, or tor refuses
      (``reply`` holds its code), e.g. when tor cannot reach the network
    """
    name = host.encode("idna")
    if not 0 < len(name) < 256 or not 0 < port < 65536:
        raise SocksError("not a host and port SOCKS can carry")
    try:
        if isinstance(listener, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(listener)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection(listener, timeout=timeout)
    except OSError as error:
        raise SocksError(f"cannot reach tor's SOCKS listener: {error.strerror or error}") from None
    try:
        _handshake(sock, name, port)
    except BaseException:
        sock.close()
        raise
    return sock


def _handshake(sock: socket.socket, name: bytes, port: int) -> None:
    try:
        sock.sendall(b"\x05\x01\x00")  # version 5, one method: no authentication
        if _read(sock, 2) != b"\x05\x00":
            raise SocksError("the SOCKS listener wants an authentication tor never asks for")
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", port))
        _version, reply, _reserved, kind = _read(sock, 4)
        if reply != 0:
            raise SocksError(f"tor refused the connection: {REPLIES.get(reply, 'unknown')}"
                             f" (SOCKS reply {reply:#04x})", reply)
        bound = {0x01: 4, 0x04: 16}.get(kind)
        if bound is None:
            bound = _read(sock, 1)[0]
        _read(sock, bound + 2)
    except TimeoutError:
        raise SocksError("tor did not answer over SOCKS in time") from None
    except OSError as error:
        raise SocksError(f"the SOCKS conversation broke off: {error.strerror or error}") from None


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise SocksError("tor closed the SOCKS connection")
        data += chunk
    return data
