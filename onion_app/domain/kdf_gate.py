"""The process-wide bound on argon2id key derivations.

Argon2id is memory-hard on purpose, which makes unbounded logins a way to
exhaust the server's memory: :class:`KdfGate` lets a few run at once and
turns the rest away politely. One gate serves the whole process (both apps,
the database passphrase), so "2 at once" means 2, not 2 per app.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from onion_app.errors import HavenError


class Busy(HavenError):
    """Too many key derivations are running; the visitor should try again soon."""


class KdfGate:
    """At most ``concurrency`` key derivations at once; others wait briefly."""

    def __init__(self, concurrency: int, wait_seconds: float = 10.0) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._wait = wait_seconds

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Holds one slot for the body of a ``with``.

        :raises Busy: if no slot frees up within the wait
        """
        if not self._slots.acquire(timeout=self._wait):
            raise Busy("too many logins at once")
        try:
            yield
        finally:
            self._slots.release()
