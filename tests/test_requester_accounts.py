from __future__ import annotations

from flask import Flask

from crypto.kdf import KdfParams
from onion_app.config import Config
from onion_app.requester import accounts
from onion_app.store import get_db


def test_install_params_are_made_once_and_kept(public_app: Flask, initialised: Config) -> None:
    with public_app.app_context():
        salt, params = accounts.install_params(get_db(), initialised)
        assert len(salt) == 16
        assert params == KdfParams(opslimit=1, memlimit=8 * 1024)
        # A later start with other defaults must not change existing keys.
        changed = initialised.with_changes(kdf_opslimit=3, kdf_memlimit_kib=64)
        assert accounts.install_params(get_db(), changed) == (salt, params)


def test_same_codename_same_keys(public_app: Flask, initialised: Config) -> None:
    codename = "abacus abdomen abdominal abide abiding ability ablaze"
    with public_app.app_context():
        one = accounts.derive(get_db(), initialised, codename)
        two = accounts.derive(get_db(), initialised, codename.upper())
    assert one.lookup_id == two.lookup_id
    assert bytes(one.private_key) == bytes(two.private_key)


def test_pending_tag_is_keyed() -> None:
    codename = "abacus abdomen abdominal abide abiding ability ablaze"
    tag = accounts.pending_tag(b"k" * 32, codename)
    assert codename not in tag
    assert tag != accounts.pending_tag(b"j" * 32, codename)
    assert tag == accounts.pending_tag(b"k" * 32, codename)
