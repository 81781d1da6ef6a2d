"""The process-wide bound on argon2id key derivations.

Argon2id is memory-hard on purpose, which makes unbounded logins a way to
exhaust the server's memory: :class:`KdfGate` lets a few run at once. One gate
serves the whole process (both apps, the dummy verifier, the database key), so
"2 at once" means 2, and peak memory stays near ``concurrency x memlimit``
above the process's own.

A request thread that finds the gate full is refused at once
(:meth:`KdfGate.slot`) rather than queued: a waiting login would hold one of
the few server threads that also serve the cheap pages, and a flood of
logins would take the whole site down with it. Work that must happen and
happens once, outside any request (the database key at start, the dummy
verifier, an operator's command), waits its turn (:meth:`KdfGate.waiting_slot`).

A derivation a request asks for runs on one of the gate's own threads
(:meth:`KdfGate.run`), which the kernel schedules behind everything else in
the process (:data:`NICENESS` nicer): with every core busy deriving during a
flood of logins, the threads serving pages still get the processor first.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from onion_app.errors import HavenError

#: What a refused visitor is told to wait (the ``Retry-After`` header): one
#: derivation takes about a third of a second, so a slot is usually free again
#: well within it, and a person needs that long to send the form again anyway.
RETRY_AFTER_SECONDS = 5
#: How much lower than the rest of the process the derivations run (Linux
#: sets a nice value per thread; raising it never needs a privilege).
NICENESS = 10
MOST_NICE = 19

T = TypeVar("T")


class Busy(HavenError):
    """Every key derivation slot is taken; the visitor should try again soon."""

    retry_after = RETRY_AFTER_SECONDS


class KdfGate:
    """At most ``concurrency`` key derivations at once in this process."""

    def __init__(self, concurrency: int) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self.concurrency = concurrency
        # As many threads as slots: work handed over inside a slot never queues.
        self._threads = ThreadPoolExecutor(max_workers=concurrency,
                                           thread_name_prefix="haven-kdf",
                                           initializer=_lower_priority)

    def run(self, work: Callable[[], T]) -> T:
        """Runs ``work`` (one derivation) on the gate's low-priority threads,
        inside a slot.

        :returns: what ``work`` returns
        :raises Busy: if every slot is taken right now (``work`` does not run)
        """
        with self.slot():
            return self._offload(work)

    def _offload(self, work: Callable[[], T]) -> T:
        """Runs ``work`` on the gate's low-priority threads and waits for it.

        Only inside a slot the caller holds, so that it never waits for a thread.

        :returns: what ``work`` returns (its exception is raised here)
        """
        return self._threads.submit(work).result()

    def has_room(self) -> bool:
        """Whether a slot is free right now (it may be gone a moment later:
        for skipping work before :meth:`run`, which decides for good)."""
        if not self._slots.acquire(blocking=False):
            return False
        self._slots.release()
        return True

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Holds one slot for the body of a ``with``, or refuses at once.

        :raises Busy: if every slot is taken right now
        """
        if not self._slots.acquire(blocking=False):
            raise Busy("every key derivation slot is taken")
        try:
            yield
        finally:
            self._slots.release()

    @contextmanager
    def waiting_slot(self, timeout: float | None = None) -> Iterator[None]:
        """Holds one slot for the body of a ``with``, waiting for it if need be.

        Only for work outside a request thread, which nobody is waiting on
        to see a page.

        :param timeout: seconds to wait at most; None waits as long as it takes
        :raises Busy: if ``timeout`` passed with every slot still taken
        """
        if not self._slots.acquire(timeout=timeout):
            raise Busy("every key derivation slot stayed taken")
        try:
            yield
        finally:
            self._slots.release()


def _lower_priority() -> None:
    """In each of the gate's threads: below every other thread of the process."""
    # A system that will not: derivations then run at normal priority.
    with contextlib.suppress(OSError):
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me,
                       min(MOST_NICE, os.getpriority(os.PRIO_PROCESS, me) + NICENESS))
