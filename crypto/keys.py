"""Facts about X25519 public keys: their fingerprint, and whether one is usable."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import nacl.bindings
import nacl.exceptions
from nacl.public import PublicKey

from crypto.errors import InvalidPublicKey

if TYPE_CHECKING:  # crypto.hybrid imports this module
    from crypto.hybrid import HybridPublicKey

__all__ = ["FINGERPRINT_SIZE", "ensure_usable_public_key", "fingerprint"]

#: Bytes of a fingerprint (shown as twice as many hex digits).
FINGERPRINT_SIZE = 16

# Any scalar works for the probe: libsodium clamps it to a multiple of 8, which
# sends every point of order 1, 2, 4 or 8 to the identity and nothing else.
_PROBE_SCALAR = bytes(range(1, 33))


def fingerprint(public_key: PublicKey | HybridPublicKey) -> str:
    """Return BLAKE2b-128 of the 32 public-key bytes, as 32 lower-case hex digits.

    A hybrid key's fingerprint is its X25519 half's: a reader keeps their
    fingerprint, and the place their stanzas are stored under, when they gain
    an ML-KEM key (:func:`crypto.hybrid.mlkem_fingerprint` names the other half).

    Envelopes name each reader's stanza by it, and people can compare it to
    check they hold the same key. Finding a second key with a given fingerprint
    costs about 2**128 work; two keys that share one, about 2**64, and only
    someone holding both could use them.
    """
    x25519 = public_key if isinstance(public_key, PublicKey) else public_key.x25519
    return hashlib.blake2b(bytes(x25519), digest_size=FINGERPRINT_SIZE).hexdigest()


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
