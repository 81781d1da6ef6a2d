"""Files sent with a request or a message: checked, cleaned, sealed, opened.

An upload is accepted only as one of the kinds :mod:`file_types` recognises
and within the size and count limits; its hidden metadata is removed in the
sandbox (:mod:`cleaning`). The cleaned copy is always what is sent; the
original goes too only when its sender asks, and alone only when cleaning
failed and the sender chose it knowing the risk. Each file is sealed under a
key derived from its envelope's content key (``crypto.attachment``), so the
envelope's readers, present and future, are its readers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from crypto.attachment import Attachment, open_attachment, open_label
from crypto.envelope import ContentKey, open_content_key
from crypto.errors import DecryptionError
from crypto.hybrid import ReaderPrivateKey, x25519_private
from crypto.keys import fingerprint
from onion_app.domain import cleaning, file_types, sealing
from onion_app.domain.file_types import FileType
from onion_app.domain.sealing import attachment_ad
from onion_app.store import attachments as files_store
from onion_app.store import requests as rows
from onion_app.store.connection import Connection

#: The note byte inside a sealed file: what its readers are told about it.
CLEANED, ORIGINAL, UNCLEANED = 0, 1, 2



@dataclass(frozen=True)
class Upload:
    """A file as the form delivered it: only ever in memory."""

    name: str = field(repr=False)
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Refusal:
    """Why one upload was not taken: ``"type"``, ``"size"`` or ``"count"``."""

    name: str
    reason: str


@dataclass(frozen=True)
class Accepted:
    """An upload of a known kind, within the limits, not yet cleaned."""

    upload: Upload
    kind: FileType


@dataclass(frozen=True)
class Prepared:
    """What cleaning made of the accepted uploads: files ready to seal, and
    those whose cleaning failed (their sender chooses what happens to them)."""

    ready: tuple[Attachment, ...]
    failed: tuple[Accepted, ...]


@dataclass(frozen=True)
class FileLabel:
    """A sealed file as a page lists it."""

    public_id: str
    note: int
    name: str
    size: int


def check(uploads: Sequence[Upload], max_files: int,
          max_bytes: int) -> tuple[list[Accepted], list[Refusal]]:
    """Sorts uploads into those Haven takes and those it refuses, with the reason.

    Empty file inputs (a form sent with no file chosen) are left out.
    """
    accepted: list[Accepted] = []
    refused: list[Refusal] = []
    for upload in uploads:
        if not upload.data and not upload.name:
            continue
        kind = file_types.sniff(upload.data)
        if len(upload.data) > max_bytes:
            refused.append(Refusal(upload.name, "size"))
        elif kind is None:
            refused.append(Refusal(upload.name, "type"))
        elif len(accepted) >= max_files:
            refused.append(Refusal(upload.name, "count"))
        else:
            accepted.append(Accepted(upload, kind))
    return accepted, refused


def prepare(accepted: Sequence[Accepted], keep_originals: bool,
            limits: cleaning.Limits) -> Prepared:
    """Cleans each accepted upload in the sandbox.

    :returns: the cleaned copies (and the originals beside them when
        ``keep_originals``), and the uploads whose cleaning failed
    """
    ready: list[Attachment] = []
    failed: list[Accepted] = []
    for item in accepted:
        try:
            cleaned = cleaning.clean(item.upload.data, item.kind, limits)
        except cleaning.CleaningFailed:
            failed.append(item)
            continue
        name = safe_name(item.upload.name, item.kind)
        ready.append(Attachment(CLEANED, name, item.kind.media_type, cleaned))
        if keep_originals:
            ready.append(Attachment(ORIGINAL, name, item.kind.media_type, item.upload.data))
    return Prepared(tuple(ready), tuple(failed))


def originals(failed: Sequence[Accepted]) -> list[Attachment]:
    """The uploads whose cleaning failed, to be sent as they are: their sender
    chose this after being told they may identify them."""
    return [Attachment(UNCLEANED, safe_name(f.upload.name, f.kind), f.kind.media_type,
                       f.upload.data) for f in failed]


def safe_name(name: str, kind: FileType) -> str:
    """A file name a reader's computer can save safely: no folders, no control
    characters, at most 200 bytes, and the extension of the kind it really is
    (a PDF named ``.exe`` is saved as a PDF)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    while len(stem.encode()) > 200 - len(kind.extension) - 1:
        stem = stem[:-1]
    return f"{stem or 'file'}.{kind.extension}"


def labels(conn: Connection, request_id: int, request_public_id: str,
           private_key: ReaderPrivateKey) -> dict[str, list[FileLabel]]:
    """The files of a request (key ``""``) and of each message (its public id)
    this reader can open, read from each file's first chunk only."""
    found: dict[str, list[FileLabel]] = {}
    keys: dict[int | None, ContentKey | None] = {}
    message_ids = files_store.message_public_ids(conn, request_id)
    for stored in files_store.files_of_request(conn, request_id):
        if stored.message_id not in keys:
            keys[stored.message_id] = _content_key(conn, request_id, request_public_id,
                                                   stored.message_id, message_ids,
                                                   private_key)
        key = keys[stored.message_id]
        first = files_store.first_chunk(conn, stored.id)
        if key is None or first is None:
            continue
        try:
            label = open_label(key, stored.position, _ad_of(stored, request_public_id,
                                                            message_ids), stored.header, first)
        except DecryptionError:
            continue
        parent = "" if stored.message_id is None else message_ids[stored.message_id]
        found.setdefault(parent, []).append(
            FileLabel(stored.public_id, label.note, label.name, label.size))
    return found


def open_file(conn: Connection, request_id: int, request_public_id: str, public_id: str,
              private_key: ReaderPrivateKey) -> Attachment | None:
    """One file of a request or its thread, opened for one of its readers.

    :returns: the file, or None if there is none by that id or this reader
        cannot open it (the two look the same)
    """
    stored = files_store.file_by_public_id(conn, request_id, public_id)
    if stored is None:
        return None
    message_ids = files_store.message_public_ids(conn, request_id)
    key = _content_key(conn, request_id, request_public_id, stored.message_id, message_ids,
                       private_key)
    if key is None:
        return None
    try:
        return open_attachment(key, stored.position,
                               _ad_of(stored, request_public_id, message_ids), stored.header,
                               files_store.chunks(conn, stored.id))
    except DecryptionError:
        return None


def _ad_of(stored: files_store.StoredFile, request_public_id: str,
           message_ids: dict[int, str]) -> bytes:
    if stored.message_id is None:
        return attachment_ad("request", request_public_id, stored.position)
    return attachment_ad("message", message_ids[stored.message_id], stored.position)


def _content_key(conn: Connection, request_id: int, request_public_id: str,
                 message_id: int | None, message_ids: dict[int, str],
                 private_key: ReaderPrivateKey) -> ContentKey | None:
    mine = fingerprint(x25519_private(private_key).public_key)
    try:
        if message_id is None:
            stanza = rows.request_stanza(conn, request_id, mine)
            if stanza is None:
                return None
            return open_content_key(rows.request_body(conn, request_id), stanza, private_key,
                                    sealing.request_ad(request_public_id),
                                    max_size=sealing.REQUEST_MAX_SIZE)
        stanza = rows.message_stanza(conn, message_id, mine)
        if stanza is None:
            return None
        return open_content_key(files_store.message_body(conn, message_id), stanza, private_key,
                                sealing.message_ad(message_ids[message_id]),
                                max_size=sealing.MESSAGE_MAX_SIZE)
    except DecryptionError:
        return None
