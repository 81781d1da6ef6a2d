"""Form pieces every role uses: checkbox lists, free text, a reply, a confirmation.

Shared here so that no role package imports another's forms.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import Field, FileField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import DataRequired, Length, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from onion_app.i18n import lazy_gettext as _l
from onion_app.i18n import lazy_text

REPLY_MAX = 10_000

# What a person writes may be in any script: the browser sets its direction.
FREE_TEXT = {"dir": "auto"}


def choices_of(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class AtLeastOne:
    """Needs one box ticked. Unlike InputRequired it sets no ``required``
    attribute, which a browser would put on every box and demand all of them."""

    def __init__(self, message: object) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Any) -> None:
        if not field.data:
            raise StopValidation(str(self.message))


class Checkboxes(SelectMultipleField):
    """A list of checkboxes: works without JavaScript, unlike a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        # WTForms checks the ticked values by making every choice as it would
        # render it (180 languages, each asking whether it is ticked): a
        # third of the new request's form. The values alone decide; a value
        # that is not a choice still gets the library's own check and words.
        if not self.process_errors and self.validate_choice and self.data and self.choices:
            offered = {self.coerce(choice.value)  # stubs lag 3.3 below
                       for choice in self._choices_from_input(self.choices)}  # type: ignore[attr-defined]
            if all(value in offered for value in self.data):
                return
        super().pre_validate(form)


class HavenForm(FlaskForm):  # type: ignore[misc]
    """Every Haven form: a file part reaches only a file field.

    Flask-WTF hands a multipart form's files to every field with the part's
    name, so a file posted under a text field's name ("story") reached its
    validators as a FileStorage, and Length raised TypeError: a 500 that
    bench/fuzz.py found. Here a file whose name is no file field's is
    dropped, and the text field sees no value, as if it were left empty.
    """

    class Meta(FlaskForm.Meta):  # type: ignore[misc]
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            wrapped = super().wrap_formdata(form, formdata)
            if not isinstance(wrapped, CombinedMultiDict):
                return wrapped
            names = {field.name for field in form if isinstance(field, FileField)}
            files = MultiDict([(name, part) for name, part in request.files.items(multi=True)
                               if name in names])
            return CombinedMultiDict((files, request.form))


class ReplyForm(HavenForm):
    text = TextAreaField(_l("Your reply"), render_kw=FREE_TEXT, validators=[
        DataRequired(_l("Write something before sending.")),
        Length(max=REPLY_MAX, message=lazy_text(
            "Keep a reply to %(max)s characters or fewer.", max=REPLY_MAX)),
    ])


class ConfirmForm(HavenForm):
    """A button and a CSRF token: for close, delete, logout and every staff action."""


def refuse(field: Field, message: object) -> None:
    """Marks a field invalid after validation (a cap, a failed login).

    ``message`` may be a lazy translation; it is turned into text now.
    """
    field.errors = [*field.errors, str(message)]
