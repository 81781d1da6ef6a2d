"""Haven's form pieces: a file part reaches only a file field; checkboxes."""

from __future__ import annotations

import inspect
import io
import pkgutil
from importlib import import_module

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectMultipleField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3

import onion_app
from onion_app.web.forms import Checkboxes, HavenForm
from tests import journey as requester
from tests.journey import csrf


def test_every_form_is_a_haven_form() -> None:
    """A form made straight from FlaskForm would hand files to text fields."""
    found = []
    for module in pkgutil.walk_packages(onion_app.__path__, "onion_app."):
        for _name, value in inspect.getmembers(import_module(module.name), inspect.isclass):
            if issubclass(value, FlaskForm) and value.__module__ == module.name:
                found.append(value)
    assert len(found) > 15
    assert [form for form in found if not issubclass(form, HavenForm)] == []


@pytest.mark.parametrize("field", ["help", "story", "title", "skills", "urgency"])
def test_a_file_posted_as_a_text_field_is_a_400_that_keeps_the_rest(
        public_app: Flask, field: str) -> None:
    """bench/fuzz.py found this one: a 500 from Length given a FileStorage."""
    asker = public_app.test_client()
    requester.new_account(asker)
    response = asker.post("/requests/new", content_type="multipart/form-data", data={
        "csrf_token": csrf(asker, "/requests/new"), "title": "Passport taken",
        "story": "THE-STORY-TYPED", "skills": "legal", "urgency": "urgent",
        field: (io.BytesIO(b"urgent"), f"{field}.bin")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    if field != "story":
        assert "THE-STORY-TYPED" in page


class _Ticks(Form):
    boxes = Checkboxes(choices=[SelectChoice(code, code.upper()) for code in ("fa", "ar", "en")])
    plain = SelectMultipleField(choices=[SelectChoice(code, code.upper())
                                         for code in ("fa", "ar", "en")])


@pytest.mark.parametrize("ticked", [[], ["fa"], ["en", "ar", "fa"], ["fa", "fa"], ["xx"],
                                    ["fa", "xx", "yy"], ["FA"]])
def test_checkboxes_refuse_what_was_not_offered_as_wtforms_does(ticked: list[str]) -> None:
    """Checkboxes check ticked values against the choices' values alone; the
    verdict and the words of a refusal are WTForms' own."""
    form = _Ticks(MultiDict([("boxes", v) for v in ticked] + [("plain", v) for v in ticked]))
    assert form.validate() is not any(v not in ("fa", "ar", "en") for v in ticked)
    assert form.boxes.errors == form.plain.errors
    assert form.boxes.data == form.plain.data
