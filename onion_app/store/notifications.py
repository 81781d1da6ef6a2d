"""SQL for opt-in email digests: who wants one, what is new for them, what was sent.

News is derived from rows the store already keeps, by day: reader rows
(``request_readers.added_on``, set by the one statement that shares a request,
whatever the path), messages sealed to the volunteer, and the audit log's
decisions on their application. Nothing here keeps a time or a piece of
content. The caller commits.
"""

from __future__ import annotations

import dataclasses

from onion_app.store import rows
from onion_app.store.connection import Connection

CHOICES = ("daily", "news")


@dataclasses.dataclass(frozen=True)
class Subscription:
    """One volunteer's digest settings. ``address`` is never shown to anyone
    but its volunteer."""

    volunteer_id: int
    address: str
    choice: str
    pgp_key: str | None
    pgp_fingerprint: str | None
    counted_through: str
    attempted_on: str | None
    sent_on: str | None


@dataclasses.dataclass(frozen=True)
class News:
    """Counts of what happened to one volunteer over some whole days."""

    requests: int = 0
    replies: int = 0
    decisions: int = 0

    @property
    def any(self) -> bool:
        return bool(self.requests or self.replies or self.decisions)


_COLUMNS = ("volunteer_id, address, choice, pgp_key, pgp_fingerprint, counted_through,"
            " attempted_on, sent_on")


def subscription(conn: Connection, volunteer_id: int) -> Subscription | None:
    return rows.one(Subscription, conn.execute(
        f"SELECT {_COLUMNS} FROM volunteer_notifications WHERE volunteer_id = ?",  # noqa: S608
        (volunteer_id,)).fetchone())


def subscribe(conn: Connection, volunteer_id: int, *, address: str, choice: str,
              pgp_key: str | None, pgp_fingerprint: str | None, counted_through: str) -> None:
    """Sets a volunteer's digest. A change of address or key keeps the days
    already counted and sent, so that saving the form twice sends nothing twice.

    :raises ValueError: if ``choice`` is not one of :data:`CHOICES`
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be one of {CHOICES}")
    conn.execute(
        """INSERT INTO volunteer_notifications
               (volunteer_id, address, choice, pgp_key, pgp_fingerprint, counted_through)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (volunteer_id) DO UPDATE
              SET address = excluded.address, choice = excluded.choice,
                  pgp_key = excluded.pgp_key, pgp_fingerprint = excluded.pgp_fingerprint""",
        (volunteer_id, address, choice, pgp_key, pgp_fingerprint, counted_through))


def unsubscribe(conn: Connection, volunteer_id: int) -> None:
    """Forgets the address and key at once (a volunteer's deletion does the same
    by cascade)."""
    conn.execute("DELETE FROM volunteer_notifications WHERE volunteer_id = ?", (volunteer_id,))


def waiting(conn: Connection, today: str) -> list[Subscription]:
    """Subscriptions of active volunteers not yet tried ``today``."""
    return rows.many(Subscription, conn.execute(
        f"""SELECT {_COLUMNS} FROM volunteer_notifications n
             WHERE (n.attempted_on IS NULL OR n.attempted_on < ?)
               AND n.volunteer_id IN (SELECT id FROM volunteers WHERE status = 'vetted')
             ORDER BY n.volunteer_id""",  # noqa: S608  (fixed column list)
        (today,)))


def claim(conn: Connection, volunteer_id: int, today: str) -> bool:
    """Marks today's attempt for one volunteer, so that the server's schedule and
    a ``haven notify`` run at the same time never send twice.

    :returns: True if this caller won the claim (and commits it before sending)
    """
    claimed = conn.execute(
        """UPDATE volunteer_notifications SET attempted_on = ?
            WHERE volunteer_id = ? AND (attempted_on IS NULL OR attempted_on < ?)""",
        (today, volunteer_id, today))
    return bool(claimed.rowcount == 1)


def mark_sent(conn: Connection, volunteer_id: int, today: str, counted_through: str) -> None:
    conn.execute(
        "UPDATE volunteer_notifications SET sent_on = ?, counted_through = ?"
        " WHERE volunteer_id = ?",
        (today, counted_through, volunteer_id))


def mark_counted(conn: Connection, volunteer_id: int, counted_through: str) -> None:
    """Days with nothing to tell are counted without a message being sent."""
    conn.execute("UPDATE volunteer_notifications SET counted_through = ? WHERE volunteer_id = ?",
                 (counted_through, volunteer_id))


def news(conn: Connection, volunteer_id: int, after: str, before: str) -> News:
    """What is new for a volunteer on the days strictly between ``after`` and
    ``before`` (YYYY-MM-DD): requests newly sealed to them that are still open,
    messages sealed to them that someone else wrote, decisions on their
    application."""
    found = conn.execute(
        """SELECT
             (SELECT count(*) FROM request_readers rr JOIN requests r ON r.id = rr.request_id
               WHERE rr.volunteer_id = :v AND rr.added_on > :after AND rr.added_on < :before
                 AND r.status = 'open') AS requests,
             (SELECT count(*) FROM message_readers mr JOIN messages m ON m.id = mr.message_id
               WHERE mr.volunteer_id = :v AND m.created_on > :after AND m.created_on < :before
                 AND (m.author_volunteer_id IS NULL OR m.author_volunteer_id != :v))
               AS replies,
             (SELECT count(*) FROM audit_log l JOIN audit_subjects s ON s.token = l.volunteer
               WHERE s.volunteer_id = :v AND l.day > :after AND l.day < :before
                 -- the audit lines operator/views.py writes for a decision
                 AND l.action IN ('approved', 'rejected')) AS decisions""",
        {"v": volunteer_id, "after": after, "before": before}).fetchone()
    return News(int(found["requests"]), int(found["replies"]), int(found["decisions"]))
