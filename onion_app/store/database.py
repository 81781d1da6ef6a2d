"""The one way to Haven's database: a handle made once per process.

The handle derives the database key once (in passphrase mode that is one
argon2id run of 256 MiB, so it must not happen per caller), finishes a rekey
that a crash interrupted, and hands out connections as context managers. The
apps, the onion services, the key store, the purge job and every operator
command receive a handle; nothing opens the file another way.

Web requests do not open a connection each: opening one costs a key check
and a cold page cache, and closing the last one checkpoints the WAL, several
milliseconds in all. Each server thread keeps one instead
(:class:`ThreadConnections`), with a page cache of ``HAVEN_DB_CACHE_KIB``;
a request's transaction never outlives the request (:meth:`Database.release`),
and every kept connection is closed at shutdown (:meth:`Database.close`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
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

    def __init__(self, config: Config, kdf_slot: KdfSlot | None = None, *,
                 memory_security: bool = True) -> None:
        """:param memory_security: see :func:`open_database`; off only in a
            process whose memory as a whole is kept out of swap"""
        self.config = config
        self.memory_security = memory_security
        self._kdf_slot = kdf_slot
        self._key: DatabaseKey | None = None
        self._lock = threading.Lock()
        self._kept = ThreadConnections()
        # A handle dropped without close() (a test's, say) still closes its files.
        weakref.finalize(self, self._kept.close_all)

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
            self._open(key).close()
            return key
        except WrongDatabaseKey:
            pending = pending_key_path(self.config)
            if self.config.db_passphrase is not None or not pending.exists():
                raise
        # A rekey renamed the new database into place and stopped before it
        # promoted the new key file; the pending key is the right one.
        new_key = read_key_file(pending)
        self._open(new_key).close()
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
        return self._open(self.key)

    def _open(self, key: DatabaseKey, *, create: bool = False, kept: bool = False) -> Connection:
        return open_database(self.config.db_path, key, create=create, kept=kept,
                             memory_security=self.memory_security)

    def thread_connection(self) -> Connection:
        """This thread's kept connection, opened on its first use; the caller
        hands it back with :meth:`release` and never closes it.

        :raises StoreError: with one plain sentence if the database will not open
        """
        return self._kept.get(self._open_kept)

    def _open_kept(self) -> Connection:
        conn = self._open(self.key, kept=True)
        # Negative: a size in KiB rather than in pages.
        conn.execute(f"PRAGMA cache_size = -{int(self.config.db_cache_kib)}")
        return conn

    def release(self, conn: Connection) -> None:
        """Ends what a request left open on a kept connection: a transaction
        the request neither committed nor rolled back is rolled back, so no
        write and no lock outlives the request. A connection that cannot
        even roll back is closed, and the thread's next request opens anew."""
        try:
            if conn.in_transaction:
                conn.rollback()
        except Exception:
            self._kept.discard(conn)
            raise

    def close(self) -> None:
        """Closes every kept connection (at shutdown, and after a rekey)."""
        self._kept.close_all()

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
                self._open(key, create=True).close()
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
        """After a rekey: the new key and the configuration that opens the file.

        Kept connections opened the old file under the old key: they go.
        """
        with self._lock:
            self._key = key
            self.config = config
        self._kept.close_all()


class ThreadConnections:
    """One connection per thread that asks, kept while the thread lives.

    Keyed by the thread object itself (an ident may be reused after a thread
    ends); a connection whose thread has ended is closed when the next one is
    opened. The connections are opened with ``kept=True`` so that shutdown,
    in another thread, may close them; no other thread ever uses them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_thread: dict[int, tuple[threading.Thread, Connection]] = {}

    def get(self, opener: Callable[[], Connection]) -> Connection:
        thread = threading.current_thread()
        with self._lock:
            found = self._by_thread.get(thread.ident or 0)
        if found is not None and found[0] is thread:
            return found[1]
        conn = opener()
        with self._lock:
            ended = [key for key, (owner, _) in self._by_thread.items()
                     if not owner.is_alive() or owner is thread]
            stale = [self._by_thread.pop(key)[1] for key in ended]
            self._by_thread[thread.ident or 0] = (thread, conn)
        for old in stale:
            with contextlib.suppress(Exception):
                old.close()
        return conn

    def discard(self, conn: Connection) -> None:
        with self._lock:
            for key, (_, kept) in list(self._by_thread.items()):
                if kept is conn:
                    del self._by_thread[key]
        with contextlib.suppress(Exception):
            conn.close()

    def close_all(self) -> None:
        with self._lock:
            kept = [conn for _, conn in self._by_thread.values()]
            self._by_thread.clear()
        for conn in kept:
            with contextlib.suppress(Exception):
                conn.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_thread)


def pending_key_path(config: Config) -> Path:
    """Where a rekey writes the new key file before promoting it."""
    return config.instance_path / "db.key.new"


def fsync_dir(path: Path) -> None:
    """Makes a rename inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
