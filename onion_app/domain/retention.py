"""Retention: what Haven forgets, and when.

Requests untouched for the retention period go, with their threads and
stanzas; a purge that leaves many free pages also compacts the file.
"""

from __future__ import annotations

from onion_app.store import oversight, staff
from onion_app.store.connection import Connection
from onion_app.store.rows import Purged

# Past this share of free pages a purge also gives pages back to the file
# system, in short steps (secure_delete has zeroed them already).
VACUUM_FREE_FRACTION = 0.25


def purge(conn: Connection, days: int) -> Purged:
    """Deletes requests untouched for ``days`` days, in short transactions,
    then audits it.

    The caller ends the sessions of the requesters it returns: a signed-in
    requester can be purged, and a session must never outlive its account.

    :returns: how many requests were deleted, and which requesters went
    """
    purged = oversight.purge_untouched(conn, days)
    if purged.requests:
        staff.audit(conn, "system", f"purged {purged.requests} untouched requests")
    conn.commit()
    if oversight.free_fraction(conn) > VACUUM_FREE_FRACTION:
        oversight.compact(conn)
    return purged
