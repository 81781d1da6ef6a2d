from __future__ import annotations

import pytest

from crypto.codename import generate_codename
from crypto.kdf import KdfParams
from onion_app.config import Config
from onion_app.domain import requester_keys as accounts
from onion_app.domain.kdf_gate import Busy, KdfGate
from onion_app.store import Connection


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
