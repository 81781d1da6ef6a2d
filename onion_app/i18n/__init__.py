"""Haven in many languages: which one a page speaks, its words, numbers and dates.

Boundary: Flask-Babel and Babel live here and nowhere else; the rest of
``onion_app`` translates through the functions this package exports.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel

from onion_app.i18n import chooser
from onion_app.i18n.chooser import current, offered, safe_return_path
from onion_app.i18n.formatting import day, days_ago, duration, native_digits, number
from onion_app.i18n.languages import (
    DOMAINS,
    ENGLISH,
    PUBLIC_LANGUAGES,
    STAFF_CODES,
    STAFF_LANGUAGES,
    TRANSLATIONS,
    Language,
)
from onion_app.i18n.text import (
    N_,
    LazyText,
    gettext,
    isolate,
    lazy_gettext,
    lazy_text,
    ngettext,
    with_user_text,
)

__all__ = [
    "DOMAINS",
    "ENGLISH",
    "N_",
    "PUBLIC_LANGUAGES",
    "STAFF_CODES",
    "STAFF_LANGUAGES",
    "TRANSLATIONS",
    "Language",
    "LazyText",
    "current",
    "day",
    "days_ago",
    "duration",
    "gettext",
    "init_app",
    "isolate",
    "lazy_gettext",
    "lazy_text",
    "ngettext",
    "number",
    "offered",
    "safe_return_path",
    "with_user_text",
]


def init_app(app: Flask, role: str) -> None:
    """Gives the app its catalogues, the language cookie and the chooser."""
    domains = DOMAINS[role]
    app.config.update(
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DOMAIN=";".join(domains),
        BABEL_TRANSLATION_DIRECTORIES=";".join([str(TRANSLATIONS)] * len(domains)),
    )
    Babel(app, locale_selector=chooser.locale_for_request)
    # Multi-line {% trans %} blocks are extracted and looked up with their
    # whitespace collapsed, so re-wrapping a template does not lose a translation.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(number=number, day=day, days_ago=days_ago, duration=duration,
                                  digits=native_digits)
    app.jinja_env.globals["isolate"] = isolate
    chooser.init_app(app, role)
