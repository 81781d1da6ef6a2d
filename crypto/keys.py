"""Facts about X25519 public keys: their fingerprint, and whether one is usable."""

from __future__ import annotations

import hashlib

import nacl.bindings
import nacl.exceptions
from nacl.public import PublicKey

from crypto.errors import InvalidPublicKey

__all__ = ["FINGERPRINT_SIZE", "ensure_usable_public_key", "fingerprint"]

#: Bytes of a fingerprint (shown as twice as many hex digits).
FINGERPRINT_SIZE = 16

# Any scalar works for the probe: libsodium clamps it to a multiple of 8, which
# sends every point of order 1, 2, 4 or 8 to the identity and nothing else.
_PROBE_SCALAR = bytes(range(1, 33))


def fingerprint(public_key: PublicKey) -> str:
    """Return BLAKE2b-128 of the 32 public-key bytes, as 32 lower-case hex digits.

    Envelopes name each reader's stanza by it, and people can compare it to
    check they hold the same key. Finding a second key with a given fingerprint
    costs about 2**128 work; two keys that share one, about 2**64, and only
    someone holding both could use them.
    """
    return hashlib.blake2b(bytes(public_key), digest_size=FINGERPRINT_SIZE).hexdigest()


def ensure_usable_public_key(public_key: PublicKey) -> None:
    """Refuse a public key whose Diffie-Hellman result is always zero.

    Such low-order points are valid encodings but give every sender the same
    shared secret, so nothing sealed to them is secret.

    :raises InvalidPublicKey: if ``public_key`` is a low-order point.
    """
    try:
        nacl.bindings.crypto_scalarmult(_PROBE_SCALAR, bytes(public_key))
    except nacl.exceptions.RuntimeError:
        raise InvalidPublicKey(
            "this public key is a low-order point; nothing can be sealed to it"
        ) from None
