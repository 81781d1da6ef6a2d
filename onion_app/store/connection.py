"""Opening a SQLCipher connection the one safe way.

The key pragma comes first, and the key is checked by a read before anything
could write: a wrong key never creates, truncates or overwrites a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlcipher3

from onion_app.errors import DatabaseMissing, NotAHavenDatabase, WrongDatabaseKey
from onion_app.store.keys import DatabaseKey, display

Connection = Any  # sqlcipher3 ships no type information

SQLITE_PLAIN_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


def open_database(path: Path, key: DatabaseKey, *, create: bool = False,
                  kept: bool = False) -> Connection:
    """Opens (or, with ``create``, creates) an encrypted database.

    :param kept: for a connection kept for a thread's life (see
        :class:`onion_app.store.database.ThreadConnections`), which that thread
        alone uses but whichever thread shuts the process down closes

    :returns: a connection with the key set, memory security on, secure delete,
        foreign keys, WAL and a busy timeout; rows come back as ``sqlite3.Row``-like
    :raises DatabaseMissing: if the file does not exist and ``create`` is false
    :raises NotAHavenDatabase: if the file is a plain, unencrypted SQLite file
    :raises WrongDatabaseKey: if the key does not open the file
    """
    if not path.exists() and not create:
        raise DatabaseMissing(f"{display(path)} does not exist; run `.venv/bin/haven init`")
    if path.exists():
        _refuse_plain_sqlite(path)
    else:
        # Made here, empty and private, so SQLCipher (and the -wal and -shm
        # files, which copy its mode) never leave the data world-readable.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
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
        conn.execute("PRAGMA cipher_memory_security = ON")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
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
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        raise WrongDatabaseKey(f"the key does not open {display(path)}") from None
