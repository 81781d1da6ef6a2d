"""Opening a SQLCipher connection the one safe way.

The key pragma comes first, and the key is checked by a read before anything
could write: a wrong key never creates, truncates or overwrites a file.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlcipher3

from onion_app.errors import (
    DatabaseMissing,
    DiskFull,
    NotAHavenDatabase,
    ReadOnlyStore,
    StoreBusy,
    StoreError,
    StoreIOError,
    WrongDatabaseKey,
)
from onion_app.store.keys import DatabaseKey, display

Connection = Any  # sqlcipher3 ships no type information
#: What SQLCipher raises; the web layer hands it to :func:`problem_of`.
DatabaseFailure: type[Exception] = sqlcipher3.Error

SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


def open_database(path: Path, key: DatabaseKey, *, create: bool = False,
                  kept: bool = False, memory_security: bool = True) -> Connection:
    """Opens (or, with ``create``, creates) an encrypted database.

    :param kept: for a connection kept for a thread's life (see
        :class:`onion_app.store.database.ThreadConnections`), which that thread
        alone uses but whichever thread shuts the process down closes
    :param memory_security: SQLCipher locks each of its allocations out of
        swap and wipes it when freed. Leave it on unless the whole process is
        kept out of swap (:func:`onion_app.serving.memory.guard_process`):
        once a connection turns it on, it stays on for the process.

    :returns: a connection with the key set, memory security as asked, secure delete,
        foreign keys, WAL and a busy timeout; rows come back as ``sqlite3.Row``-like
    :raises DatabaseMissing: if the file does not exist and ``create`` is false
    :raises NotAHavenDatabase: if the file is a plain, unencrypted SQLite file
    :raises WrongDatabaseKey: if the key does not open the file
    """
    if not path.exists() and not create:
        raise DatabaseMissing(f"{display(path)} does not exist; run `.venv/bin/haven init`")
    try:
        if path.exists():
            _refuse_plain_sqlite(path)
        else:
            # Made here, empty and private, so SQLCipher (and the -wal and -shm
            # files, which copy its mode) never leave the data world-readable.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise _from_os_error(error, path) from None
    mode = "rwc" if create else "rw"
    try:
        conn = sqlcipher3.connect(
            f"{path.absolute().as_uri()}?mode={mode}", uri=True,
            detect_types=0, check_same_thread=not kept,
        )
    except sqlcipher3.OperationalError:
        raise DatabaseMissing(f"{display(path)} cannot be opened") from None
    try:
        conn.execute(f'PRAGMA key = "{key.pragma_value()}"')
        # SQLCipher otherwise writes timestamped lines to stderr on a wrong
        # key: noise for the operator, and times Haven promises not to keep.
        conn.execute("PRAGMA cipher_log_level = NONE")
        _check_key(conn, path)
        if memory_security:
            conn.execute("PRAGMA cipher_memory_security = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if create:
            # Before any table: purges then give pages back a few at a time
            # (store.oversight.compact) instead of a VACUUM holding the lock.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlcipher3.Error as error:
        conn.close()
        raise classify(error, path) from None
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlcipher3.Row
    return conn


def _refuse_plain_sqlite(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_PLAIN_HEADER))
    if header == SQLITE_PLAIN_HEADER:
        raise NotAHavenDatabase(
            f"{display(path)} is a plain SQLite file, not an encrypted Haven database"
        )


def _check_key(conn: Connection, path: Path) -> None:
    # SQLCipher accepts any key at PRAGMA time and only fails on the first
    # page read; a read of the schema is the cheapest page read there is.
    # Only "not a database" means a wrong key: a full disk, a read-only
    # folder or an I/O error fail here too, and say so (classify).
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _IOERR, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 13, 14, 26
# Below this much free space an I/O error is taken for a full disk: SQLite
# reports some writes that ran out of room (the -shm file) as I/O errors.
_NEARLY_FULL = 1024 * 1024


def classify(error: Exception, path: Path) -> StoreError:
    """The plain-words :class:`StoreError` for a SQLite error on ``path``.

    Several causes fail the same way at the same place (a wrong key, a full
    disk, a read-only folder all fail the first read), so the error code is
    read first, then the file system is asked.
    """
    code = int(getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF
    where = display(path)
    if code in (_BUSY, _LOCKED):
        return StoreBusy("another writer held the database longer than Haven waits")
    if code == _NOTADB:
        return WrongDatabaseKey(f"the key does not open {where}")
    folder = path.parent
    if code == _READONLY or _read_only(folder):
        return ReadOnlyStore(f"{where} cannot be written: its folder or file system is "
                             "read-only")
    if code == _FULL or _free_bytes(folder) < _NEARLY_FULL:
        return DiskFull(f"the disk that holds {where} is full; free some space")
    if code in (_IOERR, _CANTOPEN):
        return StoreIOError(f"the disk reported an error with {where}; check the disk")
    return StoreError(f"{where} cannot be used: {error}")


def is_busy(error: Exception) -> bool:
    """Whether a SQLite error means another writer held the lock past the busy timeout."""
    return (int(getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF) in (_BUSY, _LOCKED)


def _from_os_error(error: OSError, path: Path) -> StoreError:
    if error.errno == errno.EROFS:
        return ReadOnlyStore(f"{display(path)} cannot be written: its file system is read-only")
    if error.errno == errno.ENOSPC:
        return DiskFull(f"the disk that holds {display(path)} is full; free some space")
    return StoreIOError(f"cannot use {display(path)}: {error.strerror or error}")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _free_bytes(folder: Path) -> int:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return _NEARLY_FULL
    return stat.f_bavail * stat.f_frsize


def problem_of(error: BaseException, path: Path) -> StoreError | None:
    """What a failure raised while using the database means, if it is the
    database's: a :class:`StoreError` as is, a SQLite error classified, else None."""
    if isinstance(error, StoreError):
        return error
    if isinstance(error, sqlcipher3.Error):
        return classify(error, path)
    return None


#: How long a best-effort write waits for the lock before giving up.
BEST_EFFORT_WAIT_MS = 50


def write_if_free(conn: Connection, write: Callable[[Connection], object]) -> bool:
    """Runs ``write`` and commits, unless another writer holds the lock (or
    the disk refuses): a write a page can do without, such as "seen" marks,
    must not make reading wait for the lock or fail with it.

    :returns: whether the write was committed
    """
    conn.execute(f"PRAGMA busy_timeout = {BEST_EFFORT_WAIT_MS}")
    try:
        write(conn)
        conn.commit()
        return True
    except sqlcipher3.OperationalError:
        if conn.in_transaction:
            conn.rollback()
        return False
    finally:
        with contextlib.suppress(sqlcipher3.Error):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
