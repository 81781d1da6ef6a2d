from __future__ import annotations

from collections.abc import Callable

import pytest
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.errors import DecryptionError, InvalidInput, InvalidPublicKey
from crypto.stanza import STANZA_SIZE, open_stanza, seal_content_key

READER = PrivateKey(bytes(range(32)))
CONTENT_KEY = bytes(range(100, 132))


def test_libsodium_opens_what_this_module_seals() -> None:
    stanza = seal_content_key(CONTENT_KEY, READER.public_key)
    assert len(stanza) == STANZA_SIZE == 81
    assert stanza[0] == 1
    assert SealedBox(READER).decrypt(stanza[1:]) == CONTENT_KEY


def test_this_module_opens_what_libsodium_seals() -> None:
    sealed = SealedBox(READER.public_key).encrypt(CONTENT_KEY)
    assert open_stanza(b"\x01" + sealed, READER) == CONTENT_KEY


def test_ephemeral_key_comes_from_the_random_source() -> None:
    ephemeral = PrivateKey(bytes(range(200, 232)))
    stanza = seal_content_key(CONTENT_KEY, READER.public_key, random=lambda n: bytes(ephemeral))
    assert stanza[1:33] == bytes(ephemeral.public_key)
    assert open_stanza(stanza, READER) == CONTENT_KEY


def test_each_stanza_is_fresh() -> None:
    first = seal_content_key(CONTENT_KEY, READER.public_key)
    assert first != seal_content_key(CONTENT_KEY, READER.public_key)


def test_another_key_cannot_open_it() -> None:
    stanza = seal_content_key(CONTENT_KEY, READER.public_key)
    with pytest.raises(DecryptionError, match="does not open"):
        open_stanza(stanza, PrivateKey.generate())


@pytest.mark.parametrize(
    "mangle",
    [lambda s: s[:-1], lambda s: s + b"\x00", lambda s: b"", lambda s: b"\x02" + s[1:]],
    ids=["truncated", "extended", "empty", "version 2"],
)
def test_malformed_stanzas_are_refused(mangle: Callable[[bytes], bytes]) -> None:
    stanza = seal_content_key(CONTENT_KEY, READER.public_key)
    with pytest.raises(DecryptionError):
        open_stanza(mangle(stanza), READER)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_content_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        seal_content_key(bytes(size), READER.public_key)


def test_low_order_reader_is_refused() -> None:
    with pytest.raises(InvalidPublicKey, match="low-order"):
        seal_content_key(CONTENT_KEY, PublicKey(bytes(32)))
