"""A volunteer's private key, wrapped under their passphrase; and the passphrase verifier.

The wrapped key (layout in FORMAT.md) carries everything needed to unwrap it
except the passphrase: version, argon2id parameters, salt, nonce, and the
public key in clear, so the public key can be read without the passphrase.
The whole header is the AEAD's associated data, so none of it can be changed
without the unwrap failing.

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

from crypto.errors import DecryptionError, InvalidInput, WrongPassphrase
from crypto.kdf import DEFAULT_KDF_PARAMS, SALT_SIZE, KdfParams, derive_key
from crypto.randomness import RandomSource, draw, system_random

__all__ = [
    "WRAPPED_KEY_SIZE",
    "WRAPPED_KEY_VERSION",
    "encode_passphrase",
    "hash_passphrase",
    "rewrap",
    "unwrap_private_key",
    "verify_passphrase",
    "wrap_private_key",
    "wrapped_public_key",
]

#: First byte of a wrapped key.
WRAPPED_KEY_VERSION = 1

_PARAMS = struct.Struct(">BIQ")  # version, opslimit, memlimit
_NONCE_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_KEY_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
_TAG_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
_PK_SIZE = PublicKey.SIZE
_HEADER_SIZE = _PARAMS.size + SALT_SIZE + _NONCE_SIZE + _PK_SIZE
#: Bytes of a version-1 wrapped key: 85 of header, 48 of ciphertext.
WRAPPED_KEY_SIZE = _HEADER_SIZE + PrivateKey.SIZE + _TAG_SIZE


def encode_passphrase(passphrase: str) -> bytes:
    """Return the bytes a passphrase is stretched from: NFKC, then UTF-8."""
    return unicodedata.normalize("NFKC", passphrase).encode("utf-8")


def wrap_private_key(
    private_key: PrivateKey,
    passphrase: str,
    *,
    params: KdfParams = DEFAULT_KDF_PARAMS,
    random: RandomSource = system_random,
) -> bytes:
    """Wrap ``private_key`` under ``passphrase``; return the wrapped key (133 bytes).

    A fresh salt and nonce are drawn from ``random`` (salt first, then nonce).

    .. warning:: ``random`` exists for known-answer tests. Anything other than
       the default reuses salts and nonces and gives the key away.

    :raises InvalidInput: if ``passphrase`` is empty.
    """
    if not passphrase:
        raise InvalidInput("the passphrase must not be empty")
    salt = draw(random, SALT_SIZE)
    nonce = draw(random, _NONCE_SIZE)
    header = (
        _PARAMS.pack(WRAPPED_KEY_VERSION, params.opslimit, params.memlimit)
        + salt
        + nonce
        + bytes(private_key.public_key)
    )
    wrapping_key = derive_key(encode_passphrase(passphrase), salt, _KEY_SIZE, params)
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes(private_key), header, nonce, wrapping_key
    )
    return header + ciphertext


def unwrap_private_key(wrapped: bytes, passphrase: str) -> PrivateKey:
    """Return the private key inside ``wrapped``.

    Costs one argon2id run at the parameters recorded in the wrapped key.

    :raises WrongPassphrase: if the passphrase is wrong or the wrapped key was
        altered.
    :raises DecryptionError: if ``wrapped`` is not a version-1 wrapped key, or
        its parameters are outside Haven's limits.
    """
    params, salt, nonce, public = _parse(wrapped)
    wrapping_key = derive_key(encode_passphrase(passphrase), salt, _KEY_SIZE, params)
    try:
        seed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped[_HEADER_SIZE:], wrapped[:_HEADER_SIZE], nonce, wrapping_key
        )
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase("wrong passphrase, or the wrapped key was altered") from None
    private_key = PrivateKey(seed)
    # Only whoever knew the passphrase could have written a mismatch; refuse it
    # rather than hand back a key whose public half disagrees with the header.
    if not nacl.bindings.sodium_memcmp(bytes(private_key.public_key), bytes(public)):
        raise DecryptionError("the wrapped key's public key does not match its private key")
    return private_key


def wrapped_public_key(wrapped: bytes) -> PublicKey:
    """Return the public key recorded in ``wrapped``; needs no passphrase.

    .. warning:: The header is authenticated only when the key is unwrapped. Until
       then, trust this public key no more than you trust where ``wrapped`` came
       from.

    :raises DecryptionError: if ``wrapped`` is not a version-1 wrapped key.
    """
    return _parse(wrapped)[3]


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
    :raises DecryptionError: if ``wrapped`` is not a version-1 wrapped key.
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


def _parse(wrapped: bytes) -> tuple[KdfParams, bytes, bytes, PublicKey]:
    if len(wrapped) != WRAPPED_KEY_SIZE:
        raise DecryptionError(f"a wrapped key is {WRAPPED_KEY_SIZE} bytes, got {len(wrapped)}")
    version, opslimit, memlimit = _PARAMS.unpack_from(wrapped)
    if version != WRAPPED_KEY_VERSION:
        raise DecryptionError(f"unknown wrapped-key version {version}")
    try:
        params = KdfParams(opslimit=opslimit, memlimit=memlimit)
    except InvalidInput as exc:
        raise DecryptionError(f"the wrapped key's parameters are refused: {exc}") from None
    offset = _PARAMS.size
    salt = wrapped[offset : offset + SALT_SIZE]
    offset += SALT_SIZE
    nonce = wrapped[offset : offset + _NONCE_SIZE]
    offset += _NONCE_SIZE
    public = PublicKey(wrapped[offset : offset + _PK_SIZE])
    return params, salt, nonce, public
