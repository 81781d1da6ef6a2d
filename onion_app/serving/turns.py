"""Pages take turns: one server thread at a time runs a page.

Haven's server threads share one GIL. sqlcipher3 lets it go around each
column it reads and PyNaCl around each libsodium call, about ninety times
for a signed-in page. With eight threads serving pages at once, each of
those hands the GIL to a waiting thread and back, a system call and a
context switch each time: under 32 connections a signed-in page cost 6.3 ms
of CPU, against 3.5 ms served alone. Taking turns, a page lets the GIL go
with no other page waiting for it: that page served 257 against 178 pages a
second, alternating in the same run (``bench/http_bench.py``'s server, 32
connections).

A turn is the GIL's share of the work, not a new limit:

- **Pages only.** A request that only reads (GET, HEAD, OPTIONS) takes a
  turn. Form posts never do: they wait for key derivations, write locks,
  the disk and file cleaning, and must not hold pages up while they wait.
- **Long work steps out.** A page about to do long work gives its turn back
  early (``web.uploads.give_back_turn``, before a file is read and opened).
- **Never stuck behind one page.** A page that blocks while it has the turn
  (the database busy, say) would hold every page up. A page waits for its
  turn at most :data:`TURN_WAIT`; the first to wait that long marks the
  turn held up, and until it is given back, pages go round it and run side
  by side as they did before.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from onion_app.serving.lanes import READING_METHODS
from onion_app.web.uploads import GIVE_BACK_TURN

__all__ = ["TURN_WAIT", "TakingTurns", "Turns"]

# Seconds a page waits for its turn before going round it. Eight threads'
# pages of a few milliseconds each queue for less; a page held up longer is
# waiting for something other than the CPU.
TURN_WAIT = 0.05


class Turns:
    """One turn, which the threads serving pages take one after another."""

    def __init__(self, wait: float = TURN_WAIT) -> None:
        self.wait = wait
        self._turn = threading.Lock()
        # Set when a page waited ``wait`` in vain; cleared when the turn is given back.
        self._held_up = False

    def take(self) -> bool:
        """Waits for the turn, at most ``wait``, or not at all while it is held up.

        :returns: whether this thread has it (then it must :meth:`give_back` it)
        """
        if self._held_up:
            # Held up, or marked so by a wait that ran out just as the turn
            # was given back: a free turn is taken, which clears the mark.
            return self._turn.acquire(blocking=False)
        if self._turn.acquire(timeout=self.wait):
            return True
        self._held_up = True
        return False

    def give_back(self) -> None:
        """Gives back the turn this thread took."""
        self._held_up = False
        self._turn.release()

    @contextlib.contextmanager
    def turn(self) -> Iterator[bool]:
        """Runs the block in its turn, or beside the others if the turn is held up.

        :returns: (as the context value) whether the block had the turn
        """
        had = self.take()
        try:
            yield had
        finally:
            if had:
                self.give_back()


class TakingTurns:
    """WSGI middleware: a page's request runs in its turn, a form's as it comes.

    A page with the turn finds :data:`~onion_app.web.uploads.GIVE_BACK_TURN`
    in its environ: a function that gives the turn back before the page is
    done (once; the turn is given back at the end otherwise).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], turns: Turns) -> None:
        self.app = app
        self.turns = turns

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        """:returns: the app's body (a Flask page's bytes are made in the turn)"""
        if (str(environ.get("REQUEST_METHOD", "")).upper() not in READING_METHODS
                or not self.turns.take()):
            return self.app(environ, start_response)
        held = [True]

        def give_back() -> None:
            if held:
                held.clear()
                self.turns.give_back()

        environ[GIVE_BACK_TURN] = give_back
        try:
            return self.app(environ, start_response)
        finally:
            give_back()
