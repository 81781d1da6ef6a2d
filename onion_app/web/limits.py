"""Bounds on what all visitors together can make the server do.

There are no IP addresses to tell visitors apart (everyone arrives from tor
on loopback), so the site-wide bounds are shaped so that one visitor who
empties them locks nobody out for long:

- :class:`TokenBucket`: a rate per hour with a small burst, refilled
  continuously, so whoever empties it waits (and makes others wait) for the
  next token only, seconds to a couple of minutes, never the rest of an hour;
- :class:`AccountWindow`: a cap per account over a day, so the codenames one
  visitor can make cannot between them keep up with the site-wide rate.

The numbers and the reasoning are in the README's settings section. Every
429 carries ``Retry-After`` (:func:`init_app`). The bound on key derivations
is process-wide and lives in :mod:`onion_app.domain.kdf_gate`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from flask import Flask, g
from werkzeug.wrappers import Response

from onion_app.domain.kdf_gate import RETRY_AFTER_SECONDS
from onion_app.errors import HavenError

HOUR = 3600.0
DAY = 86400.0
# Accounts with nothing in the window are forgotten past this many entries.
PRUNE_ABOVE = 10_000


class RateExceeded(HavenError):
    """A limit is reached; ``retry_after`` says in how many seconds it frees up."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


class TokenBucket:
    """``per_hour`` events an hour, at most ``burst`` of them at once.

    Starts full; one token comes back every ``3600 / per_hour`` seconds.
    """

    def __init__(self, per_hour: int, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = HOUR / per_hour
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self._burst, self._tokens + (now - self._last) / self._interval)
        self._last = now

    def take(self) -> None:
        """Takes one token.

        :raises RateExceeded: if none is left; nothing is taken
        """
        with self._lock:
            now = self._clock()
            self._refill(now)
            if self._tokens < 1:
                raise RateExceeded("the site-wide limit is reached for now",
                                   (1 - self._tokens) * self._interval)
            self._tokens -= 1

    def give_back(self) -> None:
        """Returns a token taken for work that then did not happen."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._burst, self._tokens + 1)


class AccountWindow:
    """At most ``limit`` events per account within a sliding ``seconds``."""

    def __init__(self, limit: int, seconds: float = DAY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._seconds = seconds
        self._clock = clock
        self._events: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, account_id: int) -> None:
        """Records one event for ``account_id``.

        :raises RateExceeded: if the account is at its limit; nothing is recorded
        """
        with self._lock:
            now = self._clock()
            if len(self._events) > PRUNE_ABOVE:
                self._prune(now)
            events = self._events.setdefault(account_id, deque())
            while events and now - events[0] >= self._seconds:
                events.popleft()
            if len(events) >= self._limit:
                raise RateExceeded("this account's limit is reached",
                                   events[0] + self._seconds - now)
            events.append(now)

    def give_back(self, account_id: int) -> None:
        """Forgets the latest event of ``account_id``, for work that then did not happen."""
        with self._lock:
            events = self._events.get(account_id)
            if events:
                events.pop()

    def _prune(self, now: float) -> None:
        for account_id in list(self._events):
            events = self._events[account_id]
            if not events or now - events[-1] >= self._seconds:
                del self._events[account_id]

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


def retry_after(seconds: int) -> None:
    """Says how long the 429 this request answers with lasts (else
    :data:`~onion_app.domain.kdf_gate.RETRY_AFTER_SECONDS`)."""
    g.retry_after = seconds


def init_app(app: Flask) -> None:
    """Gives every 429 of ``app`` a ``Retry-After`` header."""
    app.after_request(_add_retry_after)


def _add_retry_after(response: Response) -> Response:
    if response.status_code == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(g.get("retry_after", RETRY_AFTER_SECONDS))
    return response
