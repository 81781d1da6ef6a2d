"""A slow upload with a file, held open against a real waitress: neither
waitress nor Werkzeug spools it to a temporary file, and nothing of it is
opened under the instance folder, while it arrives or while it is cleaned."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import Flask

from onion_app.config import Config
from onion_app.store import Database
from tests import journey as requester
from tests.test_buffers import _read_all, _slow_client, served, spooled, watch  # noqa: F401

NOTE = b"A long plain note, line after line, to be held in memory.\n" * 60_000  # 3.4 MiB


def opened_under(folder: Path) -> set[str]:
    """This process's open files under ``folder`` other than the database's own."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)) and not Path(target.split(" ")[0]).name.startswith(
                "haven.db"):
            found.add(target)
    return found


def test_a_slow_upload_stays_in_memory(public_app: Flask, served: str,  # noqa: F811
                                       initialised: Config) -> None:
    browser = public_app.test_client()
    requester.new_account(browser)
    fields = requester.request_fields(csrf_token=requester.csrf(browser, "/requests/new"),
                                      title="SLOW-UPLOAD")
    cookie = browser.get_cookie("haven_public")
    assert cookie is not None
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                         f"\r\n\r\n{one}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                 'filename="note.txt"\r\nContent-Type: text/plain\r\n\r\n'.encode()
                 + NOTE + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    head = ("POST /requests/new HTTP/1.1\r\nHost: localhost\r\n"
            f"Cookie: haven_public={cookie.value}\r\nConnection: close\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    assert len(body) > 3 * 1024 * 1024  # past waitress's and Werkzeug's spooling thresholds

    before = spooled()
    with _slow_client(served) as client:
        client.sendall(head + body[: len(body) // 2])
        held_half = watch(0.5, before)
        instance_half = opened_under(initialised.instance_path)
        client.sendall(body[len(body) // 2: -16])
        held_most = watch(0.5, before)
        client.sendall(body[-16:])  # the server now reads it all, cleans and seals
        held_after = watch(1.0, before)
        response = _read_all(client)
    assert held_half == held_most == held_after == set()
    assert instance_half == set()
    assert response.startswith(b"HTTP/1.1 302 "), response.decode(errors="replace")[-2000:]
    with Database(initialised).connect() as conn:
        assert conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 1
