"""Keeping waitress's request and response buffers in memory, and bounded.

waitress moves a request body of 512 KiB or more, and a response a client has
not yet read of 1 MiB or more, into an unlinked temporary file: disk, and
the text of a request or a thread is clear in it. Haven instead keeps every
body it accepts and every page it serves in memory, within bounds:

- a request body is refused past ``max_request_body_size`` (waitress checks
  a declared length before reading, a chunked body every 8 KiB it reads), so
  a buffer a little larger than that is never outgrown;
- a response is handed to waitress in slices of :data:`RESPONSE_SLICE`, and
  waitress makes the writing thread wait whenever more than
  :data:`OUTBUF_HIGH_WATERMARK` is unsent, so one connection's buffer never
  holds more than the watermark and a slice or two, whatever a page weighs.

Memory is bounded by waitress's connection limit times these sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["OUTBUF_HIGH_WATERMARK", "RESPONSE_SLICE", "InMemorySlices", "adjustments"]

# The largest piece waitress is handed at once; small enough that the
# watermark check before each write bounds the buffer tightly.
RESPONSE_SLICE = 64 * 1024
# Unsent bytes past which the thread writing a response waits for the client.
# Above any thread page (web.paging keeps those under 1 MiB), so only a slow
# client fetching an outsized page (a refused form that keeps a 1 MiB paste)
# holds a thread, and only until it reads.
OUTBUF_HIGH_WATERMARK = 2 * 1024 * 1024
# What waitress may add beside a slice or a body before the checks above see
# it: response headers, chunk framing, one socket read (8 KiB).
_MARGIN = 2 * RESPONSE_SLICE


def adjustments(max_request_body_size: int) -> dict[str, Any]:
    """waitress settings under which no buffer ever moves to a temporary file.

    :param max_request_body_size: the largest request body accepted
    :returns: keyword arguments for ``waitress.server.create_server``
    """
    return {
        "max_request_body_size": max_request_body_size,
        "inbuf_overflow": max_request_body_size + _MARGIN,
        "outbuf_high_watermark": OUTBUF_HIGH_WATERMARK,
        "outbuf_overflow": OUTBUF_HIGH_WATERMARK + RESPONSE_SLICE + _MARGIN,
    }


class InMemorySlices:
    """WSGI middleware: the response body in slices of at most :data:`RESPONSE_SLICE`.

    A Flask page is one ``bytes``; handed over whole, it would land in
    waitress's buffer before the watermark could stop it.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        """:returns: the app's body, sliced (its ``close`` still called)"""
        body = self.app(environ, start_response)
        if isinstance(body, list) and all(len(piece) <= RESPONSE_SLICE for piece in body):
            return body  # small pages, and waitress still sees a list it can measure
        return _sliced(body)


def _sliced(body: Iterable[bytes]) -> Iterator[bytes]:
    try:
        for piece in body:
            for start in range(0, len(piece), RESPONSE_SLICE):
                yield piece[start:start + RESPONSE_SLICE]
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
