"""Where random bytes come from, and the one hook that lets tests choose them.

Functions that draw keys or nonces take a ``random`` keyword defaulting to
:func:`nacl.utils.random` (the operating system's CSPRNG). Known-answer tests
pass a function that returns fixed bytes instead; nothing else should.
"""

from __future__ import annotations

from collections.abc import Callable

import nacl.utils

from crypto.errors import CryptoError

__all__ = ["RandomSource", "draw", "system_random"]

#: A function returning that many random bytes.
RandomSource = Callable[[int], bytes]

#: The default source: libsodium's ``randombytes_buf`` (the OS CSPRNG).
system_random: RandomSource = nacl.utils.random


def draw(random: RandomSource, size: int) -> bytes:
    """Return ``size`` bytes from ``random``, checking that it gave exactly that many.

    :raises CryptoError: if the source returned a different number of bytes, which
        would otherwise turn into a short key or nonce.
    """
    data = random(size)
    if len(data) != size:
        raise CryptoError(f"the random source returned {len(data)} bytes, expected {size}")
    return data
