"""A volunteer's private key, wrapped under their passphrase; and the passphrase verifier.

The wrapped key (layout in FORMAT.md) carries everything needed to unwrap it
except the passphrase: version, argon2id parameters, salt, nonce, and the
public key in clear, so the public key can be read without the passphrase.
The whole header is the AEAD's associated data, so none of it can be changed
without the unwrap failing.

Version 1 wraps an X25519 private key; version 2 wraps an X25519 private key
and the 64-byte seed of an ML-KEM-768 key (a :class:`~crypto.hybrid.HybridPrivateKey`),
with both public halves in the clear header. A volunteer's version-1 key
becomes version 2 by :func:`gain_mlkem` on their next sign-in, keeping its
X25519 half.

Passphrases are ``str``: they are normalised to NFKC and encoded as UTF-8
before stretching, so the same passphrase typed on two keyboards that produce
different code points for "é" still opens the key.
"""

from __future__ import annotations

import struct
import unicodedata

import nacl.bindings
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
from nacl.public import PrivateKey, PublicKey

from crypto.errors import DecryptionError, InvalidInput, InvalidPublicKey, WrongPassphrase
from crypto.hybrid import (
    MLKEM_PUBLIC_KEY_SIZE,
    MLKEM_SEED_SIZE,
    HybridPrivateKey,
    HybridPublicKey,
    ReaderPrivateKey,
    ReaderPublicKey,
)
from crypto.kdf import DEFAULT_KDF_PARAMS, SALT_SIZE, KdfParams, derive_key
from crypto.randomness import RandomSource, draw, system_random

__all__ = [
    "HYBRID_WRAPPED_KEY_SIZE",
    "HYBRID_WRAPPED_KEY_VERSION",
    "WRAPPED_KEY_SIZE",
    "WRAPPED_KEY_VERSION",
    "encode_passphrase",
    "hash_passphrase",
    "rewrap",
    "unwrap_private_key",
    "verify_passphrase",
    "wrap_private_key",
    "wrapped_key_params",
    "wrapped_key_version",
    "wrapped_public_key",
]

#: First byte of a wrapped X25519 key.
WRAPPED_KEY_VERSION = 1
#: First byte of a wrapped hybrid (X25519 + ML-KEM-768) key.
HYBRID_WRAPPED_KEY_VERSION = 2

_PARAMS = struct.Struct(">BIQ")  # version, opslimit, memlimit
_NONCE_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_KEY_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_TAG_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
_PK_SIZE = PublicKey.SIZE
_HEADER_SIZE = _PARAMS.size + SALT_SIZE + _NONCE_SIZE + _PK_SIZE
#: Bytes of a version-1 wrapped key: 85 of header, 48 of ciphertext.
WRAPPED_KEY_SIZE = _HEADER_SIZE + PrivateKey.SIZE + _TAG_SIZE
_HYBRID_HEADER_SIZE = _HEADER_SIZE + MLKEM_PUBLIC_KEY_SIZE
#: Bytes of a version-2 wrapped key: 1269 of header, 112 of ciphertext.
HYBRID_WRAPPED_KEY_SIZE = _HYBRID_HEADER_SIZE + PrivateKey.SIZE + MLKEM_SEED_SIZE + _TAG_SIZE
_LAYOUTS = {
    WRAPPED_KEY_VERSION: (_HEADER_SIZE, WRAPPED_KEY_SIZE),
    HYBRID_WRAPPED_KEY_VERSION: (_HYBRID_HEADER_SIZE, HYBRID_WRAPPED_KEY_SIZE),
}


def encode_passphrase(passphrase: str) -> bytes:
    """Return the bytes a passphrase is stretched from: NFKC, then UTF-8."""
    return unicodedata.normalize("NFKC", passphrase).encode("utf-8")


def wrap_private_key(
    private_key: ReaderPrivateKey,
    passphrase: str,
    *,
    params: KdfParams = DEFAULT_KDF_PARAMS,
    random: RandomSource = system_random,
) -> bytes:
    """Wrap ``private_key`` under ``passphrase``; return the wrapped key.

    An X25519 key gives a version-1 wrapped key (133 bytes); a hybrid key a
    version-2 one (1381 bytes).

    A fresh salt and nonce are drawn from ``random`` (salt first, then nonce).

    .. warning:: ``random`` exists for known-answer tests. Anything other than
       the default reuses salts and nonces and gives the key away.

    :raises InvalidInput: if ``passphrase`` is empty.
    """
    if not passphrase:
        raise InvalidInput("the passphrase must not be empty")
    salt = draw(random, SALT_SIZE)
    nonce = draw(random, _NONCE_SIZE)
    if isinstance(private_key, HybridPrivateKey):
        version = HYBRID_WRAPPED_KEY_VERSION
        public = bytes(private_key.x25519.public_key) + private_key.public_key.mlkem
        secret = bytes(private_key.x25519) + private_key.mlkem_seed
    else:
        version = WRAPPED_KEY_VERSION
        public, secret = bytes(private_key.public_key), bytes(private_key)
    header = _PARAMS.pack(version, params.opslimit, params.memlimit) + salt + nonce + public
    wrapping_key = derive_key(encode_passphrase(passphrase), salt, _KEY_SIZE, params)
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        secret, header, nonce, wrapping_key
    )
    return header + ciphertext


def unwrap_private_key(wrapped: bytes, passphrase: str) -> ReaderPrivateKey:
    """Return the private key inside ``wrapped``: a :class:`~nacl.public.PrivateKey`
    from a version-1 wrapped key, a :class:`~crypto.hybrid.HybridPrivateKey`
    from a version-2 one.

    Costs one argon2id run at the parameters recorded in the wrapped key.

    :raises WrongPassphrase: if the passphrase is wrong or the wrapped key was
        altered.
    :raises DecryptionError: if ``wrapped`` is not a wrapped key of a known
        version, or its parameters are outside Haven's limits.
    """
    params, salt, nonce, header_size = _parse(wrapped)
    wrapping_key = derive_key(encode_passphrase(passphrase), salt, _KEY_SIZE, params)
    try:
        secret = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped[header_size:], wrapped[:header_size], nonce, wrapping_key
        )
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase("wrong passphrase, or the wrapped key was altered") from None
    x25519 = PrivateKey(secret[: PrivateKey.SIZE])
    private_key: ReaderPrivateKey = x25519
    public = bytes(x25519.public_key)
    if wrapped[0] == HYBRID_WRAPPED_KEY_VERSION:
        private_key = HybridPrivateKey(x25519, secret[PrivateKey.SIZE :])
        public += private_key.public_key.mlkem
    # Only whoever knew the passphrase could have written a mismatch; refuse it
    # rather than hand back a key whose public half disagrees with the header.
    if not nacl.bindings.sodium_memcmp(public, wrapped[_HEADER_SIZE - _PK_SIZE : header_size]):
        raise DecryptionError("the wrapped key's public key does not match its private key")
    return private_key


def wrapped_public_key(wrapped: bytes) -> ReaderPublicKey:
    """Return the public key recorded in ``wrapped``; needs no passphrase.

    A version-2 wrapped key gives a :class:`~crypto.hybrid.HybridPublicKey`.

    .. warning:: The header is authenticated only when the key is unwrapped. Until
       then, trust this public key no more than you trust where ``wrapped`` came
       from.

    :raises DecryptionError: if ``wrapped`` is not a wrapped key of a known
        version, or its public key is not a valid one.
    """
    header_size = _parse(wrapped)[3]
    x25519 = wrapped[_HEADER_SIZE - _PK_SIZE : _HEADER_SIZE]
    if header_size == _HEADER_SIZE:
        return PublicKey(x25519)
    try:
        return HybridPublicKey.from_bytes(x25519, wrapped[_HEADER_SIZE:header_size])
    except InvalidPublicKey as exc:
        raise DecryptionError(f"the wrapped key's public key is refused: {exc}") from None


def wrapped_key_params(wrapped: bytes) -> KdfParams:
    """Return the argon2id parameters recorded in ``wrapped``.

    :raises DecryptionError: if ``wrapped`` is not a wrapped key of a known
        version, or its parameters are outside Haven's limits.
    """
    return _parse(wrapped)[0]


def wrapped_key_version(wrapped: bytes) -> int:
    """Return 1 (X25519) or 2 (hybrid): which kind of key ``wrapped`` holds.

    :raises DecryptionError: if ``wrapped`` is not a wrapped key of a known version.
    """
    _parse(wrapped)
    return wrapped[0]


def rewrap(
    wrapped: bytes,
    old_passphrase: str,
    new_passphrase: str,
    *,
    params: KdfParams = DEFAULT_KDF_PARAMS,
) -> bytes:
    """Re-wrap the same private key under a new passphrase, fresh salt and nonce.

    ``params`` are the new wrapping's parameters, so a passphrase change also
    brings an old wrapped key up to the current cost.

    :raises WrongPassphrase: if ``old_passphrase`` does not open ``wrapped``.
    :raises DecryptionError: if ``wrapped`` is not a wrapped key of a known version.
    :raises InvalidInput: if ``new_passphrase`` is empty.
    """
    private_key = unwrap_private_key(wrapped, old_passphrase)
    return wrap_private_key(private_key, new_passphrase, params=params)


def hash_passphrase(passphrase: str, *, params: KdfParams = DEFAULT_KDF_PARAMS) -> bytes:
    """Return an argon2id verifier for ``passphrase`` (the ``$argon2id$…`` string).

    Separate from the wrapped key so a login can be checked without touching
    the private key. Anyone holding it can guess passphrases offline at the
    cost of ``params`` per guess, exactly as with the wrapped key itself.

    :raises InvalidInput: if ``passphrase`` is empty.
    """
    if not passphrase:
        raise InvalidInput("the passphrase must not be empty")
    return argon2id.str(
        encode_passphrase(passphrase), opslimit=params.opslimit, memlimit=params.memlimit
    )


def verify_passphrase(passphrase_hash: bytes, passphrase: str) -> bool:
    """Return whether ``passphrase`` matches a verifier from :func:`hash_passphrase`.

    libsodium compares in constant time. The cost is whatever the verifier
    records, so verifiers must come only from :func:`hash_passphrase`.

    :raises InvalidInput: if ``passphrase_hash`` is not an argon2id verifier.
    """
    # libsodium's verifier strings fit in 128 bytes with their NUL.
    if not passphrase_hash.startswith(argon2id.STRPREFIX) or len(passphrase_hash) > 127:
        raise InvalidInput("passphrase_hash is not an argon2id verifier")
    try:
        return argon2id.verify(passphrase_hash, encode_passphrase(passphrase))
    except nacl.exceptions.InvalidkeyError:
        return False


def _parse(wrapped: bytes) -> tuple[KdfParams, bytes, bytes, int]:
    if not wrapped:
        raise DecryptionError("a wrapped key is at least 1 byte, got 0")
    layout = _LAYOUTS.get(wrapped[0])
    if layout is None:
        raise DecryptionError(f"unknown wrapped-key version {wrapped[0]}")
    header_size, size = layout
    if len(wrapped) != size:
        raise DecryptionError(
            f"a version-{wrapped[0]} wrapped key is {size} bytes, got {len(wrapped)}"
        )
    _, opslimit, memlimit = _PARAMS.unpack_from(wrapped)
    try:
        params = KdfParams(opslimit=opslimit, memlimit=memlimit)
    except InvalidInput as exc:
        raise DecryptionError(f"the wrapped key's parameters are refused: {exc}") from None
    offset = _PARAMS.size
    salt = wrapped[offset : offset + SALT_SIZE]
    offset += SALT_SIZE
    nonce = wrapped[offset : offset + _NONCE_SIZE]
    return params, salt, nonce, header_size
