"""Keys as text people can paste: public keys and wrapped private keys.

.. code-block:: text

    haven-pk1:<base64url, no padding, of public_key (32) || check (4)>     58 characters
    haven-pk2:<base64url, no padding, of x25519 (32) || mlkem (1184) || check (4)>
                                                                        1637 characters
    haven-wk1:<base64url, no padding, of a version-1 wrapped key (133 bytes)>
    haven-wk2:<base64url, no padding, of a version-2 wrapped key (1381 bytes)>

``check`` is the first 4 bytes of BLAKE2b(key bytes, person="haven-pk-check"):
a key mangled in copying is refused instead of silently becoming a different
key that nobody can open content sealed to. A wrapped key needs no check: its
AEAD tag already refuses any change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from nacl.public import PublicKey

from crypto.errors import InvalidInput, InvalidPublicKey
from crypto.hybrid import MLKEM_PUBLIC_KEY_SIZE, HybridPublicKey, ReaderPublicKey
from crypto.keys import ensure_usable_public_key

__all__ = [
    "HYBRID_PUBLIC_KEY_PREFIX",
    "HYBRID_WRAPPED_KEY_PREFIX",
    "PUBLIC_KEY_PREFIX",
    "WRAPPED_KEY_PREFIX",
    "decode_public_key",
    "decode_wrapped_key",
    "encode_public_key",
    "encode_wrapped_key",
]

#: Prefix of a public key in text.
PUBLIC_KEY_PREFIX = "haven-pk1:"
#: Prefix of a hybrid (X25519 + ML-KEM-768) public key in text.
HYBRID_PUBLIC_KEY_PREFIX = "haven-pk2:"
#: Prefix of a wrapped private key in text (the offline tool's key file).
WRAPPED_KEY_PREFIX = "haven-wk1:"
#: Prefix of a wrapped hybrid private key in text.
HYBRID_WRAPPED_KEY_PREFIX = "haven-wk2:"
_WRAPPED_PREFIXES = {1: WRAPPED_KEY_PREFIX, 2: HYBRID_WRAPPED_KEY_PREFIX}

_CHECK_SIZE = 4
_CHECK_PERSON = b"haven-pk-check"


def encode_public_key(public_key: ReaderPublicKey) -> str:
    """Return ``public_key`` as ``haven-pk1:…`` text, or a hybrid key as ``haven-pk2:…``."""
    if isinstance(public_key, HybridPublicKey):
        prefix, raw = HYBRID_PUBLIC_KEY_PREFIX, bytes(public_key.x25519) + public_key.mlkem
    else:
        prefix, raw = PUBLIC_KEY_PREFIX, bytes(public_key)
    return prefix + _b64encode(raw + _check(raw))


def decode_public_key(text: str) -> ReaderPublicKey:
    """Return the public key in ``haven-pk1:…`` or ``haven-pk2:…`` text;
    surrounding whitespace is ignored.

    ``haven-pk1`` gives an X25519 :class:`~nacl.public.PublicKey`, ``haven-pk2``
    a :class:`~crypto.hybrid.HybridPublicKey`.

    :raises InvalidPublicKey: if the text lacks a known prefix, is not
        base64url, has the wrong length or check, names a low-order point, or
        carries an ML-KEM-768 key that fails its modulus check.
    """
    hybrid = text.strip().startswith(HYBRID_PUBLIC_KEY_PREFIX)
    prefix = HYBRID_PUBLIC_KEY_PREFIX if hybrid else PUBLIC_KEY_PREFIX
    key_size = PublicKey.SIZE + (MLKEM_PUBLIC_KEY_SIZE if hybrid else 0)
    payload = _strip_prefix(text, prefix, InvalidPublicKey)
    raw = _b64decode(payload, InvalidPublicKey)
    if len(raw) != key_size + _CHECK_SIZE:
        raise InvalidPublicKey(
            f"a {prefix} public key is {key_size + _CHECK_SIZE} bytes after the prefix,"
            f" got {len(raw)}"
        )
    key, check = raw[:key_size], raw[key_size:]
    if not hmac.compare_digest(check, _check(key)):
        raise InvalidPublicKey("this public key is damaged: its check does not match")
    if hybrid:
        return HybridPublicKey.from_bytes(key[: PublicKey.SIZE], key[PublicKey.SIZE :])
    public_key = PublicKey(key)
    ensure_usable_public_key(public_key)
    return public_key


def encode_wrapped_key(wrapped: bytes) -> str:
    """Return a wrapped private key as ``haven-wk1:…`` (or, for a version-2
    wrapped key, ``haven-wk2:…``) text.

    :raises InvalidInput: if the first byte is not a known wrapped-key version.
    """
    prefix = _WRAPPED_PREFIXES.get(wrapped[0]) if wrapped else None
    if prefix is None:
        raise InvalidInput("a wrapped key starts with version 1 or 2")
    return prefix + _b64encode(wrapped)


def decode_wrapped_key(text: str) -> bytes:
    """Return the wrapped key bytes in ``haven-wk1:…`` or ``haven-wk2:…`` text.

    Only the text form, and that its prefix names the version its first byte
    carries, is checked here; :func:`crypto.volunteer.unwrap_private_key`
    checks the bytes.

    :raises InvalidInput: if the text lacks a known prefix, is not base64url,
        or its prefix and version byte disagree.
    """
    version = 2 if text.strip().startswith(HYBRID_WRAPPED_KEY_PREFIX) else 1
    raw = _b64decode(_strip_prefix(text, _WRAPPED_PREFIXES[version], InvalidInput), InvalidInput)
    if not raw or raw[0] != version:
        raise InvalidInput(f"a {_WRAPPED_PREFIXES[version]} key starts with version {version}")
    return raw


def _check(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=_CHECK_SIZE, person=_CHECK_PERSON).digest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _strip_prefix(text: str, prefix: str, error: type[InvalidInput]) -> str:
    stripped = text.strip()
    if not stripped.startswith(prefix):
        raise error(f"expected text starting with {prefix!r}")
    return stripped[len(prefix) :]


def _b64decode(payload: str, error: type[InvalidInput]) -> bytes:
    # Strict: one text, one key. Lenient decoders skip stray characters, so two
    # different strings could name the same key.
    if not payload.isascii() or "=" in payload or len(payload) % 4 == 1:
        raise error("expected unpadded base64url after the prefix")
    try:
        raw = base64.b64decode(payload + "=" * (-len(payload) % 4), altchars=b"-_", validate=True)
    except binascii.Error:
        raise error("expected unpadded base64url after the prefix") from None
    if _b64encode(raw) != payload:
        raise error("expected unpadded base64url after the prefix")
    return raw
