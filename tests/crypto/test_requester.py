from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import nacl.pwhash.argon2id as argon2id
import pytest
from nacl.public import PrivateKey

from crypto.errors import InvalidCodename, InvalidInput
from crypto.kdf import DEFAULT_KDF_PARAMS, TEST_KDF_PARAMS, KdfParams
from crypto.requester import (
    INSTALL_SALT_SIZE,
    LOOKUP_ID_SIZE,
    derive_requester_keys,
    new_install_salt,
)

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "requester.json").read_text(encoding="utf-8")
)
CHEAP = [v for v in VECTORS if KdfParams(**v["params"]) != DEFAULT_KDF_PARAMS]
AT_DEFAULTS = [v for v in VECTORS if KdfParams(**v["params"]) == DEFAULT_KDF_PARAMS]
CODENAME = "abacus zoom t-shirt yo-yo quiver vanilla shrug"
SALT = bytes(range(16))


def _check(vector: dict[str, Any]) -> None:
    keys = derive_requester_keys(
        vector["codename"],
        bytes.fromhex(vector["install_salt"]),
        params=KdfParams(**vector["params"]),
    )
    assert keys.lookup_id.hex() == vector["lookup_id"]
    assert bytes(keys.public_key).hex() == vector["public_key"]


@pytest.mark.parametrize("vector", CHEAP, ids=lambda v: v["codename"].strip())
def test_known_answers(vector: dict[str, Any]) -> None:
    _check(vector)


def test_known_answer_at_the_default_params() -> None:
    # The one test at full cost: the defaults are part of every requester's
    # key, so changing them by accident must fail loudly.
    assert len(AT_DEFAULTS) == 1
    _check(AT_DEFAULTS[0])


def test_construction_matches_the_documented_one() -> None:
    # Rebuilt from primitives, following requester.py's docstring and FORMAT.md.
    vector = CHEAP[0]
    params = KdfParams(**vector["params"])
    stretched = argon2id.kdf(
        64,
        vector["codename"].encode(),
        bytes.fromhex(vector["install_salt"]),
        opslimit=params.opslimit,
        memlimit=params.memlimit,
    )
    lookup = hashlib.blake2b(key=stretched, person=b"haven-lookup-v1", digest_size=32)
    seed = hashlib.blake2b(key=stretched, person=b"haven-x25519-v1", digest_size=32)
    assert lookup.hexdigest() == vector["lookup_id"]
    assert bytes(PrivateKey.from_seed(seed.digest()).public_key).hex() == vector["public_key"]


def test_spelling_does_not_change_the_keys() -> None:
    assert VECTORS[0]["install_salt"] == VECTORS[1]["install_salt"]
    assert VECTORS[0]["codename"] != VECTORS[1]["codename"]
    assert VECTORS[0]["lookup_id"] == VECTORS[1]["lookup_id"]
    assert VECTORS[0]["public_key"] == VECTORS[1]["public_key"]


def test_keys_depend_on_codename_salt_and_params() -> None:
    base = derive_requester_keys(CODENAME, SALT, params=TEST_KDF_PARAMS)
    others = [
        derive_requester_keys(CODENAME.replace("shrug", "zebra"), SALT, params=TEST_KDF_PARAMS),
        derive_requester_keys(CODENAME, bytes(16), params=TEST_KDF_PARAMS),
        derive_requester_keys(CODENAME, SALT, params=KdfParams(opslimit=2, memlimit=8192)),
    ]
    for other in others:
        assert other.lookup_id != base.lookup_id
        assert other.public_key != base.public_key


def test_lookup_id_and_private_key_are_distinct_outputs() -> None:
    keys = derive_requester_keys(CODENAME, SALT, params=TEST_KDF_PARAMS)
    assert len(keys.lookup_id) == LOOKUP_ID_SIZE
    assert keys.lookup_id != bytes(keys.private_key)
    assert keys.lookup_id != bytes(keys.public_key)


def test_repr_does_not_show_the_private_key() -> None:
    keys = derive_requester_keys(CODENAME, SALT, params=TEST_KDF_PARAMS)
    text = repr(keys)
    assert "private_key" not in text
    assert bytes(keys.private_key).hex() not in text
    assert repr(bytes(keys.private_key)) not in text


@pytest.mark.parametrize("size", [0, 15, 17, 32])
def test_install_salt_must_be_16_bytes(size: int) -> None:
    with pytest.raises(InvalidInput, match="install_salt must be 16 bytes"):
        derive_requester_keys(CODENAME, bytes(size), params=TEST_KDF_PARAMS)


def test_a_non_codename_is_refused_before_any_stretching() -> None:
    with pytest.raises(InvalidCodename):
        derive_requester_keys("correct horse battery staple", SALT, params=TEST_KDF_PARAMS)


def test_new_install_salts_are_random() -> None:
    salts = {new_install_salt() for _ in range(100)}
    assert len(salts) == 100
    assert all(len(s) == INSTALL_SALT_SIZE == 16 for s in salts)
