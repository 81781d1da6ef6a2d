"""SQL for attachments: where each sealed file belongs, and its chunks.

Only ciphertext and placement are stored (migration 0011); name, type and
size are inside the sealed chunks. Chunks are written as they are sealed and
read one at a time, so neither side holds more than the file and a chunk.
The caller commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from onion_app.store.connection import Connection


@dataclass(frozen=True)
class StoredFile:
    """One attachment's placement and header, without its chunks."""

    id: int
    public_id: str
    request_id: int
    message_id: int | None
    position: int
    header: bytes


def add_file(conn: Connection, *, request_id: int, message_id: int | None, position: int,
             header: bytes, chunks: Iterable[bytes]) -> str:
    """Stores one sealed attachment, chunk by chunk as ``chunks`` yields them.

    :returns: the attachment's public id
    """
    public_id = secrets.token_urlsafe(16)
    cursor = conn.execute(
        "INSERT INTO attachments (public_id, request_id, message_id, position, header)"
        " VALUES (?, ?, ?, ?, ?)", (public_id, request_id, message_id, position, header))
    attachment_id = int(cursor.lastrowid)
    for seq, chunk in enumerate(chunks):
        conn.execute("INSERT INTO attachment_chunks (attachment_id, seq, chunk) VALUES (?, ?, ?)",
                     (attachment_id, seq, chunk))
    return public_id


_COLUMNS = "id, public_id, request_id, message_id, position, header"


def files_of_request(conn: Connection, request_id: int) -> list[StoredFile]:
    """Every attachment of a request and its thread, in order of placement."""
    return [_file(row) for row in conn.execute(
        f"SELECT {_COLUMNS} FROM attachments WHERE request_id = ?"  # noqa: S608  (fixed text)
        " ORDER BY coalesce(message_id, 0), position", (request_id,))]


def file_by_public_id(conn: Connection, request_id: int, public_id: str) -> StoredFile | None:
    """One attachment of this request; None for another request's or none."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM attachments WHERE request_id = ? AND public_id = ?",  # noqa: S608  (fixed text)
        (request_id, public_id)).fetchone()
    return None if row is None else _file(row)


def first_chunk(conn: Connection, attachment_id: int) -> bytes | None:
    row = conn.execute("SELECT chunk FROM attachment_chunks WHERE attachment_id = ? AND seq = 0",
                       (attachment_id,)).fetchone()
    return None if row is None else bytes(row[0])


def chunks(conn: Connection, attachment_id: int) -> Iterator[bytes]:
    """The sealed chunks in order, read one row at a time."""
    seq = 0
    while True:
        row = conn.execute(
            "SELECT chunk FROM attachment_chunks WHERE attachment_id = ? AND seq = ?",
            (attachment_id, seq)).fetchone()
        if row is None:
            return
        yield bytes(row[0])
        seq += 1


def message_public_ids(conn: Connection, request_id: int) -> dict[int, str]:
    """Message row ids to public ids, for the messages of a request that have files."""
    return {int(r[0]): str(r[1]) for r in conn.execute(
        "SELECT DISTINCT m.id, m.public_id FROM messages m JOIN attachments a"
        " ON a.message_id = m.id WHERE m.request_id = ?", (request_id,))}


def _file(row: tuple[object, ...]) -> StoredFile:
    return StoredFile(int(row[0]), str(row[1]), int(row[2]),  # type: ignore[call-overload]
                      None if row[3] is None else int(row[3]),  # type: ignore[call-overload]
                      int(row[4]), bytes(row[5]))  # type: ignore[call-overload]


def message_body(conn: Connection, message_id: int) -> bytes:
    """A message's sealed body (its content key opens the message's files)."""
    row = conn.execute("SELECT body FROM message_bodies WHERE message_id = ?",
                       (message_id,)).fetchone()
    return bytes(row[0])
