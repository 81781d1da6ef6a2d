"""Bounds on what one visitor, or all of them, can make the server do.

Argon2id is memory-hard on purpose, which makes unbounded logins a way to
exhaust the server's memory: :class:`KdfGate` lets a few run at once and
turns the rest away politely. :class:`RateWindow` caps how many requests the
whole site accepts per hour, whoever sends them (there are no IP addresses to
tell visitors apart: everyone arrives from tor on loopback).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from onion_app.errors import HavenError


class Busy(HavenError):
    """Too many key derivations are running; the visitor should try again soon."""


class RateExceeded(HavenError):
    """The site-wide limit for this hour is reached."""


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
