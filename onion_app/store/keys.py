"""The database key: a random key file, or a passphrase stretched with argon2id.

SQLCipher is always given a raw 256-bit key (``x'…'``), so it skips its own
PBKDF2 and opening a connection per request stays cheap; the slow stretching
happens once per process (:class:`onion_app.store.database.Database` keeps the
result). In passphrase mode the argon2id salt is the 16-byte salt SQLCipher
keeps at the start of the file, and that salt also records the argon2id cost,
so a backup or a copy opens with the passphrase alone, whatever the default
cost is by then.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from crypto import kdf
from crypto.errors import InvalidInput
from crypto.kdf import KdfParams
from onion_app.config import Config
from onion_app.errors import DatabaseKeyMissing, DatabaseMissing, StoreError

KEY_BYTES = 32
SALT_BYTES = 16

# The file salt doubles as the record of the passphrase's argon2id cost, so the
# cost travels with the file (a backup, a rekeyed copy) and a later change of
# the default never locks out a database made under the old one. Layout:
# b"Hv", format 1, opslimit (1 byte), memlimit in KiB (3 bytes, big-endian),
# then 9 random bytes: 72 bits keep every installation's salt its own.
_SALT_MAGIC = b"Hv\x01"
_SALT_RANDOM = SALT_BYTES - len(_SALT_MAGIC) - 4
# Databases made before the cost was recorded used this, with a random salt.
LEGACY_PASSPHRASE_PARAMS = KdfParams(opslimit=3, memlimit=256 * 1024 * 1024)


@dataclass(frozen=True)
class DatabaseKey:
    """A raw SQLCipher key, and the file salt to create a database with.

    .. warning:: ``raw`` opens the whole database; it lives in memory only.
    """

    raw: bytes = field(repr=False)
    salt: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != KEY_BYTES:
            raise StoreError(f"a database key must be {KEY_BYTES} bytes")
        if self.salt is not None and len(self.salt) != SALT_BYTES:
            raise StoreError(f"a database salt must be {SALT_BYTES} bytes")

    def pragma_value(self) -> str:
        """The value for ``PRAGMA key``: the raw key, with the salt when one is set."""
        hex_text = self.raw.hex() + (self.salt.hex() if self.salt else "")
        return f"x'{hex_text}'"


def new_salt(params: KdfParams) -> bytes:
    """A fresh file salt that records ``params``."""
    memlimit_kib = params.memlimit // 1024
    if not 0 < memlimit_kib < 1 << 24 or params.opslimit > 255:
        raise StoreError("the database passphrase cost cannot be recorded in the file")
    return (_SALT_MAGIC + bytes([params.opslimit]) + memlimit_kib.to_bytes(3, "big")
            + secrets.token_bytes(_SALT_RANDOM))


def recorded_params(salt: bytes) -> KdfParams | None:
    """The cost a file salt records, or None for a salt from before costs were
    recorded (or one that does not parse as a cost Haven accepts)."""
    if len(salt) != SALT_BYTES or not salt.startswith(_SALT_MAGIC):
        return None
    at = len(_SALT_MAGIC)
    try:
        return KdfParams(opslimit=salt[at],
                         memlimit=int.from_bytes(salt[at + 1:at + 4], "big") * 1024)
    except InvalidInput:
        return None


def from_passphrase(passphrase: str, salt: bytes,
                    params: KdfParams | None = None) -> DatabaseKey:
    """Stretches a passphrase into a database key with argon2id (``crypto.kdf``).

    :param params: the cost; by default the one the salt records, or the
        cost databases used before it was recorded
    :returns: the key, carrying ``salt`` so a new file is written with it
    :raises StoreError: if the salt has the wrong size
    """
    if len(salt) != SALT_BYTES:
        raise StoreError(f"a database salt must be {SALT_BYTES} bytes")
    if params is None:
        params = recorded_params(salt) or LEGACY_PASSPHRASE_PARAMS
    raw = kdf.derive_key(passphrase.encode("utf-8"), salt, KEY_BYTES, params)
    return DatabaseKey(raw=raw, salt=salt)


def new_passphrase_key(passphrase: str, params: KdfParams) -> DatabaseKey:
    """A key for a database about to be written, under a fresh salt recording ``params``."""
    return from_passphrase(passphrase, new_salt(params), params)


def read_file_salt(db_path: Path) -> bytes:
    """The salt SQLCipher wrote at the start of an existing database file.

    :raises StoreError: if the file is too short to hold one
    """
    with db_path.open("rb") as handle:
        salt = handle.read(SALT_BYTES)
    if len(salt) != SALT_BYTES:
        raise StoreError(f"{display(db_path)} is too short to be a Haven database")
    return salt


def read_key_file(path: Path) -> DatabaseKey:
    """Reads a key file written by :func:`write_key_file`.

    :raises StoreError: if the file does not hold a key
    """
    try:
        raw = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"{display(path)} does not hold a database key") from None
    if len(raw) != KEY_BYTES:
        raise StoreError(f"{display(path)} does not hold a {KEY_BYTES}-byte database key")
    return DatabaseKey(raw=raw)


def write_key_file(path: Path, key: DatabaseKey) -> None:
    """Writes a key file readable by this user alone, durably.

    :raises TargetExists: never; the caller decides about existing files
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, key.raw.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    path.chmod(0o600)


def key_for_existing(config: Config) -> DatabaseKey:
    """The key that should open the existing database, from passphrase or key file.

    :raises DatabaseMissing: if there is no database file
    :raises DatabaseKeyMissing: if neither a passphrase nor a key file is there
    :raises StoreError: if the key file or database header is unreadable
    """
    if not config.db_path.exists():
        raise DatabaseMissing(
            f"{display(config.db_path)} does not exist; run `.venv/bin/haven init`")
    if config.db_passphrase is not None:
        return from_passphrase(config.db_passphrase, read_file_salt(config.db_path))
    if not config.db_key_path.exists():
        raise DatabaseKeyMissing(
            f"{display(config.db_path)} exists but {display(config.db_key_path)} does not; "
            "restore the key file or set HAVEN_DB_PASSPHRASE"
        )
    return read_key_file(config.db_key_path)


def key_for_new(config: Config) -> DatabaseKey:
    """A key for a database that does not exist yet; writes the key file if needed.

    :raises StoreError: if the key file cannot be written
    """
    if config.db_passphrase is not None:
        return new_passphrase_key(config.db_passphrase, config.db_kdf_params)
    if config.db_key_path.exists():
        # A key file without a database: an earlier init stopped early, or the
        # database was moved away. Reusing the key keeps a restored file usable.
        return read_key_file(config.db_key_path)
    key = DatabaseKey(raw=secrets.token_bytes(KEY_BYTES))
    write_key_file(config.db_key_path, key)
    return key


def display(path: Path) -> str:
    """A path as the operator typed it: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
