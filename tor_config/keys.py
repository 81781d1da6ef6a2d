"""Key and address formats tor speaks: v3 service keys, onion addresses, x25519 client keys.

Tor writes the same 32-byte x25519 key two ways: **base32** without padding
(``ClientAuthV3=`` in ADD_ONION, ``.auth`` and ``.auth_private`` files, Tor
Browser's prompt) and **base64** (``ONION_CLIENT_AUTH_ADD``).  A service key
is ``ED25519-V3:<base64>`` of tor's 64-byte expanded secret key, exactly as
ADD_ONION returns it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp
from nacl.exceptions import RuntimeError as NaclRuntimeError

from tor_config.errors import InvalidClientKey, InvalidOnionAddress, InvalidServiceKey

SERVICE_KEY_TYPE = "ED25519-V3"
SERVICE_KEY_SIZE = 64
SERVICE_ID_LENGTH = 56
CLIENT_KEY_SIZE = 32
_ONION_VERSION = b"\x03"


def parse_service_key(key: str) -> bytes:
    """Check a service key and return its 64 raw bytes.

    :param key: ``ED25519-V3:<base64>``, as ADD_ONION returned it

    :returns: the 64-byte expanded ed25519 secret key

    :raises InvalidServiceKey: if the type, the base64 or the size is wrong
    """
    key_type, _, blob = key.partition(":")
    if key_type != SERVICE_KEY_TYPE or not blob:
        raise InvalidServiceKey(f"service keys start with '{SERVICE_KEY_TYPE}:'")
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise InvalidServiceKey("service key is not valid base64") from None
    if len(raw) != SERVICE_KEY_SIZE:
        raise InvalidServiceKey(
            f"service key must be {SERVICE_KEY_SIZE} bytes, this one is {len(raw)}"
        )
    return raw


def new_service_key() -> str:
    """Make a new onion service key here, as tor's ``NEW:ED25519-V3`` would.

    Lets Haven know a service's address before tor runs (to print a staff
    key line, or to rotate an address while Haven is stopped).  The
    expanded key is SHA-512 of a random seed with the ed25519 clamping
    applied to its first half, which is how tor expands a seed.

    :returns: ``ED25519-V3:<base64>`` of the 64-byte expanded secret key
    """
    digest = bytearray(hashlib.sha512(secrets.token_bytes(32)).digest())
    digest[0] &= 248
    digest[31] &= 63
    digest[31] |= 64
    return f"{SERVICE_KEY_TYPE}:{base64.b64encode(bytes(digest)).decode('ascii')}"


def service_id_from_key(key: str) -> str:
    """Compute the onion address a service key gives, without asking tor.

    The address is the ed25519 public key, a two-byte checksum and the
    version byte, in lower-case base32 (rend-spec-v3, "Encoding onion
    addresses").  Knowing it lets us remove a stale copy of a service
    before re-adding it, and check that tor agrees with us.

    :param key: ``ED25519-V3:<base64>``

    :returns: the 56-character service id, **without** ``.onion``

    :raises InvalidServiceKey: if the key is malformed
    """
    raw = parse_service_key(key)
    try:
        public = crypto_scalarmult_ed25519_base_noclamp(raw[:32])
    except NaclRuntimeError:
        raise InvalidServiceKey("service key has a degenerate scalar") from None
    return _encode_service_id(public)


def _encode_service_id(public: bytes) -> str:
    checksum = hashlib.sha3_256(b".onion checksum" + public + _ONION_VERSION).digest()[:2]
    return base64.b32encode(public + checksum + _ONION_VERSION).decode("ascii").lower()


def service_id(address: str) -> str:
    """Return the service id of an onion address, checking its checksum.

    :param address: a v3 address, with or without ``.onion``, any case

    :returns: the 56-character lower-case service id, **without** ``.onion``

    :raises InvalidOnionAddress: if it is not a v3 onion address
    """
    candidate = address.strip().lower().removesuffix(".onion")
    if len(candidate) != SERVICE_ID_LENGTH:
        raise InvalidOnionAddress(f"a v3 onion address has {SERVICE_ID_LENGTH} characters")
    try:
        raw = base64.b32decode(candidate.upper())
    except ValueError:  # binascii.Error, or non-ASCII text
        raise InvalidOnionAddress("onion address is not base32") from None
    if raw[-1:] != _ONION_VERSION or _encode_service_id(raw[:32]) != candidate:
        raise InvalidOnionAddress("onion address has a wrong checksum or version")
    return candidate


def onion_address(address: str) -> str:
    """Return the address as a browser needs it: ``<service id>.onion``.

    :raises InvalidOnionAddress: if it is not a v3 onion address
    """
    return service_id(address) + ".onion"


def encode_base32(raw: bytes) -> str:
    """Return ``raw`` in upper-case base32 without ``=`` padding, as tor writes keys."""
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def decode_client_key(key: str) -> bytes:
    """Decode a base32 x25519 key (padding and case optional).

    :returns: the 32 raw bytes

    :raises InvalidClientKey: if it is not base32 or not 32 bytes
    """
    text = key.strip().upper().rstrip("=")
    padded = text + "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(padded)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise InvalidClientKey("client key is not base32") from None
    if len(raw) != CLIENT_KEY_SIZE:
        raise InvalidClientKey(
            f"x25519 client keys are {CLIENT_KEY_SIZE} bytes, this one is {len(raw)}"
        )
    return raw


def normalize_client_key(key: str) -> str:
    """Return a base32 x25519 key in tor's spelling: upper case, no padding.

    :raises InvalidClientKey: if it is not a base32 32-byte key
    """
    return encode_base32(decode_client_key(key))


def base32_to_base64(key: str) -> str:
    """Convert a base32 x25519 key to the base64 that ONION_CLIENT_AUTH_ADD takes.

    :raises InvalidClientKey: if it is not a base32 32-byte key
    """
    return base64.b64encode(decode_client_key(key)).decode("ascii")


def base64_to_base32(key: str) -> str:
    """Convert a base64 x25519 key (as ONION_CLIENT_AUTH_VIEW shows it) to base32.

    :raises InvalidClientKey: if it is not a base64 32-byte key
    """
    try:
        raw = base64.b64decode(key.strip(), validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise InvalidClientKey("client key is not base64") from None
    if len(raw) != CLIENT_KEY_SIZE:
        raise InvalidClientKey(
            f"x25519 client keys are {CLIENT_KEY_SIZE} bytes, this one is {len(raw)}"
        )
    return encode_base32(raw)
