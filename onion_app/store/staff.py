"""SQL for volunteer accounts, operators, flags and the audit log.

Metadata only: nothing here ever touches a request's body or stanza. The
caller commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlcipher3

from onion_app.errors import HandleTaken, KeyTaken
from onion_app.store import rows
from onion_app.store.connection import Connection
from onion_app.store.requests import new_public_id, today
from onion_app.store.rows import AuditLine, Referral, Volunteer


@dataclass(frozen=True)
class Application:
    """What someone who applies to volunteer gives."""

    handle: str
    public_key: bytes
    wrapped_key: bytes | None
    passphrase_hash: bytes
    skills: frozenset[str]
    languages: frozenset[str]
    availability: str
    bio: str
    references: str
    # Required, not defaulted: a caller that forgot it would quietly store a
    # hybrid volunteer as X25519-only, and everything sealed to them would be.
    mlkem_public_key: bytes | None
    # The handle's TR39 skeleton (domain.handles.skeleton), stored under a
    # UNIQUE index so two look-alike applications cannot both get in.
    handle_skeleton: str
    # Offers to triage: read requests nobody else matches and pass them on.
    triage: bool = False


_VOLUNTEER = """
    v.id, v.public_id, v.handle, v.public_key, v.wrapped_key, v.passphrase_hash, v.status,
    v.available, v.totp_secret, v.totp_confirmed, v.is_operator, v.availability, v.bio,
    v.references_text, v.vetting_note, v.created_on, v.last_active_on, v.mlkem_public_key,
    v.triage,
    (SELECT group_concat(skill) FROM volunteer_skills s WHERE s.volunteer_id = v.id) AS skills,
    (SELECT group_concat(language) FROM volunteer_languages l
      WHERE l.volunteer_id = v.id) AS languages
"""


def create_volunteer(conn: Connection, application: Application, *, status: str = "applied",
                     is_operator: bool = False) -> int:
    """Stores a new account. :returns: its id

    :raises HandleTaken: if the handle or its skeleton is some account's
    :raises KeyTaken: if the public key is a volunteer's or a requester's
    """
    day = today()
    try:
        cursor = conn.execute(
            "INSERT INTO volunteers (public_id, handle, handle_skeleton, public_key, wrapped_key,"
            " passphrase_hash, status, is_operator, availability, bio, references_text,"
            " created_on, last_active_on, mlkem_public_key, triage)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new_public_id(), application.handle, application.handle_skeleton,
             application.public_key, application.wrapped_key, application.passphrase_hash,
             status, int(is_operator), application.availability, application.bio,
             application.references, day, day, application.mlkem_public_key,
             int(application.triage)),
        )
    except sqlcipher3.IntegrityError as exc:
        # The trigger of migration 0006 names the key; UNIQUE failures name a column.
        if "public key" in str(exc):
            raise KeyTaken("that public key belongs to another account") from None
        raise HandleTaken("that handle, or one that looks like it, is taken") from None
    volunteer_id = int(cursor.lastrowid)
    set_skills(conn, volunteer_id, application.skills, application.languages)
    return volunteer_id


def set_skills(conn: Connection, volunteer_id: int, skills: Iterable[str],
               languages: Iterable[str]) -> None:
    conn.execute("DELETE FROM volunteer_skills WHERE volunteer_id = ?", (volunteer_id,))
    conn.execute("DELETE FROM volunteer_languages WHERE volunteer_id = ?", (volunteer_id,))
    conn.executemany("INSERT INTO volunteer_skills (volunteer_id, skill) VALUES (?, ?)",
                     [(volunteer_id, s) for s in sorted(set(skills))])
    conn.executemany("INSERT INTO volunteer_languages (volunteer_id, language) VALUES (?, ?)",
                     [(volunteer_id, lang) for lang in sorted(set(languages))])


def skeleton_taken(conn: Connection, skeleton: str) -> bool:
    return conn.execute("SELECT 1 FROM volunteers WHERE handle_skeleton = ?",
                        (skeleton,)).fetchone() is not None


def handles_without_skeleton(conn: Connection) -> list[str]:
    """Handles of accounts made before skeletons were stored (migration 0006)."""
    return [str(row[0]) for row in conn.execute(
        "SELECT handle FROM volunteers WHERE handle_skeleton IS NULL")]


def key_in_use(conn: Connection, public_key: bytes, fingerprint: str) -> bool:
    """Whether a volunteer or a requester holds this key.

    Requesters' keys are looked up both in ``requesters`` and by fingerprint in
    the reader rows that belong to no volunteer, which also covers keys that
    exist only per request.
    """
    return bool(conn.execute(
        "SELECT EXISTS (SELECT 1 FROM volunteers WHERE public_key = ?)"
        " OR EXISTS (SELECT 1 FROM requesters WHERE public_key = ?)"
        " OR EXISTS (SELECT 1 FROM request_readers"
        "             WHERE fingerprint = ? AND volunteer_id IS NULL)",
        (public_key, public_key, fingerprint)).fetchone()[0])


def by_handle(conn: Connection, handle: str) -> Volunteer | None:
    return rows.one(Volunteer, conn.execute(
        f"SELECT {_VOLUNTEER} FROM volunteers v WHERE v.handle = ?",  # noqa: S608  (fixed text)
        (handle,)).fetchone())


def by_id(conn: Connection, volunteer_id: int) -> Volunteer | None:
    return rows.one(Volunteer, conn.execute(
        f"SELECT {_VOLUNTEER} FROM volunteers v WHERE v.id = ?",  # noqa: S608  (fixed text)
        (volunteer_id,)).fetchone())


def by_public_id(conn: Connection, public_id: str) -> Volunteer | None:
    return rows.one(Volunteer, conn.execute(
        f"SELECT {_VOLUNTEER} FROM volunteers v WHERE v.public_id = ?",  # noqa: S608  (fixed text)
        (public_id,)).fetchone())


def operator_exists(conn: Connection) -> bool:
    """Whether any vetted operator account exists (a new Haven has none)."""
    return conn.execute("SELECT 1 FROM volunteers WHERE is_operator = 1 AND status = 'vetted'"
                        " LIMIT 1").fetchone() is not None


def listing(conn: Connection, status: str | None = None, *, offset: int = 0,
            limit: int = -1) -> list[Volunteer]:
    """Every account by handle, or those of one ``status`` oldest first; ``limit``
    of them (-1: all) from ``offset``, for a page."""
    if status is None:
        return rows.many(Volunteer, conn.execute(
            f"SELECT {_VOLUNTEER} FROM volunteers v ORDER BY v.handle {rows.PAGE}",  # noqa: S608
            (limit, offset)))
    return rows.many(Volunteer, conn.execute(
        f"SELECT {_VOLUNTEER} FROM volunteers v WHERE v.status = ? ORDER BY v.id"  # noqa: S608
        f" {rows.PAGE}", (status, limit, offset)))


def count(conn: Connection, status: str | None = None) -> int:
    """How many accounts there are (of one ``status``)."""
    if status is None:
        return int(conn.execute("SELECT count(*) FROM volunteers").fetchone()[0])
    return int(conn.execute("SELECT count(*) FROM volunteers WHERE status = ?",
                            (status,)).fetchone()[0])


def update(conn: Connection, volunteer_id: int, **fields: Any) -> None:
    """Sets columns of one volunteer; names come from code, never from input."""
    allowed = {"status", "available", "totp_secret", "totp_confirmed", "is_operator",
               "wrapped_key", "passphrase_hash", "vetting_note", "last_active_on",
               "mlkem_public_key", "triage"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a settable volunteer column: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(f"UPDATE volunteers SET {assignments} WHERE id = ?",  # noqa: S608  (allow-listed names)
                 (*fields.values(), volunteer_id))


def delete_volunteer(conn: Connection, volunteer_id: int) -> None:
    """Deletes a volunteer: their request and message stanzas go, and their
    audit token, so the log no longer names them (all by cascade); their
    claims reopen."""
    conn.execute("UPDATE requests SET claimed_by = NULL WHERE claimed_by = ?", (volunteer_id,))
    conn.execute("DELETE FROM volunteers WHERE id = ?", (volunteer_id,))


def referral_candidates(conn: Connection, request_id: int, *,
                        any_skill: bool = False) -> list[Referral]:
    """Who a request may be referred to: vetted, available volunteers who share a
    skill and a language with it and do not read it yet (matching's own rule);
    with ``any_skill`` (a triage reader referring), a language is enough."""
    return rows.many(Referral, conn.execute(
        """SELECT v.public_id, v.handle FROM volunteers v
            WHERE v.status = 'vetted' AND v.available = 1
              AND (? OR v.id IN (SELECT vs.volunteer_id FROM volunteer_skills vs
                                  JOIN request_skills rs ON rs.skill = vs.skill
                                 WHERE rs.request_id = ?))
              AND v.id IN (SELECT vl.volunteer_id FROM volunteer_languages vl
                            JOIN request_languages rl ON rl.language = vl.language
                           WHERE rl.request_id = ?)
              AND v.id NOT IN (SELECT volunteer_id FROM request_readers
                                WHERE request_id = ? AND volunteer_id IS NOT NULL)
            ORDER BY v.handle""",
        (int(any_skill), request_id, request_id, request_id),
    ))


# Flags and the audit log ----------------------------------------------------

def flag(conn: Connection, request_id: int, volunteer_id: int, reason: str) -> None:
    conn.execute("INSERT INTO request_flags (request_id, volunteer_id, reason, created_on)"
                 " VALUES (?, ?, ?, ?)", (request_id, volunteer_id, reason, today()))


# Who may appear in the audit log by name rather than by a volunteer's token.
MACHINE_ACTORS = frozenset({"system", "cli"})


def audit(conn: Connection, actor: int | str, action: str, detail: str = "", *,
          volunteer: int | None = None, request: int | None = None) -> None:
    """Appends one line to the audit log: who, what, to which volunteer or
    request, the day.

    Volunteers and requests are named by their audit token (made on first
    use), which goes with them: once deleted, the line names nobody.

    :param actor: a volunteer's id, or ``"system"`` or ``"cli"``
    :param detail: never a person or a request (a device name, a count)
    :raises ValueError: if ``actor`` is any other text (a handle, say)
    """
    if isinstance(actor, str) and actor not in MACHINE_ACTORS:
        raise ValueError("a volunteer is named in the audit log by id, never by text")
    who = actor if isinstance(actor, str) else _token(conn, "volunteer_id", actor)
    conn.execute(
        "INSERT INTO audit_log (day, actor, action, volunteer, request, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (today(), who, action,
         None if volunteer is None else _token(conn, "volunteer_id", volunteer),
         None if request is None else _token(conn, "request_id", request), detail))


def _token(conn: Connection, column: str, row_id: int) -> str:
    """The audit token of one volunteer or request, made if it has none yet."""
    where = {"volunteer_id": "volunteer_id = ?", "request_id": "request_id = ?"}[column]
    found = conn.execute(f"SELECT token FROM audit_subjects WHERE {where}",  # noqa: S608  (fixed names)
                         (row_id,)).fetchone()
    if found is not None:
        return str(found[0])
    token = secrets.token_hex(16)
    conn.execute(f"INSERT INTO audit_subjects (token, {column}) VALUES (?, ?)",  # noqa: S608
                 (token, row_id))
    return token


def audit_lines(conn: Connection, limit: int, offset: int) -> list[AuditLine]:
    """The log, newest first, with tokens turned back into handles and request
    ids where their volunteer or request still exists (in English, as the
    log is kept: "a deleted volunteer" where one is gone)."""
    found = conn.execute(
        """SELECT l.day, l.action, l.detail,
                  CASE WHEN l.actor IN ('system', 'cli') THEN l.actor END AS machine,
                  av.handle AS actor_handle,
                  l.volunteer IS NOT NULL AS names_volunteer, ov.handle AS volunteer_handle,
                  l.request IS NOT NULL AS names_request, r.public_id AS request_public_id
             FROM audit_log l
             LEFT JOIN audit_subjects sa ON sa.token = l.actor
             LEFT JOIN volunteers av ON av.id = sa.volunteer_id
             LEFT JOIN audit_subjects sv ON sv.token = l.volunteer
             LEFT JOIN volunteers ov ON ov.id = sv.volunteer_id
             LEFT JOIN audit_subjects sr ON sr.token = l.request
             LEFT JOIN requests r ON r.id = sr.request_id
            ORDER BY l.id DESC """ + rows.PAGE,  # noqa: S608  (fixed text)
        (limit, offset)).fetchall()
    return [_line(row) for row in found]


def _line(row: Any) -> AuditLine:
    actor = row["machine"] or row["actor_handle"] or DELETED_VOLUNTEER
    parts = []
    if row["names_request"]:
        public_id = row["request_public_id"]
        parts.append(f"request {public_id}" if public_id else DELETED_REQUEST)
    if row["names_volunteer"]:
        handle = row["volunteer_handle"]
        parts.append(f"volunteer {handle}" if handle else DELETED_VOLUNTEER)
    if row["detail"]:
        parts.append(str(row["detail"]))
    return AuditLine(str(row["day"]), str(actor), str(row["action"]), ", ".join(parts))


DELETED_VOLUNTEER = "a deleted volunteer"
DELETED_REQUEST = "a deleted request"
