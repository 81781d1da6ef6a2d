"""Attachments: files sealed under a key derived from their envelope's content key.

An attachment belongs to one envelope (a request or a message). Its key is
derived from that envelope's content key, so every reader of the envelope,
now or added later by :func:`crypto.envelope.add_reader`, reads its
attachments too, and no stanza of its own is ever needed. The file's name,
type and a small note byte travel inside the sealed data; its length is
padded to a power-of-two bucket; the padded data is sealed in chunks of at
most :data:`CHUNK_SIZE`, so neither side needs more than one chunk beyond the
file itself in memory.

.. code-block:: text

    header = 0x01 || log2(padded size) (1) || nonce prefix (20)
    chunk i = XChaCha20-Poly1305(key, nonce = prefix || uint32(i), ad = header || associated_data)

See FORMAT.md, "Attachment".
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions

from crypto.envelope import ContentKey
from crypto.errors import DecryptionError, InvalidInput, PlaintextTooLarge
from crypto.padding import MIN_BUCKET
from crypto.randomness import RandomSource, draw, system_random

__all__ = [
    "ATTACHMENT_VERSION",
    "CHUNK_SIZE",
    "HEADER_SIZE",
    "Attachment",
    "Label",
    "chunk_count",
    "open_attachment",
    "open_label",
    "padded_size",
    "seal_attachment",
]

#: First byte of an attachment header.
ATTACHMENT_VERSION = 1
#: Plaintext bytes per chunk (the last bucket sizes below it make one chunk).
CHUNK_SIZE = 64 * 1024
#: Bytes of the clear header stored with the chunks.
HEADER_SIZE = 22
#: The largest padded attachment: 1 GiB.
MAX_PADDED_SIZE = 1 << 30

_PREFIX_SIZE = 20
_TAG_SIZE = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
_KEY_PERSON = b"haven-attach-k1"
_MAX_NAME = 255
_MAX_TYPE = 127
_LENGTH = struct.Struct(">Q")


@dataclass(frozen=True)
class Attachment:
    """A file as its readers see it.

    ``note`` is a small integer the application gives meaning to (Haven: the
    cleaned copy, the original kept beside it, or an original sent because
    cleaning failed); ``name`` at most 255 bytes of UTF-8, ``media_type`` at
    most 127 ASCII characters.
    """

    note: int
    name: str
    media_type: str
    data: bytes

    def _prefix(self) -> bytes:
        name = self.name.encode()
        kind = self.media_type.encode("ascii") if self.media_type.isascii() else b""
        if not 0 <= self.note <= 255:
            raise InvalidInput("an attachment's note is one byte (0-255)")
        if len(name) > _MAX_NAME:
            raise InvalidInput(f"an attachment's name is at most {_MAX_NAME} bytes of UTF-8")
        if not kind or len(kind) > _MAX_TYPE:
            raise InvalidInput(f"an attachment's type is 1-{_MAX_TYPE} ASCII characters")
        return (bytes([self.note, len(kind)]) + kind + struct.pack(">H", len(name)) + name
                + _LENGTH.pack(len(self.data)))


@dataclass(frozen=True)
class Label:
    """What a page shows of an attachment without opening all of it."""

    note: int
    name: str
    media_type: str
    size: int


def padded_size(attachment: Attachment) -> int:
    """The bucket ``attachment`` is padded to: a power of two from 1 KiB."""
    needed = len(attachment._prefix()) + len(attachment.data)
    return max(MIN_BUCKET, 1 << (needed - 1).bit_length())


def chunk_count(header: bytes) -> int:
    """How many chunks follow ``header``.

    :raises DecryptionError: if the header is malformed or of an unknown version.
    """
    return _bucket(header) // _chunk_length(_bucket(header))


def seal_attachment(
    key: ContentKey,
    index: int,
    associated_data: bytes,
    attachment: Attachment,
    *,
    max_size: int = MAX_PADDED_SIZE,
    random: RandomSource = system_random,
) -> tuple[bytes, Iterator[bytes]]:
    """Seal ``attachment`` as the ``index``-th attachment of the envelope whose
    content key is ``key``.

    Pass as ``associated_data`` the identity of the row the attachment will
    live in; it must be given again to open it. Randomness drawn: the nonce
    prefix (20 bytes).

    .. warning:: Two attachments of one envelope must never share an
       ``index``: they would share a key (the random nonce prefix still keeps
       them apart, but only by chance).

    :returns: the header, and the sealed chunks, produced one at a time so
        that storing them as they come keeps memory at one chunk.
    :raises PlaintextTooLarge: if the padded attachment would exceed ``max_size``.
    :raises InvalidInput: for an index outside 0-2**32-1, or a name, type or
        note out of bounds.
    """
    size = padded_size(attachment)
    if size > min(max_size, MAX_PADDED_SIZE):
        raise PlaintextTooLarge(f"the attachment needs a {size}-byte bucket; at most "
                                f"{min(max_size, MAX_PADDED_SIZE)} allowed")
    chunk_key = _derive(key, index)
    header = bytes([ATTACHMENT_VERSION, size.bit_length() - 1]) + draw(random, _PREFIX_SIZE)
    return header, _sealed_chunks(chunk_key, header, associated_data, attachment, size)


def open_attachment(
    key: ContentKey,
    index: int,
    associated_data: bytes,
    header: bytes,
    chunks: Iterable[bytes],
    *,
    max_size: int = MAX_PADDED_SIZE,
) -> Attachment:
    """Open the ``index``-th attachment of the envelope whose content key is ``key``.

    :raises DecryptionError: on any failure: a changed, missing, extra or
        reordered chunk, a changed header or associated data, another
        envelope's key or another index, malformed padding, or an unknown
        version.
    """
    size = _bucket(header)
    if size > min(max_size, MAX_PADDED_SIZE):
        raise DecryptionError("this attachment is larger than allowed")
    chunk_key = _derive(key, index)
    length = _chunk_length(size)
    ad = header + associated_data
    padded = bytearray()
    for number, sealed in enumerate(chunks):
        if number >= size // length or len(sealed) != length + _TAG_SIZE:
            raise DecryptionError("an attachment chunk is missing, extra or truncated")
        try:
            padded += nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed, ad, header[2:] + struct.pack(">I", number), chunk_key)
        except nacl.exceptions.CryptoError:
            raise DecryptionError("an attachment chunk or its header was altered") from None
    if len(padded) != size:
        raise DecryptionError("an attachment chunk is missing")
    return _unpad(bytes(padded))


def open_label(
    key: ContentKey,
    index: int,
    associated_data: bytes,
    header: bytes,
    first_chunk: bytes,
) -> Label:
    """Read an attachment's note, name, type and size from its first chunk only
    (they always fit in it), so a page can list files without opening them.

    :raises DecryptionError: as :func:`open_attachment` does for that chunk.
    """
    size = _bucket(header)
    length = _chunk_length(size)
    if len(first_chunk) != length + _TAG_SIZE:
        raise DecryptionError("an attachment chunk is truncated")
    try:
        plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            first_chunk, header + associated_data, header[2:] + struct.pack(">I", 0),
            _derive(key, index))
    except nacl.exceptions.CryptoError:
        raise DecryptionError("an attachment chunk or its header was altered") from None
    note, name, media_type, data_at, data_length = _read_prefix(plain)
    if data_at + data_length > size:
        raise DecryptionError("the attachment's padding is malformed")
    return Label(note, name, media_type, data_length)


def _sealed_chunks(chunk_key: bytes, header: bytes, associated_data: bytes,
                   attachment: Attachment, size: int) -> Iterator[bytes]:
    prefix = attachment._prefix()
    data = attachment.data
    length = _chunk_length(size)
    ad = header + associated_data
    for number in range(size // length):
        start, end = number * length, (number + 1) * length
        # Each chunk is cut from prefix, data and zeros without building the
        # whole padded copy: memory stays at the file plus one chunk.
        piece = bytearray()
        if start < len(prefix):
            piece += prefix[start:end]
        data_start, data_end = max(start - len(prefix), 0), max(end - len(prefix), 0)
        piece += data[data_start:data_end]
        piece += bytes(length - len(piece))
        yield nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            bytes(piece), ad, header[2:] + struct.pack(">I", number), chunk_key)


def _read_prefix(padded: bytes) -> tuple[int, str, str, int, int]:
    try:
        note, type_length = padded[0], padded[1]
        at = 2 + type_length
        media_type = padded[2:at].decode("ascii")
        (name_length,) = struct.unpack_from(">H", padded, at)
        name = padded[at + 2:at + 2 + name_length].decode()
        at += 2 + name_length
        (data_length,) = _LENGTH.unpack_from(padded, at)
    except (IndexError, struct.error, UnicodeDecodeError):
        raise DecryptionError("the attachment's padding is malformed") from None
    if not media_type or type_length > _MAX_TYPE or name_length > _MAX_NAME:
        raise DecryptionError("the attachment's padding is malformed")
    return note, name, media_type, at + _LENGTH.size, data_length


def _unpad(padded: bytes) -> Attachment:
    note, name, media_type, start, data_length = _read_prefix(padded)
    end = start + data_length
    if end > len(padded) or padded[end:].count(0) != len(padded) - end:
        raise DecryptionError("the attachment's padding is malformed")
    return Attachment(note=note, name=name, media_type=media_type, data=padded[start:end])


def _bucket(header: bytes) -> int:
    if len(header) != HEADER_SIZE or header[0] != ATTACHMENT_VERSION:
        raise DecryptionError("not a version-1 attachment header")
    size = 1 << header[1]
    if not MIN_BUCKET <= size <= MAX_PADDED_SIZE:
        raise DecryptionError("an attachment's bucket is 1 KiB to 1 GiB")
    return size


def _chunk_length(size: int) -> int:
    return min(size, CHUNK_SIZE)


def _derive(key: ContentKey, index: int) -> bytes:
    if not 0 <= index < 1 << 32:
        raise InvalidInput("an attachment's index is 0 to 2**32-1")
    return hashlib.blake2b(struct.pack(">I", index), key=key.secret, person=_KEY_PERSON,
                           digest_size=32).digest()
