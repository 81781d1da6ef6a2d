"""Keys as text people can paste: public keys and wrapped private keys.

.. code-block:: text

    haven-pk1:<base64url, no padding, of public_key (32) || check (4)>     58 characters
    haven-wk1:<base64url, no padding, of a wrapped key (133 bytes)>

``check`` is the first 4 bytes of BLAKE2b(public_key, person="haven-pk-check"):
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
from crypto.keys import ensure_usable_public_key

__all__ = [
    "PUBLIC_KEY_PREFIX",
    "WRAPPED_KEY_PREFIX",
    "decode_public_key",
    "decode_wrapped_key",
    "encode_public_key",
    "encode_wrapped_key",
]

#: Prefix of a public key in text.
PUBLIC_KEY_PREFIX = "haven-pk1:"
#: Prefix of a wrapped private key in text (the offline tool's key file).
WRAPPED_KEY_PREFIX = "haven-wk1:"

_CHECK_SIZE = 4
_CHECK_PERSON = b"haven-pk-check"


def encode_public_key(public_key: PublicKey) -> str:
    """Return ``public_key`` as ``haven-pk1:…`` text."""
    raw = bytes(public_key)
    return PUBLIC_KEY_PREFIX + _b64encode(raw + _check(raw))


def decode_public_key(text: str) -> PublicKey:
    """Return the public key in ``haven-pk1:…`` text; surrounding whitespace is ignored.

    :raises InvalidPublicKey: if the text lacks the prefix, is not base64url,
        has the wrong length or check, or names a low-order point.
    """
    payload = _strip_prefix(text, PUBLIC_KEY_PREFIX, InvalidPublicKey)
    raw = _b64decode(payload, InvalidPublicKey)
    if len(raw) != PublicKey.SIZE + _CHECK_SIZE:
        raise InvalidPublicKey(
            f"a public key is {PublicKey.SIZE + _CHECK_SIZE} bytes after the prefix, got {len(raw)}"
        )
    key, check = raw[: PublicKey.SIZE], raw[PublicKey.SIZE :]
    if not hmac.compare_digest(check, _check(key)):
        raise InvalidPublicKey("this public key is damaged: its check does not match")
    public_key = PublicKey(key)
    ensure_usable_public_key(public_key)
    return public_key


def encode_wrapped_key(wrapped: bytes) -> str:
    """Return a wrapped private key as ``haven-wk1:…`` text."""
    return WRAPPED_KEY_PREFIX + _b64encode(wrapped)


def decode_wrapped_key(text: str) -> bytes:
    """Return the wrapped key bytes in ``haven-wk1:…`` text.

    Only the text form is checked here; :func:`crypto.volunteer.unwrap_private_key`
    checks the bytes.

    :raises InvalidInput: if the text lacks the prefix or is not base64url.
    """
    return _b64decode(_strip_prefix(text, WRAPPED_KEY_PREFIX, InvalidInput), InvalidInput)


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
