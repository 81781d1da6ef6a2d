"""How often SQLite compiles a statement: a bare ``LIMIT ?`` makes it compile
again at every binding, which a kept connection's statement cache should
spare (store/requests.py and store/matching.py bind through CAST)."""

from __future__ import annotations

from collections.abc import Callable

import sqlcipher3

from onion_app.store.connection import Connection


def compilations(conn: Connection, work: Callable[[], object]) -> int:
    """How often SQLite compiles statements while ``work`` runs the second
    time: the authorizer is asked at each compilation, never at a step of a
    statement taken from the cache."""
    compiled = 0

    def authorizer(*_: object) -> int:
        nonlocal compiled
        compiled += 1
        return int(sqlcipher3.SQLITE_OK)

    conn.set_authorizer(authorizer)  # expires every statement: the first run compiles
    try:
        work()
        compiled = 0
        work()
    finally:
        conn.set_authorizer(None)
    return compiled
