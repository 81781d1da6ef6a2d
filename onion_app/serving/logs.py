"""What Haven's process writes to its log: failures, without times or visits.

Haven promises no times and no access log. Flask's default handler stamps
every line with the time to the millisecond, and waitress logs per request
(``Task queue depth is N`` whenever the threads are busy, ``Client
disconnected while serving /requests/...`` with the path). journald stamps
what it receives anyway, so Haven's lines carry no time of their own, and
nothing is written because someone visited.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

__all__ = ["FORMAT", "RequestChatter", "configure"]

# No %(asctime)s: a time in Haven's own lines would outlive journald's
# retention settings wherever the output is redirected to a file.
FORMAT = "%(levelname)s %(name)s: %(message)s"

# waitress's messages that say a request was served, quoting its path.
_PER_REQUEST = ("Client disconnected while serving", "Exception while serving")


class RequestChatter(logging.Filter):
    """Drops what waitress says about single requests; keeps its failures.

    Queue depth and disconnects say when someone visited and where; below
    ERROR waitress says nothing an operator needs that Haven's own status
    lines do not. An exception while serving is kept without the path.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """:returns: whether ``record`` is written (it may be rewritten first)"""
        if not record.name.startswith("waitress"):
            return True
        if record.levelno < logging.ERROR:
            return False
        message = record.getMessage()
        if message.startswith(_PER_REQUEST):
            kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
            # The traceback's message may quote what the visitor sent.
            record.msg, record.args = "exception while serving a request: %s", (kind,)
            record.exc_info, record.exc_text = None, None
        return True


def configure(stream: TextIO | None = None) -> logging.Handler:
    """Sends every logger's records through one handler: no time, no per-request lines.

    :param stream: where lines go; standard error (journald under systemd) when not given
    :returns: the handler, installed on the root logger in place of any other
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestChatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    return handler
