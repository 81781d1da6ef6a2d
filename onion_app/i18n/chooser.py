"""How a visitor chooses a language without JavaScript: links and a cookie.

Tor Browser sends ``Accept-Language: en-US`` to every site whatever its user
reads, so the header is only a fallback: every page carries a row of links,
each naming a language in its own script, and the choice is kept in a cookie.

Why a cookie and not a URL prefix (``/fa/requests``): Flask's session is
cleared at login (a fresh session id, see :mod:`onion_app.web.auth`) and a prefix
would have to be threaded through every ``url_for``, redirect and form action,
where one missed link drops the visitor back into English. A separate cookie
survives login and logout untouched. Like the session cookie it is HttpOnly,
SameSite=Strict and has no expiry, so Tor Browser forgets it with the rest of
the visit; it holds only the language code and is never logged (Haven keeps no
access log, and :class:`onion_app.web.factory.HavenFlask` logs no request data).

On a page with a form, a link would reload the page empty: there the row is
made of buttons that belong to the form (``form=`` attribute) and send it with
:data:`SWITCH_FIELD`. The view sees :func:`switching`, shows the same form
again with what was typed, in the new language, and does nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    has_request_context,
    redirect,
    request,
    url_for,
)
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response

from onion_app.i18n.languages import ENGLISH, PUBLIC_LANGUAGES, STAFF_LANGUAGES, Language

_RETURN_MAX = 2048
_STATE = "haven.languages"
#: The name of the language buttons on form pages.
SWITCH_FIELD = "hl"  # short: it is written nine times on every form page

blueprint = Blueprint("language", __name__)


@dataclass(frozen=True)
class Offered:
    """What one app offers: its languages by code, and its cookie's name."""

    languages: dict[str, Language]
    cookie: str


def init_app(app: Flask, role: str) -> None:
    """Registers the chooser and the page context for ``role``'s languages."""
    table = PUBLIC_LANGUAGES if role == "public" else STAFF_LANGUAGES
    # Per role, like the session cookie: on loopback both onions share a host.
    app.extensions[_STATE] = Offered({lang.code: lang for lang in table},
                                     f"haven_{role}_language")
    app.context_processor(_page_language)
    app.after_request(_keep_switched_language)
    app.register_blueprint(blueprint)


def offered_by(app: Flask) -> Offered:
    """What ``app`` offers, outside a request (:mod:`onion_app.web.first_visit`)."""
    found: Offered = app.extensions[_STATE]
    return found


def _offered_state() -> Offered:
    return offered_by(current_app)


def offered() -> dict[str, Language]:
    """The languages this app speaks, by code."""
    return _offered_state().languages


_CURRENT = "haven.language"


def current() -> Language:
    """The language of this request's page: one answer for the whole request,
    which its words, its compiled templates and its numbers all follow."""
    environ = request.environ
    found: Language | None = environ.get(_CURRENT)
    if found is None:
        chosen = _chosen_code()
        found = environ[_CURRENT] = offered().get(chosen, ENGLISH) if chosen else ENGLISH
    return found


def switching() -> bool:
    """Whether this request is a form sent by one of its language buttons.

    The view then shows the form again, filled in, and acts on nothing.
    """
    return _switched_code() is not None


def _switched_code() -> str | None:
    if request.method != "POST":
        return None
    try:
        code = request.form.get(SWITCH_FIELD)
    except HTTPException:
        # A body too large or malformed: its error page speaks the cookie's
        # language (and the form stays empty: web.factory.HavenRequest).
        return None
    return code if code in offered() else None


def _keep_switched_language(response: Response) -> Response:
    code = _switched_code() if has_request_context() else None
    if code is not None:
        _set_cookie(response, code)
    return response


def _set_cookie(response: Response, code: str) -> None:
    response.set_cookie(_offered_state().cookie, code, httponly=True, samesite="Strict",
                        path="/")


def _chosen_code() -> str | None:
    switched = _switched_code()
    if switched is not None:
        return switched
    table = offered()
    cookie = request.cookies.get(_offered_state().cookie)
    if cookie in table:
        return cookie
    return from_accept_language(request.headers.get("Accept-Language"), list(table))


# Tor Browser sends one short value; a header of a quarter megabyte of
# entries took a second and a half of CPU to parse and match, on the path of
# the cheapest pages. The first entries are the ones that count.
_ACCEPT_LANGUAGE_MAX = 512


def from_accept_language(header: str | None, codes: list[str]) -> str | None:
    """The best of ``codes`` for an ``Accept-Language`` header, read no further
    than its first :data:`_ACCEPT_LANGUAGE_MAX` characters."""
    if not header:
        return None
    accepted = parse_accept_header(header[:_ACCEPT_LANGUAGE_MAX], LanguageAccept)
    return accepted.best_match(codes)


def locale_for_request() -> str:
    """Babel's locale for this request; outside one (the command line), English."""
    return current().locale if has_request_context() else ENGLISH.locale


@blueprint.get("/language/<code>")
def choose(code: str) -> Response:
    """Sets the language cookie and goes back where the visitor was."""
    if code not in offered():
        abort(404)
    response = redirect(safe_return_path(request.args.get("next")))
    _set_cookie(response, code)
    return response


def safe_return_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/``: never an open redirect.

    Refused: anything with a scheme or a host (``https://x``, ``//x``), a
    backslash (``/\\x``, which browsers read as ``//x``), control characters
    and anything very long.
    """
    if not target or len(target) > _RETURN_MAX:
        return "/"
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _here() -> str:
    """The page to come back to after choosing a language.

    A page shown in answer to a POST (a form with errors) is reached again by
    GET when its route takes one; otherwise the visitor lands on the start.
    """
    rule = request.url_rule
    if request.method != "GET" and (rule is None or "GET" not in (rule.methods or ())):
        return "/"
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _page_language() -> dict[str, Any]:
    here = current()
    return {"lang": here.tag, "text_dir": here.direction, "language": here,
            "language_choices": choice_links(_here())}


def choice_links(back: str) -> list[tuple[Language, str]]:
    """Each language with the link that chooses it and comes back to ``back``.

    One ``url_for`` builds the first link; the others differ only in the
    code in its path (nine ``url_for`` calls were a tenth of a signed-in
    page's time). ``?`` cannot occur in a path url_for builds, so the first
    ``/<code>?`` is the path's, whatever ``back`` holds.
    """
    languages = list(offered().values())
    first = url_for("language.choose", code=languages[0].code, next=back)
    head, tail = first.split("?", 1)
    stem = head[:-len(languages[0].code)]
    return [(lang, f"{stem}{lang.code}?{tail}") for lang in languages]

