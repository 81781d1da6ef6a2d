"""A SOCKS5 listener test double on a unix socket, standing in for tor where
tor cannot reach the relay (no network here).

It answers the CONNECT the way tor does (no authentication, reply 0 and a
zero bound address), records what was asked for, connects to it itself and
copies bytes both ways until either side closes.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SocksDouble:
    # (address type, host, port) of every CONNECT: type 3 is a hostname.
    requests: list[tuple[int, str, int]] = field(default_factory=list)


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _serve_one(client: socket.socket, double: SocksDouble) -> None:
    with client:
        _version, methods = _read(client, 2)
        _read(client, methods)
        client.sendall(b"\x05\x00")
        _version, _command, _reserved, kind = _read(client, 4)
        if kind == 0x03:
            host = _read(client, _read(client, 1)[0]).decode("idna")
        else:
            host = socket.inet_ntoa(_read(client, 4))
        (port,) = struct.unpack(">H", _read(client, 2))
        double.requests.append((kind, host, port))
        with socket.create_connection((host, port), timeout=10) as upstream:
            client.sendall(b"\x05\x00\x00\x01" + bytes(6))
            back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            back.start()
            _pipe(client, upstream)
            back.join(timeout=10)


@contextmanager
def socks_double(path: Path) -> Iterator[SocksDouble]:
    """Listens on the unix socket ``path`` until the block ends."""
    double = SocksDouble()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve_one, args=(client, double), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        stopping.set()
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=10)
        path.unlink(missing_ok=True)
