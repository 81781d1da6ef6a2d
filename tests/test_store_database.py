"""The one database handle: the key derived once, connections handed out and closed."""

from __future__ import annotations

import pytest

from crypto import kdf
from crypto.kdf import KdfParams
from onion_app.config import Config
from onion_app.errors import DatabaseMissing, WrongDatabaseKey
from onion_app.store import Database, migrations


def _count_derivations(monkeypatch: pytest.MonkeyPatch) -> list[KdfParams]:
    seen: list[KdfParams] = []
    real = kdf.derive_key

    def counted(secret: bytes, salt: bytes, size: int, params: KdfParams) -> bytes:
        seen.append(params)
        return real(secret, salt, size, params)

    monkeypatch.setattr(kdf, "derive_key", counted)
    return seen


def test_the_key_is_derived_once_per_handle(config: Config,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = config.with_changes(db_passphrase="a long database passphrase")
    seen = _count_derivations(monkeypatch)
    database = Database(config)
    assert database.init().created
    for _ in range(5):
        with database.connect() as conn:
            conn.execute("SELECT 1").fetchone()
    database.upgrade()
    assert len(seen) == 1
    # A second process (a second handle) pays once more, and only once.
    again = Database(config)
    for _ in range(3):
        again.open().close()
    assert len(seen) == 2


def _insert_then_fail(database: Database) -> None:
    with database.connect() as conn:
        conn.execute("INSERT INTO settings (name, value) VALUES ('x', x'00')")
        raise RuntimeError("the body failed")


def test_connect_rolls_back_what_the_body_left_open(database: Database) -> None:
    with pytest.raises(RuntimeError):
        _insert_then_fail(database)
    with database.connect() as conn:
        assert conn.execute("SELECT count(*) FROM settings WHERE name = 'x'").fetchone()[0] == 0


def test_init_is_safe_to_repeat(initialised: Config) -> None:
    database = Database(initialised)
    result = database.init()
    assert not result.created
    assert result.applied == []
    with database.connect() as conn:
        assert migrations.current_version(conn) == migrations.latest_version()


def test_a_missing_database_is_one_sentence(config: Config) -> None:
    with pytest.raises(DatabaseMissing, match="does not exist"):
        Database(config).open()


def test_a_wrong_passphrase_never_opens(config: Config) -> None:
    Database(config.with_changes(db_passphrase="a long database passphrase")).init()
    with pytest.raises(WrongDatabaseKey):
        Database(config.with_changes(db_passphrase="another passphrase entirely")).open()
