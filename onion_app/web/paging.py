"""Page numbers in query strings, read the one safe way."""

from __future__ import annotations

from flask import request

# Far past any real list; keeps OFFSET inside SQLite's integers.
MAX_PAGE = 100_000


def page_number() -> int:
    """The ``page`` query argument, from 1 to :data:`MAX_PAGE`; 1 when it is
    not a whole number."""
    try:
        return min(max(int(request.args.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1
