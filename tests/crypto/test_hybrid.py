"""Hybrid (version-2) stanzas, keys and key text; the X-Wing combiner; and the
quantum adversary, who holds every X25519 private key but no ML-KEM key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.exceptions
import pytest
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from nacl.public import PrivateKey

from crypto.envelope import add_reader, open_envelope, open_for_reader, seal
from crypto.errors import DecryptionError, InvalidInput, InvalidPublicKey
from crypto.hybrid import (
    XWING_LABEL,
    HybridPrivateKey,
    HybridPublicKey,
    gain_mlkem,
    mlkem_fingerprint,
    xwing_combine,
)
from crypto.kdf import KdfParams
from crypto.keys import fingerprint
from crypto.keytext import (
    decode_public_key,
    decode_wrapped_key,
    encode_public_key,
    encode_wrapped_key,
)
from crypto.requester import derive_request_key
from crypto.stanza import (
    HYBRID_STANZA_SIZE,
    STANZA_SIZE,
    open_stanza,
    seal_content_key,
    stanza_version,
)
from crypto.volunteer import (
    HYBRID_WRAPPED_KEY_SIZE,
    unwrap_private_key,
    wrap_private_key,
    wrapped_key_version,
    wrapped_public_key,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "hybrid.json").read_text(encoding="utf-8")
)
AD = b"haven/request/q8sUeW9-mZr1Y0_xk2HcLw/v1"
CHEAP = KdfParams(opslimit=1, memlimit=8192)


def _key(x25519: str, mlkem_seed: str) -> HybridPrivateKey:
    return HybridPrivateKey(PrivateKey(bytes.fromhex(x25519)), bytes.fromhex(mlkem_seed))


# The adversary ------------------------------------------------------------

def _adversary_open(stanza: bytes, x25519: PrivateKey | None, mlkem: MLKEM768PrivateKey | None,
                    reader_pk: bytes) -> bytes | None:
    """Open a version-2 stanza from FORMAT.md with whatever halves the
    adversary holds; a half they lack is replaced by their best substitute (a
    key of their own). Returns the content key, or None if the AEAD refuses."""
    ct_mlkem, epk, wrapped = stanza[1:1089], stanza[1089:1121], stanza[1121:]
    x25519 = x25519 or PrivateKey.generate()
    mlkem = mlkem or MLKEM768PrivateKey.generate()
    ss_x = nacl.bindings.crypto_scalarmult(bytes(x25519), epk)
    ss_m = mlkem.decapsulate(ct_mlkem)  # implicit rejection: a wrong key gives noise
    wrap_key = hashlib.sha3_256(ss_m + ss_x + epk + reader_pk + b"\\.//^\\").digest()
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            wrapped, stanza[:1121], bytes(24), wrap_key)
    except nacl.exceptions.CryptoError:
        return None


def test_the_quantum_adversary_needs_both_halves() -> None:
    readers = [gain_mlkem(PrivateKey.generate()) for _ in range(4)]
    envelope = seal(b"where we meet", [r.public_key for r in readers], AD)
    content_keys = set()
    for reader in readers:
        stanza = envelope.stanzas[fingerprint(reader.x25519.public_key)]
        assert stanza_version(stanza) == 2
        pk = bytes(reader.x25519.public_key)
        # Every X25519 private key of every reader, but no ML-KEM key: nothing opens.
        for x25519 in (r.x25519 for r in readers):
            assert _adversary_open(stanza, x25519, None, pk) is None
            with pytest.raises(DecryptionError):
                open_stanza(stanza, x25519)
            with pytest.raises(DecryptionError):
                open_stanza(stanza, gain_mlkem(x25519))
        # The ML-KEM keys but no X25519 key: nothing opens either.
        for other in readers:
            assert _adversary_open(stanza, None, other.decapsulation_key(), pk) is None
            with pytest.raises(DecryptionError):
                open_stanza(stanza, HybridPrivateKey(PrivateKey.generate(), other.mlkem_seed))
        # Both halves: it opens, by hand and through the library.
        by_hand = _adversary_open(stanza, reader.x25519, reader.decapsulation_key(), pk)
        assert by_hand is not None
        assert by_hand == open_stanza(stanza, reader)
        content_keys.add(by_hand)
        assert open_for_reader(envelope, reader, AD) == b"where we meet"
    assert len(content_keys) == 1


def test_a_v1_stanza_opens_with_the_x25519_key_alone() -> None:
    readers = [PrivateKey.generate() for _ in range(3)]
    envelope = seal(b"where we meet", [r.public_key for r in readers], AD)
    for reader in readers:
        stanza = envelope.stanzas[fingerprint(reader.public_key)]
        assert stanza_version(stanza) == 1
        # This is what a quantum computer gives its owner: the X25519 private key.
        assert open_envelope(envelope.body, stanza, reader, AD) == b"where we meet"
        # A reader who has since gained an ML-KEM key still opens it.
        assert open_envelope(envelope.body, stanza, gain_mlkem(reader), AD) == b"where we meet"


# The format ---------------------------------------------------------------

def test_mixed_readers_get_the_stanza_their_key_allows() -> None:
    old, new = PrivateKey.generate(), gain_mlkem(PrivateKey.generate())
    envelope = seal(b"x", [old.public_key, new.public_key, new.x25519.public_key], AD)
    assert {fp: len(s) for fp, s in envelope.stanzas.items()} == {
        fingerprint(old.public_key): STANZA_SIZE,
        fingerprint(new.x25519.public_key): HYBRID_STANZA_SIZE,
    }
    # A bare key listed after the hybrid one does not downgrade the reader.
    again = seal(b"x", [new.x25519.public_key, new.public_key], AD)
    assert stanza_version(again.stanzas[fingerprint(new.x25519.public_key)]) == 2


def test_add_reader_upgrades_a_v1_stanza_in_place() -> None:
    reader = PrivateKey.generate()
    envelope = seal(b"old content", [reader.public_key], AD)
    v1 = envelope.stanzas[fingerprint(reader.public_key)]
    upgraded = gain_mlkem(reader)
    v2 = add_reader(v1, reader, upgraded.public_key)
    assert stanza_version(v2) == 2
    assert open_envelope(envelope.body, v2, upgraded, AD) == b"old content"
    with pytest.raises(DecryptionError):
        open_envelope(envelope.body, v2, reader, AD)


@pytest.mark.parametrize("position", [0, 1, 600, 1088, 1089, 1120, 1121, 1150, 1168])
def test_a_changed_byte_anywhere_is_refused(position: int) -> None:
    reader = gain_mlkem(PrivateKey.generate())
    stanza = bytearray(seal_content_key(bytes(32), reader.public_key))
    stanza[position] ^= 0x01
    with pytest.raises(DecryptionError):
        open_stanza(bytes(stanza), reader)


@pytest.mark.parametrize(("stanza", "message"), [
    (b"", "a stanza is at least 1 byte, got 0"),
    (b"\x02" + bytes(80), "a version-2 stanza is 1169 bytes, got 81"),
    (b"\x01" + bytes(1168), "a version-1 stanza is 81 bytes, got 1169"),
    (b"\x03" + bytes(1168), "unknown stanza version 3"),
])
def test_malformed_stanzas_are_refused_by_size_and_version(stanza: bytes, message: str) -> None:
    with pytest.raises(DecryptionError, match=message):
        stanza_version(stanza)


def test_a_low_order_x25519_half_is_refused() -> None:
    mlkem = gain_mlkem(PrivateKey.generate()).public_key.mlkem
    with pytest.raises(InvalidPublicKey, match="low-order"):
        HybridPublicKey.from_bytes(bytes(32), mlkem)


@pytest.mark.parametrize(("mlkem", "message"), [
    (bytes(1183), "an ML-KEM-768 public key is 1184 bytes, got 1183"),
    (b"\xff" * 1184, "not a valid ML-KEM-768 public key"),
])
def test_a_bad_mlkem_half_is_refused(mlkem: bytes, message: str) -> None:
    x25519 = bytes(PrivateKey.generate().public_key)
    with pytest.raises(InvalidPublicKey, match=message):
        HybridPublicKey.from_bytes(x25519, mlkem)


def test_a_checked_key_seals_with_the_ml_kem_half_it_parsed() -> None:
    private = gain_mlkem(PrivateKey.generate())
    built = private.public_key
    checked = HybridPublicKey.from_bytes(bytes(built.x25519), built.mlkem)
    assert checked == built  # the parsed half is not part of the key's identity
    assert checked.encapsulation_key() is checked.encapsulation_key()
    assert checked.encapsulation_key().public_bytes_raw() == built.mlkem
    # Both forms seal stanzas the private key opens.
    for reader in (checked, built):
        envelope = seal(b"text", [reader], b"ad")
        assert open_envelope(envelope.body, envelope.stanzas[fingerprint(built.x25519)],
                             private, b"ad") == b"text"


def test_an_mlkem_seed_must_be_64_bytes() -> None:
    with pytest.raises(InvalidInput, match="an ML-KEM-768 seed is 64 bytes, got 32"):
        HybridPrivateKey(PrivateKey.generate(), bytes(32))


# Known answers --------------------------------------------------------------

@pytest.mark.parametrize("vector", VECTORS["xwing_draft"], ids=lambda v: v["source"])
def test_the_combiner_matches_the_published_xwing_vector(vector: dict[str, str]) -> None:
    # X-Wing's own key schedule (SHAKE-256 of a 32-byte seed) is not Haven's,
    # but its decapsulation is ML-KEM, X25519 and this combiner: matching the
    # draft's shared secret checks the combiner against other implementations.
    expanded = hashlib.shake_256(bytes.fromhex(vector["sk"])).digest(96)
    mlkem, sk_x = MLKEM768PrivateKey.from_seed_bytes(expanded[:64]), expanded[64:]
    ct = bytes.fromhex(vector["ct"])
    ss_m, ct_x = mlkem.decapsulate(ct[:1088]), ct[1088:]
    ss_x = nacl.bindings.crypto_scalarmult(sk_x, ct_x)
    pk_x = nacl.bindings.crypto_scalarmult_base(sk_x)
    assert xwing_combine(ss_m, ss_x, ct_x, pk_x).hex() == vector["ss"]


@pytest.mark.parametrize("vector", VECTORS["combiner"])
def test_combiner_vectors(vector: dict[str, str]) -> None:
    parts = [bytes.fromhex(vector[k]) for k in ("ss_mlkem", "ss_x25519", "ct_x25519", "pk_x25519")]
    assert xwing_combine(*parts).hex() == vector["combined"]
    assert hashlib.sha3_256(b"".join(parts) + XWING_LABEL).hexdigest() == vector["combined"]
    assert XWING_LABEL.hex() == "5c2e2f2f5e5c"


@pytest.mark.parametrize("size", [0, 31, 33])
def test_combiner_inputs_are_32_bytes(size: int) -> None:
    with pytest.raises(InvalidInput, match=f"ss_x25519 is 32 bytes, got {size}"):
        xwing_combine(bytes(32), bytes(size), bytes(32), bytes(32))


@pytest.mark.parametrize("vector", VECTORS["stanzas"])
def test_stanza_vectors_open(vector: dict[str, str]) -> None:
    key = _key(vector["x25519_private"], vector["mlkem_seed"])
    stanza = bytes.fromhex(vector["stanza"])
    assert key.public_key.mlkem.hex() == vector["mlkem_public"]
    assert open_stanza(stanza, key).hex() == vector["content_key"]
    ephemeral = nacl.bindings.crypto_scalarmult_base(bytes.fromhex(vector["ephemeral"]))
    assert stanza[1089:1121] == ephemeral
    assert _adversary_open(stanza, key.x25519, key.decapsulation_key(),
                           bytes(key.x25519.public_key)) == bytes.fromhex(vector["content_key"])


@pytest.mark.parametrize("vector", VECTORS["requests"], ids=lambda v: v["request_id"])
def test_request_key_version_2_vectors(vector: dict[str, Any]) -> None:
    master = bytes.fromhex(vector["master_secret"])
    key = derive_request_key(master, vector["request_id"], version=2)
    assert isinstance(key, HybridPrivateKey)
    assert bytes(key.x25519).hex() == vector["x25519_private"]
    assert key.mlkem_seed.hex() == vector["mlkem_seed"]
    # Rebuilt from FORMAT.md: v2's X25519 half is the v1 key, so the
    # requester's fingerprint on a request survives the upgrade.
    message = vector["request_id"].encode()
    v1_seed = hashlib.blake2b(message, key=master, person=b"haven-request-v1", digest_size=32)
    assert key.x25519 == PrivateKey.from_seed(v1_seed.digest())
    assert key.x25519 == derive_request_key(master, vector["request_id"], version=1)
    mlkem_seed = hashlib.blake2b(message, key=master, person=b"haven-reqkem-v2", digest_size=64)
    assert key.mlkem_seed == mlkem_seed.digest()


@pytest.mark.parametrize("vector", VECTORS["wrapped"])
def test_wrapped_key_version_2_vectors(vector: dict[str, Any]) -> None:
    key = _key(vector["x25519_private"], vector["mlkem_seed"])
    params = KdfParams(**vector["params"])
    stream = bytes.fromhex(vector["random"])
    wrapped = wrap_private_key(key, vector["passphrase"], params=params,
                               random=lambda n, s=[stream]: _take(s, n))
    assert wrapped.hex() == vector["wrapped"]
    assert len(wrapped) == HYBRID_WRAPPED_KEY_SIZE == 1381
    assert wrapped_key_version(wrapped) == 2
    assert wrapped_public_key(wrapped) == key.public_key
    assert unwrap_private_key(wrapped, vector["passphrase"]) == key
    # The ML-KEM public key sits in the authenticated header, after the X25519 one.
    assert wrapped[85:1269] == key.public_key.mlkem
    assert decode_wrapped_key(encode_wrapped_key(wrapped)) == wrapped
    assert encode_wrapped_key(wrapped).startswith("haven-wk2:")


def _take(stream: list[bytes], size: int) -> bytes:
    chunk, stream[0] = stream[0][:size], stream[0][size:]
    return chunk


def test_a_wrapped_v2_key_refuses_a_changed_mlkem_public_key() -> None:
    key = gain_mlkem(PrivateKey.generate())
    wrapped = bytearray(wrap_private_key(key, "a passphrase", params=CHEAP))
    wrapped[500] ^= 1
    with pytest.raises(DecryptionError):
        unwrap_private_key(bytes(wrapped), "a passphrase")


def test_wk2_text_must_hold_a_v2_key() -> None:
    v1 = wrap_private_key(PrivateKey.generate(), "a passphrase", params=CHEAP)
    text = encode_wrapped_key(v1).replace("haven-wk1:", "haven-wk2:")
    with pytest.raises(InvalidInput, match="a haven-wk2: key starts with version 2"):
        decode_wrapped_key(text)


@pytest.mark.parametrize("vector", VECTORS["keytext"])
def test_hybrid_public_key_text_vectors(vector: dict[str, str]) -> None:
    key = HybridPublicKey.from_bytes(bytes.fromhex(vector["x25519"]),
                                     bytes.fromhex(vector["mlkem"]))
    assert encode_public_key(key) == vector["text"]
    assert decode_public_key(vector["text"]) == key
    assert len(vector["text"]) == 1637
    text = vector["text"]
    damaged = text[:800] + ("A" if text[800] != "A" else "B") + text[801:]
    with pytest.raises(InvalidPublicKey):
        decode_public_key(damaged)


def test_the_mlkem_fingerprint_covers_the_mlkem_half() -> None:
    key = gain_mlkem(PrivateKey.generate()).public_key
    other = gain_mlkem(PrivateKey.generate()).public_key
    swapped = HybridPublicKey(key.x25519, other.mlkem)
    assert fingerprint(swapped.x25519) == fingerprint(key.x25519)
    assert mlkem_fingerprint(swapped) != mlkem_fingerprint(key)
    assert len(mlkem_fingerprint(key)) == 32


def test_the_decapsulation_key_is_expanded_once_per_key_object() -> None:
    key = gain_mlkem(PrivateKey.generate())
    expanded = key.decapsulation_key()
    assert key.decapsulation_key() is expanded
    assert (expanded.public_key().public_bytes_raw()
            == MLKEM768PrivateKey.from_seed_bytes(key.mlkem_seed).public_key().public_bytes_raw())
    # Equality and repr are still the key's, not the cache's.
    assert key == HybridPrivateKey(key.x25519, key.mlkem_seed)
    assert "_decapsulation_key" not in repr(key)
