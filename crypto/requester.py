"""A requester's keys, derived from their codename and never stored.

.. code-block:: text

    seed  = argon2id(codename, install_salt, params) -> 64 bytes
    lookup_id     = BLAKE2b-256(key=seed, person="haven-lookup-v1")
    x25519_seed   = BLAKE2b-256(key=seed, person="haven-x25519-v1")
    private_key   = PrivateKey.from_seed(x25519_seed)          # the account key
    master_secret = BLAKE2b-256(key=seed, person="haven-master-v1")

    # one key pair per request, version 1:
    request_seed  = BLAKE2b-256(key=master_secret, person="haven-request-v1")(request_id)
    request_key   = PrivateKey.from_seed(request_seed)
    # version 2 (hybrid): the same X25519 key, and an ML-KEM-768 key beside it
    mlkem_seed    = BLAKE2b-512(key=master_secret, person="haven-reqkem-v2")(request_id)
    request_key   = HybridPrivateKey(PrivateKey.from_seed(request_seed), mlkem_seed)

The lookup id is what the database stores to find the account; each request's
public key is stored with the request; private keys are re-derived at every
login. The BLAKE2b outputs are independent, so the stored lookup id says
nothing about any key, and no request's public key says anything about
another's: volunteers reading two requests cannot tell they share an author.

The account key is what requests were sealed to before requests had keys of
their own; it is kept so that those requests still open.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import nacl.utils
from nacl.public import PrivateKey, PublicKey

from crypto.codename import normalize_codename
from crypto.errors import InvalidInput
from crypto.hybrid import MLKEM_SEED_SIZE, HybridPrivateKey, ReaderPrivateKey
from crypto.kdf import DEFAULT_KDF_PARAMS, SALT_SIZE, KdfParams, derive_key

__all__ = [
    "INSTALL_SALT_SIZE",
    "LOOKUP_ID_SIZE",
    "MASTER_SECRET_SIZE",
    "REQUEST_KEY_VERSION",
    "REQUEST_KEY_VERSIONS",
    "RequesterKeys",
    "derive_request_key",
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
_MASTER_PERSON = b"haven-master-v1"

#: Bytes of a requester's master secret.
MASTER_SECRET_SIZE = 32
#: The request-key derivation this code uses for new requests. Callers store it
#: with each request's public key, so requests made under version 1 keep opening.
#: Version 2 is version 1's X25519 key plus an ML-KEM-768 key.
REQUEST_KEY_VERSION = 2
_X25519_REQUEST_PERSON = b"haven-request-v1"
# Version 2's X25519 half is version 1's key on purpose: the requester's
# fingerprint on a request stays the same when the request gains an ML-KEM key,
# so its stanzas are upgraded in place. The ML-KEM seed has its own
# personalisation, so it shares no output with any X25519 seed.
_MLKEM_REQUEST_PERSON = b"haven-reqkem-v2"
#: Every request-key derivation this code can redo.
REQUEST_KEY_VERSIONS = frozenset({1, 2})
# Haven's public ids are 22 URL-safe characters; one alphabet and a bound keep
# the bytes hashed unambiguous (no Unicode normalisation to get wrong).
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class RequesterKeys:
    """What a codename unlocks: the account's lookup id, its account key pair,
    and the master secret every request's own key pair is derived from.

    .. warning:: ``private_key`` and ``master_secret`` must stay in memory and
       never be written anywhere, or the requester's anonymity rests on the
       server's disk instead of their codename. The master secret opens every
       request of the account.

    .. warning:: Seal new requests to :meth:`request_key`, not to
       ``public_key``: one key shared by every request lets readers of two
       requests see that one person wrote both.
    """

    lookup_id: bytes
    private_key: PrivateKey = field(repr=False)
    master_secret: bytes = field(repr=False)

    @property
    def public_key(self) -> PublicKey:
        """The account's X25519 public key: what requests made before
        per-request keys were sealed to."""
        return self.private_key.public_key

    def request_key(
        self, request_id: str, *, version: int = REQUEST_KEY_VERSION
    ) -> ReaderPrivateKey:
        """This requester's private key for one request (:func:`derive_request_key`)."""
        return derive_request_key(self.master_secret, request_id, version=version)


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
    return RequesterKeys(lookup_id=lookup_id, private_key=private_key,
                         master_secret=_subkey(stretched, _MASTER_PERSON))


def derive_request_key(
    master_secret: bytes, request_id: str, *, version: int = REQUEST_KEY_VERSION
) -> ReaderPrivateKey:
    """Derive a requester's private key for one request.

    Cheap (one or two BLAKE2b, one scalar multiplication for the public half,
    and for version 2 an ML-KEM key expansion of tens of microseconds), so a
    session can redo it for every request it opens instead of keeping keys.

    .. warning:: ``version`` must be the version stored with the request, not
       the current default: a request sealed under version 1 opens only with
       the version-1 key.

    .. warning:: ``request_id`` must be the request's permanent public id. A key
       derived from anything a reader can choose or repeat across requests
       would link those requests again.

    :param master_secret: :attr:`RequesterKeys.master_secret` (32 bytes).
    :param request_id: the request's public id: 1 to 64 characters from
        ``A-Z a-z 0-9 - _``.
    :param version: the derivation, one of :data:`REQUEST_KEY_VERSIONS`.
    :returns: the request's X25519 private key (version 1), or its
        :class:`~crypto.hybrid.HybridPrivateKey` (version 2), whose X25519
        half is the version-1 key.
    :raises InvalidInput: if ``master_secret`` is not 32 bytes, ``request_id``
        is not such an id, or ``version`` is unknown.
    """
    if len(master_secret) != MASTER_SECRET_SIZE:
        raise InvalidInput(
            f"master_secret must be {MASTER_SECRET_SIZE} bytes, got {len(master_secret)}"
        )
    if not isinstance(request_id, str) or _REQUEST_ID.fullmatch(request_id) is None:
        raise InvalidInput(
            "request_id must be 1 to 64 characters from A-Z, a-z, 0-9, '-' and '_'"
        )
    if version not in REQUEST_KEY_VERSIONS:
        known = ", ".join(str(v) for v in sorted(REQUEST_KEY_VERSIONS))
        raise InvalidInput(f"unknown request key version {version}; this code knows {known}")
    message = request_id.encode("ascii")
    x25519 = PrivateKey.from_seed(hashlib.blake2b(
        message, key=master_secret, person=_X25519_REQUEST_PERSON, digest_size=32
    ).digest())
    if version == 1:
        return x25519
    mlkem_seed = hashlib.blake2b(
        message, key=master_secret, person=_MLKEM_REQUEST_PERSON, digest_size=MLKEM_SEED_SIZE
    ).digest()
    return HybridPrivateKey(x25519, mlkem_seed)


def _subkey(key: bytes, person: bytes) -> bytes:
    return hashlib.blake2b(key=key, person=person, digest_size=32).digest()
