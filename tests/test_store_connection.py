from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest

from onion_app.config import Config
from onion_app.errors import DatabaseMissing, NotAHavenDatabase, WrongDatabaseKey
from onion_app.store.connection import open_database
from onion_app.store.keys import DatabaseKey

MARKER = "MARKER-7f3a1c-never-in-clear"


def _key() -> DatabaseKey:
    return DatabaseKey(raw=secrets.token_bytes(32))


def test_file_is_encrypted_from_the_first_byte(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    conn = open_database(path, _key(), create=True)
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.execute("INSERT INTO t VALUES (?)", (MARKER,))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    assert not data.startswith(b"SQLite format 3")
    assert MARKER.encode() not in data


def test_pragmas_are_set(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "t.db", _key(), create=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert str(conn.execute("PRAGMA cipher_memory_security").fetchone()[0]) == "1"
    assert conn.execute("PRAGMA cipher_version").fetchone()[0].startswith("4.")
    conn.close()


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    with pytest.raises(DatabaseMissing):
        open_database(path, _key())
    assert not path.exists()


def test_wrong_key_is_refused_and_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    conn = open_database(path, _key(), create=True)
    conn.execute("CREATE TABLE t (v)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(WrongDatabaseKey, match=r"^the key does not open .*t\.db$"):
        open_database(path, _key())
    assert path.read_bytes() == before


def test_plain_sqlite_file_is_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE t (v)")
    plain.commit()
    plain.close()
    before = path.read_bytes()
    with pytest.raises(NotAHavenDatabase, match="plain SQLite file"):
        open_database(path, _key())
    assert path.read_bytes() == before


def test_random_bytes_are_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(secrets.token_bytes(8192))
    before = path.read_bytes()
    with pytest.raises(WrongDatabaseKey):
        open_database(path, _key())
    assert path.read_bytes() == before


def test_new_file_is_private(config: Config) -> None:
    config.instance_path.mkdir(mode=0o700)
    open_database(config.db_path, _key(), create=True).close()
    assert config.db_path.stat().st_mode & 0o077 == 0
