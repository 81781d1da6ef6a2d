"""The offline tool's readers, named with --to or listed in a readers file."""

from __future__ import annotations

from pathlib import Path

import pytest
from nacl.public import PrivateKey

from crypto.cli_readers import readers
from crypto.errors import InvalidInput
from crypto.keytext import encode_public_key

KEYS = [PrivateKey.generate() for _ in range(3)]


def test_keys_and_files_give_every_reader_in_order(tmp_path: Path) -> None:
    listed = tmp_path / "haven-x-readers.txt"
    listed.write_text("# the readers\n\n" + "".join(
        f"  {encode_public_key(k.public_key)}  \n" for k in KEYS[1:]))
    found = readers([encode_public_key(KEYS[0].public_key)], [listed])
    assert [bytes(r) for r in found] == [bytes(k.public_key) for k in KEYS]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"# nobody\n\n", "names no reader"),
        ("haven-pk2:\u00e9\n".encode(), "is not a readers file"),
        (b"haven-pk1:AAAA\n", "is not a usable Haven public key"),
    ],
)
def test_a_bad_readers_file_is_named(tmp_path: Path, content: bytes | None,
                                     message: str) -> None:
    listed = tmp_path / "readers.txt"
    if content is not None:
        listed.write_bytes(content)
    with pytest.raises(InvalidInput) as refused:
        readers([], [listed])
    assert message in str(refused.value)
    assert str(listed) in str(refused.value)


def test_a_long_bad_key_is_shortened() -> None:
    with pytest.raises(InvalidInput) as refused:
        readers(["haven-pk2:" + "A" * 2000], [])
    assert len(str(refused.value)) < 200
    assert str(refused.value).startswith("--to: ")


def test_nobody_is_refused() -> None:
    with pytest.raises(InvalidInput, match="name the readers"):
        readers([], [])
