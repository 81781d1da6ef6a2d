"""Templates compiled per language: every page comes out as it did when each
word and link was a call, in the language of its own request, whoever came
before."""

from __future__ import annotations

import re
from typing import Any

import flask.templating
import pytest
from flask import Flask
from flask.templating import Environment

from onion_app.i18n.text import CATALOGUE
from onion_app.web.folding import FoldingEnvironment
from tests import journey as requester
from tests.pages import public_pages, staff_pages, staff_world
from tests.test_i18n import HTML_TAG, _Catalogue

# What a call would give, from the catalogue, written into the template.
FOLDED = [
    ("{{ _('Plain') }}", "Simple"),
    ("{{ _('Marked') }}", "With <b>markup</b> &amp; more"),
    ("{{ _('Sure') }}", "100% sure"),
    ("{{ _('Unknown') }}", "Unknown"),
    ("{{- _('Plain') -}}", "Simple"),
    ("{{ url_for('requester.new_request') }}", "/requests/new"),
    ("{{ url_for('static', filename='haven.css') }}", "/static/haven.css"),
]
# Left as calls: anything more than a literal call filling the braces.
CALLED = [
    "{{ _('Plain')|length }}",
    "{{ _('Hello %(name)s', name=who) }}",
    "{{ _(word) }}",
    "{{ gettext('Plain') }}",
    "{% set _ = 1 %}{% macro m() %}{{ _('Plain') }}{% endmacro %}",
    "{{ url_for('.landing') }}",
    "{{ url_for(endpoint) }}",
    "{{ url_for('static', filename=name) }}",
    "{{ url_for('requester.new_request', _external=True) }}",
    "{{ url_for('requester.my_requests', page='2', x='3') }}",  # &amp; in the page
    "{{ url_for('requester.view_request') }}{{ _('Plain') ~ '!' }}",  # needs the page's id
]


def _overlay(app: Flask, catalogue: Any) -> Environment:
    overlay = app.jinja_env.overlay(cache_size=10)
    overlay.folded_language = "xx"  # type: ignore[attr-defined]
    overlay.catalogue = catalogue  # type: ignore[attr-defined]
    return overlay


@pytest.mark.parametrize(("text", "words"), FOLDED)
def test_a_literal_call_becomes_what_it_renders(public_app: Flask, text: str,
                                               words: str) -> None:
    catalogue = _Catalogue()
    with public_app.test_request_context("/"):
        overlay = _overlay(public_app, catalogue)
        source = overlay.compile(text, raw=True)
        assert "url_for" not in source
        assert "resolve('_')" not in source
        # A `_` in the render's context would be called if anything were left.
        values = {CATALOGUE: catalogue, "_": lambda *_: "CALLED"}
        assert overlay.from_string(text).render(values) == words
        plain = public_app.jinja_env.from_string(text).render({CATALOGUE: catalogue})
        assert plain == words


@pytest.mark.parametrize("text", CALLED)
def test_anything_else_stays_a_call(public_app: Flask, text: str) -> None:
    catalogue = _Catalogue()
    with public_app.test_request_context("/"):
        overlay = _overlay(public_app, catalogue)
        compiled = overlay.compile(text, raw=True)
        assert compiled == public_app.jinja_env.compile(text, raw=True)
        assert "Simple" not in compiled


def test_the_app_compiles_per_language_in_a_request_only(public_app: Flask,
                                                         staff_app: Flask) -> None:
    for app in (public_app, staff_app):
        assert isinstance(app.jinja_env, FoldingEnvironment)
        assert app.jinja_env.get_template("error.html").environment is app.jinja_env
    by_language = {}
    for code in ("fa", "en", "fa", "ar"):
        with public_app.test_request_context(
                "/", headers={"Cookie": f"haven_public_language={code}"}):
            template = public_app.jinja_env.get_template("requester/requests.html")
            assert template.environment.folded_language == code  # type: ignore[attr-defined]
            by_language.setdefault(code, template)
            assert by_language[code] is template  # compiled once per language
    assert len({id(t.environment) for t in by_language.values()}) == 3


def _compared(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Renders every page a second time with nothing folded, and compares."""
    compared: list[str] = []
    render = flask.templating._render  # the one place Flask renders

    def both(app: Flask, template: Any, context: dict[str, Any]) -> str:
        folded = render(app, template, context)
        assert template.environment.folded_language is not None, template.name
        # The base environment compiles without folding (and caches apart).
        called = Environment._load_template(app.jinja_env, template.name, None)
        assert called.environment is app.jinja_env
        assert called.render(context) == folded, template.name
        compared.append(template.name)
        return folded

    monkeypatch.setattr(flask.templating, "_render", both)
    return compared


@pytest.mark.parametrize("code", ["en", "fa", "ar"])
def test_every_public_page_is_the_same_as_before(public_app: Flask, code: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    compared = _compared(monkeypatch)
    pages = public_pages(public_app, code)
    assert len(set(compared)) >= 10, compared
    for name, _status, page in pages:
        assert HTML_TAG.search(page).group(1) == code, name  # type: ignore[union-attr]


def test_every_staff_page_is_the_same_as_before(staff_app: Flask, public_app: Flask,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    world = staff_world(staff_app, public_app)
    compared = _compared(monkeypatch)
    for code in ("ru", "en"):
        staff_pages(staff_app, world, code)
    assert len(set(compared)) >= 15, compared


def test_readers_of_two_languages_in_turn_each_get_their_own(public_app: Flask) -> None:
    """A page compiled for the first reader of one language is never served to
    a reader of another, in whatever order they come."""
    from onion_app.i18n.text import translations

    readers = {}
    for code in ("fa", "en", "ar"):
        client = public_app.test_client()
        client.get(f"/language/{code}")
        requester.new_account(client)
        requester.submitted_id(client)
        with public_app.test_request_context(
                "/", headers={"Cookie": f"haven_public_language={code}"}):
            readers[code] = (client, translations().ugettext("My requests"))
    assert len({words for _client, words in readers.values()}) == 3
    for code in ("fa", "en", "ar", "en", "fa", "ar", "fa"):
        client, words = readers[code]
        page = client.get("/requests").get_data(as_text=True)
        assert HTML_TAG.search(page).group(1) == code  # type: ignore[union-attr]
        assert re.search(f"<h1>{re.escape(words)}</h1>", page), code
        others = [w for c, (_client, w) in readers.items() if c != code]
        assert not any(f"<h1>{w}</h1>" in page for w in others)
