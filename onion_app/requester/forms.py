"""The requester's forms. Limits are in characters, as a person counts them."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from onion_app.taxonomy import LANGUAGES, REGIONS, SKILLS, URGENCIES

TITLE_MAX = 120
STORY_MAX = 20_000
HELP_MAX = 5_000
REPLY_MAX = 10_000

# Codenames are typed, not remembered by the browser: no autofill, no
# spellcheck sending words anywhere, no capitalisation on phones.
CODENAME_ATTRS = {"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
                  "autocorrect": "off"}


def choices_of(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class AtLeastOne:
    """Needs one box ticked. Unlike InputRequired it sets no ``required``
    attribute, which a browser would put on every box and demand all of them."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Any) -> None:
        if not field.data:
            raise StopValidation(self.message)


class Checkboxes(SelectMultipleField):
    """A list of checkboxes: works without JavaScript, unlike a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StartForm(FlaskForm):  # type: ignore[misc]
    shown = HiddenField()
    codename = StringField("Type your codename here", render_kw=CODENAME_ATTRS,
                           validators=[DataRequired("Type the codename shown above.")])


class LoginForm(FlaskForm):  # type: ignore[misc]
    codename = StringField("Your codename", render_kw=CODENAME_ATTRS,
                           validators=[DataRequired("Type your codename.")])


class RequestForm(FlaskForm):  # type: ignore[misc]
    skills = Checkboxes("What kind of help do you need?", choices=choices_of(SKILLS),
                        validators=[AtLeastOne("Choose at least one kind of help.")])
    languages = Checkboxes("Which languages can you read?", choices=choices_of(LANGUAGES),
                           validators=[AtLeastOne("Choose at least one language.")])
    region = SelectField("Where are you? (optional, and coarse on purpose)",
                         choices=choices_of(REGIONS), default="unsaid")
    urgency = RadioField("How urgent is it?", choices=choices_of(URGENCIES), default="normal")
    title = StringField("A short title", validators=[
        DataRequired("Give your request a short title."),
        Length(max=TITLE_MAX, message=f"Keep the title to {TITLE_MAX} characters or fewer."),
    ])
    story = TextAreaField("What is happening?", validators=[
        DataRequired("Tell the volunteers what is happening."),
        Length(max=STORY_MAX, message=f"Keep this to {STORY_MAX:,} characters or fewer."),
    ])
    help = TextAreaField("What would help look like?", validators=[
        Length(max=HELP_MAX, message=f"Keep this to {HELP_MAX:,} characters or fewer."),
    ])
    # Hidden from people by the stylesheet; bots fill every field they see.
    website = StringField("Leave this field empty", render_kw={"autocomplete": "off",
                                                               "tabindex": "-1"})

    def validate_website(self, field: Any) -> None:
        if field.data:
            raise ValidationError("Leave this field empty.")


class ReplyForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField("Your reply", validators=[
        DataRequired("Write something before sending."),
        Length(max=REPLY_MAX, message=f"Keep a reply to {REPLY_MAX:,} characters or fewer."),
    ])


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button and a CSRF token: for close, delete and logout."""


def refuse(field: Field, message: str) -> None:
    """Marks a field invalid after validation (a cap, a failed login)."""
    field.errors = [*field.errors, message]
