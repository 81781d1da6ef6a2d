"""Onion service keys and staff client keys, kept inside the encrypted database.

The ed25519 secret key of each service lives here rather than in a plain
``hs_ed25519_secret_key`` file, so a seized disk without the database key
does not let anyone impersonate Haven's addresses.
"""

from __future__ import annotations

from onion_app.errors import LastDevice, NoSuchDevice
from onion_app.store import settings
from onion_app.store.connection import Connection
from onion_app.store.database import Database
from onion_app.store.requests import today

_PREFIX = "onion_key:"


def service_key(conn: Connection, name: str) -> str | None:
    raw = settings.get(conn, _PREFIX + name)
    return None if raw is None else raw.decode("ascii")


def put_service_key(conn: Connection, name: str, key: str) -> None:
    settings.put(conn, _PREFIX + name, key.encode("ascii"))


_RETIRED = "retired_onions"


def retire(conn: Connection, service_id: str) -> None:
    """Remembers an address to remove from tor wherever it is still published."""
    ids = set(retired(conn)) | {service_id}
    settings.put(conn, _RETIRED, "\n".join(sorted(ids)).encode("ascii"))


def retired(conn: Connection) -> list[str]:
    raw = settings.get(conn, _RETIRED)
    return [] if not raw else raw.decode("ascii").split()


def forget_retired(conn: Connection, service_ids: list[str]) -> None:
    remaining = set(retired(conn)) - set(service_ids)
    settings.put(conn, _RETIRED, "\n".join(sorted(remaining)).encode("ascii"))


def clients(conn: Connection) -> list[tuple[str, str, str]]:
    """Staff devices as (name, base32 public key, day added), by name."""
    return [(str(r[0]), str(r[1]), str(r[2])) for r in conn.execute(
        "SELECT name, public_key, added_on FROM staff_clients ORDER BY name")]


def add_client(conn: Connection, name: str, public_key: str) -> None:
    conn.execute("INSERT INTO staff_clients (name, public_key, added_on) VALUES (?, ?, ?)",
                 (name, public_key, today()))


def revoke_client(conn: Connection, name: str) -> None:
    """Removes one staff device, never the last; the caller commits.

    Checked and deleted in one write transaction: two revokes at once must
    not both see two devices and leave none.

    :raises NoSuchDevice: if no device has that name (rolled back)
    :raises LastDevice: if it is the only one (rolled back)
    """
    conn.execute("BEGIN IMMEDIATE")
    names = [name for name, _, _ in clients(conn)]
    if name not in names:
        conn.rollback()
        raise NoSuchDevice(f"no device named {name}; see .venv/bin/haven staff-key list")
    if len(names) == 1:
        conn.rollback()
        raise LastDevice("refusing to revoke the last staff key: the staff onion "
                         "would be open to anyone. Add another device first.")
    conn.execute("DELETE FROM staff_clients WHERE name = ?", (name,))


class DatabaseKeyStore:
    """tor_config's ``KeyStore`` over the database: each call takes its own
    connection from the process's handle, since the watchdog calls from its
    own thread."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def get(self, name: str) -> str | None:
        with self._database.connect() as conn:
            return service_key(conn, name)

    def put(self, name: str, key: str) -> None:
        with self._database.connect() as conn:
            put_service_key(conn, name, key)
            conn.commit()

    def __repr__(self) -> str:
        return "DatabaseKeyStore()"
