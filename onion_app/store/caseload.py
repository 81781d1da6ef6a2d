"""SQL for the requests a volunteer reads: their dashboard and their actions.

The dashboard lists a volunteer's requests urgent first (open and at risk of
life or liberty, then open and urgent), then newest. It is one query over
metadata tables walking an index in that very order: ``request_readers
(volunteer_id, priority DESC, request_id DESC)`` of migration 0012, or, for
a skill filter, the table ``reader_skills`` of migration 0017, keyed the same
way after the skill. Pages are keyset pages: a page starts after (or ends
before) a row's (priority, request id), which the index seeks, so the last
page costs what the first does; and the total is counted up to
:data:`COUNT_LIMIT` only. So a page reads about 20 rows whether the volunteer
reads a hundred requests or twenty thousand. The bodies and stanzas of the
one page shown are then fetched in a single query. No query per row.

The status filter "mine" starts from the few requests the volunteer helps
with; "resolved" and "closed", which may match few, walk an index of the
rows of ended requests (migration 0018). "open" and "unclaimed" read each
row's request, and match most rows. A skill and a status together walk the
skill's rows and read each one's request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from onion_app.store import rows
from onion_app.store.connection import Connection
from onion_app.store.requests import today
from onion_app.store.rows import RequestRow

# Twenty fit a phone's list and keep a full page under 10 KB of HTML.
PAGE_SIZE = 20
# The count stops past this many: "more than 1,000" tells a volunteer as much
# as the exact figure would, and counting costs the same at any size.
COUNT_LIMIT = 1_000

STATUS_FILTERS = ("open", "mine", "unclaimed", "resolved", "closed")
# The statuses a request ends in, which its reader rows carry (migration 0018).
ENDED = ("resolved", "closed")

# A public id is token_urlsafe(16); the pattern allows what it may become.
_ANCHOR = re.compile(r"([012])\.([A-Za-z0-9_-]{1,64})")


@dataclass(frozen=True)
class Anchor:
    """The row a page starts after or ends before: its priority then and its
    request's public id. Never the row id, which would tell how many
    requests Haven holds."""

    priority: int
    public_id: str

    def __str__(self) -> str:
        return f"{self.priority}.{self.public_id}"

    @classmethod
    def parse(cls, text: str | None) -> Anchor | None:
        """An anchor as :meth:`__str__` writes it; None for anything else."""
        found = _ANCHOR.fullmatch(text or "")
        return None if found is None else cls(int(found[1]), found[2])

    @classmethod
    def of(cls, row: RequestRow) -> Anchor:
        return cls(row.priority, row.public_id)


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a skill, a status, and which page: the
    newest (no anchor), the one after or before an anchor, or the oldest."""

    skill: str | None = None
    status: str | None = None
    after: Anchor | None = None
    before: Anchor | None = None
    oldest: bool = False


@dataclass(frozen=True)
class Dashboard:
    """One page of the dashboard.

    ``total`` is exact up to :data:`COUNT_LIMIT`; past it, ``COUNT_LIMIT + 1``
    (see :attr:`more`). ``newer`` and ``older`` anchor the pages either side,
    None where there is none.
    """

    rows: list[RequestRow]
    total: int
    newer: Anchor | None
    older: Anchor | None

    @property
    def more(self) -> bool:
        """Whether there are more than :data:`COUNT_LIMIT` (``total`` is not exact)."""
        return self.total > COUNT_LIMIT


_COLUMNS = """
    r.id, r.public_id, r.status, r.urgency, r.region, r.claimed_by, r.created_on, r.updated_on,
    rr.for_triage, rr.priority,
    (SELECT group_concat(skill) FROM request_skills s WHERE s.request_id = r.id) AS skills,
    (SELECT group_concat(language) FROM request_languages l
      WHERE l.request_id = r.id) AS languages,
    (SELECT handle FROM volunteers c WHERE c.id = r.claimed_by) AS claimed_handle,
    (SELECT count(*) FROM messages m
      WHERE m.request_id = r.id
        AND m.id > coalesce((SELECT last_message_id FROM volunteer_seen vs
                              WHERE vs.volunteer_id = rr.volunteer_id
                                AND vs.request_id = r.id), 0)
        AND coalesce(m.author_volunteer_id, 0) != rr.volunteer_id) AS unread,
    EXISTS (SELECT 1 FROM volunteer_seen vo
             WHERE vo.volunteer_id = rr.volunteer_id AND vo.request_id = r.id) AS opened
"""


@dataclass(frozen=True)
class _Query:
    """The rows a filter selects: FROM and WHERE, and the alias of the table
    whose (priority, request_id) give the order, on an index."""

    source: str
    where: list[str]
    params: list[Any]
    key: str
    # What a keyset compares: the key's (priority, request_id) by default.
    position: str = ""

    def keyset(self, compare: str) -> str:
        columns = self.position or f"({self.key}.priority, {self.key}.request_id)"
        return f"{columns} {compare} (?, ?)"

    def sql(self, extra: str = "") -> str:
        clauses = " AND ".join([*self.where, extra] if extra else self.where)
        return f"{self.source} WHERE {clauses}"


def _query(volunteer_id: int, filters: Filters, *, joined: bool = True) -> _Query:
    """The selection; ``joined=False`` leaves out the tables only the shown
    columns and a status filter need (for the count)."""
    if filters.status == "mine":
        # The requests a volunteer is helping with are few, and an index of
        # requests by claim and status finds them: start there (CROSS JOIN
        # keeps that order) and sort those few, rather than walk every row.
        # Each one's reader row is then found by (volunteer, request): named
        # here, since the planner, which knows no sizes, might walk the
        # volunteer's rows on the dashboard's index for each; the keyset
        # compares r.id and +rr.priority (the "+" keeps it off an index).
        query = _Query("FROM requests r CROSS JOIN request_readers rr"
                       " INDEXED BY request_readers_by_volunteer",
                       ["r.claimed_by = ?", "r.status = 'open'", "rr.request_id = r.id",
                        "rr.volunteer_id = ?"], [volunteer_id, volunteer_id], "rr",
                       "(+rr.priority, r.id)")
        if filters.skill:
            query.where.append("EXISTS (SELECT 1 FROM request_skills fs"
                               " WHERE fs.request_id = r.id AND fs.skill = ?)")
            query.params.append(filters.skill)
        return query
    if filters.status in ENDED and not filters.skill:
        # Few of a volunteer's requests have ended: the rows of ended ones
        # are on an index of their own, in display order (migration 0018).
        source = "FROM request_readers rr INDEXED BY request_readers_ended"
        if joined:
            source += " JOIN requests r ON r.id = rr.request_id"
        return _Query(source, ["rr.volunteer_id = ?", "rr.ended = ?"],
                      [volunteer_id, filters.status], "rr")
    if filters.skill:
        source = "FROM reader_skills k"
        if joined or filters.status in STATUS_FILTERS:
            source += (" JOIN request_readers rr"
                       " ON rr.volunteer_id = k.volunteer_id AND rr.request_id = k.request_id"
                       " JOIN requests r ON r.id = k.request_id")
        query = _Query(source, ["k.volunteer_id = ?", "k.skill = ?"],
                       [volunteer_id, filters.skill], "k")
    else:
        source = "FROM request_readers rr"
        if joined or filters.status in STATUS_FILTERS:
            source += " JOIN requests r ON r.id = rr.request_id"
        query = _Query(source, ["rr.volunteer_id = ?"], [volunteer_id], "rr")
    if filters.status == "unclaimed":
        query.where.append("r.claimed_by IS NULL AND r.status = 'open'")
    elif filters.status in ("open", "resolved", "closed"):
        query.where.append("r.status = ?")
        query.params.append(filters.status)
    return query


def count(conn: Connection, volunteer_id: int, filters: Filters) -> int:
    """How many requests the filters select, counted up to ``COUNT_LIMIT + 1``."""
    query = _query(volunteer_id, filters, joined=False)
    return int(conn.execute(
        f"SELECT count(*) FROM (SELECT 1 {query.sql()} LIMIT {COUNT_LIMIT + 1})",  # noqa: S608  (fixed text)
        query.params).fetchone()[0])


def _position(conn: Connection, volunteer_id: int, anchor: Anchor | None) -> tuple[int, int] | None:
    """An anchor's (priority, request id), if it names a request this volunteer reads."""
    if anchor is None:
        return None
    found = conn.execute(
        "SELECT rr.request_id FROM requests r JOIN request_readers rr ON rr.request_id = r.id"
        " WHERE r.public_id = ? AND rr.volunteer_id = ?",
        (anchor.public_id, volunteer_id)).fetchone()
    return None if found is None else (anchor.priority, int(found[0]))


def _walk(conn: Connection, query: _Query, *, newest_first: bool,
          beyond: tuple[int, int] | None) -> list[RequestRow]:
    """Up to ``PAGE_SIZE + 1`` rows in display order (or its reverse), from
    just beyond a position on; the extra row tells whether there are more."""
    order, compare = ("DESC", "<") if newest_first else ("ASC", ">")
    extra, params = "", list(query.params)
    if beyond is not None:
        extra = query.keyset(compare)
        params.extend(beyond)
    return rows.many(RequestRow, conn.execute(
        f"SELECT {_COLUMNS} {query.sql(extra)}"
        f" ORDER BY {query.key}.priority {order}, {query.key}.request_id {order}"
        f" LIMIT {PAGE_SIZE + 1}", params))


def dashboard(conn: Connection, volunteer_id: int, filters: Filters) -> Dashboard:
    """One page of the requests sealed to a volunteer, urgent first, then
    newest: the newest page, the one after or before an anchor (the newest
    page when the anchor is not one of theirs), or the oldest."""
    query = _query(volunteer_id, filters)
    total = count(conn, volunteer_id, filters)
    after = _position(conn, volunteer_id, filters.after)
    before = None if after else _position(conn, volunteer_id, filters.before)
    if before is not None or (filters.oldest and after is None):
        found = _walk(conn, query, newest_first=False, beyond=before)
        # Fewer than a page before the anchor: the newest page is the page.
        if len(found) > PAGE_SIZE or (filters.oldest and before is None):
            shown = found[:PAGE_SIZE][::-1]
            newer = Anchor.of(shown[0]) if len(found) > PAGE_SIZE else None
            older = Anchor.of(shown[-1]) if before is not None else None
            return Dashboard(shown, total, newer, older)
    found = _walk(conn, query, newest_first=True, beyond=after)
    shown = found[:PAGE_SIZE]
    older = Anchor.of(shown[-1]) if len(found) > PAGE_SIZE else None
    newer = None
    if after is not None:
        # Nothing after the anchor any more: "newer" still leads back.
        newer = Anchor.of(shown[0]) if shown else filters.after
    return Dashboard(shown, total, newer, older)


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
