"""Serving both apps with waitress, on loopback, with no access log.

waitress rather than Flask's development server: it is a production server
with no C dependencies, bounded threads, request-body limits, and it writes no
access log unless asked (Haven must keep none). Haven's threads serve pages
before forms (:mod:`.lanes`), and take turns at pages (:mod:`.turns`); its
connections are bounded and shed when idle (:mod:`.connections`).
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from onion_app.serving import buffers, connections, server_errors
from onion_app.serving.buffers import InMemorySlices
from onion_app.serving.lanes import LanedDispatcher
from onion_app.serving.turns import TakingTurns, Turns
from onion_app.serving.upload_slots import UploadSlots
from onion_app.web.state import state_of

# Enough threads that a few slow Tor circuits cannot starve the rest; argon2id
# derivations are bounded separately, so threads are not what limits memory.
SWITCH_INTERVAL = 0.0005
THREADS = 8
# Threads that may serve form posts at once (logins, where argon2id runs):
# the other THREADS - FORM_THREADS are always free for pages, whatever a
# flood of posts does. A refused login is answered in milliseconds, so four
# keep up with far more posts than the two derivation slots can take.
FORM_THREADS = 4
# Seconds stopping waits for requests still being served.
STOP_WAIT_SECONDS = 5


@dataclass
class Served:
    """The two running servers and the addresses they listen on."""

    servers: dict[str, Any]
    threads: list[threading.Thread] = field(default_factory=list)
    # Held while close() pulls a trigger: a pull queues its call before it
    # writes its byte, and a loop already awake may run the call in between.
    # The trigger is closed under this lock, so never before that write.
    _pulling: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def address(self, role: str) -> str:
        server = self.servers[role]
        if server.adj.unix_socket:
            return f"unix:{server.adj.unix_socket}"
        return f"http://{server.effective_host}:{server.effective_port}/"

    def close(self, wait: int = STOP_WAIT_SECONDS) -> None:
        """Stops accepting, lets the requests being served finish (up to
        ``wait`` seconds), then closes every connection and ends the loops.

        Every socket is closed in its loop's own thread, through the trigger:
        one closed from here while the loop polls it fails that loop with
        EBADF. The trigger itself is closed by the last worker thread to stop,
        so a request still running after ``wait`` makes its last wake-up call
        to a live pipe, not a closed (or reused) descriptor, and never before
        this method's own last call has written to it.
        """
        for server in self.servers.values():
            server.trigger.pull_trigger(functools.partial(_stop_accepting, server))
        for server in self.servers.values():
            server.task_dispatcher.shutdown(timeout=wait)
        for server in self.servers.values():
            with self._pulling:
                server.trigger.pull_trigger(functools.partial(_close_channels, server,
                                                              self._pulling))
        for thread in self.threads:
            thread.join(timeout=wait)
        for server, thread in zip(self.servers.values(), self.threads, strict=True):
            if not thread.is_alive():  # a loop that had stopped before the trigger ran
                _close_channels(server, self._pulling)
            if server.adj.unix_socket:
                Path(server.adj.unix_socket).unlink(missing_ok=True)


def _stop_accepting(server: Any) -> None:
    """In the loop's thread: no new connections (the listener is closed)."""
    server.accepting = False
    server.del_channel()
    server.socket.close()


def _close_channels(server: Any, pulling: threading.Lock) -> None:
    """In the loop's thread: closes every connection, which ends the loop.

    An answer finished during the wait may still sit in its connection's
    buffer: it gets one last try at being sent (waitress's own flush, which
    never blocks) before the connection closes. The trigger leaves the loop
    now and is closed once no worker thread can pull it any more, and once
    ``pulling`` is free: the pull that queued this call may not have written
    its byte yet.
    """
    for channel in list(server._map.values()):
        if channel is server.trigger:
            channel.del_channel()
            server.task_dispatcher.when_stopped(functools.partial(_close_trigger, channel,
                                                                  pulling))
            continue
        if getattr(channel, "total_outbufs_len", 0):
            with contextlib.suppress(OSError):
                channel._flush_some_if_lockable(do_close=False)
        channel.close()


def _close_trigger(trigger: Any, pulling: threading.Lock) -> None:
    with pulling:
        trigger.close()


def start(apps: dict[str, Flask], host: str, ports: dict[str, int] | None = None,
          sockets: dict[str, Path] | None = None) -> Served:
    """Starts one waitress server per app, each in its own thread, listening on
    a loopback port or (for tor) a unix socket only this user can open.

    :returns: the running servers; the caller stops them with ``close()``
    :raises OSError: if a port or socket cannot be bound
    """
    # Under a flood of form posts every server thread wants the GIL; a thread
    # serving a cheap page would wait up to the switch interval (5 ms by
    # default) at each point it gives the GIL up (a socket send, a database
    # call), dozens of times a page. A shorter interval keeps cheap pages
    # quick while forms are refused (bench/login_flood.py).
    sys.setswitchinterval(SWITCH_INTERVAL)
    # One turn for every app served here: they share the GIL (turns.py).
    turns = Turns()
    servers: dict[str, Any] = {}
    for role, app in apps.items():
        config = state_of(app).config
        uploads = UploadSlots(config.uploads_at_once, config.max_content_length).channel_class
        where: dict[str, Any]
        if sockets is not None:
            # A socket left by a killed Haven would make the bind fail.
            sockets[role].unlink(missing_ok=True)
            where = {"unix_socket": str(sockets[role]), "unix_socket_perms": "600"}
        else:
            where = {"host": host, "port": (ports or {})[role]}
        dispatcher = LanedDispatcher(form_threads=FORM_THREADS)
        dispatcher.set_thread_count(THREADS)
        servers[role] = connections.make_server(
            InMemorySlices(TakingTurns(app, turns)), dispatcher, threads=THREADS,
            ident="",  # no Server header
            # No request or page ever spooled to a temporary file: see buffers.py.
            **buffers.adjustments(config.max_request_body),
            **connections.settings(),
            clear_untrusted_proxy_headers=True,
            expose_tracebacks=False,
            **where,
        )
        # waitress's own 400/413/431 pages become Haven's (server_errors.py).
        server_errors.answer_errors_with_the_app(servers[role])
        # Forms with files: a bounded number of their bodies held at once.
        servers[role].channel_class = uploads(servers[role].channel_class)
    served = Served(servers)
    for role, server in servers.items():
        thread = threading.Thread(target=server.run, name=f"haven-{role}", daemon=True)
        thread.start()
        served.threads.append(thread)
    return served
