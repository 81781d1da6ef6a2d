"""The requester's forms: the new request's language choices, per reader."""

from __future__ import annotations

from flask import Flask

from onion_app.domain.taxonomy import LANGUAGES
from onion_app.i18n import language_names
from onion_app.requester.forms import RequestForm


def _choices(app: Flask, code: str) -> list[tuple[str, str]]:
    with app.test_request_context("/requests/new",
                                  headers={"Cookie": f"haven_public_language={code}"}):
        form = RequestForm()
        made = [(choice.value, choice.label) for choice in form.languages.choices]
        assert made == language_names(LANGUAGES)
        return made


def test_languages_are_named_and_ordered_in_each_readers_language(public_app: Flask) -> None:
    english = _choices(public_app, "en")
    persian = _choices(public_app, "fa")
    assert len(english) == len(persian) == len(LANGUAGES)
    assert dict(english)["fa"] == "Persian"
    assert dict(persian)["fa"] == "فارسی"
    # Kept per language, and never one reader's for another.
    assert _choices(public_app, "en") == english
    assert _choices(public_app, "fa") == persian


def test_each_form_has_its_own_list_of_choices(public_app: Flask) -> None:
    with public_app.test_request_context("/requests/new"):
        first, second = RequestForm(), RequestForm()
        first.languages.choices.pop()
        assert len(second.languages.choices) == len(LANGUAGES)
