"""Envelope v1: one ciphertext body, many readers.

The body is the padded plaintext under a fresh content key with
XChaCha20-Poly1305; each reader gets a stanza (:mod:`crypto.stanza`) holding
that key: a hybrid (version-2) stanza for a reader with an ML-KEM-768 key, an
X25519 (version-1) stanza for a reader without one. The body's format does not
depend on the stanzas'. The body is stored once and each stanza in its own row, so adding a
reader later costs one stanza and never touches the body.

.. code-block:: text

    body = 0x01 || commitment (32) || nonce (24) || AEAD(padded, ad = header || associated_data)

The body key and the commitment are both derived from the content key by
keyed BLAKE2b. The commitment makes the body open under exactly one content
key; see FORMAT.md for why that matters.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions

from crypto.errors import DecryptionError, InvalidInput
from crypto.hybrid import (
    HybridPublicKey,
    ReaderPrivateKey,
    ReaderPublicKey,
    x25519_private,
    x25519_public,
)
from crypto.keys import fingerprint
from crypto.padding import DEFAULT_MAX_SIZE, MIN_BUCKET, check_max_size, is_bucket, pad, unpad
from crypto.randomness import RandomSource, draw, system_random
from crypto.stanza import CONTENT_KEY_SIZE, open_stanza, seal_content_key

__all__ = [
    "BODY_VERSION",
    "ContentKey",
    "Envelope",
    "add_reader",
    "body_size",
    "fingerprint",
    "open_content_key",
    "open_envelope",
    "open_for_reader",
    "open_keeping_key",
    "open_with_key",
    "seal",
    "seal_with_key",
]

#: First byte of a body.
BODY_VERSION = 1

_COMMITMENT_SIZE = 32
_NONCE_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_TAG_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
_HEADER_SIZE = 1 + _COMMITMENT_SIZE + _NONCE_SIZE
_BODY_KEY_PERSON = b"haven-body-key1"
_COMMIT_PERSON = b"haven-commit-v1"


@dataclass(frozen=True)
class Envelope:
    """A sealed body and one stanza per reader, keyed by the reader's :func:`fingerprint`."""

    body: bytes
    stanzas: dict[str, bytes]


@dataclass(frozen=True, repr=False)
class ContentKey:
    """An envelope's content key, for sealing and opening what travels with the
    envelope (:mod:`crypto.attachment`): whoever reads the envelope reads those too.

    .. warning:: Anyone holding it reads the envelope and everything sealed
       under keys derived from it. It is never stored or logged.
    """

    secret: bytes

    def __repr__(self) -> str:
        return "ContentKey(...)"


def body_size(padded_size: int) -> int:
    """Return the length of a body whose padded plaintext is ``padded_size`` bytes."""
    return _HEADER_SIZE + padded_size + _TAG_SIZE


def seal(
    plaintext: bytes,
    readers: Iterable[ReaderPublicKey],
    associated_data: bytes,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    random: RandomSource = system_random,
) -> Envelope:
    """Seal ``plaintext`` so that each of ``readers`` can open it.

    ``associated_data`` is not encrypted but must be given again, byte for
    byte, to open the envelope: pass the identity of the row the envelope will
    live in (kind, id, format version), so a body copied to another row fails.
    A reader listed twice gets one stanza. Readers are named by the
    fingerprint of their X25519 key; a reader given both as a bare X25519 key
    and as a hybrid key gets one hybrid stanza.

    Randomness is drawn in this order: content key (32), body nonce (24), then
    one ephemeral key (32) per distinct reader, in the order given. Hybrid
    stanzas also draw ML-KEM randomness from the operating system.

    .. warning:: ``random`` exists for known-answer tests. Anything other than
       the default repeats keys and nonces across envelopes.

    :param max_size: the largest bucket (a power of two from 1024); at most
        ``max_size - 4`` bytes of plaintext fit.
    :raises PlaintextTooLarge: if ``plaintext`` does not fit in ``max_size``.
    :raises InvalidInput: if there are no readers or ``max_size`` is not a bucket.
    :raises InvalidPublicKey: if a reader's key is a low-order point.
    """
    envelope, _ = seal_with_key(plaintext, readers, associated_data, max_size=max_size,
                                random=random)
    return envelope


def seal_with_key(
    plaintext: bytes,
    readers: Iterable[ReaderPublicKey],
    associated_data: bytes,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    random: RandomSource = system_random,
) -> tuple[Envelope, ContentKey]:
    """:func:`seal`, also returning the content key, so that attachments can be
    sealed under keys derived from it (:func:`crypto.attachment.seal_attachment`).

    Raises what :func:`seal` raises and draws randomness in the same order.
    """
    padded = pad(plaintext, max_size)
    distinct: dict[str, ReaderPublicKey] = {}
    for reader in readers:
        fp = fingerprint(x25519_public(reader))
        # Never let a bare key listed later downgrade a hybrid reader to v1.
        if not isinstance(distinct.get(fp), HybridPublicKey):
            distinct[fp] = reader
    if not distinct:
        raise InvalidInput("an envelope needs at least one reader")
    content_key = draw(random, CONTENT_KEY_SIZE)
    nonce = draw(random, _NONCE_SIZE)
    body = _seal_body(padded, content_key, nonce, associated_data)
    stanzas = {fp: seal_content_key(content_key, r, random=random) for fp, r in distinct.items()}
    return Envelope(body=body, stanzas=stanzas), ContentKey(content_key)


def open_envelope(
    body: bytes,
    stanza: bytes,
    private_key: ReaderPrivateKey,
    associated_data: bytes,
    *,
    max_size: int | None = None,
) -> bytes:
    """Return the plaintext of ``body``, using the content key in ``stanza``.

    :param max_size: if given, refuse bodies padded beyond this bucket before
        decrypting them.
    :raises DecryptionError: on any failure: a changed byte in the body, stanza
        or associated data, a stanza sealed to another key or belonging to
        another body, truncated input, or an unknown version.
    """
    if max_size is not None:
        check_max_size(max_size)
    content_key = open_stanza(stanza, private_key)
    return _open_body(body, content_key, associated_data, max_size)


def open_content_key(
    body: bytes,
    stanza: bytes,
    private_key: ReaderPrivateKey,
    associated_data: bytes,
    *,
    max_size: int | None = None,
) -> ContentKey:
    """Return the content key of ``body``, after opening the body with it.

    The body is opened, not only its commitment checked, so the key returned
    belongs to this row (its associated data) and to no other.

    :raises DecryptionError: on any failure :func:`open_envelope` reports.
    """
    return open_keeping_key(body, stanza, private_key, associated_data, max_size=max_size)[1]


def open_keeping_key(
    body: bytes,
    stanza: bytes,
    private_key: ReaderPrivateKey,
    associated_data: bytes,
    *,
    max_size: int | None = None,
) -> tuple[bytes, ContentKey]:
    """:func:`open_envelope`, also returning the content key it opened, so that
    a reader who opens the same body again can skip the stanza
    (:func:`open_with_key`): for a hybrid stanza that is an X25519 and an
    ML-KEM-768 decapsulation, by far the dearest part of opening a short body.

    .. warning:: The key opens this body, and whatever is sealed under keys
       derived from it, for as long as it is kept: keep it no longer, and
       nowhere more lasting, than the private key that opened it.

    :raises DecryptionError: on any failure :func:`open_envelope` reports.
    """
    if max_size is not None:
        check_max_size(max_size)
    content_key = open_stanza(stanza, private_key)
    return _open_body(body, content_key, associated_data, max_size), ContentKey(content_key)


def open_with_key(
    body: bytes,
    content_key: ContentKey,
    associated_data: bytes,
    *,
    max_size: int | None = None,
) -> bytes:
    """Return the plaintext of ``body`` under a content key already opened from
    one of its stanzas (:func:`open_keeping_key`).

    The body's commitment is checked first, so a key from another envelope
    fails as a stanza of another envelope does.

    :raises DecryptionError: on any failure :func:`open_envelope` reports for
        the body or its associated data, or if ``content_key`` is not this body's.
    """
    if max_size is not None:
        check_max_size(max_size)
    return _open_body(body, content_key.secret, associated_data, max_size)


def open_for_reader(
    envelope: Envelope, private_key: ReaderPrivateKey, associated_data: bytes
) -> bytes:
    """Open ``envelope`` with the stanza for ``private_key``'s public key.

    :raises DecryptionError: if the envelope has no stanza for this key, or on
        any failure :func:`open_envelope` reports.
    """
    stanza = envelope.stanzas.get(fingerprint(x25519_private(private_key).public_key))
    if stanza is None:
        raise DecryptionError("this envelope is not sealed to this key")
    return open_envelope(envelope.body, stanza, private_key, associated_data)


def add_reader(
    stanza: bytes,
    private_key: ReaderPrivateKey,
    new_reader: ReaderPublicKey,
    *,
    random: RandomSource = system_random,
) -> bytes:
    """Return a stanza for ``new_reader``, made from an existing reader's stanza.

    The content key is unsealed with ``private_key`` and sealed again to
    ``new_reader``; the body is untouched. Store the result under the
    fingerprint of ``new_reader``'s X25519 key. Given a hybrid key for a reader
    who holds a version-1 stanza, the result replaces that stanza: this is how
    a reader's old stanzas become hybrid.

    .. warning:: The new reader can read everything ever sealed under this
       content key, and cannot be removed again short of re-sealing the body
       under a new key.

    :raises DecryptionError: if ``stanza`` does not open with ``private_key``.
    :raises InvalidPublicKey: if ``new_reader`` is a low-order point.
    """
    content_key = open_stanza(stanza, private_key)
    return seal_content_key(content_key, new_reader, random=random)


def _seal_body(padded: bytes, content_key: bytes, nonce: bytes, associated_data: bytes) -> bytes:
    body_key, commitment = _derive(content_key)
    header = bytes([BODY_VERSION]) + commitment + nonce
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        padded, header + associated_data, nonce, body_key
    )
    return header + ciphertext


def _open_body(
    body: bytes, content_key: bytes, associated_data: bytes, max_size: int | None
) -> bytes:
    if not body or body[0] != BODY_VERSION:
        raise DecryptionError("not a version-1 envelope body")
    padded_size = len(body) - _HEADER_SIZE - _TAG_SIZE
    if not is_bucket(padded_size) or (max_size is not None and padded_size > max_size):
        raise DecryptionError(
            f"an envelope body is {body_size(MIN_BUCKET)} bytes or a larger bucket, got {len(body)}"
        )
    body_key, commitment = _derive(content_key)
    header = body[:_HEADER_SIZE]
    if not hmac.compare_digest(commitment, header[1 : 1 + _COMMITMENT_SIZE]):
        raise DecryptionError("this stanza's content key does not belong to this body")
    try:
        padded = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            body[_HEADER_SIZE:], header + associated_data, header[1 + _COMMITMENT_SIZE :], body_key
        )
    except nacl.exceptions.CryptoError:
        raise DecryptionError("the body or its associated data was altered") from None
    plaintext = unpad(padded)
    if plaintext is None:
        raise DecryptionError("the body's padding is malformed")
    return plaintext


def _derive(content_key: bytes) -> tuple[bytes, bytes]:
    body_key = hashlib.blake2b(key=content_key, person=_BODY_KEY_PERSON, digest_size=32).digest()
    commitment = hashlib.blake2b(
        key=content_key, person=_COMMIT_PERSON, digest_size=_COMMITMENT_SIZE
    ).digest()
    return body_key, commitment
