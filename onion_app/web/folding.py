"""Templates compiled once per interface language, their fixed words and links
written in as text.

A page's own words (``{{ _('My requests') }}``) and its fixed links
(``{{ url_for('requester.new_request') }}``) come out the same at every
render in one language. Rendered, each was a call through Jinja's context
(with its checks of what the callee wants), a catalogue lookup or a URL
build, and an escape: about a third of the time a signed-in page spent
rendering. Here the app's environment keeps one overlay per language; a
template is compiled in the overlay of the language it is rendered in, and
those two kinds of expression become text in the compiled template, as if it
had been written in that language. Templates it extends, includes or
imports come from the same overlay.

Only these exact forms are folded, with nothing else between the braces:
``{{ _('literal') }}`` and ``{{ url_for('endpoint', name='literal', ...) }}``.
A translation is written as ``_`` renders it (a template's words are markup,
and "%%" is "%"); one that will not format stays a call, and so does any link
that needs escaping or cannot be built without the request's values, and
nothing inside ``{% trans %}``. A template that gives either name another
meaning (``{% set _ = ... %}``) is left alone for that name; one template
cannot see what a parent or a view's context gives them, so Haven gives
them no other meaning anywhere (a test reads every template and view).
Outside a request, templates compile as before.

What is folded is what every reader of one language sees: no visitor's
state, no content. An overlay is keyed by language alone and holds that
language's catalogue (``i18n.catalogue_for``), whoever asked first; each page
is rendered by the overlay of the one language its request has
(``i18n.current``), so a page can never carry words of another visitor's
language (tests/test_folding.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

from flask import has_request_context, request, url_for
from flask.templating import Environment
from jinja2 import Template
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_ASSIGN,
    TOKEN_BLOCK_BEGIN,
    TOKEN_COMMA,
    TOKEN_DATA,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RPAREN,
    TOKEN_STRING,
    TOKEN_VARIABLE_BEGIN,
    TOKEN_VARIABLE_END,
    Token,
    TokenStream,
)
from markupsafe import escape
from werkzeug.routing import BuildError

from onion_app.i18n import Language, catalogue_for
from onion_app.i18n import current as current_language

_GETTEXT, _URL_FOR = "_", "url_for"
# Jinja's own default, which the overlays keep.
_CACHE_SIZE = 400


class FoldingEnvironment(Environment):
    """The app's environment: in a request, templates come from the overlay
    of the request's language."""

    #: Set on an overlay only: the language its templates are compiled in,
    #: and that language's catalogue.
    folded_language: str | None = None
    catalogue: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._overlays: dict[str, FoldingEnvironment] = {}
        self._overlays_lock = threading.Lock()
        self.add_extension(FoldFixedText)

    def _load_template(self, name: str,
                       globals: MutableMapping[str, Any] | None) -> Template:
        # Links are folded as built at the site's root: under a path prefix
        # (SCRIPT_NAME, never set as Haven serves) a page is compiled as before.
        if (self.folded_language is None and has_request_context()
                and not request.script_root):
            overlay = self.overlay_for(current_language())
            return overlay._load_template(name, globals)
        return super()._load_template(name, globals)

    def overlay_for(self, language: Language) -> FoldingEnvironment:
        """The overlay that compiles templates in ``language``.

        Its catalogue is that language's, whoever's request first asks for
        it: nothing of that request decides what the overlay holds.
        """
        code = language.code
        found = self._overlays.get(code)
        if found is not None:
            return found
        with self._overlays_lock:
            found = self._overlays.get(code)
            if found is None:
                # A cache of its own: a copy of this one's would hold templates
                # compiled without folding.
                found = self.overlay(cache_size=_CACHE_SIZE)
                found.folded_language = code
                found.catalogue = catalogue_for(language.locale)
                self._overlays[code] = found
        return found


class FoldFixedText(Extension):
    """Rewrites the folded forms into text, in an overlay's templates only."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        environment = self.environment
        catalogue = getattr(environment, "catalogue", None)
        if getattr(environment, "folded_language", None) is None or catalogue is None:
            return stream
        tokens = list(stream)
        shadowed = _shadowed(tokens)
        return _folded(tokens, catalogue, shadowed)


def _shadowed(tokens: list[Token]) -> set[str]:
    """The folded names that a template uses other than as a call."""
    found = set()
    for index, token in enumerate(tokens):
        if token.type == TOKEN_NAME and token.value in (_GETTEXT, _URL_FOR):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or following.type != TOKEN_LPAREN:
                found.add(token.value)
    return found


def _folded(tokens: list[Token], catalogue: Any, shadowed: set[str]) -> Iterator[Token]:
    index = 0
    in_trans = False
    while index < len(tokens):
        token = tokens[index]
        if token.type == TOKEN_BLOCK_BEGIN and index + 1 < len(tokens):
            # Inside {% trans %} a call is a syntax error, and must stay one:
            # folded, it would become part of the message looked up.
            tag = tokens[index + 1]
            if tag.type == TOKEN_NAME and tag.value in ("trans", "endtrans"):
                in_trans = tag.value == "trans"
        if token.type == TOKEN_VARIABLE_BEGIN and not in_trans:
            call = _literal_call(tokens, index + 1)
            if call is not None:
                name, arguments, end = call
                text = None if name in shadowed else _text(name, arguments, catalogue)
                if text is not None:
                    yield Token(token.lineno, TOKEN_DATA, text)
                    index = end + 1
                    continue
        yield token
        index += 1


def _literal_call(tokens: list[Token], start: int) -> tuple[str, list[Any], int] | None:
    """A folded name called with literals only, filling the whole ``{{ }}``.

    :returns: the name, its arguments (strings, then (keyword, string) pairs),
        and the index of the closing ``}}``; None for anything else
    """
    def kind(at: int) -> str | None:
        return tokens[at].type if at < len(tokens) else None

    if kind(start) != TOKEN_NAME or tokens[start].value not in (_GETTEXT, _URL_FOR):
        return None
    if kind(start + 1) != TOKEN_LPAREN or kind(start + 2) != TOKEN_STRING:
        return None
    arguments: list[Any] = [tokens[start + 2].value]
    at = start + 3
    while kind(at) == TOKEN_COMMA:
        if (kind(at + 1), kind(at + 2), kind(at + 3)) != (TOKEN_NAME, TOKEN_ASSIGN,
                                                            TOKEN_STRING):
            return None
        arguments.append((tokens[at + 1].value, tokens[at + 3].value))
        at += 4
    if kind(at) != TOKEN_RPAREN or kind(at + 1) != TOKEN_VARIABLE_END:
        return None
    return tokens[start].value, arguments, at + 1


def _text(name: str, arguments: list[Any], catalogue: Any) -> str | None:
    """What the call renders as, or None where it must stay a call."""
    first, keywords = arguments[0], dict(arguments[1:])
    if name == _GETTEXT:
        if keywords:
            return None  # a string with variables
        found = str(catalogue.ugettext(first))
        if "%" not in found:
            return found
        try:
            return found % {}  # as i18n.text renders it: "%%" is "%"
        except (KeyError, ValueError, TypeError):
            return None
    if first.startswith(".") or any(key.startswith("_") for key in keywords):
        # Relative to the blueprint of the page, or an option such as
        # _external that reads the request: the page decides.
        return None
    try:
        link = url_for(first, **keywords)
    except BuildError:
        return None  # it needs values from the page
    # The same for every page of this app; one that the page would escape
    # stays a call, so the escaping stays where it was.
    return link if str(escape(link)) == link else None
