"""Large bodies held at once are bounded: against a real waitress on a unix
socket, one upload holds the only slot, the next is refused before its body
is read, and once the first is done a new one is taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from onion_app.config import Config
from onion_app.serving import serve
from onion_app.serving.upload_slots import UploadSlots
from onion_app.web.factory import create_app
from onion_app.web.state import Runtime
from tests.test_buffers import _read_all, _slow_client


@pytest.fixture
def one_slot(initialised: Config, runtime: Runtime, tmp_path: Path) -> Iterator[str]:
    app = create_app("public", initialised.with_changes(uploads_at_once=1), runtime)
    folder = Path("/tmp") / f"haven-slots-{tmp_path.name[-12:]}"  # a short socket path
    folder.mkdir()
    running = serve.start({"public": app}, "127.0.0.1", sockets={"public": folder / "p.sock"})
    try:
        yield str(folder / "p.sock")
    finally:
        running.close()
        (folder / "p.sock").unlink(missing_ok=True)
        folder.rmdir()


def head(length: int) -> bytes:
    return ("POST /requests/new HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def large(public_app: Flask) -> int:
    return int(public_app.config["MAX_CONTENT_LENGTH"]) + 1024


def test_the_upload_past_the_slots_is_refused_before_its_body(one_slot: str,
                                                               public_app: Flask) -> None:
    size = large(public_app)
    first = _slow_client(one_slot)
    first.sendall(head(size) + b"x" * 1000)  # holds the slot, body still coming
    with _slow_client(one_slot) as second:
        second.sendall(head(size))
        refused = _read_all(second)  # answered without sending a byte of body
    assert refused.startswith(b"HTTP/1.1 503 "), refused[:200]
    with _slow_client(one_slot) as small:  # a form without files is not counted
        small.sendall(head(10) + b"x" * 10)
        assert not _read_all(small).startswith(b"HTTP/1.1 503 ")
    first.close()  # gone mid-body: its slot comes back
    for _ in range(200):  # the server notices the close on its own loop
        with _slow_client(one_slot) as third:
            third.sendall(head(size))
            third.shutdown(socket.SHUT_WR)
            answer = _read_all(third)
        if not answer.startswith(b"HTTP/1.1 503 "):
            break
    assert not answer.startswith(b"HTTP/1.1 503 "), answer[:200]


def test_slots_are_given_back_once() -> None:
    slots = UploadSlots(1, 100)
    assert slots.take()
    assert not slots.take()
    slots.give_back()
    assert slots.take()
