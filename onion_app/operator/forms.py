"""The operator's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

NOTE_MAX = 1_000


class VetForm(FlaskForm):  # type: ignore[misc]
    note = TextAreaField("A note for the record (optional)", validators=[
        Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX:,} characters or fewer.")])


class ButtonForm(FlaskForm):  # type: ignore[misc]
    """A button and a CSRF token."""
