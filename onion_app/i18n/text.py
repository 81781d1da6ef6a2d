"""Translated text: gettext and friends, lazy strings, and user text inside a sentence."""

from __future__ import annotations

from typing import Any

import flask_babel
from flask import has_request_context, request
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

from onion_app.i18n.formatting import number


def isolate(text: object) -> Markup:
    """User text (a handle, a title) inside a translated sentence, in ``<bdi>``,
    so a Latin handle in a Persian sentence keeps its own direction."""
    return Markup("<bdi>%s</bdi>") % escape(text)


_TRANSLATIONS = "haven.translations"


def translations() -> Any:
    """This request's catalogue, looked up once per request.

    Flask-Babel looks it up again for every string (its context, the locale,
    its cache), which made a seventh of a signed-in page's time. It is kept
    in the request's own environ, not in ``g``: request contexts pushed inside
    one app context share its ``g``, and could each speak another language.
    Outside a request, Flask-Babel's own lookup.
    """
    if not has_request_context():
        return flask_babel.get_translations()
    environ = request.environ
    found = environ.get(_TRANSLATIONS)
    if found is None:
        found = environ[_TRANSLATIONS] = flask_babel.get_translations()
    return found


def gettext(message: str, **variables: object) -> str:
    """``message`` in the reader's language, ``%(name)s`` filled from ``variables``."""
    text = str(translations().ugettext(message))
    return text % variables if variables else text


def ngettext(singular: str, plural: str, count: int, **variables: object) -> str:
    """The form of a message for ``count`` in the reader's language; ``%(num)s``
    is ``count`` in the reader's digits."""
    form = translations().ungettext(singular, plural, count)
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

