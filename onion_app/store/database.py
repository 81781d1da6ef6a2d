"""The one way to Haven's database: a handle made once per process.

The handle derives the database key once (in passphrase mode that is one
argon2id run of 256 MiB, so it must not happen per caller), finishes a rekey
that a crash interrupted, and hands out connections as context managers. The
apps, the onion services, the key store, the purge job and every operator
command receive a handle; nothing opens the file another way.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from onion_app.config import Config, ensure_instance
from onion_app.errors import WrongDatabaseKey
from onion_app.store import migrations
from onion_app.store.connection import Connection, open_database
from onion_app.store.keys import DatabaseKey, key_for_existing, key_for_new, read_key_file

#: Takes a slot from the process's bound on concurrent key derivations.
KdfSlot = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class InitResult:
    """What :meth:`Database.init` did."""

    created: bool
    applied: list[migrations.Migration]


class Database:
    """The database of one instance, for the life of a process.

    Thread-safe: the key is derived under a lock, once; each connection
    belongs to the thread that asked for it.
    """

    def __init__(self, config: Config, kdf_slot: KdfSlot | None = None) -> None:
        self.config = config
        self._kdf_slot = kdf_slot
        self._key: DatabaseKey | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Database({self.config.db_path})"

    @property
    def key(self) -> DatabaseKey:
        """The key that opens the database, derived on first use.

        .. warning:: It opens everything; it lives in this process's memory only.

        :raises StoreError: with one plain sentence if the database will not open
        """
        with self._lock:
            if self._key is None:
                self._key = self._open_existing_key()
            return self._key

    def _open_existing_key(self) -> DatabaseKey:
        with self._stretch_slot():
            key = key_for_existing(self.config)
        try:
            open_database(self.config.db_path, key).close()
            return key
        except WrongDatabaseKey:
            pending = pending_key_path(self.config)
            if self.config.db_passphrase is not None or not pending.exists():
                raise
        # A rekey renamed the new database into place and stopped before it
        # promoted the new key file; the pending key is the right one.
        new_key = read_key_file(pending)
        open_database(self.config.db_path, new_key).close()
        os.replace(pending, self.config.db_key_path)
        fsync_dir(self.config.instance_path)
        return new_key

    def kdf_slot(self) -> AbstractContextManager[object]:
        """Holds a slot of the process's bound on key derivations, if it has one."""
        return self._kdf_slot() if self._kdf_slot is not None else contextlib.nullcontext()

    def _stretch_slot(self) -> AbstractContextManager[object]:
        """A slot if the key comes from a passphrase (argon2id); reading a key
        file derives nothing, so it takes none."""
        if self.config.db_passphrase is None:
            return contextlib.nullcontext()
        return self.kdf_slot()

    def open(self) -> Connection:
        """A new connection the caller must close (Flask's teardown does, per request).

        :raises StoreError: with one plain sentence if the database will not open
        """
        return open_database(self.config.db_path, self.key)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for the body of a ``with``: rolled back if the body
        raises with a transaction open, closed either way. The body commits.

        :raises StoreError: with one plain sentence if the database will not open
        """
        conn = self.open()
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        finally:
            conn.close()

    def init(self) -> InitResult:
        """Creates the instance folder and the database if missing, then applies
        pending migrations; safe to repeat.

        :raises StoreError: with one plain sentence if the file cannot be used
        """
        ensure_instance(self.config)
        created = False
        with self._lock:
            if self._key is None and not self.config.db_path.exists():
                with self._stretch_slot():
                    key = key_for_new(self.config)
                open_database(self.config.db_path, key, create=True).close()
                self._key = key
                created = True
        with self.connect() as conn:
            applied = migrations.apply_pending(conn)
        return InitResult(created=created, applied=applied)

    def upgrade(self) -> list[migrations.Migration]:
        """Applies the migrations this Haven has and the database lacks.

        :raises StoreError: if the database will not open, or is newer than this Haven
        """
        with self.connect() as conn:
            return migrations.apply_pending(conn)

    def replace_key(self, key: DatabaseKey, config: Config) -> None:
        """After a rekey: the new key and the configuration that opens the file."""
        with self._lock:
            self._key = key
            self.config = config


def pending_key_path(config: Config) -> Path:
    """Where a rekey writes the new key file before promoting it."""
    return config.instance_path / "db.key.new"


def fsync_dir(path: Path) -> None:
    """Makes a rename inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
