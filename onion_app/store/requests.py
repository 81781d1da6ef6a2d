"""SQL for requesters, requests, threads and their readers.

Plain SQL with ``?`` placeholders. List queries read only metadata tables;
bodies and stanzas are read one row at a time by id. Every date is a day.
The caller commits.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import sqlcipher3

from onion_app.errors import AccountExists, StoreBusy
from onion_app.store import rows
from onion_app.store.connection import Connection, is_busy
from onion_app.store.rows import Requester, RequestRef, RequestRow, ThreadRow


def today() -> str:
    """Today as Haven stores it: a day, never a time."""
    return datetime.date.today().isoformat()


def new_public_id() -> str:
    """A random identifier for URLs: 128 bits, URL-safe, says nothing about counts."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Reader:
    """One stanza to store: whose it is and the sealed content key."""

    fingerprint: str
    volunteer_id: int | None
    stanza: bytes
    # Sealed to a triage volunteer because too few others match (issue 13).
    for_triage: bool = False


@dataclass(frozen=True)
class ReaderKey:
    """A reader's public key as stored: X25519, and ML-KEM-768 where they have one
    (then they are sealed to with hybrid stanzas)."""

    x25519: bytes
    mlkem: bytes | None


def stanza_format(stanza: bytes) -> int:
    """A stanza's format: its first byte (1: X25519 only; 2: hybrid)."""
    return stanza[0]


# Stanzas are written by one statement: a new reader's row is inserted, and a
# reader's stanza is replaced only by one of a newer format (a hybrid stanza
# replacing an X25519 one), never downgraded or rewritten for nothing. A new
# row gets, as it is written, its request's priority on the dashboard (2 for
# an open request at risk of life or liberty, 1 open and urgent, else 0), how
# it ended if it has (migration 0018; the trigger requests_priority_and_end
# follows later changes to both), and, for a volunteer, the day it was
# shared with them, which digests count as news. A replaced stanza keeps
# them. One write a row: migration 0016 says why.
_UPSERT_REQUEST_READER = """
    INSERT INTO request_readers (request_id, fingerprint, volunteer_id, stanza, stanza_format,
                                 for_triage, priority, ended, added_on)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6,
            (SELECT CASE WHEN status != 'open' THEN 0 WHEN urgency = 'critical' THEN 2
                         WHEN urgency = 'urgent' THEN 1 ELSE 0 END
               FROM requests WHERE id = ?1),
            (SELECT CASE WHEN status != 'open' THEN status END FROM requests WHERE id = ?1),
            CASE WHEN ?3 IS NOT NULL THEN ?7 END)
    ON CONFLICT (request_id, fingerprint) DO UPDATE
       SET stanza = excluded.stanza, stanza_format = excluded.stanza_format
     WHERE excluded.stanza_format > request_readers.stanza_format"""
# A message stanza is tied to its volunteer (as the request's readers say), so
# that it goes when the volunteer does; a replaced stanza keeps its volunteer.
_UPSERT_MESSAGE_READER = """
    INSERT INTO message_readers (message_id, fingerprint, stanza, stanza_format, volunteer_id)
    VALUES (?, ?, ?, ?, (SELECT rr.volunteer_id FROM request_readers rr
                          JOIN messages m ON m.request_id = rr.request_id
                         WHERE m.id = ? AND rr.fingerprint = ?))
    ON CONFLICT (message_id, fingerprint) DO UPDATE
       SET stanza = excluded.stanza, stanza_format = excluded.stanza_format
     WHERE excluded.stanza_format > message_readers.stanza_format"""


def begin_write(conn: Connection) -> None:
    """Starts a write transaction now, before the reads a cap check makes.

    SQLite lets one writer in at a time (others wait, up to the busy
    timeout), so a count read after this and the row written before the
    commit are one step: concurrent submissions cannot all pass one check.
    Inside a transaction that already writes, the lock is held already.

    :raises StoreBusy: if another writer kept the database past the busy timeout
    """
    if conn.in_transaction:
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlcipher3.OperationalError as error:
        if not is_busy(error):
            raise  # a full disk or a read-only file: the error pages say which
        raise StoreBusy("the database stayed busy; nothing was written") from None


# Requesters ---------------------------------------------------------------

def find_requester(conn: Connection, lookup_id: bytes) -> Requester | None:
    return rows.one(Requester, conn.execute(
        "SELECT id, public_key FROM requesters WHERE lookup_id = ?", (lookup_id,)
    ).fetchone())


def create_requester(conn: Connection, lookup_id: bytes, public_key: bytes) -> int:
    """Makes a requester account.

    :returns: its id
    :raises AccountExists: if one with this lookup id exists (the transaction
        is rolled back, so the caller may read it)
    """
    try:
        cursor = conn.execute(
            "INSERT INTO requesters (lookup_id, public_key, created_on) VALUES (?, ?, ?)",
            (lookup_id, public_key, today()),
        )
    except sqlcipher3.IntegrityError:
        conn.rollback()
        raise AccountExists("a requester with this codename exists") from None
    return int(cursor.lastrowid)


def requester_is(conn: Connection, requester_id: int, public_key: bytes) -> bool:
    """Whether account ``requester_id`` exists and is the one with this key."""
    return conn.execute("SELECT 1 FROM requesters WHERE id = ? AND public_key = ?",
                        (requester_id, public_key)).fetchone() is not None


def delete_requester(conn: Connection, requester_id: int) -> None:
    """Deletes the account; requests, threads and stanzas go with it (cascade)."""
    conn.execute("DELETE FROM requesters WHERE id = ?", (requester_id,))


# Requests -----------------------------------------------------------------

def create_request(conn: Connection, *, requester_id: int, public_id: str, urgency: str,
                   region: str, skills: Iterable[str], languages: Iterable[str],
                   body: bytes, readers: Iterable[Reader], requester_key: bytes | None = None,
                   requester_key_version: int | None = None,
                   requester_mlkem_key: bytes | None = None, matched_pool: int = 0) -> int:
    """Stores a sealed request.

    ``requester_key`` is the public key the request is sealed to for its
    requester, with the version of the derivation that made it; None for both
    means the request is sealed to the account key (as requests made before
    per-request keys are). ``requester_mlkem_key`` is the ML-KEM-768 half of a
    version-2 key, and None for any other version. ``matched_pool`` is the
    matching pool's version its readers were chosen from.

    :returns: its id
    """
    day = today()
    cursor = conn.execute(
        "INSERT INTO requests (public_id, requester_id, urgency, region, created_on, updated_on,"
        " requester_key, requester_key_version, requester_mlkem_key, matched_pool, widened_on)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (public_id, requester_id, urgency, region, day, day, requester_key,
         requester_key_version, requester_mlkem_key, matched_pool, day),
    )
    request_id = int(cursor.lastrowid)
    conn.executemany("INSERT INTO request_skills (request_id, skill) VALUES (?, ?)",
                     [(request_id, s) for s in sorted(set(skills))])
    conn.executemany("INSERT INTO request_languages (request_id, language) VALUES (?, ?)",
                     [(request_id, lang) for lang in sorted(set(languages))])
    conn.execute("INSERT INTO request_bodies (request_id, body) VALUES (?, ?)", (request_id, body))
    add_request_readers(conn, request_id, readers)
    return request_id


def add_request_readers(conn: Connection, request_id: int, readers: Iterable[Reader]) -> None:
    """Stores new readers' stanzas; a present reader's stanza is replaced only
    by one of a newer format."""
    day = today()
    conn.executemany(_UPSERT_REQUEST_READER, [
        (request_id, r.fingerprint, r.volunteer_id, r.stanza, stanza_format(r.stanza),
         int(r.for_triage), day)
        for r in readers])


def upgrade_request_key(conn: Connection, request_id: int, mlkem_key: bytes) -> None:
    """Records that a version-1 request's requester key gained its ML-KEM half
    (version 2 keeps the same X25519 key, so ``requester_key`` stays)."""
    conn.execute("UPDATE requests SET requester_key_version = 2, requester_mlkem_key = ?"
                 " WHERE id = ? AND requester_key_version = 1", (mlkem_key, request_id))


_LIST_COLUMNS = """
    r.id, r.public_id, r.status, r.urgency, r.region, r.claimed_by, r.created_on, r.updated_on,
    r.requester_key_version,
    (SELECT count(*) FROM request_readers rr
      WHERE rr.request_id = r.id AND rr.volunteer_id IS NOT NULL) AS volunteer_readers,
    (SELECT count(*) FROM messages m
      WHERE m.request_id = r.id AND m.from_requester = 0 AND m.seen_by_requester = 0) AS unread,
    (SELECT group_concat(skill) FROM request_skills s WHERE s.request_id = r.id) AS skills,
    (SELECT group_concat(language) FROM request_languages l
      WHERE l.request_id = r.id) AS languages,
    (SELECT handle FROM volunteers v WHERE v.id = r.claimed_by) AS claimed_handle
"""


def requests_of(conn: Connection, requester_id: int, *, offset: int = 0,
                limit: int = -1) -> list[RequestRow]:
    """A requester's requests, newest first, with counts; no ciphertext:
    ``limit`` of them (all when negative) from the ``offset``-th on."""
    return rows.many(RequestRow, conn.execute(
        f"SELECT {_LIST_COLUMNS} FROM requests r WHERE r.requester_id = ?"  # noqa: S608  (fixed text)
        f" ORDER BY r.id DESC {rows.PAGE}",
        (requester_id, limit, offset),
    ))


def count_requests_of(conn: Connection, requester_id: int) -> int:
    """How many requests a requester has (on the index requests_by_requester)."""
    return int(conn.execute("SELECT count(*) FROM requests WHERE requester_id = ?",
                            (requester_id,)).fetchone()[0])


def request_of(conn: Connection, requester_id: int, public_id: str) -> RequestRow | None:
    """One of this requester's requests; None for anyone else's (so: 404)."""
    return rows.one(RequestRow, conn.execute(
        f"SELECT {_LIST_COLUMNS} FROM requests r WHERE r.public_id = ? AND r.requester_id = ?",  # noqa: S608  (fixed text)
        (public_id, requester_id),
    ).fetchone())


def request_body(conn: Connection, request_id: int) -> bytes:
    row = conn.execute("SELECT body FROM request_bodies WHERE request_id = ?",
                       (request_id,)).fetchone()
    return bytes(row["body"])


def sealed_requests(conn: Connection, wanted: Sequence[tuple[int, str | None]]
                    ) -> dict[int, tuple[bytes | None, bytes]]:
    """Several requests' bodies, each with one reader's stanza, in one query
    (a list opens a page of titles at once).

    :param wanted: (request id, reader's fingerprint) pairs; None for a
        request whose body alone is wanted (its reader holds the content key)
    :returns: by request id, the stanza (None when none was asked for, or
        the fingerprint is not a reader of it) and the body; a request that
        does not exist is left out
    """
    if not wanted:
        return {}
    # One statement per number of requests (a page holds at most a few), so
    # each is compiled once and kept in the connection's statement cache.
    values = ", ".join(["(?, ?)"] * len(wanted))
    found = conn.execute(
        f"WITH wanted (request_id, fingerprint) AS (VALUES {values})"  # noqa: S608  (placeholders only)
        " SELECT b.request_id, rr.stanza, b.body FROM wanted w"
        " JOIN request_bodies b ON b.request_id = w.request_id"
        " LEFT JOIN request_readers rr"
        "   ON rr.request_id = w.request_id AND rr.fingerprint = w.fingerprint",
        [value for pair in wanted for value in pair]).fetchall()
    return {int(row[0]): (None if row[1] is None else bytes(row[1]), bytes(row[2]))
            for row in found}


def request_stanza(conn: Connection, request_id: int, fingerprint: str) -> bytes | None:
    row = conn.execute(
        "SELECT stanza FROM request_readers WHERE request_id = ? AND fingerprint = ?",
        (request_id, fingerprint),
    ).fetchone()
    return None if row is None else bytes(row["stanza"])


def request_reader_keys(conn: Connection, request_id: int) -> list[ReaderKey]:
    """Public keys of everyone who reads a request now: the requester (this
    request's own key, or the account key for a request made before requests
    had keys) and the vetted volunteers (a suspended volunteer keeps old
    stanzas, gets no new ones), each with its ML-KEM half where there is one."""
    rows = conn.execute(
        """SELECT coalesce(r.requester_key, q.public_key), r.requester_mlkem_key
             FROM requests r JOIN requesters q ON q.id = r.requester_id
            WHERE r.id = ?
           UNION
           SELECT v.public_key, v.mlkem_public_key
             FROM request_readers rr JOIN volunteers v ON v.id = rr.volunteer_id
            WHERE rr.request_id = ? AND v.status = 'vetted'""",
        (request_id, request_id),
    ).fetchall()
    return [ReaderKey(bytes(row[0]), None if row[1] is None else bytes(row[1])) for row in rows]


def v1_stanzas_of(conn: Connection, fingerprint: str) -> tuple[list[tuple[int, bytes]],
                                                                 list[tuple[int, bytes]]]:
    """One reader's format-1 stanzas: (request id, stanza) and (message id, stanza)."""
    requests = conn.execute(
        "SELECT request_id, stanza FROM request_readers"
        " WHERE fingerprint = ? AND stanza_format = 1", (fingerprint,)).fetchall()
    messages = conn.execute(
        "SELECT message_id, stanza FROM message_readers"
        " WHERE fingerprint = ? AND stanza_format = 1", (fingerprint,)).fetchall()
    return ([(int(r[0]), bytes(r[1])) for r in requests],
            [(int(m[0]), bytes(m[1])) for m in messages])


def v1_fingerprints(conn: Connection, request_id: int) -> set[str]:
    """Readers of a request (or of any of its messages) still holding a format-1 stanza."""
    found = conn.execute(
        """SELECT fingerprint FROM request_readers WHERE request_id = ? AND stanza_format = 1
           UNION
           SELECT mr.fingerprint FROM message_readers mr JOIN messages m ON m.id = mr.message_id
            WHERE m.request_id = ? AND mr.stanza_format = 1""",
        (request_id, request_id)).fetchall()
    return {str(row[0]) for row in found}


def volunteer_readers(conn: Connection, request_id: int, *, active_only: bool = False) -> set[int]:
    """Volunteers holding a stanza for a request; with ``active_only``, the vetted ones."""
    rows = conn.execute(
        "SELECT rr.volunteer_id FROM request_readers rr JOIN volunteers v ON v.id = rr.volunteer_id"
        " WHERE rr.request_id = ? AND (? = 0 OR v.status = 'vetted')",
        (request_id, int(active_only)),
    ).fetchall()
    return {int(row[0]) for row in rows}


def request_needs(conn: Connection, request_id: int) -> tuple[set[str], set[str]]:
    skills = {r[0] for r in conn.execute(
        "SELECT skill FROM request_skills WHERE request_id = ?", (request_id,))}
    languages = {r[0] for r in conn.execute(
        "SELECT language FROM request_languages WHERE request_id = ?", (request_id,))}
    return skills, languages


def count_open_requests(conn: Connection, requester_id: int) -> int:
    row = conn.execute(
        "SELECT count(*) FROM requests WHERE requester_id = ? AND status = 'open'",
        (requester_id,),
    ).fetchone()
    return int(row[0])


def set_status(conn: Connection, request_id: int, status: str) -> None:
    conn.execute("UPDATE requests SET status = ?, updated_on = ? WHERE id = ?",
                 (status, today(), request_id))


def delete_request(conn: Connection, request_id: int) -> None:
    conn.execute("DELETE FROM requests WHERE id = ?", (request_id,))


def requests_with_v1_keys(conn: Connection, requester_id: int) -> list[RequestRef]:
    """A requester's requests whose own key has no ML-KEM half yet (version 1)."""
    return rows.many(RequestRef, conn.execute(
        "SELECT id, public_id, requester_key_version FROM requests"
        " WHERE requester_id = ? AND requester_key_version = 1", (requester_id,)))


# Messages -----------------------------------------------------------------

def create_message(conn: Connection, *, request_id: int, public_id: str, from_requester: bool,
                   author_volunteer_id: int | None, body: bytes,
                   stanzas: Mapping[str, bytes]) -> int:
    cursor = conn.execute(
        "INSERT INTO messages (public_id, request_id, author_volunteer_id, from_requester,"
        " seen_by_requester, created_on) VALUES (?, ?, ?, ?, ?, ?)",
        (public_id, request_id, author_volunteer_id, int(from_requester), int(from_requester),
         today()),
    )
    message_id = int(cursor.lastrowid)
    conn.execute("INSERT INTO message_bodies (message_id, body) VALUES (?, ?)", (message_id, body))
    add_message_readers(conn, message_id, stanzas)
    conn.execute("UPDATE requests SET updated_on = ? WHERE id = ?", (today(), request_id))
    if from_requester:
        _count_sent(conn, request_id)
    return message_id


def _count_sent(conn: Connection, request_id: int) -> None:
    """Adds one to the requester's messages sent today, in the message's own
    transaction; other days' counts go (a counter, not a history)."""
    day = today()
    conn.execute("DELETE FROM requester_sent WHERE day <> ?", (day,))
    conn.execute(
        """INSERT INTO requester_sent (requester_id, day, messages)
           SELECT requester_id, ?, 1 FROM requests WHERE id = ?
           ON CONFLICT (requester_id, day) DO UPDATE SET messages = messages + 1""",
        (day, request_id))


def add_message_readers(conn: Connection, message_id: int, stanzas: Mapping[str, bytes]) -> None:
    """Stores stanzas of a message, each tied to its volunteer (as the request's
    readers say) so that it goes when the volunteer does; a present reader's
    stanza is replaced only by one of a newer format."""
    conn.executemany(_UPSERT_MESSAGE_READER, [
        (message_id, fp, stanza, stanza_format(stanza), message_id, fp)
        for fp, stanza in stanzas.items()])


def thread_of(conn: Connection, request_id: int, fingerprint: str, *, offset: int = 0,
              limit: int | None = None) -> list[ThreadRow]:
    """A request's messages in order, each with this reader's stanza and its
    body; ``limit`` of them from the ``offset``-th on (all when ``None``)."""
    return rows.many(ThreadRow, conn.execute(
        f"""SELECT m.id, m.public_id, m.from_requester, m.created_on, v.handle AS author,
                  mr.stanza, mb.body
             FROM messages m
             JOIN message_bodies mb ON mb.message_id = m.id
             LEFT JOIN message_readers mr ON mr.message_id = m.id AND mr.fingerprint = ?
             LEFT JOIN volunteers v ON v.id = m.author_volunteer_id
            WHERE m.request_id = ?
            ORDER BY m.id
            {rows.PAGE}""",  # noqa: S608  (fixed text)
        (fingerprint, request_id, -1 if limit is None else limit, offset),
    ))


def message_count(conn: Connection, request_id: int) -> int:
    """How many messages a request's thread holds."""
    row = conn.execute("SELECT COUNT(*) FROM messages WHERE request_id = ?",
                       (request_id,)).fetchone()
    return int(row[0])


def message_ids(conn: Connection, request_id: int) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in conn.execute(
        "SELECT id, public_id FROM messages WHERE request_id = ? ORDER BY id", (request_id,))]


def message_stanza(conn: Connection, message_id: int, fingerprint: str) -> bytes | None:
    row = conn.execute(
        "SELECT stanza FROM message_readers WHERE message_id = ? AND fingerprint = ?",
        (message_id, fingerprint),
    ).fetchone()
    return None if row is None else bytes(row["stanza"])


def message_exists(conn: Connection, public_id: str) -> bool:
    """Whether a message with this public id is stored (an upload seen before)."""
    return conn.execute("SELECT 1 FROM messages WHERE public_id = ?",
                        (public_id,)).fetchone() is not None


def mark_seen_by_requester(conn: Connection, request_id: int) -> None:
    conn.execute(
        "UPDATE messages SET seen_by_requester = 1 WHERE request_id = ? AND seen_by_requester = 0",
        (request_id,),
    )


def requester_messages_today(conn: Connection, requester_id: int) -> int:
    """Messages this requester sent today, deleted ones included: deleting a
    request must not give back the day's allowance."""
    row = conn.execute("SELECT messages FROM requester_sent WHERE requester_id = ? AND day = ?",
                       (requester_id, today())).fetchone()
    return 0 if row is None else int(row[0])
