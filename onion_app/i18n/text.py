"""Translated text: gettext and friends, lazy strings, and user text inside a sentence."""

from __future__ import annotations

from typing import Any

from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from onion_app.i18n.catalogues import translations
from onion_app.i18n.formatting import number


def isolate(text: object) -> Markup:
    """User text (a handle, a title) inside a translated sentence, in ``<bdi>``,
    so a Latin handle in a Persian sentence keeps its own direction."""
    return Markup("<bdi>%s</bdi>") % escape(text)


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


# What templates call: ``_``, ``gettext``, ``ngettext``, ``pgettext`` and
# ``npgettext``, and the {% trans %} blocks through them. They do what
# Jinja's newstyle wrappers do (the translation is a format string, Markup
# where the template escapes, ``num`` and ``context`` filled in), in one
# call: Jinja's ``_`` resolves ``gettext`` and calls it, which calls the
# catalogue's function, each through ``Context.call`` and its checks of
# what the callee wants passed. Three such calls a string, twenty strings a
# page, were a fifth of a signed-in page's time. Their own arguments are
# positional only: a {% trans %} block passes its variables (``num`` among
# them) by name.

#: The name under which a page's context holds this request's catalogue
#: (:func:`onion_app.i18n.init_app`), found faster there than in the request.
CATALOGUE = "haven_catalogue"


def _catalogue(context: Context) -> Any:
    # A macro imported without context has no page context: the request's.
    found = context.get(CATALOGUE)
    return translations() if found is None else found


def _formatted(context: Context, found: str, variables: dict[str, Any]) -> str:
    # A template's own text is markup (a {% trans %} block holds <bdi> tags),
    # and so is its translation, as Jinja's wrappers have it; the variables
    # are escaped by the formatting.
    text = Markup(found) if context.eval_ctx.autoescape else found  # noqa: S704
    # Formatting with no variables only turns "%%" into "%"; most strings
    # have neither, and Markup's formatting makes a new string, escaping.
    if not variables and "%" not in found:
        return text
    return text % variables


@pass_context
def _template_gettext(context: Context, string: str, /, **variables: Any) -> str:
    return _formatted(context, _catalogue(context).ugettext(string), variables)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, num: int, /,
                       **variables: Any) -> str:
    variables.setdefault("num", num)
    return _formatted(context, _catalogue(context).ungettext(singular, plural, num), variables)


@pass_context
def _template_pgettext(context: Context, string_context: str, string: str, /,
                       **variables: Any) -> str:
    variables.setdefault("context", string_context)
    return _formatted(context, _catalogue(context).upgettext(string_context, string),
                      variables)


@pass_context
def _template_npgettext(context: Context, string_context: str, singular: str, plural: str,
                        num: int, /, **variables: Any) -> str:
    variables.setdefault("context", string_context)
    variables.setdefault("num", num)
    return _formatted(context, _catalogue(context).unpgettext(string_context, singular, plural,
                                                              num), variables)


TEMPLATE_CALLABLES = {
    "_": _template_gettext, "gettext": _template_gettext, "ngettext": _template_ngettext,
    "pgettext": _template_pgettext, "npgettext": _template_npgettext,
}
