"""Haven's storage: one SQLCipher file, plain SQL, numbered migrations.

Boundary: the only package that opens the database. Content reaching it is
already sealed by ``crypto``; what it keeps in clear is the metadata matching
needs. Shaped like flaskr's ``db.py``: a connection per request on ``g``.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from onion_app.config import current_config
from onion_app.store.connection import Connection, open_database
from onion_app.store.keys import DatabaseKey
from onion_app.store.maintenance import open_existing

_KEY = "haven.db_key"

__all__ = ["Connection", "close_db", "get_db", "init_app"]


def get_db() -> Connection:
    """The request's connection, opened on first use.

    :raises StoreError: with one plain sentence if the database will not open
    """
    if "db" not in g:
        config = current_config()
        key: DatabaseKey | None = current_app.extensions.get(_KEY)
        if key is None:
            # The first connection pays for the key (argon2id in passphrase
            # mode); every later one reuses it from this process's memory.
            conn, key = open_existing(config)
            current_app.extensions[_KEY] = key
        else:
            conn = open_database(config.db_path, key)
        g.db = conn
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_app(app: Flask) -> None:
    """Registers the teardown and the database CLI commands."""
    from onion_app.onion_commands import COMMANDS as ONION_COMMANDS
    from onion_app.operator.commands import COMMANDS as OPERATOR_COMMANDS
    from onion_app.store.commands import COMMANDS

    app.teardown_appcontext(close_db)
    for command in (*COMMANDS, *OPERATOR_COMMANDS, *ONION_COMMANDS):
        app.cli.add_command(command)
