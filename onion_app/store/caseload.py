"""SQL for the requests a volunteer reads: their dashboard and their actions.

The dashboard lists a volunteer's requests urgent first (open and at risk of
life or liberty, then open and urgent), then newest. It is one query over
metadata tables walking the index ``request_readers (volunteer_id, priority
DESC, request_id DESC)`` of migration 0012 in that very order, so page 1 reads
25 rows whether the volunteer reads a hundred requests or twenty thousand;
the total, when no filter needs the requests table, is counted on that index
alone. The bodies and stanzas of the one page shown are then fetched in a
single query. No query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onion_app.store import rows
from onion_app.store.connection import Connection
from onion_app.store.requests import today
from onion_app.store.rows import RequestRow

PAGE_SIZE = 25

STATUS_FILTERS = ("open", "mine", "unclaimed", "resolved", "closed")


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a skill, a status, a page."""

    skill: str | None = None
    status: str | None = None
    page: int = 1


_COLUMNS = """
    r.id, r.public_id, r.status, r.urgency, r.region, r.claimed_by, r.created_on, r.updated_on,
    (SELECT group_concat(skill) FROM request_skills s WHERE s.request_id = r.id) AS skills,
    (SELECT group_concat(language) FROM request_languages l
      WHERE l.request_id = r.id) AS languages,
    (SELECT handle FROM volunteers c WHERE c.id = r.claimed_by) AS claimed_handle,
    (SELECT count(*) FROM messages m
      WHERE m.request_id = r.id
        AND m.id > coalesce((SELECT last_message_id FROM volunteer_seen vs
                              WHERE vs.volunteer_id = rr.volunteer_id
                                AND vs.request_id = r.id), 0)
        AND coalesce(m.author_volunteer_id, 0) != rr.volunteer_id) AS unread
"""


def _needs_requests(filters: Filters) -> bool:
    """Whether a filter reads the requests table (else the count need not join)."""
    return bool(filters.skill) or filters.status in STATUS_FILTERS


def _where(volunteer_id: int, filters: Filters) -> tuple[str, list[Any]]:
    clauses = ["rr.volunteer_id = ?"]
    params: list[Any] = [volunteer_id]
    if filters.status == "mine":
        clauses.append("r.claimed_by = ? AND r.status = 'open'")
        params.append(volunteer_id)
    elif filters.status == "unclaimed":
        clauses.append("r.claimed_by IS NULL AND r.status = 'open'")
    elif filters.status in ("open", "resolved", "closed"):
        clauses.append("r.status = ?")
        params.append(filters.status)
    if filters.skill:
        clauses.append("EXISTS (SELECT 1 FROM request_skills fs"
                       " WHERE fs.request_id = r.id AND fs.skill = ?)")
        params.append(filters.skill)
    return " AND ".join(clauses), params


def dashboard(conn: Connection, volunteer_id: int,
              filters: Filters) -> tuple[list[RequestRow], int]:
    """One page of the requests sealed to a volunteer, urgent first, then
    newest, and the total."""
    where, params = _where(volunteer_id, filters)
    base = "FROM request_readers rr JOIN requests r ON r.id = rr.request_id WHERE " + where
    if _needs_requests(filters):
        total = int(conn.execute(f"SELECT count(*) {base}", params).fetchone()[0])
    else:
        total = int(conn.execute("SELECT count(*) FROM request_readers WHERE volunteer_id = ?",
                                 (volunteer_id,)).fetchone()[0])
    offset = (max(filters.page, 1) - 1) * PAGE_SIZE
    found = rows.many(RequestRow, conn.execute(
        f"SELECT {_COLUMNS} {base} ORDER BY rr.priority DESC, rr.request_id DESC"
        " LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE, offset],
    ))
    return found, total


def sealed_for(conn: Connection, volunteer_id: int,
               request_ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
    """Bodies and this volunteer's stanzas for a page of requests, in one query."""
    if not request_ids:
        return {}
    marks = ",".join("?" * len(request_ids))
    found = conn.execute(
        f"""SELECT b.request_id, b.body, rr.stanza FROM request_bodies b
              JOIN request_readers rr ON rr.request_id = b.request_id AND rr.volunteer_id = ?
             WHERE b.request_id IN ({marks})""",  # noqa: S608  (placeholders only)
        [volunteer_id, *request_ids],
    ).fetchall()
    return {int(r[0]): (bytes(r[1]), bytes(r[2])) for r in found}


def request_for(conn: Connection, volunteer_id: int, public_id: str) -> RequestRow | None:
    """A request this volunteer reads; None otherwise (so: 404)."""
    return rows.one(RequestRow, conn.execute(
        f"""SELECT {_COLUMNS} FROM request_readers rr JOIN requests r ON r.id = rr.request_id
             WHERE r.public_id = ? AND rr.volunteer_id = ?""",  # noqa: S608  (fixed text)
        (public_id, volunteer_id),
    ).fetchone())


def mark_seen(conn: Connection, volunteer_id: int, request_id: int) -> None:
    conn.execute(
        """INSERT INTO volunteer_seen (volunteer_id, request_id, last_message_id)
           SELECT ?, ?, coalesce(max(id), 0) FROM messages WHERE request_id = ?
           ON CONFLICT (volunteer_id, request_id)
           DO UPDATE SET last_message_id = excluded.last_message_id""",
        (volunteer_id, request_id, request_id),
    )


def claim(conn: Connection, request_id: int, volunteer_id: int) -> bool:
    """Claims an open, unclaimed request. :returns: whether this call claimed it"""
    cursor = conn.execute(
        "UPDATE requests SET claimed_by = ?, updated_on = ?"
        " WHERE id = ? AND claimed_by IS NULL AND status = 'open'",
        (volunteer_id, today(), request_id))
    return bool(cursor.rowcount)


def release(conn: Connection, request_id: int, volunteer_id: int) -> bool:
    cursor = conn.execute(
        "UPDATE requests SET claimed_by = NULL, updated_on = ? WHERE id = ? AND claimed_by = ?",
        (today(), request_id, volunteer_id))
    return bool(cursor.rowcount)


def resolve(conn: Connection, request_id: int) -> None:
    conn.execute("UPDATE requests SET status = 'resolved', updated_on = ?"
                 " WHERE id = ? AND status = 'open'", (today(), request_id))
