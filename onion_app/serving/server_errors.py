"""Errors waitress finds before the app sees a request, answered by the app.

waitress refuses some requests itself: a malformed request line or header
(400), a body over the limit (413), headers over the limit (431), a transfer
coding it does not implement (501). Its own answers are ``text/plain``,
carry none of Haven's headers and name the limit they hit. Here the channel's
error task hands such a request to the Flask app instead, as a bodiless GET
marked with the status, and the app answers it with its own error page
(:func:`onion_app.web.error_pages.answer_server_error`): Haven's headers,
Haven's words, in the visitor's language.

waitress has no setting for this; its channel names the class that answers
an erroneous request (``error_task_class``), and a server names the channel
class it makes for each connection (``channel_class``), which is the hook.
"""

from __future__ import annotations

import io
import re
import sys
from typing import Any

from waitress.parser import HTTPRequestParser
from waitress.task import WSGITask
from waitress.utilities import RequestHeaderFieldsTooLarge

from onion_app.serving import connections
from onion_app.web.error_pages import SERVER_ERROR

# The only headers an error page needs: the language (from the browser or
# the language cookie) and the host. The session cookie rides in the cookie
# header; the error page shows nothing of a session.
_KEPT = ("ACCEPT_LANGUAGE", "COOKIE", "HOST")
# Read back from headers waitress dropped for being too large (431).
_LINE = re.compile(rb"^(accept-language|cookie)[ \t]*:[ \t]*([^\r\n]{0,4096})",
                   re.IGNORECASE | re.MULTILINE)


def status_for(code: int) -> int:
    """The status Haven answers for one of waitress's error codes.

    A transfer coding waitress lacks (501) is the visitor's request being
    wrong for this server, said as 400: Haven answers no input with a 5xx.
    """
    return 400 if code == 501 else code


class HavenParser(HTTPRequestParser):
    """waitress's parser, keeping the language headers of a request whose
    headers it refuses as too large (it parses a bare ``GET /`` instead)."""

    kept_headers: dict[str, str] | None = None

    def received(self, data: bytes) -> int:
        if self.completed or self.headers_finished:
            return int(super().received(data))
        head = self.header_plus + data
        consumed = int(super().received(data))
        if isinstance(self.error, RequestHeaderFieldsTooLarge):
            self.kept_headers = {
                name.decode("latin-1").upper().replace("-", "_"): value.decode("latin-1").strip()
                for name, value in _LINE.findall(head)
            }
        return consumed


class HavenErrorTask(WSGITask):
    """Answers one of waitress's errors through the app, then closes the
    connection (what comes after a refused request cannot be trusted)."""

    def start(self) -> None:
        super().start()
        self.set_close_on_finish()

    def get_environment(self) -> dict[str, Any]:
        if self.environ is not None:
            return dict(self.environ)
        request = self.request
        # A request refused while its first line was read may lack any of these.
        headers = dict(getattr(request, "headers", None) or {})
        headers.update(getattr(request, "kept_headers", None) or {})
        path = getattr(request, "path", None)
        error = getattr(request, "error", None)
        server = self.channel.server
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": path if isinstance(path, str) and path.startswith("/") else "/",
            "QUERY_STRING": "",
            "SERVER_NAME": str(getattr(server, "server_name", "localhost")),
            "SERVER_PORT": str(getattr(server, "effective_port", "")),
            "SERVER_PROTOCOL": f"HTTP/{self.version}",
            "REMOTE_ADDR": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            SERVER_ERROR: status_for(int(getattr(error, "code", 500))),
        }
        for name in _KEPT:
            value = headers.get(name)
            if isinstance(value, str):
                environ[f"HTTP_{name}"] = value
        self.environ = environ
        return dict(environ)


class AnsweringChannel(connections.HavenChannel):
    """Haven's channel (connections.py), whose errors are answered by the app."""

    parser_class = HavenParser
    error_task_class = HavenErrorTask  # type: ignore[assignment]  # a WSGITask, on purpose


def answer_errors_with_the_app(server: Any) -> None:
    """Makes every connection ``server`` accepts from now on an :class:`AnsweringChannel`."""
    server.channel_class = AnsweringChannel
