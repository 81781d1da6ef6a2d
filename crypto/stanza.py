"""A stanza: one reader's copy of an envelope's content key.

Two versions, told apart by the first byte:

.. code-block:: text

    v1 = 0x01 || sealed_box(content_key, reader_x25519_pk)                     81 bytes
    v2 = 0x02 || ct_mlkem (1088) || epk (32) || AEAD(content_key) (48)        1169 bytes

**Version 1** is libsodium's ``crypto_box_seal``, built here from its parts
so that the ephemeral key can come from an injected random source in
known-answer tests:

.. code-block:: text

    esk   = random(32);  epk = X25519(esk, basepoint)
    nonce = BLAKE2b-192(epk || reader_pk)
    box   = epk || crypto_box(content_key, nonce, reader_pk, esk)

Opening uses libsodium's own ``crypto_box_seal_open`` (:class:`nacl.public.SealedBox`),
and the tests check that libsodium opens what this module seals.

**Version 2** is hybrid: the content key is wrapped under a key that needs
both an X25519 exchange and an ML-KEM-768 decapsulation, joined by X-Wing's
combiner (:func:`crypto.hybrid.xwing_combine`):

.. code-block:: text

    esk = random(32);  epk = X25519(esk, basepoint);  ss_x = X25519(esk, reader_x25519_pk)
    (ss_m, ct_mlkem) = ML-KEM-768.Encaps(reader_mlkem_pk)
    wrap_key = SHA3-256(ss_m || ss_x || epk || reader_x25519_pk || "\\.//^\\")
    header   = 0x02 || ct_mlkem || epk
    wrapped  = XChaCha20-Poly1305(key = wrap_key, nonce = 0^24, ad = header, content_key)

The nonce is constant because ``wrap_key`` is fresh for every stanza (a new
``esk`` and a new ML-KEM encapsulation each time).
"""

from __future__ import annotations

import hashlib

import nacl.bindings
import nacl.exceptions
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.errors import DecryptionError, InvalidInput, InvalidPublicKey
from crypto.hybrid import (
    MLKEM_CIPHERTEXT_SIZE,
    HybridPrivateKey,
    HybridPublicKey,
    ReaderPrivateKey,
    ReaderPublicKey,
    xwing_combine,
)
from crypto.randomness import RandomSource, draw, system_random

__all__ = [
    "CONTENT_KEY_SIZE",
    "HYBRID_STANZA_SIZE",
    "HYBRID_STANZA_VERSION",
    "STANZA_SIZE",
    "STANZA_VERSION",
    "open_stanza",
    "seal_content_key",
    "stanza_version",
]

#: First byte of a version-1 (X25519 only) stanza.
STANZA_VERSION = 1
#: First byte of a version-2 (X25519 + ML-KEM-768) stanza.
HYBRID_STANZA_VERSION = 2
#: Bytes of a content key.
CONTENT_KEY_SIZE = 32
_SEAL_OVERHEAD = nacl.bindings.crypto_box_SEALBYTES
#: Bytes of a version-1 stanza: version, ephemeral key, MAC, content key.
STANZA_SIZE = 1 + _SEAL_OVERHEAD + CONTENT_KEY_SIZE
_AEAD_TAG = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
_AEAD_NONCE = bytes(nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
_HYBRID_HEADER_SIZE = 1 + MLKEM_CIPHERTEXT_SIZE + PublicKey.SIZE
#: Bytes of a version-2 stanza: version, ML-KEM ciphertext, ephemeral key, wrapped content key.
HYBRID_STANZA_SIZE = _HYBRID_HEADER_SIZE + CONTENT_KEY_SIZE + _AEAD_TAG
_SIZES = {STANZA_VERSION: STANZA_SIZE, HYBRID_STANZA_VERSION: HYBRID_STANZA_SIZE}


def stanza_version(stanza: bytes) -> int:
    """Return the format version of ``stanza`` (1 or 2), checking its length.

    Needs no key, so an operator or auditor can count stanzas by format.

    :raises DecryptionError: if the first byte is not a known version or the
        length is not that version's.
    """
    if not stanza:
        raise DecryptionError("a stanza is at least 1 byte, got 0")
    version = stanza[0]
    size = _SIZES.get(version)
    if size is None:
        raise DecryptionError(f"unknown stanza version {version}")
    if len(stanza) != size:
        raise DecryptionError(f"a version-{version} stanza is {size} bytes, got {len(stanza)}")
    return version


def seal_content_key(
    content_key: bytes, reader: ReaderPublicKey, *, random: RandomSource = system_random
) -> bytes:
    """Return a stanza that only ``reader``'s private key opens.

    A :class:`~crypto.hybrid.HybridPublicKey` gets a version-2 stanza, a bare
    X25519 :class:`~nacl.public.PublicKey` a version-1 stanza. Draws one
    32-byte ephemeral secret key from ``random``; a version-2 stanza also
    draws the ML-KEM encapsulation's randomness from the operating system,
    which pyca/cryptography does not let a caller choose.

    .. warning:: ``random`` exists for known-answer tests. An ephemeral key used
       twice lets anyone who learns one content key learn the other.

    :raises InvalidInput: if ``content_key`` is not 32 bytes.
    :raises InvalidPublicKey: if the reader's X25519 key is a low-order point.
    """
    if len(content_key) != CONTENT_KEY_SIZE:
        raise InvalidInput(f"a content key is {CONTENT_KEY_SIZE} bytes, got {len(content_key)}")
    if isinstance(reader, HybridPublicKey):
        return _seal_hybrid(content_key, reader, random)
    reader_pk = bytes(reader)
    ephemeral_sk = draw(random, PrivateKey.SIZE)
    ephemeral_pk = nacl.bindings.crypto_scalarmult_base(ephemeral_sk)
    nonce = hashlib.blake2b(
        ephemeral_pk + reader_pk, digest_size=nacl.bindings.crypto_box_NONCEBYTES
    ).digest()
    try:
        shared = nacl.bindings.crypto_box_beforenm(reader_pk, ephemeral_sk)
    except nacl.exceptions.RuntimeError:
        # libsodium refuses an all-zero shared secret: the reader is low-order.
        raise InvalidPublicKey("a reader's public key is a low-order point") from None
    box = nacl.bindings.crypto_box_afternm(content_key, nonce, shared)
    return bytes([STANZA_VERSION]) + ephemeral_pk + box


def open_stanza(stanza: bytes, private_key: ReaderPrivateKey) -> bytes:
    """Return the content key inside ``stanza``.

    A version-1 stanza opens with the X25519 half alone (of a hybrid key, or
    a bare :class:`~nacl.public.PrivateKey`); a version-2 stanza needs a
    :class:`~crypto.hybrid.HybridPrivateKey`.

    :raises DecryptionError: if the stanza is of no known version, was
        altered, was not sealed to ``private_key``, or is a version-2 stanza
        and ``private_key`` has no ML-KEM half.
    """
    version = stanza_version(stanza)
    if version == HYBRID_STANZA_VERSION:
        if not isinstance(private_key, HybridPrivateKey):
            raise DecryptionError("a version-2 stanza needs a key with an ML-KEM-768 half")
        return _open_hybrid(stanza, private_key)
    x25519 = private_key.x25519 if isinstance(private_key, HybridPrivateKey) else private_key
    try:
        return SealedBox(x25519).decrypt(stanza[1:])
    except nacl.exceptions.CryptoError:
        raise DecryptionError("this stanza does not open with this key") from None


def _x25519_shared(secret: bytes, public: bytes) -> bytes:
    try:
        return nacl.bindings.crypto_scalarmult(secret, public)
    except nacl.exceptions.RuntimeError:
        # libsodium refuses an all-zero result: the public key is low-order.
        raise InvalidPublicKey("a reader's public key is a low-order point") from None


def _seal_hybrid(content_key: bytes, reader: HybridPublicKey, random: RandomSource) -> bytes:
    reader_pk = bytes(reader.x25519)
    ephemeral_sk = draw(random, PrivateKey.SIZE)
    ephemeral_pk = nacl.bindings.crypto_scalarmult_base(ephemeral_sk)
    ss_x25519 = _x25519_shared(ephemeral_sk, reader_pk)
    ss_mlkem, ct_mlkem = reader.encapsulation_key().encapsulate()
    wrap_key = xwing_combine(ss_mlkem, ss_x25519, ephemeral_pk, reader_pk)
    header = bytes([HYBRID_STANZA_VERSION]) + ct_mlkem + ephemeral_pk
    wrapped = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        content_key, header, _AEAD_NONCE, wrap_key
    )
    return header + wrapped


def _open_hybrid(stanza: bytes, private_key: HybridPrivateKey) -> bytes:
    header = stanza[:_HYBRID_HEADER_SIZE]
    ct_mlkem = header[1 : 1 + MLKEM_CIPHERTEXT_SIZE]
    ephemeral_pk = header[1 + MLKEM_CIPHERTEXT_SIZE :]
    reader_pk = bytes(private_key.x25519.public_key)
    try:
        ss_x25519 = _x25519_shared(bytes(private_key.x25519), ephemeral_pk)
    except InvalidPublicKey:
        raise DecryptionError("this stanza's ephemeral key is a low-order point") from None
    # ML-KEM decapsulation never fails on a wrong key or altered ciphertext: it
    # returns an unrelated secret (implicit rejection), which the AEAD below refuses.
    ss_mlkem = private_key.decapsulation_key().decapsulate(ct_mlkem)
    wrap_key = xwing_combine(ss_mlkem, ss_x25519, ephemeral_pk, reader_pk)
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            stanza[_HYBRID_HEADER_SIZE:], header, _AEAD_NONCE, wrap_key
        )
    except nacl.exceptions.CryptoError:
        raise DecryptionError("this stanza does not open with this key") from None
