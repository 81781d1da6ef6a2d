"""The volunteer's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from onion_app.requester.forms import REPLY_MAX, AtLeastOne, Checkboxes, choices_of
from onion_app.taxonomy import AVAILABILITY, LANGUAGES, SKILLS

HANDLE_MAX = 40
BIO_MAX = 2_000

NO_AUTOFILL = {"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}


class ApplyForm(FlaskForm):  # type: ignore[misc]
    handle = StringField("A handle", validators=[
        DataRequired("Choose a handle."),
        Length(min=3, max=HANDLE_MAX, message=f"A handle is 3 to {HANDLE_MAX} characters."),
        Regexp(r"^[\w.-]+$", message="Use letters, digits, dots, dashes or underscores."),
    ], render_kw=NO_AUTOFILL)
    passphrase = PasswordField("A passphrase", render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("The passphrase again", render_kw={"autocomplete": "new-password"})
    skills = Checkboxes("Skills you can offer", choices=choices_of(SKILLS),
                        validators=[AtLeastOne("Choose at least one skill.")])
    languages = Checkboxes("Languages you read well", choices=choices_of(LANGUAGES),
                           validators=[AtLeastOne("Choose at least one language.")])
    availability = RadioField("How much time can you give?", choices=choices_of(AVAILABILITY),
                              default="weekly")
    bio = TextAreaField("A short bio", validators=[
        DataRequired("Tell the operators a little about yourself."),
        Length(max=BIO_MAX, message=f"Keep the bio to {BIO_MAX:,} characters or fewer."),
    ])
    references = TextAreaField("How can an operator verify you?", validators=[
        DataRequired("Give at least one way to verify you: a colleague, an organisation."),
        Length(max=BIO_MAX, message=f"Keep this to {BIO_MAX:,} characters or fewer."),
    ])
    offline_key = StringField("Offline only: your public key", validators=[Optional()],
                              render_kw=NO_AUTOFILL)


class LoginForm(FlaskForm):  # type: ignore[misc]
    handle = StringField("Handle", validators=[
        DataRequired("Type your handle."),
        Length(max=HANDLE_MAX, message="That is longer than any handle."),
    ], render_kw=NO_AUTOFILL)
    passphrase = PasswordField("Passphrase", validators=[DataRequired("Type your passphrase.")],
                               render_kw={"autocomplete": "current-password"})
    code = StringField("Code from your authenticator app", render_kw={
        "autocomplete": "one-time-code", "inputmode": "numeric"})


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField("The 6-digit code your app shows now", validators=[
        DataRequired("Type the code your app shows.")], render_kw={
        "autocomplete": "one-time-code", "inputmode": "numeric"})


class ReplyForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField("Your reply", validators=[
        DataRequired("Write something before sending."),
        Length(max=REPLY_MAX, message=f"Keep a reply to {REPLY_MAX:,} characters or fewer."),
    ])


class ReferForm(FlaskForm):  # type: ignore[misc]
    volunteer = SelectField("Refer to", validators=[DataRequired("Choose a volunteer.")])


class FlagForm(FlaskForm):  # type: ignore[misc]
    reason = RadioField("Why?", choices=choices_of({
        "spam": "Spam", "abuse": "Abuse", "other": "Something else wrong"}), default="spam")


class UploadForm(FlaskForm):  # type: ignore[misc]
    bundle = FileField("Reply bundle", validators=[FileRequired("Choose the bundle file.")])


class PassphraseChangeForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField("Current passphrase", validators=[DataRequired("Type it.")],
                            render_kw={"autocomplete": "current-password"})
    passphrase = PasswordField("New passphrase", render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New passphrase again", render_kw={"autocomplete": "new-password"})


class TotpResetForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField("Current passphrase", validators=[DataRequired("Type it.")],
                            render_kw={"autocomplete": "current-password"})
    code = StringField("Current code", validators=[DataRequired("Type the code.")],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A button and a CSRF token."""
