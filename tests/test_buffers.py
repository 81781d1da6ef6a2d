"""No request or page is ever spooled to a temporary file: waitress's buffers
and Werkzeug's upload streams stay in memory, read off ``/proc/self/fd``
while a slow client holds the connection to a real waitress."""

from __future__ import annotations

import io
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask, request

from onion_app.requester.forms import STORY_MAX
from onion_app.serving import buffers, serve
from tests import journey as requester

# A character a browser sends as %22 and Haven writes back as &#34;: the
# heaviest a kept story can weigh, both ways.
HEAVY = '"'


def spooled() -> set[str]:
    """This process's open files that are unlinked files in the temporary folder,
    which is how waitress's and Werkzeug's spooled buffers look (and pytest's
    own capture files, open before a test starts)."""
    folder = tempfile.gettempdir()
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while we looked
        if target.startswith(folder + "/") and target.endswith(" (deleted)"):
            found.add(f"{fd} {target}")
    return found


def watch(seconds: float, before: set[str]) -> set[str]:
    """Every spooled file opened since ``before`` and seen over ``seconds``,
    looking every few milliseconds."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen |= spooled() - before
        time.sleep(0.005)
    return seen


@pytest.fixture
def served(public_app: Flask) -> Iterator[str]:
    """The public app on a unix socket, as tor reaches it in production: a unix
    socket's send buffer is fixed (about 200 KiB), where loopback TCP grows to
    megabytes and would hide what waitress buffers."""
    folder = Path(tempfile.mkdtemp(prefix="haven-"))  # a socket path must be short
    socket_path = folder / "public.sock"
    running = serve.start({"public": public_app}, "127.0.0.1", sockets={"public": socket_path})
    try:
        yield str(socket_path)
    finally:
        running.close()
        folder.rmdir()


def _slow_client(where: str) -> socket.socket:
    """A client that has not read yet: what it has not read stays in the
    server's buffers, as it does while tor waits on a congested circuit."""
    client = socket.socket(socket.AF_UNIX)
    client.connect(where)
    client.settimeout(30)
    return client


def _read_all(client: socket.socket) -> bytes:
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_the_largest_body_and_the_page_that_keeps_it_stay_in_memory(
        public_app: Flask, served: str) -> None:
    """A story pasted at the largest size Haven accepts is refused, and the
    page that keeps it (heavier still, once escaped) is served, without either
    touching a temporary file while the client dawdles."""
    browser = public_app.test_client()
    requester.new_account(browser)
    fields = requester.request_fields(story="", csrf_token=requester.csrf(browser,
                                                                          "/requests/new"))
    cookie = browser.get_cookie("haven_public")  # as it is once the form was shown
    assert cookie is not None
    room = public_app.config["MAX_CONTENT_LENGTH"] - len(urlencode(fields, doseq=True)) - 64
    fields["story"] = HEAVY * (room // 3)
    body = urlencode(fields, doseq=True).encode()
    assert len(body) <= public_app.config["MAX_CONTENT_LENGTH"]
    head = ("POST /requests/new HTTP/1.1\r\nHost: localhost\r\n"
            f"Cookie: haven_public={cookie.value}\r\nConnection: close\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()

    before = spooled()
    client = _slow_client(served)
    with client:
        client.sendall(head + body[:-16])  # all but the last bytes: the server still waits
        held_body = watch(1.0, before)
        client.sendall(body[-16:])  # then the client reads nothing for a while
        held_page = watch(2.0, before)
        response = _read_all(client)
    assert held_body == set()
    assert held_page == set()
    assert response.startswith(b"HTTP/1.1 400 "), response.decode()[-3000:]
    assert len(response) > 1024 * 1024, response.decode()[-3000:]
    page = response.decode()
    assert len(page) > 1024 * 1024  # larger than waitress's own limit for memory
    assert "&#34;" * 1000 in page  # the story is kept for the requester to shorten
    assert f"{STORY_MAX:,}" in page


def test_an_uploaded_file_stays_in_memory(public_app: Flask) -> None:
    """Werkzeug spools a file part past 500 KB to a temporary file."""
    boundary = "b0undary"
    part = b"x" * (900 * 1024)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"story\"; "
            f"filename=\"story.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode() \
        + part + f"\r\n--{boundary}--\r\n".encode()
    before = spooled()
    with public_app.test_request_context(
            "/requests/new", method="POST", input_stream=io.BytesIO(body),
            content_type=f"multipart/form-data; boundary={boundary}",
            content_length=len(body)):
        stream = request.files["story"].stream
        assert spooled() - before == set()
        assert isinstance(stream, io.BytesIO)
        assert stream.getvalue() == part


def test_a_page_of_any_weight_reaches_waitress_in_slices() -> None:
    """waitress checks its watermark before each piece it is handed, so
    pieces must be small for the watermark to bound its buffer."""
    closed = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, object], start_response: object) -> Body:
        return Body([b"a" * (5 * 1024 * 1024 + 7), b"b"])

    pieces = list(buffers.InMemorySlices(app)({}, None))
    assert max(len(piece) for piece in pieces) == buffers.RESPONSE_SLICE
    assert b"".join(pieces) == b"a" * (5 * 1024 * 1024 + 7) + b"b"
    assert closed == [True]


def test_no_buffer_can_outgrow_memory() -> None:
    settings = buffers.adjustments(1024 * 1024)
    # A body is refused once it passes the limit, within one 8 KiB read.
    assert settings["inbuf_overflow"] > 1024 * 1024 + 8192
    # Unsent bytes stop growing at the watermark, give or take one slice and headers.
    assert settings["outbuf_overflow"] > (settings["outbuf_high_watermark"]
                                          + buffers.RESPONSE_SLICE + 8192)
