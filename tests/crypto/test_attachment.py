"""Attachments: known answers, the format rebuilt from FORMAT.md, and every
way a stored file can be tampered with."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nacl.bindings
import pytest
from nacl.public import PrivateKey

from crypto.attachment import (
    CHUNK_SIZE,
    HEADER_SIZE,
    Attachment,
    chunk_count,
    open_attachment,
    open_label,
    padded_size,
    seal_attachment,
)
from crypto.envelope import ContentKey, add_reader, open_content_key, seal_with_key
from crypto.errors import DecryptionError, InvalidInput, PlaintextTooLarge
from crypto.keys import fingerprint

if TYPE_CHECKING:
    from conftest import Replay

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "attachment.json").read_text(encoding="utf-8"))
KEY = ContentKey(bytes(range(32)))
AD = b"haven/attachment/request/abc/0/v1"
FILE = Attachment(0, "summons.pdf", "application/pdf", b"%PDF-1.4 the summons " * 50)


def data_of(vector: dict[str, Any]) -> bytes:
    pattern = bytes.fromhex(vector["data_pattern"])
    length = vector["data_length"]
    return (pattern * (length // max(len(pattern), 1) + 1))[:length]


def sealed(attachment: Attachment = FILE, index: int = 0) -> tuple[bytes, list[bytes]]:
    header, chunks = seal_attachment(KEY, index, AD, attachment)
    return header, list(chunks)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_known_answers(vector: dict[str, Any], replay: type[Replay]) -> None:
    key = ContentKey(bytes.fromhex(vector["content_key"]))
    ad = bytes.fromhex(vector["associated_data"])
    attachment = Attachment(vector["note"], vector["file_name"], vector["media_type"],
                            data_of(vector))
    source = replay(bytes.fromhex(vector["random"]))
    header, chunks = seal_attachment(key, vector["index"], ad, attachment, random=source)
    chunks_list = list(chunks)
    assert source.remaining == 0
    assert header.hex() == vector["header"]
    assert [hashlib.blake2b(c, digest_size=32).hexdigest() for c in chunks_list] == \
        vector["chunks_blake2b"]
    if vector["first_chunk"] is not None:
        assert chunks_list[0].hex() == vector["first_chunk"]
    assert open_attachment(key, vector["index"], ad, header, chunks_list) == attachment


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_vectors_match_format_md(vector: dict[str, Any]) -> None:
    # Rebuilt from libsodium primitives and hashlib, following FORMAT.md only.
    content_key = bytes.fromhex(vector["content_key"])
    index = vector["index"]
    ad = bytes.fromhex(vector["associated_data"])
    prefix = bytes.fromhex(vector["random"])
    data = data_of(vector)
    name, kind = vector["file_name"].encode(), vector["media_type"].encode()
    key = hashlib.blake2b(struct.pack(">I", index), key=content_key,
                          person=b"haven-attach-k1", digest_size=32).digest()
    plain = (bytes([vector["note"], len(kind)]) + kind + struct.pack(">H", len(name)) + name
             + struct.pack(">Q", len(data)) + data)
    bucket = max(1024, 1 << (len(plain) - 1).bit_length())
    padded = plain + bytes(bucket - len(plain))
    header = bytes([1, bucket.bit_length() - 1]) + prefix
    assert header.hex() == vector["header"]
    size = min(bucket, 65536)
    chunks = [nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        padded[i * size:(i + 1) * size], header + ad, prefix + struct.pack(">I", i), key)
        for i in range(bucket // size)]
    assert [hashlib.blake2b(c, digest_size=32).hexdigest() for c in chunks] == \
        vector["chunks_blake2b"]


@pytest.mark.parametrize("size", [0, 1, 1000, 1024 - 40, 1024 - 39, CHUNK_SIZE, 3 * CHUNK_SIZE + 5])
def test_round_trip_and_buckets(size: int) -> None:
    attachment = Attachment(1, "f.txt", "text/plain", bytes([size % 251]) * size)
    header, chunks = sealed(attachment)
    bucket = padded_size(attachment)
    assert bucket & (bucket - 1) == 0
    assert bucket >= 1024
    assert len(header) == HEADER_SIZE
    assert chunk_count(header) == len(chunks) == max(bucket // CHUNK_SIZE, 1)
    assert {len(c) for c in chunks} == {min(bucket, CHUNK_SIZE) + 16}
    assert open_attachment(KEY, 0, AD, header, chunks) == attachment
    label = open_label(KEY, 0, AD, header, chunks[0])
    assert (label.note, label.name, label.media_type, label.size) == (1, "f.txt", "text/plain",
                                                                     size)


def test_the_name_and_type_are_inside_the_ciphertext() -> None:
    header, chunks = sealed()
    stored = header + b"".join(chunks)
    for clear in (b"summons", b"application/pdf", b"%PDF"):
        assert clear not in stored


@pytest.mark.parametrize("change", [
    "swap chunks", "drop last chunk", "extra chunk", "flip a bit", "other header",
    "other index", "other ad", "other key", "truncated chunk", "unknown version",
])
def test_tampering_is_refused(change: str) -> None:
    attachment = Attachment(0, "big.bin", "application/pdf", bytes(range(256)) * 1000)
    header, chunks = sealed(attachment)
    assert len(chunks) == 4
    key, index, ad = KEY, 0, AD
    if change == "swap chunks":
        chunks[0], chunks[1] = chunks[1], chunks[0]
    elif change == "drop last chunk":
        chunks.pop()
    elif change == "extra chunk":
        chunks.append(chunks[-1])
    elif change == "flip a bit":
        chunks[2] = chunks[2][:5] + bytes([chunks[2][5] ^ 1]) + chunks[2][6:]
    elif change == "other header":
        header = sealed(attachment)[0]
    elif change == "other index":
        index = 1
    elif change == "other ad":
        ad = AD + b"x"
    elif change == "other key":
        key = ContentKey(bytes(32))
    elif change == "truncated chunk":
        chunks[3] = chunks[3][:-1]
    elif change == "unknown version":
        header = b"\x02" + header[1:]
    with pytest.raises(DecryptionError):
        open_attachment(key, index, ad, header, chunks)


def test_limits_are_checked() -> None:
    with pytest.raises(InvalidInput):
        seal_attachment(KEY, 0, AD, Attachment(0, "x" * 256, "text/plain", b""))
    with pytest.raises(InvalidInput):
        seal_attachment(KEY, 0, AD, Attachment(0, "x", "", b""))
    with pytest.raises(InvalidInput):
        seal_attachment(KEY, 0, AD, Attachment(256, "x", "text/plain", b""))
    with pytest.raises(InvalidInput):
        seal_attachment(KEY, -1, AD, FILE)
    with pytest.raises(PlaintextTooLarge):
        seal_attachment(KEY, 0, AD, Attachment(0, "x", "text/plain", bytes(5000)), max_size=4096)
    header, chunks = sealed(Attachment(0, "x", "text/plain", bytes(5000)))
    with pytest.raises(DecryptionError):
        open_attachment(KEY, 0, AD, header, chunks, max_size=4096)


def test_every_reader_of_the_envelope_and_one_added_later_reads_the_file() -> None:
    alice, bob, carol = PrivateKey.generate(), PrivateKey.generate(), PrivateKey.generate()
    envelope, key = seal_with_key(b"the request", [alice.public_key, bob.public_key], b"req")
    header, chunks = seal_attachment(key, 0, AD, FILE)
    chunk_list = list(chunks)
    carol_stanza = add_reader(envelope.stanzas[fingerprint(alice.public_key)], alice,
                              carol.public_key)
    for reader, stanza in ((bob, envelope.stanzas[fingerprint(bob.public_key)]),
                           (carol, carol_stanza)):
        opened = open_content_key(envelope.body, stanza, reader, b"req")
        assert open_attachment(opened, 0, AD, header, chunk_list) == FILE
    with pytest.raises(DecryptionError):  # the key is released only with the right row
        open_content_key(envelope.body, carol_stanza, carol, b"another row")
    assert repr(key) == "ContentKey(...)"
