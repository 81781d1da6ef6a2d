"""Which language a page speaks, and how a visitor chooses it without JavaScript.

Tor Browser sends ``Accept-Language: en-US`` to every site whatever its user
reads, so the header is only a fallback: every page carries a row of links,
each naming a language in its own script, and the choice is kept in a cookie.

Why a cookie and not a URL prefix (``/fa/requests``): Flask's session is
cleared at login (a fresh session id, see :mod:`onion_app.auth`) and a prefix
would have to be threaded through every ``url_for``, redirect and form action,
where one missed link drops the visitor back into English. A separate cookie
survives login and logout untouched. Like the session cookie it is HttpOnly,
SameSite=Strict and has no expiry, so Tor Browser forgets it with the rest of
the visit; it holds only the language code and is never logged (Haven keeps no
access log, and :class:`onion_app.factory.HavenFlask` logs no request data).
"""

from __future__ import annotations

import datetime
import functools
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import flask_babel
from babel import Locale
from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal
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
from flask_babel import Babel, get_locale
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from onion_app import resources
from onion_app.days import age_in_days

TRANSLATIONS = resources.translations_dir()


@dataclass(frozen=True)
class Language:
    """A language Haven's pages speak."""

    code: str  #: in the chooser's URL and the cookie
    locale: str  #: Babel's identifier, and the catalogue's folder name
    tag: str  #: BCP 47, for ``lang`` attributes
    name: str  #: the language's name in itself
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


ENGLISH = Language("en", "en", "en", "English")

# The public onion speaks the requesters' languages; each needs a complete
# "messages" catalogue. The staff onion also needs the "staff" catalogue, so
# it offers the languages that have one (TRANSLATING.md says how to add one).
PUBLIC_LANGUAGES: tuple[Language, ...] = (
    ENGLISH,
    Language("ar", "ar", "ar", "العربية", rtl=True),
    Language("fa", "fa", "fa", "فارسی", rtl=True),
    Language("ru", "ru", "ru", "Русский"),
    Language("zh", "zh_Hans", "zh-Hans", "简体中文"),
    Language("tr", "tr", "tr", "Türkçe"),
    Language("uk", "uk", "uk", "Українська"),
    Language("es", "es", "es", "Español"),
    Language("fr", "fr", "fr", "Français"),
)
STAFF_CODES = ("en", "ar", "ru", "es")
STAFF_LANGUAGES: tuple[Language, ...] = tuple(
    lang for lang in PUBLIC_LANGUAGES if lang.code in STAFF_CODES)

DOMAINS = {"public": ("messages",), "staff": ("messages", "staff")}

_OFFERED = "haven.languages"
_COOKIE = "haven.language_cookie"
_RETURN_MAX = 2048

blueprint = Blueprint("language", __name__)


def init_app(app: Flask, role: str) -> None:
    """Gives the app its catalogues, the language cookie and the chooser."""
    offered = PUBLIC_LANGUAGES if role == "public" else STAFF_LANGUAGES
    app.extensions[_OFFERED] = {lang.code: lang for lang in offered}
    # Per role, like the session cookie: on loopback both onions share a host.
    app.extensions[_COOKIE] = f"haven_{role}_language"
    domains = DOMAINS[role]
    app.config.update(
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DOMAIN=";".join(domains),
        BABEL_TRANSLATION_DIRECTORIES=";".join([str(TRANSLATIONS)] * len(domains)),
    )
    Babel(app, locale_selector=_locale_for_request)
    # Multi-line {% trans %} blocks are extracted and looked up with their
    # whitespace collapsed, so re-wrapping a template does not lose a translation.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(number=number, day=day, days_ago=days_ago, duration=duration,
                                  digits=_native)
    app.jinja_env.globals["isolate"] = isolate
    app.context_processor(_page_language)
    app.register_blueprint(blueprint)


def offered() -> dict[str, Language]:
    """The languages this app speaks, by code."""
    found: dict[str, Language] = current_app.extensions[_OFFERED]
    return found


def current() -> Language:
    """The language of this request's page."""
    chosen = _chosen_code()
    return offered().get(chosen, ENGLISH) if chosen else ENGLISH


def _chosen_code() -> str | None:
    table = offered()
    cookie = request.cookies.get(current_app.extensions[_COOKIE])
    if cookie in table:
        return cookie
    return request.accept_languages.best_match(list(table))


def _locale_for_request() -> str:
    # Outside a request (the operator's command line) everything is English.
    return current().locale if has_request_context() else ENGLISH.locale


@blueprint.get("/language/<code>")
def choose(code: str) -> Response:
    """Sets the language cookie and goes back where the visitor was."""
    if code not in offered():
        abort(404)
    response = redirect(safe_return_path(request.args.get("next")))
    response.set_cookie(current_app.extensions[_COOKIE], code, httponly=True,
                        samesite="Strict", path="/")
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
    back = _here()
    choices = [(lang, url_for("language.choose", code=lang.code, next=back))
               for lang in offered().values()]
    return {"lang": here.tag, "text_dir": here.direction, "language": here,
            "language_choices": choices}


# Numbers and dates in the reader's conventions. Babel groups numbers the
# locale's way but writes Latin digits whatever the locale; Persian readers
# expect their own (CLDR's default numbering system for fa), so digits are
# mapped after formatting, for counts and dates alike.
_DIGITS = {"arab": 0x0660, "arabext": 0x06F0}  # where each system's zero is


@functools.cache
def _digits(locale: str) -> dict[int, int]:
    zero = _DIGITS.get(Locale.parse(locale).default_numbering_system)
    if zero is None:
        return {}
    return {ord("0") + d: zero + d for d in range(10)}


def _native(text: str) -> str:
    return text.translate(_digits(_locale()))


def _locale() -> str:
    return str(get_locale() or ENGLISH.locale)


def number(value: int) -> str:
    """A count in the reader's digits and grouping: 20,000, 20 000, or Persian digits."""
    return _native(format_decimal(value, locale=_locale(), numbering_system="default"))


def day(value: str) -> str:
    """A stored day (YYYY-MM-DD) as the reader writes dates."""
    formatted = format_date(datetime.date.fromisoformat(value), "medium",
                            locale=_locale())
    return _native(formatted)


def duration(value: datetime.timedelta) -> str:
    """A length of time: "30 minutes", "8 hours", in the reader's words and digits."""
    return _native(format_timedelta(value, locale=_locale()))


def days_ago(value: str, today: str) -> str:
    """How old a day is: "today", "3 days ago", in the reader's words and digits."""
    age = age_in_days(value, today)
    if age == 0:
        return gettext("today")
    # An infinite threshold keeps whole days: "45 days ago", never "2 months ago".
    formatted = format_timedelta(datetime.timedelta(days=-age), granularity="day",
                                 threshold=math.inf, add_direction=True,
                                 locale=_locale())
    return _native(formatted)


def isolate(text: object) -> Markup:
    """User text (a handle, a title) inside a translated sentence, in ``<bdi>``,
    so a Latin handle in a Persian sentence keeps its own direction."""
    return Markup("<bdi>%s</bdi>") % escape(text)


def gettext(message: str, **variables: object) -> str:
    """``message`` in the reader's language, ``%(name)s`` filled from ``variables``."""
    return str(flask_babel.gettext(message, **variables))


def ngettext(singular: str, plural: str, count: int, **variables: object) -> str:
    """The form of a message for ``count`` in the reader's language; ``%(num)s``
    is ``count`` in the reader's digits."""
    form = flask_babel.get_translations().ungettext(singular, plural, count)
    return str(form % {"num": number(count), **variables})


def N_(message: str) -> str:  # the gettext convention's name for a bare marker
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def with_user_text(message: str, **user_text: object) -> Markup:
    """A translated sentence around text a person chose (a handle), isolated in
    ``<bdi>``. The translation is escaped too: a catalogue cannot add markup."""
    return escape(gettext(message)) % {name: isolate(text) for name, text in user_text.items()}


class LazyText(LazyString):  # type: ignore[misc]
    """Flask-Babel's lazy string, escaped when it goes into HTML.

    Flask-Babel's own hands its text to markupsafe as if it were markup, so a
    form label or a flashed message would reach the page unescaped.
    """

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_gettext(message: str, **variables: object) -> LazyText:
    """A translation looked up when it is shown: for tables, forms and constants
    built before any request."""
    return LazyText(gettext, message, **variables)


def lazy_text(message: str, **numbers: int) -> LazyText:
    """Like :func:`lazy_gettext`, with ``numbers`` formatted in the reader's
    digits when the text is shown."""
    return LazyText(lambda: gettext(message, **{k: number(v) for k, v in numbers.items()}))

