"""Templates compiled per language: every page comes out as it did when each
word and link was a call, in the language of its own request, whoever came
before."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import flask.templating
import pytest
from flask import Flask
from flask.templating import Environment
from jinja2 import TemplateSyntaxError, nodes

from onion_app.i18n.text import CATALOGUE
from onion_app.web import folding
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
    """Renders every page a second time with nothing folded anywhere (the
    page, what it extends, includes and imports), and compares."""
    compared: list[str] = []
    render = flask.templating._render  # the one place Flask renders

    def both(app: Flask, template: Any, context: dict[str, Any]) -> str:
        folded = render(app, template, context)
        assert template.environment.folded_language is not None, template.name
        with monkeypatch.context() as unfolded:
            # Every template comes from the base environment, compiled without
            # folding and cached apart from the overlays.
            unfolded.setattr(FoldingEnvironment, "_load_template",
                             Environment._load_template)
            called = app.jinja_env.get_template(template.name)
            assert called.environment is app.jinja_env
            assert called.render(context) == folded, template.name
        compared.append(template.name)
        return folded

    monkeypatch.setattr(flask.templating, "_render", both)
    return compared


def test_the_comparison_sees_a_wrong_word_in_a_parent_template(
        public_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fold gone wrong in base.html, which every page extends, fails the
    comparison the page tests below rely on."""
    class Wrong:
        def __init__(self, real: Any) -> None:
            self.real = real

        def ugettext(self, message: str) -> str:
            return "WRONG" if message == "Skip to content" else str(self.real.ugettext(message))

    real = folding.catalogue_for
    monkeypatch.setattr(folding, "catalogue_for", lambda locale: Wrong(real(locale)))
    _compared(monkeypatch)
    with pytest.raises(AssertionError, match=r"login\.html"):
        public_app.test_client().get("/login")


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


def _multipart(boundary: str, fields: list[tuple[str, str]]) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n" for name, value in fields]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


def test_a_body_too_large_to_read_cannot_mix_two_languages(
        public_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A form whose first field is over the form memory limit, and whose
    language button comes after it: Werkzeug gives up at the first field, and
    another look would parse the rest and find the button. The page is in the
    cookie's language alone, and so is every later page."""
    compared = _compared(monkeypatch)
    attacker = public_app.test_client()
    requester.new_account(attacker)
    compared.clear()
    body = _multipart("b0undary", [("story", "x" * 600_000), ("hl", "fa")])
    refused = attacker.post("/requests/new", data=body,
                            content_type="multipart/form-data; boundary=b0undary")
    assert refused.status_code == 413
    page = refused.get_data(as_text=True)
    assert HTML_TAG.search(page).group(1) == "en"  # type: ignore[union-attr]
    assert not re.search("[\u0600-\u06ff]{3}", page.split('<nav class="languages"')[0])
    assert compared == ["error.html"]
    for code, words in (("en", "Sign in with your codename"), ("fa", "ورود با نام رمز")):
        visitor = public_app.test_client()
        visitor.set_cookie("haven_public_language", code)
        later = visitor.get("/login").get_data(as_text=True)
        assert HTML_TAG.search(later).group(1) == code  # type: ignore[union-attr]
        assert f"<h1>{words}</h1>" in later
    assert compared[-2:] == ["requester/login.html"] * 2


@pytest.mark.parametrize("code", ["fa", "ar"])
def test_an_error_page_first_then_the_rest_in_that_language(
        public_app: Flask, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compared = _compared(monkeypatch)
    visitor = public_app.test_client()
    visitor.set_cookie("haven_public_language", code)
    assert visitor.get("/nowhere").status_code == 404
    for url in ("/", "/login", "/start"):
        page = visitor.get(url).get_data(as_text=True)
        assert HTML_TAG.search(page).group(1) == code  # type: ignore[union-attr]
    assert compared[0] == "error.html"
    assert len(compared) == 4


def test_a_language_button_on_a_form_switches_the_page_it_answers(
        public_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    compared = _compared(monkeypatch)
    visitor = public_app.test_client()
    typed = "not yet my codename"
    page = visitor.post("/login", data={"csrf_token": requester.csrf(visitor, "/login"),
                                        "codename": typed, "hl": "fa"})
    text = page.get_data(as_text=True)
    assert HTML_TAG.search(text).group(1) == "fa"  # type: ignore[union-attr]
    english = visitor.get("/login?lang=en")
    assert HTML_TAG.search(english.get_data(as_text=True)).group(1) == "fa"  # type: ignore[union-attr]
    assert compared.count("requester/login.html") == 3  # the csrf fetch, the switch, after


FOLDED_NAMES = {"_", "url_for"}
_REBOUND_IN_VIEW = re.compile(r"render_template(_string)?\([^)]*\b(_|url_for)\s*=")


def _rebound(environment: Environment, source: str) -> set[str]:
    """The folded names a template assigns, loops over, takes as a macro's
    name or parameter, or imports as."""
    found = set()
    tree = environment.parse(source)
    for name in tree.find_all(nodes.Name):
        if name.ctx in ("store", "param"):
            found.add(name.name)
    for macro in tree.find_all(nodes.Macro):
        found.add(macro.name)
    for imported in tree.find_all(nodes.Import):
        found.add(imported.target)
    for imported_from in tree.find_all(nodes.FromImport):
        found.update(n[1] if isinstance(n, tuple) else n for n in imported_from.names)
    return found & FOLDED_NAMES


def test_no_template_or_view_gives_the_folded_names_another_meaning(
        public_app: Flask) -> None:
    """What a template cannot see of a parent's, an import's or a view's
    meaning for `_` or `url_for`: none of them gives one."""
    environment = public_app.jinja_env
    root = Path(__file__).resolve().parent.parent
    templates = sorted((root / "templates").rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        assert not _rebound(environment, path.read_text()), path
    for path in sorted((root / "onion_app").rglob("*.py")):
        assert not _REBOUND_IN_VIEW.search(path.read_text()), path
    for rebound in ("{% set _ = x %}", "{% for a, url_for in xs %}{% endfor %}",
                    "{% macro _(a) %}{% endmacro %}", "{% macro m(_) %}{% endmacro %}",
                    "{% from 'm.html' import t as _ %}", "{% import 'm.html' as url_for %}",
                    "{% with url_for = 1 %}{% endwith %}"):
        assert _rebound(environment, rebound), rebound
    assert not _rebound(environment, "{% set a = {'k': _('x')} %}{{ url_for('static') }}")
    assert _REBOUND_IN_VIEW.search('render_template("x.html", _=gettext)')


def test_a_call_inside_trans_stays_a_syntax_error(public_app: Flask) -> None:
    text = "{% trans %}Hello {{ _('Plain') }}{% endtrans %}"
    with public_app.test_request_context("/"):
        overlay = _overlay(public_app, _Catalogue())
        with pytest.raises(TemplateSyntaxError):
            overlay.from_string(text)
        with pytest.raises(TemplateSyntaxError):
            public_app.jinja_env.from_string(text)


def test_a_page_under_a_path_prefix_is_compiled_as_before(
        public_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Haven serves at the root; were a page asked for under a prefix
    (SCRIPT_NAME), its links would carry it, so it is neither folded nor
    kept, and the root's pages never carry the prefix."""
    prefixed = public_app.test_client().get("/login", base_url="http://localhost/under/")
    assert 'href="/under/static/haven.css"' in prefixed.get_data(as_text=True)
    assert not public_app.jinja_env._overlays  # type: ignore[attr-defined]
    compared = _compared(monkeypatch)
    for _visit in range(2):  # the second from the page cache
        page = public_app.test_client().get("/login").get_data(as_text=True)
        assert 'href="/static/haven.css"' in page
        assert "/under/" not in page
    assert compared == ["requester/login.html"]
    monkeypatch.undo()
    again = public_app.test_client().get("/login", base_url="http://localhost/under/")
    assert 'href="/under/static/haven.css"' in again.get_data(as_text=True)
