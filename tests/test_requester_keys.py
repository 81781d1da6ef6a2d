from __future__ import annotations

import threading
from pathlib import Path

import pytest

from crypto.codename import generate_codename
from crypto.kdf import KdfParams
from onion_app.config import Config
from onion_app.domain import requester_keys as accounts
from onion_app.domain.kdf_gate import Busy, KdfGate
from onion_app.store import Connection, Database
from onion_app.web.state import Runtime
from tests.conftest import make_config


def test_install_params_are_made_once_and_kept(db: Connection, initialised: Config) -> None:
    salt, params = accounts.install_params(db, initialised)
    assert len(salt) == 16
    assert params == KdfParams(opslimit=1, memlimit=8 * 1024)
    # A later start with other defaults must not change existing keys.
    changed = initialised.with_changes(kdf_opslimit=3, kdf_memlimit_kib=64)
    assert accounts.install_params(db, changed) == (salt, params)


def test_same_codename_same_keys(db: Connection, initialised: Config) -> None:
    codename = "abacus abdomen abdominal abide abiding ability ablaze"
    gate = KdfGate(1)
    one = accounts.derive(lambda: db, initialised, codename, gate)
    two = accounts.derive(lambda: db, initialised, codename.upper(), gate)
    assert one.lookup_id == two.lookup_id
    assert bytes(one.private_key) == bytes(two.private_key)


def test_pending_tag_is_keyed() -> None:
    codename = "abacus abdomen abdominal abide abiding ability ablaze"
    tag = accounts.pending_tag(b"k" * 32, codename)
    assert codename not in tag
    assert tag != accounts.pending_tag(b"j" * 32, codename)
    assert tag == accounts.pending_tag(b"k" * 32, codename)


def test_a_refused_derivation_opens_no_database(initialised: Config) -> None:
    """Under a flood most logins are refused: they must cost no database work."""
    gate = KdfGate(1)

    def connect() -> Connection:
        raise AssertionError("the database was opened for a refused login")

    with gate.slot(), pytest.raises(Busy):
        accounts.derive(connect, initialised, generate_codename(), gate)


def test_the_first_login_may_open_a_passphrase_database_with_one_slot(
        tmp_path: Path) -> None:
    """The database key of a passphrase database is stretched in a slot too: a
    login that first needs the database must not hold the only slot meanwhile."""
    config = make_config(tmp_path / "instance", HAVEN_DB_PASSPHRASE="a long database passphrase",
                         HAVEN_KDF_CONCURRENCY="1")
    Database(config).init()
    runtime = Runtime.for_config(config)  # a fresh process: no key derived yet
    found: list[bytes] = []

    def sign_in() -> None:
        opened: list[Connection] = []

        def connect() -> Connection:  # as get_db does: opened on first use
            opened.append(runtime.database.open())
            return opened[-1]

        try:
            found.append(accounts.derive(connect, config, generate_codename(),
                                         runtime.kdf_gate).lookup_id)
        finally:
            for conn in opened:
                conn.close()

    login = threading.Thread(target=sign_in, daemon=True)  # a deadlock fails, not hangs
    login.start()
    login.join(60)
    assert len(found) == 1
