"""Creating, upgrading, backing up and rekeying the database file.

Rekeying writes a fresh encrypted copy beside the database and renames it over
the original: a rename is atomic, so a crash leaves either the old file with
the old key or the new file with the new key, never a half-rekeyed one. In key
file mode the new key is written to ``db.key.new`` first and promoted after
the rename; :func:`open_existing` finishes a promotion a crash interrupted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from onion_app.config import Config, ensure_instance
from onion_app.errors import StoreError, TargetExists, WrongDatabaseKey
from onion_app.store import migrations
from onion_app.store.connection import Connection, open_database
from onion_app.store.keys import (
    KEY_BYTES,
    DatabaseKey,
    display,
    key_for_existing,
    key_for_new,
    new_passphrase_key,
    read_key_file,
    write_key_file,
)


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_database` did."""

    created: bool
    applied: list[migrations.Migration]
    key: DatabaseKey


def pending_key_path(config: Config) -> Path:
    return config.instance_path / "db.key.new"


def open_existing(config: Config) -> tuple[Connection, DatabaseKey]:
    """Opens the existing database with the configured key.

    :returns: the connection and the key that opened it
    :raises DatabaseMissing, DatabaseKeyMissing, WrongDatabaseKey, NotAHavenDatabase:
        with one plain sentence each
    """
    key = key_for_existing(config)
    try:
        return open_database(config.db_path, key), key
    except WrongDatabaseKey:
        pending = pending_key_path(config)
        if config.db_passphrase is not None or not pending.exists():
            raise
        # A rekey renamed the new database into place and stopped before it
        # promoted the new key file; the pending key is the right one.
        new_key = read_key_file(pending)
        conn = open_database(config.db_path, new_key)
        os.replace(pending, config.db_key_path)
        _fsync_dir(config.instance_path)
        return conn, new_key


def init_database(config: Config) -> InitResult:
    """Creates the database if missing and applies pending migrations; idempotent.

    :returns: what was done
    :raises StoreError: with one plain sentence if the file cannot be used
    """
    ensure_instance(config)
    if config.db_path.exists():
        conn, key = open_existing(config)
        created = False
    else:
        key = key_for_new(config)
        conn = open_database(config.db_path, key, create=True)
        created = True
    try:
        applied = migrations.apply_pending(conn)
    finally:
        conn.close()
    return InitResult(created=created, applied=applied, key=key)


def backup(config: Config, target: Path, new_passphrase: str | None = None) -> None:
    """Writes an encrypted copy of the database to ``target``.

    The copy opens with the same key (and, in passphrase mode, the same
    passphrase), or with ``new_passphrase`` when one is given.

    :raises TargetExists: if ``target`` exists; a backup never overwrites
    :raises StoreError: if the database cannot be opened
    """
    if target.exists():
        raise TargetExists(f"{display(target)} already exists; choose a new file name")
    conn, key = open_existing(config)
    try:
        # In passphrase mode ``key`` carries the file's salt, so the copy is
        # written with it and opens with the same passphrase.
        target_key = key if new_passphrase is None else new_passphrase_key(new_passphrase)
        _export(conn, target, target_key)
    finally:
        conn.close()


def rekey(config: Config, new_passphrase: str | None = None) -> Config:
    """Re-encrypts the database under a new key, atomically.

    With ``new_passphrase`` the database afterwards opens with that passphrase
    (and the key file, if any, is removed); without, it gets a new random key
    in the key file (and the passphrase stops working).

    :returns: the configuration that opens the rekeyed database
    :raises StoreError: if the database cannot be opened or written
    """
    conn, _ = open_existing(config)
    staging = config.db_path.with_name(config.db_path.name + ".rekey")
    staging.unlink(missing_ok=True)
    pending = pending_key_path(config)
    if new_passphrase is not None:
        new_key = new_passphrase_key(new_passphrase)
        new_config = config.with_changes(db_passphrase=new_passphrase)
    else:
        new_key = DatabaseKey(raw=secrets.token_bytes(KEY_BYTES))
        write_key_file(pending, new_key)
        new_config = config.with_changes(db_passphrase=None)
    try:
        # Folding the WAL into the main file first means the copy is complete
        # and no stale -wal file outlives the rename.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _export(conn, staging, new_key)
    except BaseException:
        staging.unlink(missing_ok=True)
        pending.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{config.db_path}{suffix}").unlink(missing_ok=True)
    os.replace(staging, config.db_path)
    _fsync_dir(config.instance_path)
    if new_passphrase is None:
        os.replace(pending, config.db_key_path)
    else:
        _remove_key_file(config.db_key_path)
    _fsync_dir(config.instance_path)
    return new_config


def _export(conn: Connection, target: Path, key: DatabaseKey) -> None:
    """Copies every table of ``conn`` into a new file encrypted under ``key``."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    conn.execute("ATTACH DATABASE ? AS export KEY ?", (str(partial), _key_literal(key)))
    try:
        conn.execute("SELECT sqlcipher_export('export')")
        conn.commit()
    finally:
        conn.execute("DETACH DATABASE export")
    # The copy must open with its key before it may take a real name.
    check = open_database(partial, key)
    try:
        if migrations.current_version(check) != migrations.current_version(conn):
            raise StoreError(f"the copy written to {display(target)} is incomplete")
    finally:
        check.close()
    partial.chmod(0o600)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)


def _key_literal(key: DatabaseKey) -> str:
    # ATTACH ... KEY takes the same text PRAGMA key does, as a bound value.
    return key.pragma_value()


def _remove_key_file(path: Path) -> None:
    if not path.exists():
        return
    # Overwrite before unlinking: on most file systems the old key bytes would
    # otherwise stay readable in free blocks.
    with path.open("r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(0)
        handle.write(secrets.token_bytes(size))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
