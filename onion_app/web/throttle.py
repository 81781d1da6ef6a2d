"""Slowing down repeated login failures on one staff account.

After five failures within a minute an account is held back, twice as long
each further time (up to a quarter of an hour). Kept in memory: times are
needed here and the database keeps none.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
FAILURES_ALLOWED = 5
FIRST_HOLD_SECONDS = 30.0
LONGEST_HOLD_SECONDS = 15 * 60.0
PRUNE_ABOVE = 10_000


class LoginThrottle:
    """Failure counts and holds per account handle."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._held_until: dict[str, float] = {}
        self._holds: dict[str, int] = {}
        self._lock = threading.Lock()

    def held(self, handle: str) -> bool:
        """Whether attempts on this handle are refused for now."""
        with self._lock:
            return self._held_until.get(handle.lower(), 0.0) > self._clock()

    def seconds_held(self, handle: str) -> int:
        """How many more seconds attempts on this handle are refused (0: none)."""
        with self._lock:
            left = self._held_until.get(handle.lower(), 0.0) - self._clock()
        return max(0, math.ceil(left))

    def failed(self, handle: str) -> bool:
        """Records a failure. :returns: whether this failure started a hold"""
        key = handle.lower()
        now = self._clock()
        with self._lock:
            if len(self._failures) > PRUNE_ABOVE:
                self._prune(now)
            recent = self._failures.setdefault(key, deque())
            recent.append(now)
            while recent and now - recent[0] > WINDOW_SECONDS:
                recent.popleft()
            if len(recent) < FAILURES_ALLOWED:
                return False
            holds = self._holds.get(key, 0)
            self._holds[key] = holds + 1
            self._held_until[key] = now + min(FIRST_HOLD_SECONDS * 2 ** holds,
                                              LONGEST_HOLD_SECONDS)
            recent.clear()
            return True

    def _prune(self, now: float) -> None:
        """Forgets handles with no failure in the window and no hold running:
        typed handles that do not exist must not pile up in memory. A handle
        quiet that long also starts again from the shortest hold."""
        for key in list(self._failures):
            recent = self._failures[key]
            quiet = not recent or now - recent[-1] > WINDOW_SECONDS
            if quiet and self._held_until.get(key, 0.0) <= now:
                del self._failures[key]
                self._held_until.pop(key, None)
                self._holds.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)

    def succeeded(self, handle: str) -> None:
        key = handle.lower()
        with self._lock:
            self._failures.pop(key, None)
            self._holds.pop(key, None)
            self._held_until.pop(key, None)
