"""Length-hiding padding: a 4-byte length prefix, then zeros up to a power-of-two bucket.

Buckets are 1 KiB, 2 KiB, 4 KiB … up to a maximum the caller chooses. A padded
plaintext's length tells only which bucket it fell in.
"""

from __future__ import annotations

import struct

from crypto.errors import InvalidInput, PlaintextTooLarge

__all__ = [
    "DEFAULT_MAX_SIZE",
    "LENGTH_PREFIX_SIZE",
    "MIN_BUCKET",
    "bucket_size",
    "check_max_size",
    "is_bucket",
    "pad",
    "unpad",
]

#: Smallest bucket: 1 KiB.
MIN_BUCKET = 1024
#: Default largest bucket: 64 KiB, so at most 65,532 bytes of plaintext.
DEFAULT_MAX_SIZE = 64 * 1024
#: Bytes of the big-endian length prefix.
LENGTH_PREFIX_SIZE = 4

_PREFIX = struct.Struct(">I")
# The prefix is 32 bits; keeping buckets at or below 2**31 leaves it room.
_MAX_BUCKET = 1 << 31


def is_bucket(size: int) -> bool:
    """Return whether ``size`` is a bucket: a power of two from 1 KiB to 2 GiB."""
    return MIN_BUCKET <= size <= _MAX_BUCKET and size & (size - 1) == 0


def check_max_size(max_size: int) -> None:
    """Refuse a ``max_size`` that is not a bucket.

    :raises InvalidInput: unless ``max_size`` is a power of two from 1024 to 2**31.
    """
    if not is_bucket(max_size):
        raise InvalidInput(
            f"max_size must be a power of two from {MIN_BUCKET} to {_MAX_BUCKET}, got {max_size}"
        )


def bucket_size(length: int, max_size: int = DEFAULT_MAX_SIZE) -> int:
    """Return the padded size for a plaintext of ``length`` bytes.

    :raises PlaintextTooLarge: if it would need a bucket above ``max_size``.
    :raises InvalidInput: if ``max_size`` is not a bucket.
    """
    check_max_size(max_size)
    needed = length + LENGTH_PREFIX_SIZE
    if needed > max_size:
        raise PlaintextTooLarge(
            f"the plaintext is {length} bytes; at most {max_size - LENGTH_PREFIX_SIZE} fit "
            f"in a {max_size}-byte bucket"
        )
    return max(MIN_BUCKET, 1 << (needed - 1).bit_length())


def pad(plaintext: bytes, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
    """Return ``plaintext`` with its length in front and zeros behind, filling its bucket.

    :raises PlaintextTooLarge: if the plaintext does not fit in ``max_size``.
    :raises InvalidInput: if ``max_size`` is not a bucket.
    """
    size = bucket_size(len(plaintext), max_size)
    framed = _PREFIX.pack(len(plaintext)) + plaintext
    return framed + bytes(size - len(framed))


def unpad(padded: bytes) -> bytes | None:
    """Return the plaintext inside ``padded``, or ``None`` if it is not well formed.

    Well formed means: a bucket's length, a prefix that fits, and only zeros
    after the plaintext, so each plaintext has exactly one padded form.
    """
    if not is_bucket(len(padded)):
        return None
    (length,) = _PREFIX.unpack_from(padded)
    end = LENGTH_PREFIX_SIZE + length
    if end > len(padded) or padded[end:].count(0) != len(padded) - end:
        return None
    return padded[LENGTH_PREFIX_SIZE:end]
