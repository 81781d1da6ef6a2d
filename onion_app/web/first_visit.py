"""A first visit's page, served from the page cache before Flask is reached.

Every visitor's first page (the landing page or a sign-in page) comes with
no cookie at all. :mod:`.page_cache` already keeps those pages rendered per
language, but a hit still went through Flask's whole request: a context, a
session, every ``before_request`` hook, then the response object. On two
cores that was most of the page's cost, and it is what an attacker's botnet
or a crowd on one slow circuit would load.

:class:`FirstVisit` is a WSGI wrapper that answers such a request itself,
when it is certainly one:

- ``GET`` of a path whose page is cached, with no query string and no body;
- no session cookie: a visitor with one (signed in, a CSRF secret, a
  message waiting) goes to Flask as before, whose own cache still serves the
  anonymous ones;
- not a request waitress refused (those carry the error's marker);
- the page for the visitor's language is in the cache; otherwise Flask
  renders it, and keeps it.

The language is chosen exactly as :mod:`onion_app.i18n.chooser` chooses it
(the language cookie, then ``Accept-Language``). A page with a form gets a
fresh CSRF secret, put in a new session cookie, and its signed token put in
the page, the way Flask-WTF's ``generate_csrf`` makes them for a visitor
with no session (:func:`new_csrf`), signed with the app's keys derived once
(:mod:`.signing`): that signing is most of this page's cost. A test posts
such a token back through Flask to show the two agree. What is served is the
cached page, which holds nothing of any visitor, with this visitor's own
token.

Haven's security headers are added outside, by
:class:`onion_app.web.security.SecurityHeaders`, as for every response.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import Any

from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from werkzeug.http import dump_cookie

# The parser behind Flask's request.cookies: werkzeug.http's own decodes the
# header as UTF-8 and raises on any other byte a client sends.
from werkzeug.sansio.http import parse_cookie

from onion_app.i18n import chooser
from onion_app.i18n.languages import ENGLISH
from onion_app.web import content_types, signing
from onion_app.web.error_pages import SERVER_ERROR
from onion_app.web.page_cache import TOKEN_MARK, page_cache_of
from onion_app.web.security import StartResponse, WSGIApp

__all__ = ["FirstVisit", "csrf_signer", "new_csrf"]

# Flask-WTF's salt for the signed form token (flask_wtf.csrf.generate_csrf).
_CSRF_SALT = "wtf-csrf-token"


def csrf_signer(app: Flask) -> URLSafeTimedSerializer:
    """What signs ``app``'s CSRF tokens: its CSRF key, Flask-WTF's salt, the
    serializer Flask-WTF builds for each token, keyed once (:mod:`.signing`)."""
    key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    if key is None:  # create_app always sets one
        raise RuntimeError("the app has no secret key")
    return signing.prepared(URLSafeTimedSerializer(key, salt=_CSRF_SALT))


def new_csrf(signer: URLSafeTimedSerializer) -> tuple[str, str]:
    """A new visitor's CSRF secret and the token a form carries for it.

    As Flask-WTF makes them when the session has none: 40 hex digits of
    randomness kept in the session, and that value signed with the app's
    CSRF key. ``validate_csrf`` accepts the pair (tests/test_first_visit.py).

    :param signer: the app's :func:`csrf_signer`
    :returns: (the secret for the session, the signed token for the page)
    """
    secret = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324  (Flask-WTF's own format)
    return secret, str(signer.dumps(secret))


class FirstVisit:
    """WSGI wrapper: a cookieless ``GET`` of a cached page, answered from the cache."""

    def __init__(self, app: Flask, wsgi: WSGIApp, endpoints_by_path: dict[str, str]) -> None:
        self.app = app
        self.wsgi = wsgi
        self.endpoints = dict(endpoints_by_path)
        self.cache = page_cache_of(app)
        self.session_cookie = str(app.config["SESSION_COOKIE_NAME"])
        offered = chooser.offered_by(app)
        self.languages = offered.languages
        self.language_cookie = offered.cookie
        self.codes = list(offered.languages)
        interface = app.session_interface
        self.signer = interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        self.csrf = csrf_signer(app)
        self.csrf_field = str(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        # The session cookie's attributes, as Flask's save_session sets them.
        self.cookie_options: dict[str, Any] = {
            "httponly": interface.get_cookie_httponly(app),
            "domain": interface.get_cookie_domain(app),
            "path": interface.get_cookie_path(app),
            "secure": interface.get_cookie_secure(app),
            "samesite": interface.get_cookie_samesite(app),
            "partitioned": interface.get_cookie_partitioned(app),
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        page = self._page(environ)
        if page is None:
            return self.wsgi(environ, start_response)
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Vary", "Cookie")]
        if TOKEN_MARK in page:
            token, set_cookie = self.mint()
            page = page.replace(TOKEN_MARK, token)
            headers.append(("Set-Cookie", set_cookie))
        body = page.encode()
        headers.insert(1, ("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [body]

    def mint(self) -> tuple[str, str]:
        """A new visitor's CSRF token, and the session cookie holding its secret.

        :returns: (the signed token for the page, the ``Set-Cookie`` value)
        """
        secret, token = new_csrf(self.csrf)
        cookie = self.signer.dumps({self.csrf_field: secret})
        return token, dump_cookie(self.session_cookie, cookie, **self.cookie_options)

    def _page(self, environ: dict[str, Any]) -> str | None:
        """The cached page this request may be given, or None for Flask to answer."""
        endpoint = self.endpoints.get(environ.get("PATH_INFO", ""))
        # The kept pages' links are the root's: a path prefix (SCRIPT_NAME,
        # never set as Haven serves) goes to Flask.
        if (endpoint is None or environ.get("REQUEST_METHOD") != "GET"
                or environ.get("QUERY_STRING") or SERVER_ERROR in environ
                or environ.get("SCRIPT_NAME") or content_types.has_body(environ)):
            return None
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        if self.session_cookie in cookies:
            return None
        return self.cache.get((endpoint, self._language(environ, cookies), environ["PATH_INFO"]))

    def _language(self, environ: dict[str, Any], cookies: Any) -> str:
        """The code :func:`onion_app.i18n.chooser.current` would choose for a GET."""
        chosen = cookies.get(self.language_cookie)
        if chosen not in self.languages:
            chosen = chooser.from_accept_language(environ.get("HTTP_ACCEPT_LANGUAGE"),
                                                  self.codes)
        return str(chosen) if chosen in self.languages else ENGLISH.code
