"""Bounds on what all visitors together can make the server do.

:class:`RateWindow` caps how many requests the whole site accepts per hour,
whoever sends them (there are no IP addresses to tell visitors apart: everyone
arrives from tor on loopback). The bound on key derivations is process-wide
and lives in :mod:`onion_app.domain.kdf_gate`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from onion_app.errors import HavenError


class RateExceeded(HavenError):
    """The site-wide limit for this hour is reached."""


class RateWindow:
    """A sliding one-hour window of events with a ceiling."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_hour
        self._clock = clock
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> None:
        """Records one event.

        :raises RateExceeded: if the window is full; nothing is recorded
        """
        now = self._clock()
        with self._lock:
            while self._events and now - self._events[0] > 3600:
                self._events.popleft()
            if len(self._events) >= self._limit:
                raise RateExceeded("the site-wide limit for this hour is reached")
            self._events.append(now)
