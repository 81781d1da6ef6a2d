"""Argon2id parameters and the one call that stretches a secret with them.

Both key derivations in Haven (a requester's codename, a volunteer's
passphrase) go through :func:`derive_key`, so there is one place where the
cost is chosen and one place where it is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import nacl.pwhash.argon2id as argon2id

from crypto.errors import InvalidInput

__all__ = [
    "DEFAULT_KDF_PARAMS",
    "MAX_MEMLIMIT",
    "MAX_OPSLIMIT",
    "SALT_SIZE",
    "TEST_KDF_PARAMS",
    "KdfParams",
    "derive_key",
]

#: Bytes of salt argon2id takes.
SALT_SIZE: int = argon2id.SALTBYTES

# Ceilings far above the defaults but below what would hurt the server: a
# wrapped key carries its own parameters, so without a ceiling a doctored blob
# could ask the server for gigabytes of memory per login attempt.
#: Largest ``opslimit`` Haven accepts.
MAX_OPSLIMIT = 16
#: Largest ``memlimit`` (bytes) Haven accepts: 1 GiB.
MAX_MEMLIMIT = 1 << 30


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: ``opslimit`` passes over ``memlimit`` bytes of memory.

    ``opslimit`` must be from 1 to :data:`MAX_OPSLIMIT`; ``memlimit`` from
    8 KiB (argon2id's minimum) to :data:`MAX_MEMLIMIT`, a whole number of KiB,
    since argon2id counts memory in KiB and a remainder would be dropped.

    :raises InvalidInput: on construction, if either value is out of range.
    """

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        if not argon2id.OPSLIMIT_MIN <= self.opslimit <= MAX_OPSLIMIT:
            raise InvalidInput(
                f"opslimit must be from {argon2id.OPSLIMIT_MIN} to {MAX_OPSLIMIT}, "
                f"got {self.opslimit}"
            )
        if not argon2id.MEMLIMIT_MIN <= self.memlimit <= MAX_MEMLIMIT:
            raise InvalidInput(
                f"memlimit must be from {argon2id.MEMLIMIT_MIN} to {MAX_MEMLIMIT} bytes, "
                f"got {self.memlimit}"
            )
        if self.memlimit % 1024:
            raise InvalidInput(f"memlimit must be a whole number of KiB, got {self.memlimit}")


#: Haven's default cost: 2 passes over 256 MiB, about 0.33 s on the 2-core
#: reference machine (see FORMAT.md for the measurements).
DEFAULT_KDF_PARAMS = KdfParams(opslimit=2, memlimit=256 * 1024 * 1024)

#: argon2id's minimum cost (1 pass, 8 KiB): well under a millisecond.
#:
#: .. warning:: For tests only. A key stretched with these parameters is barely
#:    stretched at all.
TEST_KDF_PARAMS = KdfParams(opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)


def derive_key(secret: bytes, salt: bytes, size: int, params: KdfParams) -> bytes:
    """Stretch ``secret`` into ``size`` bytes with argon2id.

    :param secret: the codename or passphrase, already normalised and encoded.
    :param salt: exactly :data:`SALT_SIZE` (16) bytes.
    :param size: bytes of output wanted, from 16 to 64.
    :raises InvalidInput: if the salt is not 16 bytes or ``size`` is out of range.
    """
    if len(salt) != SALT_SIZE:
        raise InvalidInput(f"the salt must be {SALT_SIZE} bytes, got {len(salt)}")
    if not 16 <= size <= 64:
        raise InvalidInput(f"size must be from 16 to 64 bytes, got {size}")
    return argon2id.kdf(size, secret, salt, opslimit=params.opslimit, memlimit=params.memlimit)
