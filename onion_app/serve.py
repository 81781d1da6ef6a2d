"""Serving both apps with waitress, on loopback, with no access log.

waitress rather than Flask's development server: it is a production server
with no C dependencies, bounded threads, request-body limits, and it writes no
access log unless asked (Haven must keep none).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from waitress.server import create_server

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
        return f"http://{server.effective_host}:{server.effective_port}/"

    def close(self) -> None:
        """Stops accepting, then stops the worker threads."""
        for server in self.servers.values():
            server.task_dispatcher.shutdown(timeout=5)
            # Closing everything in the server's own map (listener, trigger,
            # open channels) is what ends its loop.
            for channel in list(server._map.values()):
                channel.close()
        for thread in self.threads:
            thread.join(timeout=5)


def start(apps: dict[str, Flask], host: str, ports: dict[str, int]) -> Served:
    """Starts one waitress server per app, each in its own thread.

    :returns: the running servers; the caller stops them with ``close()``
    :raises OSError: if a port cannot be bound
    """
    servers: dict[str, Any] = {}
    for role, app in apps.items():
        config = app.config["HAVEN"]
        servers[role] = create_server(
            app, host=host, port=ports[role], threads=THREADS, map={},
            ident="",  # no Server header
            max_request_body_size=config.max_content_length,
            clear_untrusted_proxy_headers=True,
            expose_tracebacks=False,
        )
    served = Served(servers)
    for role, server in servers.items():
        thread = threading.Thread(target=server.run, name=f"haven-{role}", daemon=True)
        thread.start()
        served.threads.append(thread)
    return served
