from __future__ import annotations

import nacl.pwhash.argon2id as argon2id
import pytest

from crypto.errors import InvalidInput
from crypto.kdf import (
    DEFAULT_KDF_PARAMS,
    MAX_MEMLIMIT,
    MAX_OPSLIMIT,
    TEST_KDF_PARAMS,
    KdfParams,
    derive_key,
)

SALT = bytes(range(16))


def test_default_and_test_params_are_the_documented_ones() -> None:
    assert (DEFAULT_KDF_PARAMS.opslimit, DEFAULT_KDF_PARAMS.memlimit) == (2, 256 << 20)
    assert (TEST_KDF_PARAMS.opslimit, TEST_KDF_PARAMS.memlimit) == (argon2id.OPSLIMIT_MIN, 8192)


@pytest.mark.parametrize(
    ("opslimit", "memlimit", "message"),
    [
        (0, 8192, "opslimit must be from 1 to 16"),
        (MAX_OPSLIMIT + 1, 8192, "opslimit must be from 1 to 16"),
        (1, 8191, "memlimit must be from 8192"),
        (1, MAX_MEMLIMIT + 1024, "memlimit must be from 8192"),
        (1, 8192 + 1, "whole number of KiB"),
    ],
)
def test_out_of_range_params_are_refused(opslimit: int, memlimit: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        KdfParams(opslimit=opslimit, memlimit=memlimit)


def test_limits_themselves_are_accepted() -> None:
    assert KdfParams(opslimit=MAX_OPSLIMIT, memlimit=MAX_MEMLIMIT).memlimit == 1 << 30


@pytest.mark.parametrize("salt_size", [0, 15, 17, 32])
def test_salt_must_be_16_bytes(salt_size: int) -> None:
    with pytest.raises(InvalidInput, match="16 bytes"):
        derive_key(b"secret", bytes(salt_size), 32, TEST_KDF_PARAMS)


@pytest.mark.parametrize("size", [0, 15, 65])
def test_output_size_is_bounded(size: int) -> None:
    with pytest.raises(InvalidInput, match="from 16 to 64"):
        derive_key(b"secret", SALT, size, TEST_KDF_PARAMS)


def test_output_depends_on_secret_salt_and_params() -> None:
    base = derive_key(b"secret", SALT, 32, TEST_KDF_PARAMS)
    assert base == derive_key(b"secret", SALT, 32, TEST_KDF_PARAMS)
    assert base != derive_key(b"secreT", SALT, 32, TEST_KDF_PARAMS)
    assert base != derive_key(b"secret", bytes(16), 32, TEST_KDF_PARAMS)
    assert base != derive_key(b"secret", SALT, 32, KdfParams(opslimit=2, memlimit=8192))
    assert base != derive_key(b"secret", SALT, 32, KdfParams(opslimit=1, memlimit=9216))
