"""Retention: what Haven forgets, and when.

Requests untouched for the retention period go, with their threads and
stanzas; a purge that leaves many free pages also compacts the file.
"""

from __future__ import annotations

from onion_app.store import oversight, staff
from onion_app.store.connection import Connection

# Past this share of free pages a purge also runs VACUUM, so deleted rows do
# not linger in free pages (secure_delete zeroes them; VACUUM also shrinks).
VACUUM_FREE_FRACTION = 0.25


def purge(conn: Connection, days: int) -> int:
    """Deletes requests untouched for ``days`` days, audits it, and commits.

    :returns: how many requests were deleted
    """
    purged = oversight.purge_untouched(conn, days)
    if purged:
        staff.audit(conn, "system", f"purged {purged} untouched requests")
    conn.commit()
    if oversight.free_fraction(conn) > VACUUM_FREE_FRACTION:
        oversight.compact(conn)
    return purged
