"""Page numbers in query strings, read the one safe way."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

# Far past any real list; keeps OFFSET inside SQLite's integers.
MAX_PAGE = 100_000


def page_number() -> int:
    """The ``page`` query argument, from 1 to :data:`MAX_PAGE`; 1 when it is
    not a whole number."""
    try:
        return min(max(int(request.args.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


# Messages on one page of a thread. A reply is at most 10,000 characters, at
# most 50 KB once escaped (a quote mark is "&#34;"), and a request 25,120,
# so the heaviest page stays near 700 KB: under waitress's watermark
# (serving/buffers.py), however long a thread grows.
THREAD_PAGE_SIZE = 10


@dataclass(frozen=True)
class ThreadPage:
    """Which messages one page of a thread shows, counting from 1."""

    number: int
    pages: int
    total: int
    size: int = THREAD_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)


# Requests on one page of a requester's list: each title shown is decrypted
# for the page, so a page costs the same with 3 requests or 300.
LIST_PAGE_SIZE = 10


def list_page(total: int, size: int = LIST_PAGE_SIZE) -> ThreadPage:
    """The page of a ``total``-item list, newest first, that ``page`` asks for:
    the first when it is missing or not a number, the last when past the end."""
    pages = max((total + size - 1) // size, 1)
    return ThreadPage(number=min(page_number(), pages), pages=pages, total=total, size=size)


def thread_page(total: int) -> ThreadPage:
    """The page of a ``total``-message thread the ``page`` argument asks for.

    :returns: that page; the last, which holds the newest messages, when the
        argument is missing, not a number, or past the end
    """
    pages = max((total + THREAD_PAGE_SIZE - 1) // THREAD_PAGE_SIZE, 1)
    asked = request.args.get("page", "")
    number = min(page_number(), pages) if asked.isdigit() else pages
    return ThreadPage(number=number, pages=pages, total=total)
