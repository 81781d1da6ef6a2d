from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nacl.bindings
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.envelope import (
    ContentKey,
    Envelope,
    add_reader,
    body_size,
    fingerprint,
    open_content_key,
    open_envelope,
    open_for_reader,
    open_keeping_key,
    open_with_key,
    seal,
    seal_with_key,
)
from crypto.errors import (
    CryptoError,
    DecryptionError,
    InvalidInput,
    InvalidPublicKey,
    PlaintextTooLarge,
)

if TYPE_CHECKING:
    from conftest import Replay

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "envelope.json").read_text(encoding="utf-8")
)
ALICE = PrivateKey(bytes(range(32)))
BOB = PrivateKey(bytes(range(32, 64)))
CAROL = PrivateKey(bytes(range(64, 96)))
AD = b"message:7f3a9c:1"
PLAINTEXT = b"Please help: the hearing is on Monday."
ENVELOPE = seal(PLAINTEXT, [ALICE.public_key, BOB.public_key], AD)
ALICE_STANZA = ENVELOPE.stanzas[fingerprint(ALICE.public_key)]

SIZES = [0, 1, 1019, 1020, 1021, 2044, 2045, 4092, 4093, 8188, 16380, 32764, 32765, 65532]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_known_answers(vector: dict[str, Any], replay: type[Replay]) -> None:
    readers = [PrivateKey(bytes.fromhex(k)) for k in vector["reader_private_keys"]]
    source = replay(bytes.fromhex(vector["random"]))
    plaintext, ad = bytes.fromhex(vector["plaintext"]), bytes.fromhex(vector["associated_data"])
    envelope = seal(plaintext, [r.public_key for r in readers], ad, random=source)
    assert source.remaining == 0
    assert envelope.body.hex() == vector["body"]
    assert {fp: s.hex() for fp, s in envelope.stanzas.items()} == vector["stanzas"]
    for reader in readers:
        assert open_for_reader(envelope, reader, ad) == plaintext


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_vectors_match_format_md(vector: dict[str, Any]) -> None:
    # Rebuilt from libsodium primitives and hashlib, following FORMAT.md only.
    stream = bytes.fromhex(vector["random"])
    content_key, nonce = stream[:32], stream[32:56]
    plaintext = bytes.fromhex(vector["plaintext"])
    ad = bytes.fromhex(vector["associated_data"])
    body_key = hashlib.blake2b(key=content_key, person=b"haven-body-key1", digest_size=32).digest()
    commitment = hashlib.blake2b(key=content_key, person=b"haven-commit-v1", digest_size=32)
    header = b"\x01" + commitment.digest() + nonce
    bucket = max(1024, 1 << (len(plaintext) + 3).bit_length())
    framed = len(plaintext).to_bytes(4, "big") + plaintext
    padded = framed + bytes(bucket - len(framed))
    expected = header + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        padded, header + ad, nonce, body_key
    )
    assert bytes.fromhex(vector["body"]) == expected
    for private_hex in vector["reader_private_keys"]:
        reader = PrivateKey(bytes.fromhex(private_hex))
        stanza = bytes.fromhex(vector["stanzas"][fingerprint(reader.public_key)])
        assert stanza[0] == 1
        assert SealedBox(reader).decrypt(stanza[1:]) == content_key


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_at_bucket_edges(size: int) -> None:
    plaintext = bytes([size % 251]) * size
    envelope = seal(plaintext, [ALICE.public_key, BOB.public_key], AD)
    bucket = max(1024, 1 << (size + 3).bit_length())
    assert len(envelope.body) == body_size(bucket)
    assert open_for_reader(envelope, ALICE, AD) == plaintext
    assert open_for_reader(envelope, BOB, AD) == plaintext


def test_over_maximum_is_refused() -> None:
    with pytest.raises(PlaintextTooLarge, match="at most 65532"):
        seal(bytes(65533), [ALICE.public_key], AD)


def test_maximum_is_configurable() -> None:
    envelope = seal(bytes(2044), [ALICE.public_key], AD, max_size=2048)
    assert len(envelope.body) == body_size(2048)
    with pytest.raises(PlaintextTooLarge, match="at most 2044"):
        seal(bytes(2045), [ALICE.public_key], AD, max_size=2048)
    big = seal(bytes(100_000), [ALICE.public_key], AD, max_size=1 << 17)
    assert open_for_reader(big, ALICE, AD) == bytes(100_000)


@pytest.mark.parametrize("max_size", [1000, 3000, 0])
def test_max_size_must_be_a_power_of_two(max_size: int) -> None:
    with pytest.raises(InvalidInput, match="power of two"):
        seal(b"x", [ALICE.public_key], AD, max_size=max_size)


def test_opener_can_refuse_bodies_beyond_its_maximum() -> None:
    envelope = seal(bytes(3000), [ALICE.public_key], AD)
    stanza = envelope.stanzas[fingerprint(ALICE.public_key)]
    assert open_envelope(envelope.body, stanza, ALICE, AD, max_size=4096) == bytes(3000)
    with pytest.raises(DecryptionError):
        open_envelope(envelope.body, stanza, ALICE, AD, max_size=2048)


@given(length=st.integers(0, 65532), other=st.integers(0, 65532))
def test_body_length_reveals_only_the_bucket(length: int, other: int) -> None:
    first = len(seal(bytes(length), [ALICE.public_key], AD).body)
    second = len(seal(b"\xff" * other, [ALICE.public_key], AD).body)
    same_bucket = max(1024, 1 << (length + 3).bit_length()) == max(
        1024, 1 << (other + 3).bit_length()
    )
    assert (first == second) == same_bucket


@given(position=st.integers(0, len(ENVELOPE.body) - 1), mask=st.integers(1, 255))
def test_any_changed_body_byte_fails(position: int, mask: int) -> None:
    body = bytearray(ENVELOPE.body)
    body[position] ^= mask
    with pytest.raises(DecryptionError):
        open_envelope(bytes(body), ALICE_STANZA, ALICE, AD)


@given(position=st.integers(0, len(ALICE_STANZA) - 1), mask=st.integers(1, 255))
def test_any_changed_stanza_byte_fails(position: int, mask: int) -> None:
    stanza = bytearray(ALICE_STANZA)
    stanza[position] ^= mask
    with pytest.raises(DecryptionError):
        open_envelope(ENVELOPE.body, bytes(stanza), ALICE, AD)


@given(position=st.integers(0, len(AD) - 1), mask=st.integers(1, 255))
def test_any_changed_associated_data_byte_fails(position: int, mask: int) -> None:
    ad = bytearray(AD)
    ad[position] ^= mask
    with pytest.raises(DecryptionError):
        open_envelope(ENVELOPE.body, ALICE_STANZA, ALICE, bytes(ad))


@pytest.mark.parametrize(
    "ad", [b"", AD[:-1], AD + b"\x00", b"message:7f3a9d:1", b"request:7f3a9c:1"]
)
def test_associated_data_of_another_row_fails(ad: bytes) -> None:
    with pytest.raises(DecryptionError):
        open_envelope(ENVELOPE.body, ALICE_STANZA, ALICE, ad)


@given(cut=st.integers(0, len(ENVELOPE.body) - 1))
def test_truncated_body_fails(cut: int) -> None:
    with pytest.raises(DecryptionError):
        open_envelope(ENVELOPE.body[:cut], ALICE_STANZA, ALICE, AD)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_body_version_fails(version: int) -> None:
    with pytest.raises(DecryptionError):
        open_envelope(bytes([version]) + ENVELOPE.body[1:], ALICE_STANZA, ALICE, AD)


def test_extended_body_fails() -> None:
    with pytest.raises(DecryptionError):
        open_envelope(ENVELOPE.body + bytes(1024), ALICE_STANZA, ALICE, AD)


def test_non_reader_cannot_open() -> None:
    with pytest.raises(DecryptionError, match="not sealed to this key"):
        open_for_reader(ENVELOPE, CAROL, AD)
    for stanza in ENVELOPE.stanzas.values():
        with pytest.raises(DecryptionError):
            open_envelope(ENVELOPE.body, stanza, CAROL, AD)


def test_reader_using_another_readers_stanza_fails() -> None:
    bob_stanza = ENVELOPE.stanzas[fingerprint(BOB.public_key)]
    with pytest.raises(DecryptionError):
        open_envelope(ENVELOPE.body, bob_stanza, ALICE, AD)


def test_stanza_of_another_envelope_fails_on_the_commitment() -> None:
    other = seal(PLAINTEXT, [ALICE.public_key], AD)
    foreign = other.stanzas[fingerprint(ALICE.public_key)]
    with pytest.raises(DecryptionError, match="does not belong to this body"):
        open_envelope(ENVELOPE.body, foreign, ALICE, AD)


def test_add_reader_lets_the_new_reader_open_the_same_body() -> None:
    stanza = add_reader(ALICE_STANZA, ALICE, CAROL.public_key)
    assert open_envelope(ENVELOPE.body, stanza, CAROL, AD) == PLAINTEXT
    grown = Envelope(ENVELOPE.body, {**ENVELOPE.stanzas, fingerprint(CAROL.public_key): stanza})
    assert open_for_reader(grown, CAROL, AD) == PLAINTEXT
    assert open_for_reader(grown, ALICE, AD) == PLAINTEXT


def test_add_reader_needs_a_stanza_the_key_opens() -> None:
    with pytest.raises(DecryptionError):
        add_reader(ALICE_STANZA, CAROL, CAROL.public_key)


def test_stanzas_are_keyed_by_fingerprint_and_readers_deduplicated() -> None:
    envelope = seal(b"x", [ALICE.public_key, BOB.public_key, ALICE.public_key], AD)
    assert set(envelope.stanzas) == {fingerprint(ALICE.public_key), fingerprint(BOB.public_key)}


def test_an_envelope_needs_a_reader() -> None:
    with pytest.raises(InvalidInput, match="at least one reader"):
        seal(b"x", [], AD)


def test_low_order_reader_is_refused() -> None:
    with pytest.raises(InvalidPublicKey, match="low-order"):
        seal(b"x", [ALICE.public_key, PublicKey(bytes(32))], AD)


def test_each_envelope_is_fresh() -> None:
    again = seal(PLAINTEXT, [ALICE.public_key, BOB.public_key], AD)
    assert again.body[1:] != ENVELOPE.body[1:]
    assert again.stanzas != ENVELOPE.stanzas


def test_random_source_must_return_what_was_asked() -> None:
    with pytest.raises(CryptoError, match="returned 16 bytes, expected 32"):
        seal(b"x", [ALICE.public_key], AD, random=lambda n: bytes(16))


def test_a_kept_content_key_opens_its_body_again() -> None:
    plaintext, key = open_keeping_key(ENVELOPE.body, ALICE_STANZA, ALICE, AD)
    assert plaintext == PLAINTEXT
    assert open_with_key(ENVELOPE.body, key, AD) == PLAINTEXT
    assert key == open_content_key(ENVELOPE.body, ALICE_STANZA, ALICE, AD)
    # Every reader's stanza holds the one content key.
    bob = open_keeping_key(ENVELOPE.body, ENVELOPE.stanzas[fingerprint(BOB.public_key)], BOB, AD)
    assert bob == (PLAINTEXT, key)
    assert "secret" not in repr(key)
    assert key.secret.hex() not in repr(key)


def test_a_kept_key_is_the_one_the_envelope_was_sealed_with() -> None:
    envelope, sealed_with = seal_with_key(PLAINTEXT, [ALICE.public_key], AD)
    stanza = envelope.stanzas[fingerprint(ALICE.public_key)]
    assert open_keeping_key(envelope.body, stanza, ALICE, AD)[1] == sealed_with


def test_a_kept_key_opens_only_its_own_body_and_row() -> None:
    _, key = open_keeping_key(ENVELOPE.body, ALICE_STANZA, ALICE, AD)
    other = seal(PLAINTEXT, [ALICE.public_key], AD)
    with pytest.raises(DecryptionError, match="does not belong to this body"):
        open_with_key(other.body, key, AD)
    with pytest.raises(DecryptionError, match="altered"):
        open_with_key(ENVELOPE.body, key, AD + b"x")
    changed = bytearray(ENVELOPE.body)
    changed[-1] ^= 1
    with pytest.raises(DecryptionError, match="altered"):
        open_with_key(bytes(changed), key, AD)
    with pytest.raises(DecryptionError, match="does not belong to this body"):
        open_with_key(ENVELOPE.body, ContentKey(bytes(32)), AD)


def test_opening_with_a_kept_key_honours_the_maximum() -> None:
    big = seal(bytes(5000), [ALICE.public_key], AD)
    _, key = open_keeping_key(big.body, big.stanzas[fingerprint(ALICE.public_key)], ALICE, AD)
    assert open_with_key(big.body, key, AD, max_size=8192) == bytes(5000)
    with pytest.raises(DecryptionError, match="bucket"):
        open_with_key(big.body, key, AD, max_size=4096)
    with pytest.raises(DecryptionError, match="does not open with this key"):
        open_keeping_key(big.body, big.stanzas[fingerprint(ALICE.public_key)], CAROL, AD)
