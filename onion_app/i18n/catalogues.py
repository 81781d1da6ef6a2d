"""Each language's catalogue, loaded once per app, and the one this request reads.

A page's words, its folded templates (:mod:`onion_app.web.folding`), its
numbers and dates all follow one answer: the language
:func:`onion_app.i18n.chooser.current` gives this request. Flask-Babel would
look its catalogue up by its own locale, kept in ``g``: request contexts
pushed inside one app context share ``g``, and a catalogue keyed by anything
but the language it is for could be given, once, to a page of another
language and kept for every later reader of that page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import Flask, current_app, has_request_context, request

from onion_app.i18n.chooser import current
from onion_app.i18n.languages import ENGLISH

_STATE = "haven.catalogues"
_REQUEST_KEY = "haven.translations"


@dataclass
class _Catalogues:
    """Where an app's catalogues come from, and those loaded so far (one per
    language it offers: the key is a locale :func:`current` gave)."""

    directory: Path
    domains: tuple[str, ...]
    loaded: dict[str, Translations] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask, directory: Path, domains: tuple[str, ...]) -> None:
    app.extensions[_STATE] = _Catalogues(directory, domains)


def catalogue_for(locale: str) -> Translations:
    """This app's catalogue for ``locale``: its domains merged, later ones
    winning, as Flask-Babel merges them."""
    state: _Catalogues = current_app.extensions[_STATE]
    found = state.loaded.get(locale)
    if found is not None:
        return found
    with state.lock:
        found = state.loaded.get(locale)
        if found is None:
            found = state.loaded[locale] = _load(state, locale)
    return found


def _load(state: _Catalogues, locale: str) -> Translations:
    merged = Translations()
    for domain in state.domains:
        loaded = Translations.load(str(state.directory), [locale], domain)
        merged.merge(loaded)  # type: ignore[arg-type]  # None found: nothing to add
        if hasattr(loaded, "plural"):
            # merge() keeps the messages only; the plural rule is the catalogue's.
            merged.plural = loaded.plural
    return merged


def translations() -> Translations | NullTranslations:
    """This request's catalogue, kept in the request's own environ (looked up
    once a request: Flask-Babel's lookup for every string was a seventh of a
    signed-in page's time). Outside a request (the command line), English;
    outside an app, no translation at all."""
    if not has_request_context():
        if not current_app:
            return NullTranslations()
        return catalogue_for(ENGLISH.locale)
    environ = request.environ
    found = environ.get(_REQUEST_KEY)
    if found is None:
        found = environ[_REQUEST_KEY] = catalogue_for(current().locale)
    return found
