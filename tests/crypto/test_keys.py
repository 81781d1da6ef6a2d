from __future__ import annotations

import hashlib

import pytest
from nacl.public import PrivateKey, PublicKey

from crypto.errors import InvalidPublicKey
from crypto.keys import ensure_usable_public_key, fingerprint

# The X25519 points of small order (and non-canonical encodings of them), as
# listed in the libsodium sources and the Curve25519 literature.
LOW_ORDER = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]


def test_fingerprint_is_blake2b_128_of_the_key_in_hex() -> None:
    key = PrivateKey(bytes(range(32))).public_key
    expected = hashlib.blake2b(bytes(key), digest_size=16).hexdigest()
    assert fingerprint(key) == expected
    assert len(expected) == 32


def test_fingerprints_differ_between_keys() -> None:
    keys = [PrivateKey.generate().public_key for _ in range(50)]
    assert len({fingerprint(k) for k in keys}) == 50


@pytest.mark.parametrize("point", LOW_ORDER)
def test_low_order_points_are_refused(point: str) -> None:
    with pytest.raises(InvalidPublicKey, match="low-order"):
        ensure_usable_public_key(PublicKey(bytes.fromhex(point)))


def test_ordinary_keys_are_usable() -> None:
    for _ in range(20):
        ensure_usable_public_key(PrivateKey.generate().public_key)
