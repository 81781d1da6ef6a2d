"""A requester's keys, derived from their codename and never stored.

.. code-block:: text

    seed  = argon2id(codename, install_salt, params) -> 64 bytes
    lookup_id   = BLAKE2b-256(key=seed, person="haven-lookup-v1")
    x25519_seed = BLAKE2b-256(key=seed, person="haven-x25519-v1")
    private_key = PrivateKey.from_seed(x25519_seed)

The lookup id is what the database stores to find the account; the public key
is stored too; the private key is re-derived at every login. The two BLAKE2b
outputs are independent, so the stored lookup id says nothing about the key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import nacl.utils
from nacl.public import PrivateKey, PublicKey

from crypto.codename import normalize_codename
from crypto.errors import InvalidInput
from crypto.kdf import DEFAULT_KDF_PARAMS, SALT_SIZE, KdfParams, derive_key

__all__ = [
    "INSTALL_SALT_SIZE",
    "LOOKUP_ID_SIZE",
    "RequesterKeys",
    "derive_requester_keys",
    "new_install_salt",
]

#: Bytes of the per-installation salt.
INSTALL_SALT_SIZE = SALT_SIZE
#: Bytes of a lookup id.
LOOKUP_ID_SIZE = 32

_STRETCHED_SIZE = 64
_LOOKUP_PERSON = b"haven-lookup-v1"
_X25519_PERSON = b"haven-x25519-v1"


@dataclass(frozen=True)
class RequesterKeys:
    """What a codename unlocks: the account's lookup id and its key pair.

    .. warning:: ``private_key`` must stay in memory for the length of one
       request and never be written anywhere, or the requester's anonymity
       rests on the server's disk instead of their codename.
    """

    lookup_id: bytes
    private_key: PrivateKey = field(repr=False)

    @property
    def public_key(self) -> PublicKey:
        """The X25519 public key content is sealed to."""
        return self.private_key.public_key


def new_install_salt() -> bytes:
    """Return a fresh random salt for a new Haven installation (16 bytes)."""
    return nacl.utils.random(INSTALL_SALT_SIZE)


def derive_requester_keys(
    codename: str, install_salt: bytes, *, params: KdfParams = DEFAULT_KDF_PARAMS
) -> RequesterKeys:
    """Derive a requester's lookup id and key pair from their codename.

    The codename is normalised first (:func:`crypto.codename.normalize_codename`),
    so any spelling a person might type gives the same keys.

    .. warning:: ``install_salt`` and ``params`` are part of every requester's
       key: change either and every requester is locked out. Record both when
       the installation is created and pass the recorded values, not the
       library's current defaults.

    .. warning:: Each call costs ``params.memlimit`` bytes of memory for a
       fraction of a second. Callers reachable from the network must bound how
       many run at once.

    :param codename: the text the requester typed.
    :param install_salt: the installation's 16-byte salt.
    :returns: the :class:`RequesterKeys`.
    :raises InvalidCodename: if ``codename`` is not a codename.
    :raises InvalidInput: if ``install_salt`` is not 16 bytes.
    """
    if len(install_salt) != INSTALL_SALT_SIZE:
        raise InvalidInput(
            f"install_salt must be {INSTALL_SALT_SIZE} bytes, got {len(install_salt)}"
        )
    canonical = normalize_codename(codename)
    stretched = derive_key(canonical.encode("utf-8"), install_salt, _STRETCHED_SIZE, params)
    lookup_id = _subkey(stretched, _LOOKUP_PERSON)
    private_key = PrivateKey.from_seed(_subkey(stretched, _X25519_PERSON))
    return RequesterKeys(lookup_id=lookup_id, private_key=private_key)


def _subkey(key: bytes, person: bytes) -> bytes:
    return hashlib.blake2b(key=key, person=person, digest_size=32).digest()
