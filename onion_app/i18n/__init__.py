"""Haven in many languages: which one a page speaks, its words, numbers and dates.

Boundary: Flask-Babel and Babel live here and nowhere else; the rest of
``onion_app`` translates through the functions this package exports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_babel import Babel
from jinja2 import pass_context
from jinja2.runtime import Context

from onion_app.i18n import catalogues, chooser
from onion_app.i18n.catalogues import catalogue_for, translations
from onion_app.i18n.chooser import current, offered, safe_return_path, switching
from onion_app.i18n.formatting import (
    day,
    days_ago,
    duration,
    language_names,
    native_digits,
    number,
)
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
    CATALOGUE,
    N_,
    TEMPLATE_CALLABLES,
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
    "catalogue_for",
    "current",
    "day",
    "days_ago",
    "duration",
    "gettext",
    "init_app",
    "isolate",
    "language_names",
    "lazy_gettext",
    "lazy_text",
    "ngettext",
    "number",
    "offered",
    "safe_return_path",
    "switching",
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
    catalogues.init_app(app, TRANSLATIONS, domains)
    # The request's catalogue, looked up once per request, straight from the
    # template (onion_app.i18n.text.TEMPLATE_CALLABLES says why not Jinja's
    # own wrappers). Newstyle: {% trans %} blocks call these too.
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]
    app.jinja_env.globals.update(TEMPLATE_CALLABLES)
    app.context_processor(lambda: {CATALOGUE: translations()})
    # Multi-line {% trans %} blocks are extracted and looked up with their
    # whitespace collapsed, so re-wrapping a template does not lose a translation.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # Flask-Babel's own filters (numberformat, dateformat, ...) would write
    # Latin digits and could be folded at compile time like ours below: Haven
    # formats through its own filters only.
    for name in _FLASK_BABEL_FILTERS:
        app.jinja_env.filters.pop(name, None)
    app.jinja_env.filters.update(
        {name: per_request(func) for name, func in _FILTERS.items()})
    app.jinja_env.globals["isolate"] = isolate
    chooser.init_app(app, role)


_FILTERS: dict[str, Callable[..., str]] = {
    "number": number, "day": day, "days_ago": days_ago, "duration": duration,
    "digits": native_digits,
}
_FLASK_BABEL_FILTERS = ("datetimeformat", "dateformat", "timeformat", "timedeltaformat",
                        "numberformat", "decimalformat", "currencyformat", "percentformat",
                        "scientificformat")


def per_request(func: Callable[..., str]) -> Callable[..., str]:
    """``func`` as a Jinja filter evaluated each time a page is rendered.

    Jinja folds a filter applied to a literal (``120|number``) into a constant
    when it compiles the template, once per process, in whatever language the
    first visitor read; only a filter that takes the render context is never
    folded (``pass_eval_context`` is not enough: Jinja folds those too).

    :returns: a ``pass_context`` filter that ignores the context and calls ``func``
    """
    @pass_context
    def filter_(_context: Context, value: Any, *args: Any, **kwargs: Any) -> str:
        return func(value, *args, **kwargs)

    filter_.__name__ = func.__name__
    filter_.__doc__ = func.__doc__
    return filter_
