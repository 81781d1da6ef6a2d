from __future__ import annotations

import json
import struct
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nacl.bindings
import nacl.pwhash.argon2id as argon2id
import pytest
from nacl.public import PrivateKey

from crypto.errors import DecryptionError, InvalidInput, WrongPassphrase
from crypto.kdf import TEST_KDF_PARAMS, KdfParams
from crypto.volunteer import (
    WRAPPED_KEY_SIZE,
    encode_passphrase,
    hash_passphrase,
    rewrap,
    unwrap_private_key,
    verify_passphrase,
    wrap_private_key,
    wrapped_public_key,
)

if TYPE_CHECKING:
    from conftest import Replay

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "volunteer.json").read_text(encoding="utf-8")
)
PASSPHRASE = "correct horse battery staple"
KEY = PrivateKey(bytes(range(32)))


def _wrapped(passphrase: str = PASSPHRASE) -> bytes:
    return wrap_private_key(KEY, passphrase, params=TEST_KDF_PARAMS)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["passphrase"])
def test_known_answers(vector: dict[str, Any], replay: type[Replay]) -> None:
    private_key = PrivateKey(bytes.fromhex(vector["private_key"]))
    source = replay(bytes.fromhex(vector["random"]))
    params = KdfParams(**vector["params"])
    wrapped = wrap_private_key(private_key, vector["passphrase"], params=params, random=source)
    assert wrapped.hex() == vector["wrapped"]
    assert source.remaining == 0
    assert unwrap_private_key(wrapped, vector["passphrase"]) == private_key


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["passphrase"])
def test_layout_matches_format_md(vector: dict[str, Any]) -> None:
    # Opened by hand from the documented layout, without crypto.volunteer.
    wrapped = bytes.fromhex(vector["wrapped"])
    version, opslimit, memlimit = struct.unpack(">BIQ", wrapped[:13])
    salt, nonce, public = wrapped[13:29], wrapped[29:53], wrapped[53:85]
    assert (version, opslimit, memlimit) == (1, *vector["params"].values())
    key = argon2id.kdf(
        32,
        unicodedata.normalize("NFKC", vector["passphrase"]).encode(),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )
    seed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        wrapped[85:], wrapped[:85], nonce, key
    )
    assert seed.hex() == vector["private_key"]
    assert bytes(PrivateKey(seed).public_key) == public


def test_round_trip_and_public_key_without_passphrase() -> None:
    wrapped = _wrapped()
    assert len(wrapped) == WRAPPED_KEY_SIZE == 133
    assert unwrap_private_key(wrapped, PASSPHRASE) == KEY
    assert wrapped_public_key(wrapped) == KEY.public_key


def test_each_wrapping_is_fresh() -> None:
    assert _wrapped() != _wrapped()


@pytest.mark.parametrize(
    "wrong", ["", "correct horse battery stapl", "Correct horse battery staple", PASSPHRASE + " "]
)
def test_wrong_passphrase_is_refused(wrong: str) -> None:
    with pytest.raises(WrongPassphrase):
        unwrap_private_key(_wrapped(), wrong)


def test_passphrases_are_nfkc_normalised() -> None:
    composed, decomposed = "caf\u00e9 ﬁre", "cafe\u0301 fire"
    assert encode_passphrase(composed) == encode_passphrase(decomposed) == "café fire".encode()
    assert unwrap_private_key(_wrapped(composed), decomposed) == KEY


@pytest.mark.parametrize("position", range(WRAPPED_KEY_SIZE))
@pytest.mark.parametrize("mask", [0x01, 0x80])
def test_every_changed_byte_is_refused(position: int, mask: int) -> None:
    # Masks chosen so no change to the memlimit field asks for more than 1 GiB.
    wrapped = bytearray(_wrapped())
    wrapped[position] ^= mask
    with pytest.raises(DecryptionError):
        unwrap_private_key(bytes(wrapped), PASSPHRASE)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda w: w[:-1],
        lambda w: w + b"\x00",
        lambda w: b"",
        lambda w: b"\x02" + w[1:],
        lambda w: w[:1] + struct.pack(">I", 17) + w[5:],
        lambda w: w[:5] + struct.pack(">Q", (1 << 30) + 1024) + w[13:],
    ],
    ids=["truncated", "extended", "empty", "version 2", "opslimit 17", "memlimit 1 GiB + 1 KiB"],
)
def test_malformed_wrapped_keys_are_not_reported_as_wrong_passphrase(
    mangle: Callable[[bytes], bytes],
) -> None:
    with pytest.raises(DecryptionError) as caught:
        unwrap_private_key(mangle(_wrapped()), PASSPHRASE)
    assert not isinstance(caught.value, WrongPassphrase)
    with pytest.raises(DecryptionError):
        wrapped_public_key(mangle(_wrapped()))


def test_header_public_key_must_match_the_private_key() -> None:
    # Only someone who knows the passphrase could build this: a valid AEAD over
    # a header naming someone else's public key.
    other = PrivateKey.generate().public_key
    salt, nonce = bytes(16), bytes(24)
    header = struct.pack(">BIQ", 1, 1, 8192) + salt + nonce + bytes(other)
    key = argon2id.kdf(32, PASSPHRASE.encode(), salt, opslimit=1, memlimit=8192)
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes(KEY), header, nonce, key
    )
    with pytest.raises(DecryptionError, match="does not match") as caught:
        unwrap_private_key(header + ciphertext, PASSPHRASE)
    assert not isinstance(caught.value, WrongPassphrase)


def test_rewrap_changes_the_passphrase_and_keeps_the_key() -> None:
    old = _wrapped()
    new = rewrap(old, PASSPHRASE, "a new passphrase", params=TEST_KDF_PARAMS)
    assert unwrap_private_key(new, "a new passphrase") == KEY
    assert wrapped_public_key(new) == wrapped_public_key(old)
    assert new[13:29] != old[13:29]  # fresh salt
    with pytest.raises(WrongPassphrase):
        unwrap_private_key(new, PASSPHRASE)


def test_rewrap_can_change_the_cost() -> None:
    params = KdfParams(opslimit=2, memlimit=16384)
    new = rewrap(_wrapped(), PASSPHRASE, "another", params=params)
    assert struct.unpack(">IQ", new[1:13]) == (2, 16384)


def test_rewrap_needs_the_old_passphrase() -> None:
    with pytest.raises(WrongPassphrase):
        rewrap(_wrapped(), "not it", "a new passphrase", params=TEST_KDF_PARAMS)


def test_empty_passphrases_are_refused_when_protecting() -> None:
    with pytest.raises(InvalidInput, match="must not be empty"):
        wrap_private_key(KEY, "", params=TEST_KDF_PARAMS)
    with pytest.raises(InvalidInput, match="must not be empty"):
        rewrap(_wrapped(), PASSPHRASE, "", params=TEST_KDF_PARAMS)
    with pytest.raises(InvalidInput, match="must not be empty"):
        hash_passphrase("", params=TEST_KDF_PARAMS)


def test_passphrase_verifier() -> None:
    verifier = hash_passphrase(PASSPHRASE, params=TEST_KDF_PARAMS)
    assert verifier.startswith(b"$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_passphrase(verifier, PASSPHRASE)
    assert not verify_passphrase(verifier, PASSPHRASE.upper())
    assert not verify_passphrase(verifier, "")
    assert hash_passphrase(PASSPHRASE, params=TEST_KDF_PARAMS) != verifier  # salted


def test_verifier_normalises_like_the_wrapping() -> None:
    verifier = hash_passphrase("caf\u00e9", params=TEST_KDF_PARAMS)
    assert verify_passphrase(verifier, "cafe\u0301")


def test_verifier_is_independent_of_the_wrapped_key() -> None:
    # A login check must not be able to stand in for the key's own protection.
    verifier = hash_passphrase(PASSPHRASE, params=TEST_KDF_PARAMS)
    assert verifier not in _wrapped()


@pytest.mark.parametrize(
    "verifier",
    [
        b"",
        b"$2b$12$abcdefghijklmnopqrstuv",
        b"$argon2i$v=19$m=8,t=1,p=1$x$y",
        b"$argon2id$" + b"a" * 200,
    ],
)
def test_non_argon2id_verifiers_are_refused(verifier: bytes) -> None:
    with pytest.raises(InvalidInput, match="not an argon2id verifier"):
        verify_passphrase(verifier, PASSPHRASE)


def test_malformed_argon2id_verifier_does_not_verify() -> None:
    assert not verify_passphrase(b"$argon2id$v=19$m=8,t=1,p=1$garbage", PASSPHRASE)
