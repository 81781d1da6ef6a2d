"""Schema migrations: numbered ``.sql`` files applied in order, each recorded.

Each file runs in one transaction together with its ``schema_version`` row, so
a crash leaves a migration either wholly applied or not at all.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from importlib import resources

from onion_app.errors import NotAHavenDatabase, SchemaTooNew
from onion_app.store.connection import Connection

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

SCHEMA_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_on TEXT NOT NULL  -- a day, YYYY-MM-DD: Haven keeps no times
)
"""


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped with this Haven, in order."""
    found = []
    for entry in resources.files("onion_app.store").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    return found


def latest_version() -> int:
    """The schema version this Haven writes."""
    migrations = available()
    return migrations[-1].version if migrations else 0


def current_version(conn: Connection) -> int:
    """The schema version of an open database: 0 for an empty one.

    :raises NotAHavenDatabase: if the database holds tables but no Haven schema
    """
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "schema_version" not in tables:
        if tables:
            raise NotAHavenDatabase("the database opens but is not a Haven database")
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def pending(conn: Connection) -> list[Migration]:
    """The migrations an open database still lacks.

    :raises NotAHavenDatabase: as :func:`current_version`
    :raises SchemaTooNew: if a newer Haven wrote the database
    """
    version = current_version(conn)
    if version > latest_version():
        raise SchemaTooNew(
            f"the database has schema version {version}, newer than this Haven "
            f"({latest_version()}); run a newer Haven"
        )
    return [m for m in available() if m.version > version]


def apply_pending(conn: Connection) -> list[Migration]:
    """Applies every pending migration, each in its own transaction.

    :returns: the migrations applied, empty when the schema was current
    :raises NotAHavenDatabase, SchemaTooNew: as :func:`pending`
    """
    todo = pending(conn)
    if not todo:
        return []
    conn.execute(SCHEMA_VERSION_TABLE)
    conn.commit()
    today = datetime.date.today().isoformat()
    for migration in todo:
        # executescript commits whatever is open first, then runs the script
        # as given: the explicit BEGIN keeps the file and its record one unit.
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}")
            conn.execute("INSERT INTO schema_version (version, applied_on) VALUES (?, ?)",
                         (migration.version, today))
            conn.commit()
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
    return todo
