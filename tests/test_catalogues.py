"""Each language's catalogue, and the one a request reads: the same messages
Flask-Babel would load, chosen by the request's one language."""

from __future__ import annotations

import flask_babel
from flask import Flask

from onion_app.i18n import STAFF_LANGUAGES, catalogue_for, current, translations
from onion_app.i18n.languages import PUBLIC_LANGUAGES


def test_each_catalogue_holds_what_flask_babel_loads(public_app: Flask,
                                                    staff_app: Flask) -> None:
    for app, languages in ((public_app, PUBLIC_LANGUAGES), (staff_app, STAFF_LANGUAGES)):
        for language in languages:
            with app.test_request_context("/"), flask_babel.force_locale(language.locale):
                theirs = flask_babel.get_translations()
                ours = catalogue_for(language.locale)
                assert ours._catalog == theirs._catalog, language.code
                assert [ours.plural(n) for n in range(300)] == \
                    [theirs.plural(n) for n in range(300)], language.code
                assert catalogue_for(language.locale) is ours  # loaded once


def test_the_staff_catalogue_adds_its_own_domain(public_app: Flask,
                                                 staff_app: Flask) -> None:
    with public_app.app_context():
        public = catalogue_for("ru")
    with staff_app.app_context():
        staff = catalogue_for("ru")
    assert set(public._catalog) < set(staff._catalog)


def test_a_request_reads_the_catalogue_of_its_one_language(public_app: Flask) -> None:
    with public_app.test_request_context(
            "/", headers={"Cookie": "haven_public_language=fa"}):
        assert current().code == "fa"
        assert translations() is catalogue_for("fa")
        assert translations().ugettext("Language") != "Language"
    with public_app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert translations() is catalogue_for("ar")
    with public_app.app_context():
        assert translations() is catalogue_for("en")  # outside a request: English
