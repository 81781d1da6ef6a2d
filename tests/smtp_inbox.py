"""A real SMTP server on loopback for the digest tests (aiosmtpd).

It offers STARTTLS with a self-signed certificate made here (for 127.0.0.1
and the names given), insists on it before anything else, and takes one user
name and password, like a mail provider's submission port. Every message is
kept as the exact bytes received.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "haven@example.org"
PASSWORD = "relay pass:word/1"


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    data: bytes


@dataclass
class Inbox:
    """What the server received, and how to reach it."""

    port: int
    cert_file: Path
    messages: list[Received] = field(default_factory=list)
    refused_logins: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                      envelope.original_content))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        if not ok:
            self.refused_logins += 1
        # handled=False: aiosmtpd answers a refusal with its own 535.
        return AuthResult(success=ok, handled=False)


def _certificate(directory: Path, names: tuple[str, ...]) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test relay")])
    now = datetime.datetime.now(datetime.UTC)
    alternative = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                   *(x509.DNSName(name) for name in names)]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "relay-cert.pem", directory / "relay-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _ClosingController(Controller):  # type: ignore[misc]
    """aiosmtpd's Controller, closing the connections still open when it stops.

    aiosmtpd stops its loop with connections open (a client that had not yet
    sent QUIT, or whose QUIT had not been read). Their transports are then
    finalised whenever the garbage collector next runs, in whatever test runs
    then, as an unclosed-transport ResourceWarning: under ``-W error`` an
    error in a test that never touched mail. The onion test's setup failed
    so once, on the worker that runs the mail-over-tor tests.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: list[Any] = []

    def factory(self) -> Any:
        session = super().factory()
        self.sessions.append(session)
        return session

    def stop(self, no_assert: bool = False) -> None:
        if self._thread is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self._close_sessions(), self.loop).result(timeout=30)
        super().stop(no_assert)

    async def _close_sessions(self) -> None:
        for session in self.sessions:
            # Closing ones too: a TLS connection that is closing waits for
            # the client's goodbye, which may never come.
            for transport in (session.transport, session._original_transport):
                if transport is not None:
                    transport.abort()
        # abort() finishes on the loop's next turns (connection_lost, then the
        # socket's close); stop() would end the loop before them.
        for _ in range(3):
            await asyncio.sleep(0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_inbox(directory: Path, names: tuple[str, ...] = (),
               port: int | None = None) -> Iterator[Inbox]:
    """A running SMTP server on 127.0.0.1; stopped on exit.

    Clients trust its certificate through ``SSL_CERT_FILE=inbox.cert_file``.
    """
    cert_file, key_file = _certificate(directory, names)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    inbox = Inbox(port or _free_port(), cert_file)
    controller = _ClosingController(inbox, hostname="127.0.0.1", port=inbox.port,
                                    tls_context=context, require_starttls=True,
                                    authenticator=inbox.authenticate, auth_required=True)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
