"""waitress's connections, as Haven wants them: bounded, shed when idle, never hung.

- **How many, how long.** :data:`CONNECTION_LIMIT` connections per app and
  :data:`CHANNEL_TIMEOUT` seconds of silence before waitress closes one
  (the values' reasons are beside them).
- **Idle connections give way.** At the limit, waitress stops accepting until
  its next clean-up closes a connection silent for the whole timeout, so a
  few hundred idle or half-sent connections (a slow-loris client; each tor
  circuit may hold 20, see ``serving.onions``) locked new visitors out for a
  minute or more. :class:`SheddingServer` instead closes the connections
  that have been silent longest, once they have been silent a moment
  (:data:`SHED_AFTER_SECONDS`), to make room: a new visitor gets in, and an
  idle connection loses only what a browser reopens by itself.
- **``Expect: 100-continue`` without a body.** waitress answered it with
  ``100 Continue`` and then marked the (complete) request as waiting for
  its body, which never came: the connection hung. :class:`HavenChannel`
  sends no 100 for a request that is already complete, as RFC 9110 allows.
- **No busy loop while a thread writes.** A thread writing a page sends it
  itself, holding the connection's output lock, and gives the GIL up for
  each send. waitress's loop then saw unsent bytes, polled the socket as
  writable, could not take the lock, and polled again at once: tens of
  thousands of turns a second, each taking the GIL from the threads
  serving pages. :class:`HavenChannel` reports such a connection writable
  only when the loop could send on it, and the writing thread wakes the
  loop once it has let the lock go if it left bytes unsent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer, UnixWSGIServer

__all__ = ["CHANNEL_TIMEOUT", "CLEANUP_INTERVAL", "CONNECTION_LIMIT", "SHED_AFTER_SECONDS",
           "HavenChannel", "SheddingServer", "make_server", "settings", "to_shed"]

# Per app. Each open connection costs a file descriptor and its buffers
# (serving.buffers bounds those), so this is what bounds them together:
# 2 apps x 200 stay well under the default 1024 descriptors with room for
# the database, tor's control connection and the logs. With shedding, more
# idle connections than this still never lock a visitor out.
CONNECTION_LIMIT = 200
# Seconds of silence before a connection is closed even below the limit.
# Tor Browser keeps an unused connection 115 s; closing it after 60 costs a
# visitor only a new stream on the circuit they already have (no new
# circuit), and a slow upload over tor is never silent that long.
CHANNEL_TIMEOUT = 60
# How often waitress looks for connections past CHANNEL_TIMEOUT.
CLEANUP_INTERVAL = 10
# At the limit, connections silent at least this long may be closed to make
# room; a connection that has just opened and not yet sent is left alone.
SHED_AFTER_SECONDS = 2.0
# Room made at once when shedding, so a burst of newcomers does not shed one
# connection each time round the loop.
SHED_HEADROOM = 10


def settings() -> dict[str, Any]:
    """waitress adjustments for the connection policy above."""
    return {
        "connection_limit": CONNECTION_LIMIT,
        "channel_timeout": CHANNEL_TIMEOUT,
        "cleanup_interval": CLEANUP_INTERVAL,
        # poll() instead of select(): select() cannot watch descriptors
        # numbered above 1023, which a busy process can reach.
        "asyncore_use_poll": True,
    }


class HavenChannel(HTTPChannel):
    """waitress's channel, minus the hang on ``Expect: 100-continue`` without a body."""

    def send_continue(self) -> None:
        """Sends ``100 Continue``, unless the request is already complete.

        A request with no body (or one waitress has already refused) needs
        nothing from the client; waitress would send 100 and then mark the
        request incomplete, so it would never be served.
        """
        if self.request is not None and self.request.completed:
            self.request.expect_continue = False
            return
        super().send_continue()

    def writable(self) -> bool:
        """waitress's check, except while a thread serving this connection
        holds its output lock: :meth:`handle_write` would only try the lock
        and return, and the loop would poll again at once.

        The thread wakes the loop after it lets the lock go when it leaves
        bytes unsent (:meth:`write_soon`), and when it is done (waitress's
        ``service``). One that waits for the loop to send (more than the
        high watermark unsent) has let the lock go, or is about to: that
        case is left as waitress has it.
        """
        if not super().writable():
            return False
        if (not self.requests or self.will_close or self.close_when_flushed
                or self.total_outbufs_len > self.adj.outbuf_high_watermark):
            return True
        if not self.outbuf_lock.acquire(blocking=False):
            return False
        self.outbuf_lock.release()
        return True

    def write_soon(self, data: bytes) -> int:
        """waitress's, then the loop woken again if bytes are left unsent.

        waitress wakes it while still holding the output lock, when
        :meth:`writable` may find the lock taken; this wake-up comes after.
        """
        written: int = super().write_soon(data)
        if self.requests and self.total_outbufs_len:
            self.server.pull_trigger()
        return written


class SheddingServer:
    """Mixin for waitress's servers: Haven's channel, and idle connections
    closed to make room at the connection limit."""

    channel_class = HavenChannel
    # Provided by waitress's server classes.
    _map: dict[int, Any]
    adj: Adjustments
    accepting: bool
    active_channels: dict[int, Any]

    def readable(self) -> bool:
        """waitress's check before accepting, after making room if need be."""
        if self.accepting and len(self._map) >= self.adj.connection_limit:
            self.shed_idle(time.time())
        result: bool = super().readable()  # type: ignore[misc]
        return result

    def shed_idle(self, now: float) -> int:
        """Marks the connections :func:`to_shed` picks to be closed.

        :returns: how many were marked
        """
        chosen = to_shed(self.active_channels.values(), len(self._map),
                         self.adj.connection_limit, now)
        for channel in chosen:
            channel.will_close = True
        return len(chosen)


def to_shed(channels: Iterable[Any], open_count: int, limit: int, now: float) -> list[Any]:
    """The longest-silent idle connections, as many as bring ``open_count``
    :data:`SHED_HEADROOM` below ``limit`` (fewer if fewer are idle).

    Idle means: no request being served, nothing left to send, not already
    closing, silent for :data:`SHED_AFTER_SECONDS`. A request sent only in
    part counts as idle: that is what a slow-loris client holds open.
    """
    wanted = open_count - limit + SHED_HEADROOM
    if wanted <= 0:
        return []
    idle = sorted(
        (channel for channel in channels
         if not channel.requests and not channel.total_outbufs_len
         and not channel.will_close and now - channel.last_activity >= SHED_AFTER_SECONDS),
        key=lambda channel: channel.last_activity)
    return idle[:wanted]


class HavenTcpServer(SheddingServer, TcpWSGIServer):  # type: ignore[misc]
    """A loopback port, for ``--local`` and the tests."""


class HavenUnixServer(SheddingServer, UnixWSGIServer):  # type: ignore[misc]
    """A unix socket, for tor."""


def make_server(app: Any, dispatcher: Any, **adjustments: Any) -> Any:
    """One waitress server for ``app`` with Haven's channel and shedding.

    Like ``waitress.create_server`` for a single address (Haven listens on one
    loopback address or one unix socket), but with Haven's server classes.

    :param dispatcher: the thread pool that serves the requests
    :returns: the server, listening; ``run()`` serves until closed
    :raises OSError: if the address cannot be bound
    """
    adj = Adjustments(**adjustments)
    server_class = HavenUnixServer if adj.unix_socket else HavenTcpServer
    return server_class(app, map={}, dispatcher=dispatcher, adj=adj)
