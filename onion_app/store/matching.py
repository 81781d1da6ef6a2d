"""SQL for matching: who may read a request, ranked, and which requests to widen.

Matching runs in SQL (issue 16): the filter (vetted, available, a shared skill
and language, not already a reader) and the load-spreading order (fewest open
claims, then longest idle, then id) are one query ending in ``LIMIT k``. Its
cost does not grow with the number of volunteers: it either walks the
``volunteers_by_rank`` index in rank order and stops after ``k`` matches, or,
when few volunteers hold any of the skills, starts from those few. It picks
the same volunteers as :func:`onion_app.domain.matching.rank` (tested).
Metadata only; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from onion_app.store import rows
from onion_app.store.connection import Connection
from onion_app.store.rows import Candidate, RequestRef

# Below this many holders of the wanted skills, matching starts from them
# (a rare skill: walking every volunteer in rank order would find nobody
# after a long walk); above it, the rank walk finds k matches quickly.
_FEW_HOLDERS = 400

# Skills and languages are gathered only for the (at most a few hundred) rows
# that pass the filter, never for every volunteer.
_CHOSEN = """v.id AS volunteer_id, v.public_key, v.mlkem_public_key, v.open_claims,
             v.last_active_on, 1 AS vetted, 1 AS available,
             (SELECT group_concat(skill) FROM volunteer_skills s
               WHERE s.volunteer_id = v.id) AS skills,
             (SELECT group_concat(language) FROM volunteer_languages l
               WHERE l.volunteer_id = v.id) AS languages"""


def _marks(values: Iterable[str]) -> tuple[str, list[str]]:
    listed = sorted(set(values))
    return ",".join("?" * len(listed)), listed


def ranked(conn: Connection, skills: Iterable[str], languages: Iterable[str], limit: int,
           *, request_id: int | None = None) -> list[Candidate]:
    """The best ``limit`` volunteers for these needs, best first.

    :param request_id: leave out the volunteers who read this request already
    :returns: the chosen candidates, best first
    """
    skill_marks, wanted_skills = _marks(skills)
    language_marks, wanted_languages = _marks(languages)
    if limit <= 0 or not wanted_skills or not wanted_languages:
        return []
    holders = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM volunteer_skills WHERE skill IN ({skill_marks})"  # noqa: S608  (placeholders only)
        f" {rows.LIMIT})", [*wanted_skills, _FEW_HOLDERS + 1]).fetchone()[0]
    # Same filter and order either way; only where SQLite starts differs. The
    # unary + keeps the rank index out of the rare-skill plan.
    if holders <= _FEW_HOLDERS:
        source = f"""volunteers v WHERE v.id IN (SELECT volunteer_id FROM volunteer_skills
                                                 WHERE skill IN ({skill_marks}))
                       AND +v.status = 'vetted' AND +v.available = 1"""  # noqa: S608
    else:
        source = f"""volunteers v INDEXED BY volunteers_by_rank
                     WHERE v.status = 'vetted' AND v.available = 1
                       AND EXISTS (SELECT 1 FROM volunteer_skills s
                                    WHERE s.volunteer_id = v.id AND s.skill IN ({skill_marks}))"""  # noqa: S608
    found = conn.execute(
        f"""SELECT {_CHOSEN} FROM {source}
              AND EXISTS (SELECT 1 FROM volunteer_languages l
                           WHERE l.volunteer_id = v.id AND l.language IN ({language_marks}))
              AND NOT EXISTS (SELECT 1 FROM request_readers rr
                               WHERE rr.volunteer_id = v.id AND rr.request_id = ?)
            ORDER BY v.open_claims, v.last_active_on, v.id
            {rows.LIMIT}""",  # noqa: S608  (placeholders only)
        [*wanted_skills, *wanted_languages, -1 if request_id is None else request_id, limit])
    return rows.many(Candidate, found)


def triage_ranked(conn: Connection, languages: Iterable[str], limit: int,
                  *, request_id: int | None = None) -> list[Candidate]:
    """Up to ``limit`` vetted, available triage volunteers, those who share one
    of ``languages`` first, then in the load-spreading order.

    :param request_id: leave out the volunteers who read this request already
    """
    language_marks, wanted = _marks(languages)
    if limit <= 0:
        return []
    shares = "0"
    if wanted:
        shares = f"v.id IN (SELECT volunteer_id FROM volunteer_languages WHERE language IN ({language_marks}))"  # noqa: S608, E501
    return rows.many(Candidate, conn.execute(
        f"""SELECT {_CHOSEN} FROM volunteers v INDEXED BY volunteers_triage
             WHERE v.triage = 1 AND v.status = 'vetted' AND v.available = 1
               AND NOT EXISTS (SELECT 1 FROM request_readers rr
                                WHERE rr.volunteer_id = v.id AND rr.request_id = ?)
             ORDER BY {shares} DESC, v.open_claims, v.last_active_on, v.id
             {rows.LIMIT}""",  # noqa: S608  (placeholders only)
        [-1 if request_id is None else request_id, *wanted, limit]))


def matched_readers(conn: Connection, request_id: int) -> int:
    """How many vetted volunteers read a request because they match it (triage
    readers are not matched helpers)."""
    return int(conn.execute(
        """SELECT count(*) FROM request_readers rr JOIN volunteers v ON v.id = rr.volunteer_id
            WHERE rr.request_id = ? AND rr.for_triage = 0 AND v.status = 'vetted'""",
        (request_id,)).fetchone()[0])


def triage_readers(conn: Connection, request_id: int) -> int:
    """How many volunteers read a request for triage."""
    return int(conn.execute(
        "SELECT count(*) FROM request_readers WHERE request_id = ? AND for_triage = 1",
        (request_id,)).fetchone()[0])


def pool_version(conn: Connection) -> int:
    """The matching pool's version: it moves whenever a volunteer may have
    become matchable or stopped reading (migration 0013's triggers)."""
    return int(conn.execute("SELECT version FROM matching_pool WHERE id = 1").fetchone()[0])


def mark_matched(conn: Connection, request_id: int, pool: int,
                 widened_on: str | None = None) -> None:
    """Records that a request was matched against pool version ``pool`` (and,
    with ``widened_on``, that its widening period starts again that day)."""
    conn.execute("UPDATE requests SET matched_pool = max(matched_pool, ?),"
                 " widened_on = coalesce(?, widened_on) WHERE id = ?",
                 (pool, widened_on, request_id))


# Which of a reader's requests to look at: open, unclaimed, and either matched
# against an older pool or due for widening. Two index range scans over open,
# unclaimed requests only (requests_to_rematch, requests_to_widen), in index
# order (oldest pool, or longest waiting, first) so that each stops at
# ``limit`` rows without sorting; never a walk over all the reader can open.
_TO_WIDEN = """
    SELECT r.id, r.public_id, r.requester_key_version, r.widened_on <= ? AS due
      FROM requests r INDEXED BY {index}
     WHERE r.status = 'open' AND r.claimed_by IS NULL AND {condition} AND {reader}
     """ + rows.LIMIT  # noqa: S608  (placeholders only)


def requests_to_widen(conn: Connection, *, pool: int, due_on_or_before: str, limit: int,
                      requester_id: int | None = None,
                      volunteer_id: int | None = None) -> list[tuple[RequestRef, bool]]:
    """Up to ``limit`` open, unclaimed requests this reader (a requester, or a
    volunteer who holds a stanza) can open, that were matched against an
    older pool or whose widening period ended on or before that day.

    :returns: each request, and whether it is due for widening past the limit
    """
    if (requester_id is None) == (volunteer_id is None):
        raise ValueError("name one reader: a requester or a volunteer")
    if requester_id is not None:
        reader, who = "r.requester_id = ?", requester_id
    else:
        reader = ("EXISTS (SELECT 1 FROM request_readers rr"
                  " WHERE rr.volunteer_id = ? AND rr.request_id = r.id)")
        who = int(volunteer_id)  # type: ignore[arg-type]  # checked above
    found: dict[int, tuple[RequestRef, bool]] = {}
    # Due requests first: they are the ones waiting longest.
    for index, condition, bound in (("requests_to_widen", "r.widened_on <= ?", due_on_or_before),
                                    ("requests_to_rematch", "r.matched_pool < ?", pool)):
        query = _TO_WIDEN.format(index=index, condition=condition, reader=reader)
        params: list[Any] = [due_on_or_before, bound, who, limit]
        for row in conn.execute(query, params):
            ref = RequestRef(int(row["id"]), str(row["public_id"]), row["requester_key_version"])
            found.setdefault(ref.id, (ref, bool(row["due"])))
    return list(found.values())[:limit]
