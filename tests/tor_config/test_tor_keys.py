"""Key and address formats (no tor needed; tor itself checks them in test_tor_onion)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tor_config.control import HavenController
from tor_config.errors import InvalidClientKey, InvalidOnionAddress, InvalidServiceKey
from tor_config.keys import (
    base32_to_base64,
    base64_to_base32,
    decode_client_key,
    normalize_client_key,
    onion_address,
    parse_service_key,
    service_id,
    service_id_from_key,
)

# A key and the address tor 0.4.9.11 returned for it (ADD_ONION NEW:ED25519-V3).
TOR_KEY = (
    "ED25519-V3:uLmgzqKIuaSaFRmWrtn+JmSgO4bpY1T+qS2/VLYphXZyljqIBQ0HYX9Zh9kxB2S0"
    "Q8qh7051aESdiGP821Caew=="
)
TOR_ID = "pi5pl225yplp33d3slckd3rykrxd42th7seh5kmy62csyb2uvz4ilhid"


def test_address_from_key_matches_tor() -> None:
    assert service_id_from_key(TOR_KEY) == TOR_ID


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("garbage", "start with"),
        ("RSA1024:abcd", "start with"),
        ("ED25519-V3:", "start with"),
        ("ED25519-V3:not base64!", "not valid base64"),
        ("ED25519-V3:" + base64.b64encode(bytes(32)).decode(), "64 bytes, this one is 32"),
        ("ED25519-V3:" + base64.b64encode(bytes(64)).decode(), "degenerate"),
        ("ED25519-V3:ÿÿÿÿ", "not valid base64"),
    ],
)
def test_bad_service_keys_are_refused(key: str, words: str) -> None:
    with pytest.raises(InvalidServiceKey, match=words):
        service_id_from_key(key)


def test_key_error_never_echoes_the_key() -> None:
    secret = "ED25519-V3:" + base64.b64encode(b"s" * 63).decode()
    with pytest.raises(InvalidServiceKey) as caught:
        parse_service_key(secret)
    assert secret.split(":")[1] not in str(caught.value)


@pytest.mark.parametrize(
    "address", [TOR_ID, TOR_ID + ".onion", TOR_ID.upper() + ".ONION", f"  {TOR_ID}.onion\n"]
)
def test_service_id_accepts_every_spelling(address: str) -> None:
    assert service_id(address) == TOR_ID
    assert onion_address(address) == TOR_ID + ".onion"


@pytest.mark.parametrize(
    ("address", "words"),
    [
        (TOR_ID[:-1], "56 characters"),
        (TOR_ID[:-1] + "e", "checksum"),  # last character carries the version
        ("a" * 55 + "1", "base32"),
        ("duskgytldkxiuqc6.onion", "56 characters"),  # a v2 address
        ("é" * 56, "base32"),
    ],
)
def test_bad_onion_addresses_are_refused(address: str, words: str) -> None:
    with pytest.raises(InvalidOnionAddress, match=words):
        service_id(address)


@given(st.binary(min_size=32, max_size=32))
def test_base32_base64_round_trip(raw: bytes) -> None:
    b32 = base64.b32encode(raw).decode().rstrip("=")
    b64 = base32_to_base64(b32)
    assert base64.b64decode(b64) == raw
    assert base64_to_base32(b64) == b32
    assert len(b32) == 52
    assert "=" not in b32


@given(st.text(max_size=80))
def test_decoding_any_text_raises_only_invalid_client_key(text: str) -> None:
    try:
        raw = decode_client_key(text)
    except InvalidClientKey:
        return
    assert len(raw) == 32


def test_client_key_spellings_are_normalized() -> None:
    b32 = base64.b32encode(bytes(range(32))).decode()  # padded, upper case
    assert normalize_client_key(b32.lower()) == b32.rstrip("=")


@pytest.mark.parametrize(
    ("key", "convert", "words"),
    [
        ("AAAA", base32_to_base64, "32 bytes, this one is 2"),
        ("not base32 at all!", base32_to_base64, "not base32"),
        ("AAAA", base64_to_base32, "32 bytes, this one is 3"),
        ("***", base64_to_base32, "not base64"),
    ],
)
def test_bad_client_keys_are_refused(
    key: str, convert: Callable[[str], str], words: str
) -> None:
    with pytest.raises(InvalidClientKey, match=words):
        convert(key)


@pytest.mark.tor
def test_a_locally_made_key_is_one_tor_accepts(controller: HavenController,
                                               short_dir: Path) -> None:
    from tor_config.keys import new_service_key
    from tor_config.onion import ServiceSpec, add_service

    key = new_service_key()
    expected = service_id_from_key(key)
    service = add_service(controller, ServiceSpec("public", f"unix:{short_dir}/p.sock", key=key))
    assert service.service_id == expected
    assert new_service_key() != key
