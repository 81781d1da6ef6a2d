"""Serving both apps with waitress, on loopback, with no access log.

waitress rather than Flask's development server: it is a production server
with no C dependencies, bounded threads, request-body limits, and it writes no
access log unless asked (Haven must keep none).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from waitress.server import create_server

from onion_app.serving import buffers
from onion_app.serving.buffers import InMemorySlices
from onion_app.serving.upload_slots import UploadSlots
from onion_app.web.state import state_of

# Enough threads that a few slow Tor circuits cannot starve the rest; argon2id
# derivations are bounded separately, so threads are not what limits memory.
THREADS = 8


@dataclass
class Served:
    """The two running servers and the addresses they listen on."""

    servers: dict[str, Any]
    threads: list[threading.Thread] = field(default_factory=list)

    def address(self, role: str) -> str:
        server = self.servers[role]
        if server.adj.unix_socket:
            return f"unix:{server.adj.unix_socket}"
        return f"http://{server.effective_host}:{server.effective_port}/"

    def close(self) -> None:
        """Stops accepting, then stops the worker threads."""
        for server in self.servers.values():
            server.task_dispatcher.shutdown(timeout=5)
            # Closing everything in the server's own map (listener, trigger,
            # open channels) is what ends its loop. It happens in the loop's
            # own thread, through the trigger: a socket closed from here while
            # the loop waits on it in select() fails that loop with EBADF.
            server.trigger.pull_trigger(functools.partial(_close_channels, server))
        for thread in self.threads:
            thread.join(timeout=5)
        for server in self.servers.values():
            _close_channels(server)  # a loop that had already stopped
        for server in self.servers.values():
            if server.adj.unix_socket:
                Path(server.adj.unix_socket).unlink(missing_ok=True)


def _close_channels(server: Any) -> None:
    for channel in list(server._map.values()):
        channel.close()


def start(apps: dict[str, Flask], host: str, ports: dict[str, int] | None = None,
          sockets: dict[str, Path] | None = None) -> Served:
    """Starts one waitress server per app, each in its own thread, listening on
    a loopback port or (for tor) a unix socket only this user can open.

    :returns: the running servers; the caller stops them with ``close()``
    :raises OSError: if a port or socket cannot be bound
    """
    servers: dict[str, Any] = {}
    for role, app in apps.items():
        config = state_of(app).config
        uploads = UploadSlots(config.uploads_at_once, config.max_content_length).channel_class()
        where: dict[str, Any]
        if sockets is not None:
            # A socket left by a killed Haven would make the bind fail.
            sockets[role].unlink(missing_ok=True)
            where = {"unix_socket": str(sockets[role]), "unix_socket_perms": "600"}
        else:
            where = {"host": host, "port": (ports or {})[role]}
        servers[role] = create_server(
            InMemorySlices(app), threads=THREADS, map={},
            ident="",  # no Server header
            # No request or page ever spooled to a temporary file: see buffers.py.
            **buffers.adjustments(config.max_request_body),
            clear_untrusted_proxy_headers=True,
            expose_tracebacks=False,
            **where,
        )
        # Forms with files: a bounded number of their bodies held at once.
        servers[role].channel_class = uploads
    served = Served(servers)
    for role, server in servers.items():
        thread = threading.Thread(target=server.run, name=f"haven-{role}", daemon=True)
        thread.start()
        served.threads.append(thread)
    return served
