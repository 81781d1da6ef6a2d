from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.errors import InvalidInput, PlaintextTooLarge
from crypto.padding import bucket_size, check_max_size, pad, unpad


@pytest.mark.parametrize(
    ("length", "bucket"),
    [
        (0, 1024),
        (1, 1024),
        (1020, 1024),
        (1021, 2048),
        (2044, 2048),
        (2045, 4096),
        (32764, 32768),
        (32765, 65536),
        (65532, 65536),
    ],
)
def test_bucket_is_the_next_power_of_two_from_1_kib(length: int, bucket: int) -> None:
    assert bucket_size(length) == bucket


@pytest.mark.parametrize(("length", "max_size"), [(65533, 65536), (1021, 1024), (2045, 2048)])
def test_plaintext_beyond_the_largest_bucket_is_refused(length: int, max_size: int) -> None:
    with pytest.raises(PlaintextTooLarge, match=f"at most {max_size - 4} fit"):
        bucket_size(length, max_size)


@pytest.mark.parametrize("max_size", [0, 512, 1000, 3072, 65535, 1 << 32])
def test_max_size_must_be_a_bucket(max_size: int) -> None:
    with pytest.raises(InvalidInput, match="power of two"):
        check_max_size(max_size)


@given(st.binary(max_size=9000))
def test_pad_then_unpad_round_trips(plaintext: bytes) -> None:
    padded = pad(plaintext)
    assert len(padded) == bucket_size(len(plaintext))
    assert unpad(padded) == plaintext


@pytest.mark.parametrize(
    "padded",
    [
        b"",
        bytes(1023),
        bytes(1025),
        struct.pack(">I", 1021) + bytes(1020),
        struct.pack(">I", 0xFFFFFFFF) + bytes(1020),
        struct.pack(">I", 3) + b"abc" + bytes(1016) + b"\x01",
        struct.pack(">I", 0) + b"\x00" * 1019 + b"\x80",
    ],
    ids=["empty", "1023", "1025", "prefix too long", "prefix huge", "junk tail", "junk end"],
)
def test_malformed_padding_is_recognised(padded: bytes) -> None:
    assert unpad(padded) is None


def test_largest_plaintext_fills_its_bucket_exactly() -> None:
    padded = pad(b"\xff" * 1020)
    assert padded == struct.pack(">I", 1020) + b"\xff" * 1020
