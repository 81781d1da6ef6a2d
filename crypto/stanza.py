"""A stanza: one reader's copy of an envelope's content key, in a sealed box.

.. code-block:: text

    stanza = 0x01 || sealed_box(content_key, reader_public_key)      81 bytes

The sealed box is libsodium's ``crypto_box_seal`` construction, built here
from its parts so that the ephemeral key can come from an injected random
source in known-answer tests:

.. code-block:: text

    esk   = random(32);  epk = X25519(esk, basepoint)
    nonce = BLAKE2b-192(epk || reader_pk)
    box   = epk || crypto_box(content_key, nonce, reader_pk, esk)

Opening uses libsodium's own ``crypto_box_seal_open`` (:class:`nacl.public.SealedBox`),
and the tests check that libsodium opens what this module seals, so the two
cannot drift apart unnoticed.
"""

from __future__ import annotations

import hashlib

import nacl.bindings
import nacl.exceptions
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.errors import DecryptionError, InvalidInput, InvalidPublicKey
from crypto.randomness import RandomSource, draw, system_random

__all__ = ["CONTENT_KEY_SIZE", "STANZA_SIZE", "STANZA_VERSION", "open_stanza", "seal_content_key"]

#: First byte of a stanza.
STANZA_VERSION = 1
#: Bytes of a content key.
CONTENT_KEY_SIZE = 32
_SEAL_OVERHEAD = nacl.bindings.crypto_box_SEALBYTES
#: Bytes of a version-1 stanza: version, ephemeral key, MAC, content key.
STANZA_SIZE = 1 + _SEAL_OVERHEAD + CONTENT_KEY_SIZE


def seal_content_key(
    content_key: bytes, reader: PublicKey, *, random: RandomSource = system_random
) -> bytes:
    """Return a stanza that only ``reader``'s private key opens.

    Draws one 32-byte ephemeral secret key from ``random``.

    .. warning:: ``random`` exists for known-answer tests. An ephemeral key used
       twice lets anyone who learns one content key learn the other.

    :raises InvalidInput: if ``content_key`` is not 32 bytes.
    :raises InvalidPublicKey: if ``reader`` is a low-order point.
    """
    if len(content_key) != CONTENT_KEY_SIZE:
        raise InvalidInput(f"a content key is {CONTENT_KEY_SIZE} bytes, got {len(content_key)}")
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


def open_stanza(stanza: bytes, private_key: PrivateKey) -> bytes:
    """Return the content key inside ``stanza``.

    :raises DecryptionError: if the stanza is not a version-1 stanza, was
        altered, or was not sealed to ``private_key``.
    """
    if len(stanza) != STANZA_SIZE:
        raise DecryptionError(f"a stanza is {STANZA_SIZE} bytes, got {len(stanza)}")
    if stanza[0] != STANZA_VERSION:
        raise DecryptionError(f"unknown stanza version {stanza[0]}")
    try:
        return SealedBox(private_key).decrypt(stanza[1:])
    except nacl.exceptions.CryptoError:
        raise DecryptionError("this stanza does not open with this key") from None
