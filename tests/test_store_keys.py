from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from crypto import kdf
from crypto.kdf import KdfParams
from onion_app.config import Config
from onion_app.errors import DatabaseKeyMissing, StoreError
from onion_app.store import Database, keys
from onion_app.store.connection import open_database


def test_key_file_round_trip_is_private(tmp_path: Path) -> None:
    key = keys.DatabaseKey(raw=secrets.token_bytes(32))
    path = tmp_path / "db.key"
    keys.write_key_file(path, key)
    assert path.stat().st_mode & 0o777 == 0o600
    assert keys.read_key_file(path).raw == key.raw


@pytest.mark.parametrize("content", ["", "zz", "00" * 31, "not hex at all"])
def test_bad_key_file_is_refused_without_echo(tmp_path: Path, content: str) -> None:
    path = tmp_path / "db.key"
    path.write_text(content)
    with pytest.raises(StoreError, match="does not hold") as caught:
        keys.read_key_file(path)
    if content:
        assert content not in str(caught.value)


def test_wrong_sizes_are_refused() -> None:
    with pytest.raises(StoreError, match="32 bytes"):
        keys.DatabaseKey(raw=b"short")
    with pytest.raises(StoreError, match="16 bytes"):
        keys.DatabaseKey(raw=bytes(32), salt=b"s")


CHEAP = KdfParams(opslimit=1, memlimit=8 * 1024)


def test_passphrase_salt_is_the_file_salt(tmp_path: Path) -> None:
    key = keys.new_passphrase_key("correct horse battery staple", CHEAP)
    path = tmp_path / "p.db"
    open_database(path, key, create=True).close()
    assert keys.read_file_salt(path) == key.salt
    again = keys.from_passphrase("correct horse battery staple", keys.read_file_salt(path))
    assert again.raw == key.raw
    open_database(path, again).close()


def test_same_passphrase_different_salt_gives_different_key() -> None:
    one = keys.new_passphrase_key("correct horse battery staple", CHEAP)
    two = keys.new_passphrase_key("correct horse battery staple", CHEAP)
    assert one.raw != two.raw


def test_the_salt_records_the_cost_it_was_made_with() -> None:
    params = KdfParams(opslimit=4, memlimit=64 * 1024 * 1024)
    salt = keys.new_salt(params)
    assert len(salt) == keys.SALT_BYTES
    assert keys.recorded_params(salt) == params
    assert keys.new_salt(params) != salt  # the rest is random


def test_a_salt_from_before_costs_were_recorded_means_the_old_cost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    legacy_salt = bytes(range(16))  # random bytes, as SQLCipher made them
    assert keys.recorded_params(legacy_salt) is None
    used: list[KdfParams] = []
    real = kdf.derive_key

    def spy(secret: bytes, salt: bytes, size: int, params: KdfParams) -> bytes:
        used.append(params)
        return real(secret, salt, size, CHEAP)

    monkeypatch.setattr(kdf, "derive_key", spy)
    keys.from_passphrase("correct horse battery staple", legacy_salt)
    keys.from_passphrase("correct horse battery staple", keys.new_salt(CHEAP))
    assert used == [keys.LEGACY_PASSPHRASE_PARAMS, CHEAP]
    assert KdfParams(opslimit=3, memlimit=256 * 1024 * 1024) == keys.LEGACY_PASSPHRASE_PARAMS


def test_a_changed_default_cost_still_opens_an_old_database(config: Config) -> None:
    old = config.with_changes(db_passphrase="a long enough passphrase", db_kdf_opslimit=2)
    Database(old).init()
    # A later Haven with another default cost opens it with the recorded one.
    Database(old.with_changes(db_kdf_opslimit=1)).open().close()


def test_existing_database_without_key_file_is_refused(config: Config) -> None:
    config.instance_path.mkdir()
    config.db_path.write_bytes(secrets.token_bytes(4096))
    with pytest.raises(DatabaseKeyMissing, match="restore the key file or set HAVEN_DB_PASSPHRASE"):
        keys.key_for_existing(config)
    assert not config.db_key_path.exists()


def test_key_is_never_in_repr() -> None:
    key = keys.DatabaseKey(raw=bytes(range(32)), salt=bytes(16))
    assert bytes(range(32)).hex() not in repr(key)
