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
    MASTER_SECRET_SIZE,
    REQUEST_KEY_VERSION,
    REQUEST_KEY_VERSIONS,
    derive_request_key,
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
    assert keys.master_secret.hex() == vector["master_secret"]
    assert vector["requests"], "every requester vector pins per-request keys too"
    for request in vector["requests"]:
        key = keys.request_key(request["request_id"], version=request["version"])
        assert bytes(key).hex() == request["private_key"]
        assert bytes(key.public_key).hex() == request["public_key"]
        alone = derive_request_key(bytes.fromhex(vector["master_secret"]),
                                   request["request_id"], version=request["version"])
        assert bytes(alone) == bytes(key)


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
    master = hashlib.blake2b(key=stretched, person=b"haven-master-v1", digest_size=32)
    assert lookup.hexdigest() == vector["lookup_id"]
    assert bytes(PrivateKey.from_seed(seed.digest()).public_key).hex() == vector["public_key"]
    assert master.hexdigest() == vector["master_secret"]
    for request in vector["requests"]:
        assert request["version"] == 1
        request_seed = hashlib.blake2b(request["request_id"].encode("ascii"),
                                       key=master.digest(), person=b"haven-request-v1",
                                       digest_size=32)
        public = PrivateKey.from_seed(request_seed.digest()).public_key
        assert bytes(public).hex() == request["public_key"]


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
    assert "master_secret" not in text
    assert keys.master_secret.hex() not in text
    assert repr(keys.master_secret) not in text


def test_each_request_has_its_own_key() -> None:
    # The point of per-request keys: nothing a reader sees links two requests.
    keys = derive_requester_keys(CODENAME, SALT, params=TEST_KDF_PARAMS)
    ids = ["q8sUeW9-mZr1Y0_xk2HcLw", "q8sUeW9-mZr1Y0_xk2HcLx", "Q8sUeW9-mZr1Y0_xk2HcLw"]
    public = {bytes(keys.request_key(i, version=1).public_key) for i in ids}
    assert len(public) == len(ids)
    assert bytes(keys.public_key) not in public
    assert len(keys.master_secret) == MASTER_SECRET_SIZE
    assert keys.master_secret not in (keys.lookup_id, bytes(keys.private_key))


def test_request_keys_are_the_codenames_alone() -> None:
    one = derive_requester_keys(CODENAME, SALT, params=TEST_KDF_PARAMS)
    again = derive_requester_keys(CODENAME.upper(), SALT, params=TEST_KDF_PARAMS)
    other = derive_requester_keys(CODENAME.replace("shrug", "zebra"), SALT, params=TEST_KDF_PARAMS)
    request_id = "q8sUeW9-mZr1Y0_xk2HcLw"
    assert one.request_key(request_id) == again.request_key(request_id)
    assert one.request_key(request_id) != other.request_key(request_id)


def test_the_current_version_is_known() -> None:
    assert REQUEST_KEY_VERSION in REQUEST_KEY_VERSIONS


@pytest.mark.parametrize("version", [0, 3, -1, 256])
def test_an_unknown_request_key_version_is_refused(version: int) -> None:
    with pytest.raises(InvalidInput, match=f"unknown request key version {version}"):
        derive_request_key(bytes(32), "abc", version=version)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_master_secret_must_be_32_bytes(size: int) -> None:
    with pytest.raises(InvalidInput, match=f"master_secret must be 32 bytes, got {size}"):
        derive_request_key(bytes(size), "abc")


@pytest.mark.parametrize("request_id", ["", "a" * 65, "has space", "slash/", "ünï", "a\n",
                                        "dot.", "abc\n"])
def test_a_malformed_request_id_is_refused(request_id: str) -> None:
    with pytest.raises(InvalidInput, match="request_id must be 1 to 64 characters") as raised:
        derive_request_key(bytes(32), request_id)
    assert request_id not in str(raised.value) or not request_id


def test_a_request_id_that_is_not_text_is_refused() -> None:
    with pytest.raises(InvalidInput, match="request_id must be"):
        derive_request_key(bytes(32), b"abc")  # type: ignore[arg-type]


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
