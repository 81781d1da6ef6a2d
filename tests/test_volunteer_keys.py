from __future__ import annotations

import pytest
from flask import Flask
from nacl.public import PrivateKey

from crypto.errors import InvalidPublicKey, WrongPassphrase
from crypto.hybrid import HybridPrivateKey
from crypto.keytext import encode_public_key
from onion_app.domain import volunteer_keys as accounts
from onion_app.domain.kdf_gate import Busy
from onion_app.domain.volunteer_keys import Stretching
from onion_app.store import Connection, staff
from onion_app.web.state import Runtime

GOOD = "violet harbour lantern gravel"


@pytest.mark.parametrize(("passphrase", "handle", "refused"), [
    ("short one", "x", True),
    ("123qweasdzxc", "x", True),             # on the shipped list
    ("QWERTYUIOP123", "x", True),            # case does not hide it
    ("abababababababab", "x", True),         # two characters repeated
    ("lawyer lawyer lawyer!", "lawyer", True),       # the handle, over and over
    ("my name is lawyer", "lawyer", True),           # little left without it
    ("Lawyer-2024-Lawyer-2024", "lawyer", True),     # case does not hide it
    ("copper kettle on the stove", "op", False),     # a short handle inside a word
    ("lawyer forever and ever", "lawyer", False),    # the handle, then words of its own
    (GOOD, "lawyer", False),
])
def test_passphrase_rules(passphrase: str, handle: str, refused: bool) -> None:
    assert (accounts.passphrase_problem(passphrase, handle) is not None) is refused


def test_the_shipped_list_is_long_passwords_only() -> None:
    common = accounts.common_passphrases()
    assert len(common) > 200
    assert all(len(p) >= accounts.PASSPHRASE_MIN for p in common)


def _store(conn: Connection, stretching: Stretching,
           offline_key: str | None = None) -> staff.Row:
    keys = accounts.keys_for(GOOD, offline_key, stretching)
    volunteer_id = staff.create_volunteer(conn, staff.Application(
        handle="lawyer", public_key=keys.public_key, wrapped_key=keys.wrapped_key,
        mlkem_public_key=keys.mlkem_public_key,
        passphrase_hash=keys.passphrase_hash, skills=frozenset({"legal"}),
        languages=frozenset({"fa"}), availability="weekly", bio="", references="",
        handle_skeleton="lawyer"))
    return staff.by_id(conn, volunteer_id)


def test_keys_unlock_with_the_passphrase_only(db: Connection, runtime: Runtime) -> None:
    stretching = runtime.stretching
    row = _store(db, stretching)
    key = accounts.unlock(row, GOOD, stretching)
    assert key is not None
    # New keys are hybrid; the stored public key is the X25519 half.
    assert isinstance(key, HybridPrivateKey)
    assert bytes(key.x25519.public_key) == bytes(row.public_key)
    assert key.public_key.mlkem == row.mlkem_public_key
    with pytest.raises(WrongPassphrase):
        accounts.unlock(row, "another passphrase here", stretching)
    assert accounts.check_passphrase(db, "lawyer", GOOD, stretching) is not None
    assert accounts.check_passphrase(db, "lawyer", "wrong wrong wrong", stretching) is None
    assert accounts.check_passphrase(db, "nobody", GOOD, stretching) is None


def test_offline_volunteer_has_no_server_key(db: Connection, runtime: Runtime) -> None:
    own = PrivateKey.generate()
    stretching = runtime.stretching
    row = _store(db, stretching, encode_public_key(own.public_key))
    assert row.wrapped_key is None
    assert bytes(row.public_key) == bytes(own.public_key)
    assert accounts.unlock(row, GOOD, stretching) is None
    with pytest.raises(InvalidPublicKey):
        accounts.keys_for(GOOD, "haven-pk1:garbage", stretching)


def test_rewrap_keeps_the_key(db: Connection, runtime: Runtime) -> None:
    stretching = runtime.stretching
    row = _store(db, stretching)
    before = accounts.unlock(row, GOOD, stretching)
    wrapped, verifier = accounts.rewrapped(row, GOOD, "brand new passphrase ok", stretching)
    staff.update(db, int(row.id), wrapped_key=wrapped, passphrase_hash=verifier)
    after = accounts.unlock(staff.by_id(db, int(row.id)), "brand new passphrase ok",
                            stretching)
    assert before is not None
    assert after is not None
    assert after == before


def test_the_staff_app_makes_the_dummy_verifier_once_at_start(staff_app: Flask,
                                                              runtime: Runtime) -> None:
    """Made as the staff app starts, in the gate: an unknown handle's login then
    needs one slot, like any other, and nothing runs outside the bound."""
    stretching = runtime.stretching
    with stretching.gate.slot(), stretching.gate.slot():  # every slot taken
        # Already made: asking for it derives nothing, so it is not refused.
        made = runtime.dummy_verifier.get(stretching.params, stretching.gate)
    assert made.startswith(b"$argon2id$")


def test_the_dummy_verifier_is_never_made_outside_the_gate(runtime: Runtime) -> None:
    stretching = runtime.stretching
    fresh = accounts.DummyVerifier()
    with stretching.gate.slot(), stretching.gate.slot(), pytest.raises(Busy):
        fresh.get(stretching.params, stretching.gate)
    # At start it waits for its slot instead, and is then made once.
    first = fresh.prepare(stretching.params, stretching.gate)
    assert fresh.get(stretching.params, stretching.gate) is first


def test_an_unknown_handle_costs_one_slot_like_a_known_one(db: Connection,
                                                           runtime: Runtime) -> None:
    stretching = runtime.stretching
    stretching.dummy.prepare(stretching.params, stretching.gate)
    with stretching.gate.slot():  # one of two slots left
        assert accounts.check_passphrase(db, "nobody-here", "whatever it is",
                                         stretching) is None
        with stretching.gate.slot(), pytest.raises(Busy):
            accounts.check_passphrase(db, "nobody-here", "whatever it is", stretching)
