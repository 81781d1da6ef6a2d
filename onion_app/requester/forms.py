"""The requester's forms. Limits are in characters, as a person counts them."""

from __future__ import annotations

import functools
from typing import Any

from wtforms import (
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import DataRequired, Length, ValidationError

from onion_app.domain.taxonomy import LANGUAGES, REGIONS, SKILLS, URGENCIES
from onion_app.i18n import current as current_language
from onion_app.i18n import language_names, lazy_text
from onion_app.i18n import lazy_gettext as _l
from onion_app.web.forms import FREE_TEXT, AtLeastOne, Checkboxes, HavenForm, choices_of

TITLE_MAX = 120
STORY_MAX = 20_000
HELP_MAX = 5_000

# Codenames are typed, not remembered by the browser: no autofill, no
# spellcheck sending words anywhere, no capitalisation on phones.
CODENAME_ATTRS = {"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false",
                  "autocorrect": "off", "dir": "ltr"}  # the words are Latin on any page


class StartForm(HavenForm):
    shown = HiddenField()
    # A box of a few lines, so all seven words typed stay in view on a phone.
    codename = TextAreaField(_l("Type your codename here"),
                             render_kw={**CODENAME_ATTRS, "rows": "3", "class": "codename"},
                             validators=[DataRequired(_l("Type the codename shown above."))])


class LoginForm(HavenForm):
    # Masked against a shoulder in a shared room; the page offers to show it.
    # A PasswordField never writes what was typed back into the page.
    codename = PasswordField(_l("Your codename"), render_kw=CODENAME_ATTRS,
                             validators=[DataRequired(_l("Type your codename."))])


class PracticeForm(HavenForm):
    codename = PasswordField(_l("Your codename"), render_kw=CODENAME_ATTRS,
                             validators=[DataRequired(_l("Type your codename."))])


class RequestForm(HavenForm):
    skills = Checkboxes(_l("What kind of help do you need?"), choices=choices_of(SKILLS),
                        validators=[AtLeastOne(_l("Choose at least one kind of help."))])
    languages = Checkboxes(_l("Which languages can you read?"), choices=choices_of(LANGUAGES),
                           validators=[AtLeastOne(_l("Choose at least one language."))])
    region = SelectField(_l("Where are you? (optional, and coarse on purpose)"),
                         choices=choices_of(REGIONS), default="unsaid")
    urgency = RadioField(_l("How urgent is it?"), choices=choices_of(URGENCIES), default="normal")
    title = StringField(_l("A short title"), render_kw=FREE_TEXT, validators=[
        DataRequired(_l("Give your request a short title.")),
        Length(max=TITLE_MAX, message=lazy_text(
            "Keep the title to %(max)s characters or fewer.", max=TITLE_MAX)),
    ])
    story = TextAreaField(_l("What is happening?"), render_kw=FREE_TEXT, validators=[
        DataRequired(_l("Tell the volunteers what is happening.")),
        Length(max=STORY_MAX, message=lazy_text(
            "Keep this to %(max)s characters or fewer.", max=STORY_MAX)),
    ])
    help = TextAreaField(_l("What would help look like?"), render_kw=FREE_TEXT, validators=[
        Length(max=HELP_MAX, message=lazy_text(
            "Keep this to %(max)s characters or fewer.", max=HELP_MAX)),
    ])
    # Hidden from people by the stylesheet; bots fill every field they see.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off",
                                                               "tabindex": "-1"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Named and ordered in the reader's language, per request.
        self.languages.choices = list(_language_choices(current_language().code))

    def validate_website(self, field: Any) -> None:
        if field.data:
            raise ValidationError(_l("Leave this field empty."))


# The 180 languages as choices, made once per interface language rather than
# at each form: names of languages only, the same for every reader of it.
# ``code`` is this request's interface language, in which language_names names
# them; it is what the choices are kept under.
@functools.lru_cache(maxsize=32)
def _language_choices(code: str) -> tuple[SelectChoice, ...]:
    return tuple(SelectChoice(value, name) for value, name in language_names(LANGUAGES))
