"""SQL for operators: request metadata, counts, and retention.

Operators see what matching and moderation need and nothing else: no query
here reads a body, a stanza, a title or a message.
"""

from __future__ import annotations

import dataclasses
import datetime
import time

from onion_app.store import rows
from onion_app.store.connection import Connection
from onion_app.store.rows import Count, Purged, RequestMetadata, RequestRef

PAGE_SIZE = 50


def requests_metadata(conn: Connection, *, flagged_only: bool, page: int,
                      page_size: int = PAGE_SIZE) -> tuple[list[RequestMetadata], int]:
    where = "WHERE EXISTS (SELECT 1 FROM request_flags f WHERE f.request_id = r.id)" \
        if flagged_only else ""
    total = int(conn.execute(f"SELECT count(*) FROM requests r {where}").fetchone()[0])  # noqa: S608
    found = rows.many(RequestMetadata, conn.execute(
        f"""SELECT r.id, r.public_id, r.status, r.urgency, r.created_on, r.updated_on,
                   (SELECT group_concat(skill) FROM request_skills s
                     WHERE s.request_id = r.id) AS skills,
                   (SELECT group_concat(language) FROM request_languages l
                     WHERE l.request_id = r.id) AS languages,
                   (SELECT count(*) FROM request_readers rr
                     WHERE rr.request_id = r.id AND rr.volunteer_id IS NOT NULL) AS readers,
                   (SELECT group_concat(reason) FROM request_flags f
                     WHERE f.request_id = r.id) AS flags
              FROM requests r {where} ORDER BY r.id DESC {rows.PAGE}""",  # noqa: S608
        (page_size, (max(page, 1) - 1) * page_size),
    ))
    return found, total


def request_by_public_id(conn: Connection, public_id: str) -> RequestRef | None:
    return rows.one(RequestRef, conn.execute(
        "SELECT id, public_id FROM requests WHERE public_id = ?", (public_id,)).fetchone())


def is_flagged(conn: Connection, request_id: int) -> bool:
    return conn.execute("SELECT 1 FROM request_flags WHERE request_id = ?",
                        (request_id,)).fetchone() is not None


def counts(conn: Connection) -> dict[str, list[Count]]:
    """The numbers an operator watches: never content, never a person."""
    queries = {
        "by_skill": """SELECT skill AS name, count(*) AS n FROM request_skills
                        GROUP BY skill ORDER BY n DESC""",
        "by_language": """SELECT language AS name, count(*) AS n FROM request_languages
                           GROUP BY language ORDER BY n DESC""",
        "by_status": """SELECT status AS name, count(*) AS n FROM requests
                         GROUP BY status ORDER BY n DESC""",
        "by_week": """SELECT strftime('%Y-W%W', created_on) AS name, count(*) AS n
                       FROM requests GROUP BY name ORDER BY name DESC LIMIT 12""",
        "unmatched_by_skill": """
            SELECT s.skill AS name, count(*) AS n FROM request_skills s
              JOIN requests r ON r.id = s.request_id
             WHERE r.status = 'open'
               AND NOT EXISTS (SELECT 1 FROM request_readers rr
                                WHERE rr.request_id = r.id AND rr.volunteer_id IS NOT NULL)
             GROUP BY s.skill ORDER BY n DESC""",
        "volunteers_by_status": """SELECT status AS name, count(*) AS n FROM volunteers
                                    GROUP BY status ORDER BY n DESC""",
        # How far the move to hybrid stanzas has come: readers still sealed to
        # with X25519 alone, and the stored stanzas by format (the format
        # column, not the blobs, is what is read).
        "key_formats": """
            SELECT 'volunteers_v1' AS name, count(*) AS n FROM volunteers
             WHERE status = 'vetted' AND mlkem_public_key IS NULL
            UNION ALL
            SELECT 'requests_v1', count(*) FROM requests
             WHERE requester_mlkem_key IS NULL AND status = 'open'
            UNION ALL
            SELECT 'request_stanzas_v' || stanza_format, count(*) FROM request_readers
             GROUP BY stanza_format
            UNION ALL
            SELECT 'message_stanzas_v' || stanza_format, count(*) FROM message_readers
             GROUP BY stanza_format""",
    }
    return {name: rows.many(Count, conn.execute(sql)) for name, sql in queries.items()}


# Long maintenance must never hold the write lock for seconds: a visitor's
# write waits at most the busy timeout for it. Purges delete, and compaction
# gives pages back, in small steps, each its own short transaction, with a
# pause between for a waiting writer to take the lock.
PURGE_BATCH = 100
COMPACT_STEP_PAGES = 256
_PAUSE_SECONDS = 0.005
_INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL


@dataclasses.dataclass(frozen=True)
class Gap:
    """One skill in one language: open requests asking for it, and active
    vetted volunteers offering it."""

    skill: str
    language: str
    demand: int
    supply: int


@dataclasses.dataclass(frozen=True)
class SupplyAndDemand:
    """Whom to recruit, by metadata only: counts, never content or a requester."""

    unread: int        # open requests that nobody but their requester can read
    waiting: int       # open requests unclaimed for more than ``days`` days
    days: int
    gaps: list[Gap]    # every skill and language asked for or offered, worst first


def supply_and_demand(conn: Connection, today: datetime.date, days: int) -> SupplyAndDemand:
    """The operator's supply-and-demand view (issue 13).

    :param days: how long unclaimed counts as waiting
    """
    unread = conn.execute(
        """SELECT count(*) FROM requests r WHERE r.status = 'open'
              AND NOT EXISTS (SELECT 1 FROM request_readers rr
                               WHERE rr.request_id = r.id AND rr.volunteer_id IS NOT NULL)"""
    ).fetchone()[0]
    cutoff = (today - datetime.timedelta(days=days)).isoformat()
    waiting = conn.execute(
        "SELECT count(*) FROM requests WHERE status = 'open' AND claimed_by IS NULL"
        " AND created_on < ?", (cutoff,)).fetchone()[0]
    found = conn.execute(
        """WITH demand AS (
               SELECT s.skill, l.language, count(*) AS n FROM requests r
                 JOIN request_skills s ON s.request_id = r.id
                 JOIN request_languages l ON l.request_id = r.id
                WHERE r.status = 'open' GROUP BY s.skill, l.language),
           supply AS (
               SELECT s.skill, l.language, count(*) AS n FROM volunteers v
                 JOIN volunteer_skills s ON s.volunteer_id = v.id
                 JOIN volunteer_languages l ON l.volunteer_id = v.id
                WHERE v.status = 'vetted' AND v.available = 1 GROUP BY s.skill, l.language),
           pairs AS (SELECT skill, language FROM demand UNION SELECT skill, language FROM supply)
           SELECT p.skill, p.language, coalesce(d.n, 0) AS demand, coalesce(u.n, 0) AS supply
             FROM pairs p
             LEFT JOIN demand d ON d.skill = p.skill AND d.language = p.language
             LEFT JOIN supply u ON u.skill = p.skill AND u.language = p.language
            ORDER BY coalesce(d.n, 0) - coalesce(u.n, 0) DESC, demand DESC, p.skill, p.language"""
    ).fetchall()
    return SupplyAndDemand(int(unread), int(waiting), days,
                           [Gap(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in found])


def purge_untouched(conn: Connection, days: int, today: datetime.date | None = None) -> Purged:
    """Deletes requests (and with them their threads) untouched for ``days`` days,
    in batches that each commit.

    :returns: how many requests were deleted, and which requesters went with them
    """
    cutoff = ((today or datetime.date.today()) - datetime.timedelta(days=days)).isoformat()
    purged = 0
    while True:
        cursor = conn.execute(
            "DELETE FROM requests WHERE id IN"
            " (SELECT id FROM requests WHERE updated_on < ? LIMIT ?)", (cutoff, PURGE_BATCH))
        conn.commit()
        purged += int(cursor.rowcount)
        if cursor.rowcount < PURGE_BATCH:
            break
        time.sleep(_PAUSE_SECONDS)
    # Requesters left with nothing keep nothing either: an empty account is
    # still a row saying someone once asked.
    gone: set[int] = set()
    while True:
        batch = conn.execute(
            "DELETE FROM requesters WHERE id IN (SELECT id FROM requesters WHERE created_on < ?"
            " AND id NOT IN (SELECT requester_id FROM requests) LIMIT ?) RETURNING id",
            (cutoff, PURGE_BATCH)).fetchall()
        conn.commit()
        gone.update(int(row[0]) for row in batch)
        if len(batch) < PURGE_BATCH:
            break
        time.sleep(_PAUSE_SECONDS)
    return Purged(purged, frozenset(gone))


def compact(conn: Connection) -> None:
    """Gives free pages back to the file system, a few at a time; commit first.

    Databases made since incremental vacuum was turned on at creation shrink
    in short steps. An older file is left as it is: a VACUUM would hold the
    write lock for as long as it rewrites the file, and its free pages are
    zeroed already (secure_delete) and reused by later writes.
    """
    if int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) != _INCREMENTAL:
        return
    while int(conn.execute("PRAGMA freelist_count").fetchone()[0]) > 0:
        conn.execute(f"PRAGMA incremental_vacuum({COMPACT_STEP_PAGES})").fetchall()
        if conn.in_transaction:
            conn.commit()
        time.sleep(_PAUSE_SECONDS)


def free_fraction(conn: Connection) -> float:
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    return free / pages if pages else 0.0
