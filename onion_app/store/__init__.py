"""Haven's storage: one SQLCipher file, plain SQL, numbered migrations.

Boundary: the only package with SQL, and the only one that opens the database
(through :class:`Database`, one handle per process). Content reaching it is
already sealed by ``crypto``; what it keeps in clear is the metadata matching
needs. It knows nothing of HTTP: the per-request connection lives in
``onion_app.web.state``.
"""

from __future__ import annotations

from onion_app.store.connection import Connection
from onion_app.store.database import Database, InitResult

__all__ = ["Connection", "Database", "InitResult"]
