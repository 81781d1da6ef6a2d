"""The exceptions :mod:`crypto` raises.

Every failure to open something (an envelope, a stanza, a wrapped key) is a
:class:`DecryptionError`, whatever the cause, so that callers cannot tell a
tampered byte from a wrong key and need handle only one case. Input refused
before any cryptography runs is an :class:`InvalidInput`, which is also a
:class:`ValueError`.

.. code-block:: text

    CryptoError
    ├── DecryptionError
    │   └── WrongPassphrase
    └── InvalidInput (also ValueError)
        ├── InvalidCodename
        ├── InvalidPublicKey
        ├── InvalidBundle
        └── PlaintextTooLarge
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every exception raised on purpose by :mod:`crypto`."""


class DecryptionError(CryptoError):
    """Something could not be opened.

    Raised for a tampered or truncated ciphertext, a key that is not one of its
    readers, associated data that differs from the data it was sealed with, or
    a format version this code does not know.
    """


class WrongPassphrase(DecryptionError):
    """The passphrase does not open this wrapped key.

    Either the passphrase is wrong or the wrapped key was altered: an AEAD
    cannot tell the two apart, and neither can this exception.
    """


class InvalidInput(CryptoError, ValueError):
    """An argument was refused before any cryptography ran.

    Raised for wrong sizes, out-of-range parameters and malformed text. The
    message names what was expected and never repeats a secret it was given.
    """


class InvalidCodename(InvalidInput):
    """The text is not a Haven codename.

    The message says what is wrong (word count, or which position holds a word
    that is not on the list) without repeating the text, because a codename is
    a secret and messages end up in logs.
    """


class InvalidPublicKey(InvalidInput):
    """The text or bytes are not a usable X25519 public key."""


class InvalidBundle(InvalidInput):
    """The text is not a well-formed Haven bundle of a known version."""


class PlaintextTooLarge(InvalidInput):
    """The plaintext does not fit in the largest padding bucket allowed."""
