"""Rendered anonymous pages, kept a few seconds per language.

The landing and sign-in pages are the same for every visitor who is not
signed in and has nothing waiting (no flashed message), except for two
things: the language, which is part of the key, and the CSRF token, which is
never kept. A page is stored with a placeholder where its token was; each
visitor who gets it from here gets their own token put in its place
(:func:`flask_wtf.csrf.generate_csrf`, exactly as a rendering would).

What is kept is therefore only what any anonymous visitor in that language
would see anyway: no session, no token, no other visitor's state. A visitor
with anything in their session besides a CSRF token (signed in, a pending
codename, a message to show) is rendered for as before, and so is any page
with a query string. Entries live :data:`TTL_SECONDS`, so a page that
depends on the database (a first-operator hint, say) is never stale for long,
and the cache is bounded by endpoints times languages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from onion_app.i18n import chooser

TTL_SECONDS = 10.0
# Cannot occur in Haven's HTML: it is not valid in a page (a NUL character).
TOKEN_MARK = "\x00haven-csrf\x00"  # noqa: S105  (a placeholder, not a secret)
_STATE = "haven.page_cache"
# The only session key an anonymous page may find: the visitor's own CSRF
# secret, which the placeholder stands for.
_ANONYMOUS_KEYS = frozenset({"csrf_token"})


class PageCache:
    """Pages by (endpoint, language, path), each with the time it was made."""

    def __init__(self, endpoints: Iterable[str], ttl: float = TTL_SECONDS) -> None:
        self.endpoints = frozenset(endpoints)
        self.ttl = ttl
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, str, str], tuple[float, str]] = {}

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            found = self._pages.get(key)
        if found is None or time.monotonic() - found[0] > self.ttl:
            return None
        return found[1]

    def put(self, key: tuple[str, str, str], page: str) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic(), page)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


def init_app(app: Flask, endpoints: Iterable[str]) -> PageCache:
    """Serves ``endpoints`` from the cache for anonymous visitors.

    Register after every other ``before_request`` that must see all
    visitors: a page served from here ends the request's hooks early.
    """
    cache = PageCache(endpoints)
    app.extensions[_STATE] = cache
    app.before_request(_serve_kept)
    app.after_request(_keep)
    return cache


def page_cache_of(app: Flask) -> PageCache:
    found: PageCache = app.extensions[_STATE]
    return found


def _key() -> tuple[str, str, str] | None:
    """This request's key, or None when it may not be served from or kept in the cache."""
    cache = page_cache_of(current_app)
    # Under a path prefix (SCRIPT_NAME, never set as Haven serves) every link
    # would carry it: such a page is neither kept nor served from here.
    if (request.method != "GET" or request.endpoint not in cache.endpoints
            or request.query_string or request.script_root
            or not set(session).issubset(_ANONYMOUS_KEYS)):
        return None
    return (request.endpoint or "", chooser.current().code, request.path)


def _serve_kept() -> Response | None:
    key = _key()
    if key is None:
        return None
    page = page_cache_of(current_app).get(key)
    if page is None:
        g.haven_page_key = key
        return None
    if TOKEN_MARK in page:
        page = page.replace(TOKEN_MARK, generate_csrf())
    return Response(page, status=200, mimetype="text/html")


def _keep(response: Response) -> Response:
    key = g.pop("haven_page_key", None)
    # Only a plain 200 page, rendered for a visitor who still has nothing in
    # their session but a CSRF secret, and that sets no cookie of its own.
    if (key is None or response.status_code != 200 or response.mimetype != "text/html"
            or response.direct_passthrough or "Set-Cookie" in response.headers
            or not set(session).issubset(_ANONYMOUS_KEYS)):
        return response
    page = response.get_data(as_text=True)
    if TOKEN_MARK in page:
        return response
    token = g.get("csrf_token")
    if token:
        page = page.replace(token, TOKEN_MARK)
    page_cache_of(current_app).put(key, page)
    return response
