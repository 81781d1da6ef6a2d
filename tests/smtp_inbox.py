"""A real SMTP server on loopback for the digest tests (aiosmtpd).

It offers STARTTLS with a self-signed certificate made here (for 127.0.0.1
and the names given), insists on it before anything else, and takes one user
name and password, like a mail provider's submission port. Every message is
kept as the exact bytes received.
"""

from __future__ import annotations

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
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, tls_context=context,
                            require_starttls=True, authenticator=inbox.authenticate,
                            auth_required=True)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
