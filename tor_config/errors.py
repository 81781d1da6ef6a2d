"""The exceptions tor_config raises.

::

  TorConfigError - anything tor_config raises
    |- TorNotFound - no tor executable
    |- TorLaunchError - tor exited or never opened its control socket
    |- ControlError - no (more) conversation with tor's control port
    |   +- InvalidControlAddress - a control address we cannot use
    |- OnionServiceError - tor refused to add or remove an onion service
    |   |- InvalidServiceSpec - a service description we will not send
    |   |- InvalidServiceKey - a service key that is not an ED25519-V3 key
    |   |- InvalidOnionAddress - not a v3 onion address
    |   +- UnknownService - tor has no such onion service
    |- SocksError - tor's SOCKS listener refused or could not be reached
    |- InvalidClientKey - not an x25519 client-authorization key
    +- StatusFormatError - a status in JSON form that we cannot read

Messages never include key material: they end up in logs and on terminals.
"""

from __future__ import annotations


class TorConfigError(Exception):
    """Base class for every error raised by tor_config."""


class TorNotFound(TorConfigError):
    """The tor executable is not installed or not on the PATH."""


class TorLaunchError(TorConfigError):
    """Tor exited during start-up or did not open its control socket in time.

    :var str log_tail: the last lines tor wrote, to show the operator
    """

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(f"{message}\n{log_tail}" if log_tail else message)
        self.log_tail = log_tail


class SocksError(TorConfigError):
    """Tor's SOCKS listener could not be reached, or refused the connection.

    :var int | None reply: the SOCKS5 reply code, when tor answered one
    """

    def __init__(self, message: str, reply: int | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class ControlError(TorConfigError):
    """We could not reach, authenticate to, or keep talking with tor's control port."""


class InvalidControlAddress(ControlError, ValueError):
    """A control address (such as HAVEN_TOR_CONTROL) that is malformed or not local."""


class OnionServiceError(TorConfigError):
    """Tor refused an onion-service command.

    :var str code: tor's three-digit reply code, or an empty string when we
      refused before asking tor
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(f"{message} (tor replied {code})" if code else message)
        self.code = code


class InvalidServiceSpec(OnionServiceError, ValueError):
    """A service description with a bad name, target or port."""


class InvalidServiceKey(OnionServiceError, ValueError):
    """A service key that is not ``ED25519-V3:<base64 of 64 bytes>``."""


class InvalidOnionAddress(OnionServiceError, ValueError):
    """A string that is not a v3 onion address (56 base32 characters, valid checksum)."""


class UnknownService(OnionServiceError):
    """Tor has no onion service with that address (reply 552 to DEL_ONION)."""


class InvalidClientKey(TorConfigError, ValueError):
    """Not a 32-byte x25519 key in the expected encoding (base32 or base64)."""


class StatusFormatError(TorConfigError, ValueError):
    """A status in JSON form (a status file) that :meth:`TorStatus.from_json` cannot read."""
