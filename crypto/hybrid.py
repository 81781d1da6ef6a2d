"""Hybrid reader keys: an X25519 key pair with an ML-KEM-768 key pair beside it,
and the X-Wing combiner that turns their two shared secrets into one key.

A version-2 stanza (:mod:`crypto.stanza`) opens only with both private halves,
so an adversary who can solve discrete logarithms (a large quantum computer)
and recovers every X25519 private key still cannot open it, and a flaw found
in ML-KEM alone does not open it either.

.. code-block:: text

    combined = SHA3-256(ss_mlkem || ss_x25519 || ct_x25519 || pk_x25519 || XWING_LABEL)

is X-Wing's combiner (draft-connolly-cfrg-xwing-kem-06, section 5.3) byte for
byte. ML-KEM-768 comes from pyca/cryptography; nothing else here does.

The X25519 half of a hybrid key is the reader's existing key: a reader's
fingerprint, and so the row their stanza lives in, does not change when they
gain an ML-KEM key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from nacl.public import PrivateKey, PublicKey

from crypto.errors import InvalidInput, InvalidPublicKey
from crypto.keys import FINGERPRINT_SIZE, ensure_usable_public_key
from crypto.randomness import RandomSource, draw, system_random

__all__ = [
    "MLKEM_CIPHERTEXT_SIZE",
    "MLKEM_PUBLIC_KEY_SIZE",
    "MLKEM_SEED_SIZE",
    "SHARED_SECRET_SIZE",
    "XWING_LABEL",
    "HybridPrivateKey",
    "HybridPublicKey",
    "ReaderPrivateKey",
    "ReaderPublicKey",
    "gain_mlkem",
    "mlkem_fingerprint",
    "x25519_private",
    "x25519_public",
    "xwing_combine",
]

#: Bytes of an ML-KEM-768 public (encapsulation) key.
MLKEM_PUBLIC_KEY_SIZE = 1184
#: Bytes of an ML-KEM-768 ciphertext.
MLKEM_CIPHERTEXT_SIZE = 1088
#: Bytes of the seed an ML-KEM-768 key pair is made from (FIPS 203's d || z).
MLKEM_SEED_SIZE = 64
#: Bytes of each shared secret and of the combined key.
SHARED_SECRET_SIZE = 32
#: X-Wing's label, the ASCII art ``\.//^\`` (draft section 5.3).
XWING_LABEL = b"\\.//^\\"


@dataclass(frozen=True)
class HybridPublicKey:
    """A reader's X25519 public key and ML-KEM-768 public key, sealed to together.

    Construct it from bytes someone else chose only through
    :meth:`from_bytes`, which checks both halves.
    """

    x25519: PublicKey
    mlkem: bytes
    # The ML-KEM half parsed once, when it was checked: each seal used to parse
    # the 1,184 bytes again. Not part of the key's identity.
    _parsed: MLKEM768PublicKey | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_bytes(cls, x25519: bytes, mlkem: bytes) -> HybridPublicKey:
        """Check and join the two public halves.

        :raises InvalidPublicKey: if ``x25519`` is not 32 bytes or is a
            low-order point, or ``mlkem`` is not a valid 1184-byte ML-KEM-768
            public key (FIPS 203's modulus check).
        """
        if len(x25519) != PublicKey.SIZE:
            raise InvalidPublicKey(
                f"an X25519 public key is {PublicKey.SIZE} bytes, got {len(x25519)}"
            )
        public = PublicKey(x25519)
        ensure_usable_public_key(public)
        return cls(public, bytes(mlkem), _mlkem_public(mlkem))

    def encapsulation_key(self) -> MLKEM768PublicKey:
        """The ML-KEM half as pyca/cryptography's key object.

        :raises InvalidPublicKey: if the ML-KEM half is not a valid key.
        """
        return self._parsed if self._parsed is not None else _mlkem_public(self.mlkem)


@dataclass(frozen=True)
class HybridPrivateKey:
    """A reader's X25519 private key and the 64-byte seed of their ML-KEM-768 key.

    .. warning:: Both halves are secrets. Whoever holds only the X25519 half
       reads every version-1 stanza of this reader, and no version-2 stanza;
       whoever holds both reads everything sealed to this reader.
    """

    x25519: PrivateKey = field(repr=False)
    mlkem_seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.mlkem_seed) != MLKEM_SEED_SIZE:
            raise InvalidInput(
                f"an ML-KEM-768 seed is {MLKEM_SEED_SIZE} bytes, got {len(self.mlkem_seed)}"
            )

    def decapsulation_key(self) -> MLKEM768PrivateKey:
        """The ML-KEM half as pyca/cryptography's key object (expanded from the seed).

        Expanded once per key object and kept beside the seed it comes from
        (in memory, for as long as the seed is): expanding costs about three
        decapsulations, and one page opens up to 25 stanzas with one key.
        """
        found: MLKEM768PrivateKey | None = self.__dict__.get("_decapsulation_key")
        if found is None:
            found = MLKEM768PrivateKey.from_seed_bytes(self.mlkem_seed)
            # Not a field: equality, hashing and repr stay the seed's.
            object.__setattr__(self, "_decapsulation_key", found)
        return found

    @property
    def public_key(self) -> HybridPublicKey:
        """Both public halves."""
        mlkem = self.decapsulation_key().public_key()
        return HybridPublicKey(self.x25519.public_key, mlkem.public_bytes_raw(), mlkem)


#: What content can be sealed to: an X25519 key alone (version-1 stanzas) or a hybrid key.
ReaderPublicKey = PublicKey | HybridPublicKey
#: What opens a stanza: an X25519 key alone opens only version-1 stanzas.
ReaderPrivateKey = PrivateKey | HybridPrivateKey


def gain_mlkem(x25519: PrivateKey, *, random: RandomSource = system_random) -> HybridPrivateKey:
    """Return ``x25519`` with a fresh ML-KEM-768 key beside it.

    The X25519 half is kept, so the reader's fingerprint does not change.

    .. warning:: ``random`` exists for known-answer tests; the ML-KEM key is
       only as secret as the 64 bytes it draws.
    """
    return HybridPrivateKey(x25519, draw(random, MLKEM_SEED_SIZE))


def x25519_public(key: ReaderPublicKey) -> PublicKey:
    """The X25519 half of either kind of public key."""
    return key.x25519 if isinstance(key, HybridPublicKey) else key


def x25519_private(key: ReaderPrivateKey) -> PrivateKey:
    """The X25519 half of either kind of private key."""
    return key.x25519 if isinstance(key, HybridPrivateKey) else key


def mlkem_fingerprint(key: HybridPublicKey) -> str:
    """Return BLAKE2b-128 of the ML-KEM-768 public key, as 32 lower-case hex digits.

    A reader's :func:`~crypto.keys.fingerprint` names their X25519 half only
    (it is what stanzas are stored under, and it must not change when a reader
    gains an ML-KEM key). People comparing a hybrid key out of band compare
    this one as well: a server that swapped only the ML-KEM half would
    otherwise go unnoticed, and would open hybrid stanzas once X25519 falls.
    """
    return hashlib.blake2b(key.mlkem, digest_size=FINGERPRINT_SIZE).hexdigest()


def xwing_combine(ss_mlkem: bytes, ss_x25519: bytes, ct_x25519: bytes, pk_x25519: bytes) -> bytes:
    """X-Wing's combiner: SHA3-256 over both shared secrets, the X25519
    ciphertext (the ephemeral public key), the X25519 public key, and the label.

    ML-KEM's own ciphertext and public key are not hashed: X-Wing's proof
    relies on ML-KEM binding its shared secret to both, which FIPS 203's
    re-encryption check gives. The X25519 ones are hashed because X25519
    alone binds neither.

    :raises InvalidInput: if any argument is not 32 bytes.
    """
    for name, value in (("ss_mlkem", ss_mlkem), ("ss_x25519", ss_x25519),
                        ("ct_x25519", ct_x25519), ("pk_x25519", pk_x25519)):
        if len(value) != SHARED_SECRET_SIZE:
            raise InvalidInput(f"{name} is {SHARED_SECRET_SIZE} bytes, got {len(value)}")
    return hashlib.sha3_256(ss_mlkem + ss_x25519 + ct_x25519 + pk_x25519 + XWING_LABEL).digest()


def _mlkem_public(raw: bytes) -> MLKEM768PublicKey:
    if len(raw) != MLKEM_PUBLIC_KEY_SIZE:
        raise InvalidPublicKey(
            f"an ML-KEM-768 public key is {MLKEM_PUBLIC_KEY_SIZE} bytes, got {len(raw)}"
        )
    try:
        return MLKEM768PublicKey.from_public_bytes(raw)
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidPublicKey("this is not a valid ML-KEM-768 public key") from None
