from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey, PublicKey

from crypto.errors import InvalidInput, InvalidPublicKey
from crypto.keytext import (
    decode_public_key,
    decode_wrapped_key,
    encode_public_key,
    encode_wrapped_key,
)

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "keytext.json").read_text(encoding="utf-8")
)
KEY = PrivateKey(bytes(range(32))).public_key
TEXT = encode_public_key(KEY)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["text"])
def test_known_answers(vector: dict[str, Any]) -> None:
    key = PublicKey(bytes.fromhex(vector["public_key"]))
    assert encode_public_key(key) == vector["text"]
    assert decode_public_key(vector["text"]) == key


def test_shape() -> None:
    assert TEXT.startswith("haven-pk1:")
    assert len(TEXT) == 58
    assert set(TEXT[10:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_surrounding_whitespace_is_ignored() -> None:
    assert decode_public_key(f"  {TEXT}\n") == KEY


@pytest.mark.parametrize("position", range(10, 58))
def test_any_changed_character_is_refused(position: int) -> None:
    replacement = "A" if TEXT[position] != "A" else "B"
    mangled = TEXT[:position] + replacement + TEXT[position + 1 :]
    with pytest.raises(InvalidPublicKey):
        decode_public_key(mangled)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "starting with 'haven-pk1:'"),
        (TEXT[10:], "starting with 'haven-pk1:'"),
        ("haven-pk3:" + TEXT[10:], "starting with 'haven-pk1:'"),
        # A version-1 key under the version-2 prefix is refused by its length.
        ("haven-pk2:" + TEXT[10:], "haven-pk2: public key is 1220 bytes after the prefix, got 36"),
        ("HAVEN-PK1:" + TEXT[10:], "starting with 'haven-pk1:'"),
        (TEXT[:-3], "base64url"),
        (TEXT[:-4], "36 bytes after the prefix"),
        (TEXT + "AAAA", "36 bytes after the prefix"),
        (TEXT + "=", "base64url"),
        (TEXT[:20] + " " + TEXT[20:], "base64url"),
        (TEXT[:20] + "+" + TEXT[21:], "base64url"),
        (TEXT[:20] + "é" + TEXT[21:], "base64url"),
    ],
)
def test_malformed_text_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidPublicKey, match=message):
        decode_public_key(text)


def test_low_order_key_text_is_refused() -> None:
    with pytest.raises(InvalidPublicKey, match="low-order"):
        decode_public_key(encode_public_key(PublicKey(bytes(32))))


def test_invalid_public_key_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="haven-pk1"):
        decode_public_key("not a key")


def test_wrapped_key_text_round_trips() -> None:
    blob = bytes([1]) + bytes(range(1, 133))
    text = encode_wrapped_key(blob)
    assert text.startswith("haven-wk1:")
    assert decode_wrapped_key(text + "\n") == blob


@pytest.mark.parametrize("text", ["", "haven-pk1:AAAA", "haven-wk1:AA=A", "haven-wk1:A"])
def test_malformed_wrapped_key_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        decode_wrapped_key(text)
