"""The loopback SMTP server the mail tests use (tests/smtp_inbox.py)."""

from __future__ import annotations

import gc
import smtplib
import ssl
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.smtp_inbox import PASSWORD, USER, smtp_inbox


def test_connections_open_when_it_stops_are_closed_with_it(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A client still signed in over TLS when the server stops (a mail sent
    through tor, whose exit closes its stream later) leaves no socket behind
    for the garbage collector to find in some later, unrelated test."""
    found: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", found.append)
    clients = []
    with smtp_inbox(tmp_path) as inbox:
        context = ssl.create_default_context(cafile=str(inbox.cert_file))
        for _ in range(3):
            client = smtplib.SMTP("127.0.0.1", inbox.port, timeout=30)
            client.starttls(context=context)
            client.login(USER, PASSWORD)
            clients.append(client)
    gc.collect()
    for client in clients:
        client.close()
    assert [str(item.exc_value) for item in found] == []
