"""The volunteer's forms."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Field,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from onion_app.domain import handles
from onion_app.domain.handles import HANDLE_MAX, HANDLE_MIN
from onion_app.domain.taxonomy import AVAILABILITY, LANGUAGES, SKILLS
from onion_app.i18n import lazy_gettext as _l
from onion_app.i18n import lazy_text
from onion_app.web.forms import FREE_TEXT, AtLeastOne, Checkboxes, HavenForm, choices_of

BIO_MAX = 2_000

NO_AUTOFILL = {"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false",
               "dir": "auto"}


def _normalised(value: object) -> object:
    """Handles are compared and stored in NFKC: full-width or ligature forms
    become the plain letters they stand for."""
    return handles.normalise(value) if isinstance(value, str) else value


def _well_formed(form: HavenForm, field: Field) -> None:
    if field.data and not handles.well_formed(field.data):
        raise ValidationError(_l("Use letters, digits, dots, dashes or underscores."))


def _one_script(form: HavenForm, field: Field) -> None:
    if field.data and not handles.single_script(field.data):
        raise ValidationError(_l("Use the letters of one alphabet only: a handle that mixes "
                                 "them can look like someone else's."))


class ApplyForm(HavenForm):
    handle = StringField(_l("A handle"), filters=[_normalised], validators=[
        DataRequired(_l("Choose a handle.")),
        Length(min=HANDLE_MIN, max=HANDLE_MAX, message=lazy_text(
            "A handle is %(min)s to %(max)s characters.", min=HANDLE_MIN, max=HANDLE_MAX)),
        _well_formed, _one_script,
    ], render_kw=NO_AUTOFILL)
    passphrase = PasswordField(_l("A passphrase"), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("The passphrase again"),
                            render_kw={"autocomplete": "new-password"})
    skills = Checkboxes(_l("Skills you can offer"), choices=choices_of(SKILLS),
                        validators=[AtLeastOne(_l("Choose at least one skill."))])
    languages = Checkboxes(_l("Languages you read well"), choices=choices_of(LANGUAGES),
                           validators=[AtLeastOne(_l("Choose at least one language."))])
    availability = RadioField(_l("How much time can you give?"),
                              choices=choices_of(AVAILABILITY), default="weekly")
    bio = TextAreaField(_l("A short bio"), render_kw=FREE_TEXT, validators=[
        DataRequired(_l("Tell the operators a little about yourself.")),
        Length(max=BIO_MAX, message=lazy_text(
            "Keep the bio to %(max)s characters or fewer.", max=BIO_MAX)),
    ])
    references = TextAreaField(_l("How can an operator verify you?"), render_kw=FREE_TEXT,
                               validators=[
        DataRequired(_l("Give at least one way to verify you: a colleague, an organisation.")),
        Length(max=BIO_MAX, message=lazy_text(
            "Keep this to %(max)s characters or fewer.", max=BIO_MAX)),
    ])
    offline_key = StringField(_l("Offline only: your public key"), validators=[Optional()],
                              render_kw=NO_AUTOFILL)
    triage = BooleanField(_l("Triage: read requests that nobody else matches, and pass them "
                             "to the right people"))


class LoginForm(HavenForm):
    handle = StringField(_l("Handle"), filters=[_normalised], validators=[
        DataRequired(_l("Type your handle.")),
        Length(max=HANDLE_MAX, message=_l("That is longer than any handle.")),
    ], render_kw=NO_AUTOFILL)
    passphrase = PasswordField(_l("Passphrase"),
                               validators=[DataRequired(_l("Type your passphrase."))],
                               render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code from your authenticator app"), render_kw={
        "autocomplete": "one-time-code", "inputmode": "numeric"})


class CodeForm(HavenForm):
    code = StringField(_l("The 6-digit code your app shows now"), validators=[
        DataRequired(_l("Type the code your app shows."))], render_kw={
        "autocomplete": "one-time-code", "inputmode": "numeric"})


class ReferForm(HavenForm):
    volunteer = SelectField(_l("Refer to"), validators=[DataRequired(_l("Choose a volunteer."))])


class FlagForm(HavenForm):
    # No reason is chosen in advance: a flag is a deliberate act, never a default.
    reason = RadioField(_l("Why?"), choices=choices_of({
        "spam": _l("Spam"), "abuse": _l("Abuse"), "other": _l("Something else wrong")}),
        validators=[InputRequired(_l("Choose why you flag it."))])


class KeyCheckForm(HavenForm):
    answer = StringField(_l("What the command printed"), validators=[
        DataRequired(_l("Paste what the command printed.")),
        Length(max=200, message=_l("That is longer than the answer can be."))],
        render_kw=NO_AUTOFILL)


class UploadForm(HavenForm):
    bundle = FileField(_l("Reply bundle"),
                       validators=[FileRequired(_l("Choose the bundle file."))])


class PassphraseChangeForm(HavenForm):
    current = PasswordField(_l("Current passphrase"), validators=[DataRequired(_l("Type it."))],
                            render_kw={"autocomplete": "current-password"})
    passphrase = PasswordField(_l("New passphrase"), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New passphrase again"),
                            render_kw={"autocomplete": "new-password"})


class TotpResetForm(HavenForm):
    current = PasswordField(_l("Current passphrase"), validators=[DataRequired(_l("Type it."))],
                            render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Current code"), validators=[DataRequired(_l("Type the code."))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})



class PublicKeyForm(HavenForm):
    public_key = StringField(_l("Your new public key"),
                             validators=[DataRequired(_l("Paste the key."))],
                             render_kw={"autocomplete": "off", "spellcheck": "false"})
