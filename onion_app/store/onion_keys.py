"""Onion service keys and staff client keys, kept inside the encrypted database.

The ed25519 secret key of each service lives here rather than in a plain
``hs_ed25519_secret_key`` file, so a seized disk without the database key
does not let anyone impersonate Haven's addresses.
"""

from __future__ import annotations

from onion_app.config import Config
from onion_app.store import settings
from onion_app.store.connection import Connection
from onion_app.store.maintenance import open_existing
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


def remove_client(conn: Connection, name: str) -> bool:
    return bool(conn.execute("DELETE FROM staff_clients WHERE name = ?", (name,)).rowcount)


class DatabaseKeyStore:
    """tor_config's ``KeyStore`` over the database: each call opens its own
    connection, since the watchdog calls from its own thread."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def get(self, name: str) -> str | None:
        conn, _ = open_existing(self._config)
        try:
            return service_key(conn, name)
        finally:
            conn.close()

    def put(self, name: str, key: str) -> None:
        conn, _ = open_existing(self._config)
        try:
            put_service_key(conn, name, key)
            conn.commit()
        finally:
            conn.close()

    def __repr__(self) -> str:
        return "DatabaseKeyStore()"
