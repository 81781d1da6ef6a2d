"""SQL for volunteers as matching and sealing see them (metadata only)."""

from __future__ import annotations

from collections.abc import Iterable

from onion_app.store.connection import Connection
from onion_app.store.rows import Candidate


def candidates(conn: Connection, skills: Iterable[str]) -> list[Candidate]:
    """Vetted, available volunteers with at least one of ``skills``.

    One query with aggregated skills and languages and the open-claim count:
    no query per volunteer.
    """
    wanted = sorted(set(skills))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    rows = conn.execute(
        f"""SELECT v.id, v.public_key, v.mlkem_public_key, v.last_active_on,
                   (SELECT group_concat(skill) FROM volunteer_skills s
                     WHERE s.volunteer_id = v.id) AS skills,
                   (SELECT group_concat(language) FROM volunteer_languages l
                     WHERE l.volunteer_id = v.id) AS languages,
                   (SELECT count(*) FROM requests r
                     WHERE r.claimed_by = v.id AND r.status = 'open') AS open_claims
              FROM volunteers v
             WHERE v.status = 'vetted' AND v.available = 1
               AND v.id IN (SELECT volunteer_id FROM volunteer_skills WHERE skill IN ({marks}))""",  # noqa: S608  (placeholders only)
        wanted,
    ).fetchall()
    return [
        Candidate(
            volunteer_id=int(row["id"]),
            public_key=bytes(row["public_key"]),
            mlkem_public_key=None if row["mlkem_public_key"] is None
            else bytes(row["mlkem_public_key"]),
            skills=frozenset((row["skills"] or "").split(",")) - {""},
            languages=frozenset((row["languages"] or "").split(",")) - {""},
            vetted=True,
            available=True,
            open_claims=int(row["open_claims"]),
            last_active_on=str(row["last_active_on"]),
        )
        for row in rows
    ]
