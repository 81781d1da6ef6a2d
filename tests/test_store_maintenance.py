from __future__ import annotations

import os
from pathlib import Path

import pytest

from onion_app.config import Config
from onion_app.errors import TargetExists, WrongDatabaseKey
from onion_app.store import Database, maintenance, migrations
from onion_app.store.connection import open_database
from onion_app.store.keys import from_passphrase, read_file_salt, read_key_file

MARKER = b"MARKER-b4ckup-and-rekey"
PASSPHRASE = "a long enough passphrase"


def _write_rows(config: Config, count: int = 50) -> None:
    conn = Database(config).open()
    conn.executemany("INSERT INTO settings (name, value) VALUES (?, ?)",
                     [(f"row{i}", MARKER + str(i).encode()) for i in range(count)])
    conn.commit()
    conn.close()


def _rows(config: Config) -> list[tuple[str, bytes]]:
    conn = Database(config).open()
    rows = [tuple(r) for r in conn.execute("SELECT name, value FROM settings ORDER BY name")]
    conn.close()
    return rows


def _files_bytes(config: Config) -> bytes:
    return b"".join(p.read_bytes() for p in config.instance_path.iterdir() if p.is_file())


def test_init_creates_key_file_and_is_idempotent(config: Config) -> None:
    first = Database(config).init()
    assert first.created
    assert [m.version for m in first.applied] == [m.version for m in migrations.available()]
    assert config.db_key_path.stat().st_mode & 0o777 == 0o600
    key_before = config.db_key_path.read_bytes()
    second = Database(config).init()
    assert not second.created
    assert second.applied == []
    assert config.db_key_path.read_bytes() == key_before


def test_marker_never_reaches_disk_in_clear(initialised: Config) -> None:
    _write_rows(initialised)
    assert MARKER not in _files_bytes(initialised)
    conn = Database(initialised).open()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert MARKER not in _files_bytes(initialised)
    assert not initialised.db_path.read_bytes().startswith(b"SQLite format 3")


def test_passphrase_mode_writes_no_key_file(config: Config) -> None:
    config = config.with_changes(db_passphrase=PASSPHRASE)
    Database(config).init()
    assert not config.db_key_path.exists()
    Database(config).open().close()
    wrong = config.with_changes(db_passphrase="another passphrase entirely")
    before = config.db_path.read_bytes()
    with pytest.raises(WrongDatabaseKey):
        Database(wrong).open()
    assert config.db_path.read_bytes() == before


def test_backup_opens_with_same_key(initialised: Config, tmp_path: Path) -> None:
    _write_rows(initialised)
    target = tmp_path / "backup.db"
    maintenance.backup(Database(initialised), target)
    conn = open_database(target, read_key_file(initialised.db_key_path))
    assert conn.execute("SELECT count(*) FROM settings WHERE name LIKE 'row%'").fetchone()[0] == 50
    conn.close()
    assert MARKER not in target.read_bytes()
    assert target.stat().st_mode & 0o077 == 0


def test_backup_in_passphrase_mode_opens_with_the_passphrase(config: Config,
                                                             tmp_path: Path) -> None:
    config = config.with_changes(db_passphrase=PASSPHRASE)
    Database(config).init()
    target = tmp_path / "b.db"
    maintenance.backup(Database(config), target)
    open_database(target, from_passphrase(PASSPHRASE, read_file_salt(target))).close()


def test_backup_with_new_passphrase(initialised: Config, tmp_path: Path) -> None:
    _write_rows(initialised, 3)
    target = tmp_path / "offsite.db"
    maintenance.backup(Database(initialised), target, new_passphrase="an off-site passphrase")
    conn = open_database(target, from_passphrase("an off-site passphrase", read_file_salt(target)))
    assert conn.execute("SELECT count(*) FROM settings WHERE name LIKE 'row%'").fetchone()[0] == 3
    conn.close()
    with pytest.raises(WrongDatabaseKey):
        open_database(target, read_key_file(initialised.db_key_path))


def test_backup_never_overwrites(initialised: Config, tmp_path: Path) -> None:
    target = tmp_path / "exists.db"
    target.write_bytes(b"precious")
    with pytest.raises(TargetExists):
        maintenance.backup(Database(initialised), target)
    assert target.read_bytes() == b"precious"


def test_rekey_to_new_key_file_keeps_rows(initialised: Config) -> None:
    _write_rows(initialised)
    rows = _rows(initialised)
    old_key = read_key_file(initialised.db_key_path)
    new_config = maintenance.rekey(Database(initialised))
    assert _rows(new_config) == rows
    assert read_key_file(initialised.db_key_path).raw != old_key.raw
    with pytest.raises(WrongDatabaseKey):
        open_database(initialised.db_path, old_key)
    assert not maintenance.pending_key_path(initialised).exists()
    assert MARKER not in _files_bytes(initialised)


def test_rekey_to_passphrase_and_back(initialised: Config) -> None:
    _write_rows(initialised)
    rows = _rows(initialised)
    old_key = read_key_file(initialised.db_key_path)
    with_pass = maintenance.rekey(Database(initialised), new_passphrase=PASSPHRASE)
    assert with_pass.db_passphrase == PASSPHRASE
    assert not initialised.db_key_path.exists()
    assert _rows(with_pass) == rows
    with pytest.raises(WrongDatabaseKey):
        open_database(initialised.db_path, old_key)
    back = maintenance.rekey(Database(with_pass))
    assert back.db_passphrase is None
    assert _rows(back) == rows
    with pytest.raises(WrongDatabaseKey):
        Database(with_pass).open()


def test_interrupted_rekey_is_finished_on_open(initialised: Config) -> None:
    """A crash after the database rename but before the key file promotion."""
    _write_rows(initialised)
    rows = _rows(initialised)
    old_key_text = initialised.db_key_path.read_bytes()
    maintenance.rekey(Database(initialised))
    # Put the world back to the moment between the two renames.
    os.replace(initialised.db_key_path, maintenance.pending_key_path(initialised))
    initialised.db_key_path.write_bytes(old_key_text)
    assert _rows(initialised) == rows
    assert not maintenance.pending_key_path(initialised).exists()


def test_rekey_failure_leaves_old_database(initialised: Config,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _write_rows(initialised)
    rows = _rows(initialised)
    key_before = initialised.db_key_path.read_bytes()

    def broken_export(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(maintenance, "_export", broken_export)
    with pytest.raises(OSError, match="disk full"):
        maintenance.rekey(Database(initialised))
    assert initialised.db_key_path.read_bytes() == key_before
    assert not maintenance.pending_key_path(initialised).exists()
    assert _rows(initialised) == rows
