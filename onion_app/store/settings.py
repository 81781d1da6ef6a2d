"""Installation-wide values kept in the ``settings`` table."""

from __future__ import annotations

from collections.abc import Callable

from onion_app.store.connection import Connection


def get(conn: Connection, name: str) -> bytes | None:
    row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
    return None if row is None else bytes(row[0])


def put(conn: Connection, name: str, value: bytes) -> None:
    conn.execute("INSERT INTO settings (name, value) VALUES (?, ?)"
                 " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, value))


def ensure(conn: Connection, name: str, make: Callable[[], bytes]) -> bytes:
    """The stored value, made and stored (and committed) on first use.

    Two processes racing here both insert-or-ignore and then read the one
    value that won, so they always agree.
    """
    found = get(conn, name)
    if found is not None:
        return found
    conn.execute("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)", (name, make()))
    conn.commit()
    value = get(conn, name)
    if value is None:  # pragma: no cover - the insert above guarantees a row
        raise LookupError(name)
    return value
