"""Backing up and rekeying the database file.

Rekeying writes a fresh encrypted copy beside the database and renames it over
the original: a rename is atomic, so a crash leaves either the old file with
the old key or the new file with the new key, never a half-rekeyed one. In key
file mode the new key is written to ``db.key.new`` first and promoted after
the rename; :class:`Database` finishes a promotion a crash interrupted.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from onion_app.config import Config
from onion_app.errors import StoreError, TargetExists
from onion_app.store import migrations
from onion_app.store.connection import Connection, open_database
from onion_app.store.database import Database, fsync_dir, pending_key_path
from onion_app.store.keys import KEY_BYTES, DatabaseKey, display, new_passphrase_key, write_key_file


def backup(database: Database, target: Path, new_passphrase: str | None = None) -> None:
    """Writes an encrypted copy of the database to ``target``.

    The copy opens with the same key (and, in passphrase mode, the same
    passphrase), or with ``new_passphrase`` when one is given.

    :raises TargetExists: if ``target`` exists; a backup never overwrites
    :raises StoreError: if the database cannot be opened
    """
    if target.exists():
        raise TargetExists(f"{display(target)} already exists; choose a new file name")
    with database.connect() as conn:
        # In passphrase mode the key carries the file's salt (and with it the
        # recorded cost), so the copy is written with it and opens with the
        # same passphrase.
        if new_passphrase is None:
            target_key = database.key
        else:
            with database.kdf_slot():
                target_key = new_passphrase_key(new_passphrase, database.config.db_kdf_params)
        _export(conn, target, target_key)


def rekey(database: Database, new_passphrase: str | None = None) -> Config:
    """Re-encrypts the database under a new key, atomically.

    With ``new_passphrase`` the database afterwards opens with that passphrase
    (and the key file, if any, is removed); without, it gets a new random key
    in the key file (and the passphrase stops working).

    :returns: the configuration that opens the rekeyed database; ``database``
        holds the new key afterwards
    :raises StoreError: if the database cannot be opened or written
    """
    config = database.config
    conn = database.open()
    staging = config.db_path.with_name(config.db_path.name + ".rekey")
    staging.unlink(missing_ok=True)
    pending = pending_key_path(config)
    if new_passphrase is not None:
        with database.kdf_slot():
            new_key = new_passphrase_key(new_passphrase, config.db_kdf_params)
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
    fsync_dir(config.instance_path)
    if new_passphrase is None:
        os.replace(pending, config.db_key_path)
    else:
        _remove_key_file(config.db_key_path)
    fsync_dir(config.instance_path)
    database.replace_key(new_key, new_config)
    return new_config


def _export(conn: Connection, target: Path, key: DatabaseKey) -> None:
    """Copies every table of ``conn`` into a new file encrypted under ``key``."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # ATTACH ... KEY takes the same text PRAGMA key does, as a bound value.
    conn.execute("ATTACH DATABASE ? AS export KEY ?", (str(partial), key.pragma_value()))
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
