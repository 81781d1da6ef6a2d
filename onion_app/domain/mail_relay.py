"""Hands one finished message to the SMTP relay, through tor unless told otherwise.

STARTTLS is required and the relay's certificate is checked against the
system's CAs (OpenSSL's ``SSL_CERT_FILE`` names others). The greeting names
``localhost``, never this machine's name. Failures are one sentence that
names no address and repeats nothing the relay said, since a relay's reply
often quotes the recipient.
"""

from __future__ import annotations

import smtplib
import socket
import ssl

from onion_app.config import Config, Relay
from onion_app.errors import HavenError
from tor_config import socks
from tor_config.errors import SocksError
from tor_config.process import socks_socket

__all__ = ["DeliveryFailed", "listener_for", "send"]

TIMEOUT_SECONDS = 60.0
# What the relay is told this machine calls itself.
GREETING_NAME = "localhost"
# Debian's tor listens for SOCKS here unless configured otherwise.
SYSTEM_TOR_SOCKS = "127.0.0.1:9050"


class DeliveryFailed(HavenError):
    """The relay could not be reached or did not take the message; retried next day."""


def listener_for(config: Config) -> socks.SocksAddress | None:
    """The SOCKS listener mail goes through, or None to connect directly
    (``HAVEN_SMTP_SOCKS`` was checked with the rest of the configuration)."""
    if config.smtp_direct:
        return None
    if config.smtp_socks is not None:
        text = config.smtp_socks
    elif config.tor_control is not None:
        text = SYSTEM_TOR_SOCKS
    else:
        text = f"unix:{socks_socket(config.instance_path / 'tor')}"
    return socks.parse_socks_address(text)


class _ThroughTor(smtplib.SMTP):
    """smtplib, with its one TCP connection opened by tor instead of by us."""

    def __init__(self, listener: socks.SocksAddress, relay: Relay, timeout: float) -> None:
        self._listener = listener
        super().__init__(relay.host, relay.port, local_hostname=GREETING_NAME, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socks.connect(self._listener, host, port, timeout)


def _log_in(client: smtplib.SMTP, username: str, password: str) -> None:
    """PLAIN (inside TLS) where the relay offers it, as every submission
    service does; one refusal is the answer, not a cue to try the next
    mechanism with the same password."""
    if "PLAIN" in client.esmtp_features.get("auth", "").upper().split():
        client.user, client.password = username, password
        client.auth("PLAIN", client.auth_plain)
    else:
        client.login(username, password)


def send(relay: Relay, listener: socks.SocksAddress | None, recipient: str,
         message: bytes, timeout: float = TIMEOUT_SECONDS) -> None:
    """Deliver ``message`` (CRLF lines, headers included) to ``recipient``.

    :raises DeliveryFailed: with a sentence safe for logs
    """
    try:
        # Given the host at creation, smtplib connects and also checks the
        # relay's certificate against that name at STARTTLS.
        client = (smtplib.SMTP(relay.host, relay.port, local_hostname=GREETING_NAME,
                               timeout=timeout) if listener is None
                  else _ThroughTor(listener, relay, timeout))
        with client:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
            if relay.username is not None:
                _log_in(client, relay.username, relay.password or "")
            client.sendmail(relay.sender, [recipient], message)
    except SocksError as error:
        raise DeliveryFailed(f"through tor: {error}") from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryFailed("the relay does not offer STARTTLS") from None
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryFailed(f"the relay refused the user name or password "
                             f"(SMTP {error.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryFailed("the relay refused the recipient") from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryFailed(f"the relay refused the message (SMTP {error.smtp_code})") from None
    except smtplib.SMTPException as error:
        raise DeliveryFailed(f"the relay conversation failed ({type(error).__name__})") from None
    except ssl.SSLError as error:
        raise DeliveryFailed(f"TLS with the relay failed ({error.reason or 'SSL error'})") \
            from None
    except OSError as error:
        raise DeliveryFailed(f"cannot reach the relay: {error.strerror or type(error).__name__}") \
            from None
